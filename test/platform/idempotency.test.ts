import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem } from '../helpers/problems.ts';

/** `Idempotency-Key` on POST: a retry gets the first answer; a reuse for another request is refused. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const countCustomers = async (code: string) =>
  Number(
    (
      await t.db
        .selectFrom('customers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('code', '=', code)
        .executeTakeFirstOrThrow()
    ).n,
  );

const post = (key: string, body: unknown, token?: string) =>
  t.request('POST', '/api/v1/customers', { body, headers: { 'idempotency-key': key }, token });

describe('Idempotency-Key', () => {
  it('same key and body: the same status, headers and body, marked replayed; one record', async () => {
    const body = { code: 'IDEM-1', name: 'Idempotent' };
    const first = await post('key-1', body);
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    const second = await post('key-1', body);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(second.headers.location).toBe(first.headers.location);

    const third = await post('key-1', body);
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(third.json().id).toBe(first.json().id);
    expect(await countCustomers('IDEM-1')).toBe(1);
  });

  it('replays an error answer as well (a 409 stays a 409)', async () => {
    expect((await post('taken-a', { code: 'IDEM-TAKEN', name: 'A' })).statusCode).toBe(201);
    const clash = await post('taken-b', { code: 'IDEM-TAKEN', name: 'B' });
    expectProblem(clash, 409, 'DIRECTORY_CUSTOMER_CODE_TAKEN');
    const again = await post('taken-b', { code: 'IDEM-TAKEN', name: 'B' });
    expectProblem(again, 409, 'DIRECTORY_CUSTOMER_CODE_TAKEN');
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('same key with a different body -> 422 IDEMPOTENCY_KEY_REUSED, nothing created', async () => {
    expect((await post('key-2', { code: 'IDEM-2', name: 'First' })).statusCode).toBe(201);
    const res = await post('key-2', { code: 'IDEM-2B', name: 'Second' });
    const problem = expectProblem(res, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(problem.title).toBe('Unprocessable content');
    expect(await countCustomers('IDEM-2B')).toBe(0);
  });

  it('the same key on another route is another request -> 422', async () => {
    expect((await post('key-route', { code: 'IDEM-R', name: 'Route' })).statusCode).toBe(201);
    const res = await t.request('POST', '/api/v1/groups', {
      body: { code: 'IDEM-R', name: 'Route' },
      headers: { 'idempotency-key': 'key-route' },
    });
    // The body does not even validate for groups: validation runs before the key is looked at.
    expectProblem(res, 400, 'VALIDATION_FAILED');
    const groups = await t.request('POST', '/api/v1/groups', {
      body: { name: 'Route group', tier: 1 },
      headers: { 'idempotency-key': 'key-route' },
    });
    expectProblem(groups, 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('keys belong to the API key that used them: another key with the same Idempotency-Key is independent', async () => {
    const other = await t.key('manager');
    expect((await post('shared-key', { code: 'IDEM-A', name: 'By admin' })).statusCode).toBe(201);
    const res = await post('shared-key', { code: 'IDEM-B', name: 'By manager' }, other);
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.json().code).toBe('IDEM-B');
    // ... and replays only for its own key.
    const replay = await post('shared-key', { code: 'IDEM-B', name: 'By manager' }, other);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(res.json().id);
    expect(await countCustomers('IDEM-A')).toBe(1);
    expect(await countCustomers('IDEM-B')).toBe(1);
  });

  it('concurrent duplicates create exactly one record; the others replay or get 409 IN_PROGRESS', async () => {
    const body = { code: 'IDEM-RACE', name: 'Race' };
    const replies = await Promise.all(Array.from({ length: 6 }, () => post('race-key', body)));
    const originals = replies.filter((r) => r.statusCode === 201 && !r.headers['idempotent-replayed']);
    expect(originals).toHaveLength(1);
    const id = originals[0]!.json().id;
    for (const reply of replies) {
      if (reply.statusCode === 201) {
        expect(reply.json().id).toBe(id);
        continue;
      }
      expectProblem(reply, 409, 'IDEMPOTENCY_IN_PROGRESS');
      expect(reply.headers['retry-after']).toBe('1');
    }
    expect(await countCustomers('IDEM-RACE')).toBe(1);
    // Once the first finished, a retry replays it.
    const later = await post('race-key', body);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.json().id).toBe(id);
  });

  it('a malformed key -> 400 at headers /idempotency-key', async () => {
    const res = await post('has space', { code: 'IDEM-BAD', name: 'Bad key' });
    expectProblem(res, 400, 'IDEMPOTENCY_KEY_INVALID', [{ in: 'headers', pointer: '/idempotency-key' }]);
    const long = await post('k'.repeat(256), { code: 'IDEM-BAD', name: 'Bad key' });
    expectProblem(long, 400, 'IDEMPOTENCY_KEY_INVALID');
    expect(await countCustomers('IDEM-BAD')).toBe(0);
  });

  it('an invalid body is not remembered: fixing it under the same key works', async () => {
    const bad = await post('fix-me', { code: 'IDEM-FIX' });
    expectProblem(bad, 400, 'VALIDATION_FAILED');
    const good = await post('fix-me', { code: 'IDEM-FIX', name: 'Fixed' });
    expect(good.statusCode).toBe(201);
    expect(good.headers['idempotent-replayed']).toBeUndefined();
  });

  it('an expired key is claimed afresh', async () => {
    const body = { code: 'IDEM-EXP', name: 'Expiring' };
    const first = await post('expiring', body);
    expect(first.statusCode).toBe(201);
    await t.db
      .updateTable('idempotency_keys')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('key', '=', 'expiring')
      .execute();
    const res = await post('expiring', { code: 'IDEM-EXP2', name: 'New request' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  });

  it('POSTs without the header are not deduplicated', async () => {
    const a = await t.request('POST', '/api/v1/groups', { body: { name: 'No key', tier: 1 } });
    expect(a.statusCode).toBe(201);
    const b = await t.request('POST', '/api/v1/groups', { body: { name: 'No key', tier: 1 } });
    expectProblem(b, 409, 'DIRECTORY_GROUP_NAME_TAKEN');
  });
});
