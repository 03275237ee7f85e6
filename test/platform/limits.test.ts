import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, tokenPrefix } from '../../src/platform/auth/tokens.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem } from '../helpers/problems.ts';

/** Bounded input: the body size limit and the per-key rate limit, each on an app configured for it. */
let small: TestApp;
let limited: TestApp;
beforeAll(async () => {
  [small, limited] = await Promise.all([
    startTestApp({ env: { BODY_LIMIT_BYTES: '2048' } }),
    startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([small?.close(), limited?.close()]);
});

describe('body limit', () => {
  it('a body over BODY_LIMIT_BYTES -> 413 problem naming the limit', async () => {
    const res = await small.request('POST', '/api/v1/customers', {
      body: { code: 'BIG', name: 'Big', notes: 'x'.repeat(3000) },
    });
    const body = expectProblem(res, 413, 'BODY_TOO_LARGE');
    expect(body.limitBytes).toBe(2048);
    expect(body.title).toBe('Payload too large');
    const list = await small.request('GET', '/api/v1/customers');
    expect(list.json().items).toHaveLength(0);
  });

  it('a body under the limit passes', async () => {
    const res = await small.request('POST', '/api/v1/customers', {
      body: { code: 'SMALL', name: 'Small', notes: 'x'.repeat(1500) },
    });
    expect(res.statusCode).toBe(201);
  });
});

describe('rate limit', () => {
  it('the request over RATE_LIMIT_PER_MINUTE -> 429 with Retry-After; other keys are unaffected', async () => {
    // A second key, minted without spending the admin's budget.
    const other = 'tsk_rate_limit_other_key_000000000000';
    await limited.db
      .insertInto('api_keys')
      .values({
        name: 'other',
        role: 'agent',
        token_hash: hashToken(other),
        token_prefix: tokenPrefix(other),
      })
      .execute();

    for (let i = 0; i < 3; i++) {
      expect((await limited.request('GET', '/api/v1/customers')).statusCode).toBe(200);
    }
    const res = await limited.request('GET', '/api/v1/customers');
    const body = expectProblem(res, 429, 'RATE_LIMITED');
    expect(body.title).toBe('Too many requests');
    expect(body.detail).toContain('3 requests per minute');
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Writes are limited too, and nothing is created.
    const post = await limited.request('POST', '/api/v1/customers', { body: { code: 'RL', name: 'RL' } });
    expectProblem(post, 429, 'RATE_LIMITED');

    // Another key has its own budget; operations endpoints are never limited.
    expect((await limited.request('GET', '/api/v1/customers', { token: other })).statusCode).toBe(200);
    expect((await limited.request('GET', '/healthz', { token: null })).statusCode).toBe(200);
    expect((await limited.request('GET', '/metrics', { token: null })).statusCode).toBe(200);
    const count = await limited.db
      .selectFrom('customers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });
});
