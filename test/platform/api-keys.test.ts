import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { ensureBootstrapKey } from '../../src/platform/auth/api-keys.service.ts';
import { hashToken } from '../../src/platform/auth/tokens.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem } from '../helpers/problems.ts';

let t: TestApp;
let customerId: string;
beforeAll(async () => {
  t = await startTestApp();
  customerId = (
    await t.request('POST', '/api/v1/customers', { body: { code: 'KEYS', name: 'Keys Ltd' } })
  ).json().id;
});
afterAll(async () => {
  await t?.close();
});

const SECRET_FIELDS = ['token', 'tokenHash', 'token_hash', 'hash'];
function expectNoSecrets(value: unknown, tokens: string[]) {
  const text = JSON.stringify(value);
  for (const token of tokens) {
    expect(text).not.toContain(token);
    expect(text).not.toContain(hashToken(token));
  }
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) for (const field of SECRET_FIELDS) expect(item).not.toHaveProperty(field);
}

describe('API keys', () => {
  it('creates a key (token shown once), which then works with its role and customer', async () => {
    const res = await t.request('POST', '/api/v1/api-keys', {
      body: { name: 'portal', role: 'requester', customerId },
    });
    expect(res.statusCode).toBe(201);
    const key = res.json();
    expect(key).toMatchObject({
      name: 'portal',
      role: 'requester',
      customerId,
      bootstrap: false,
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(key.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(key.token).toMatch(/^tsk_[A-Za-z0-9_-]{43}$/);
    expect(key.tokenPrefix).toBe(key.token.slice(0, 8));
    expect(key).not.toHaveProperty('tokenHash');

    // The database keeps only the hash.
    const row = await t.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(hashToken(key.token));
    expect(JSON.stringify(row)).not.toContain(key.token);

    const mine = await t.request('GET', '/api/v1/customers', { token: key.token });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().items.map((c: { id: string }) => c.id)).toEqual([customerId]);
    expectProblem(
      await t.request('POST', '/api/v1/customers', { token: key.token, body: { code: 'NO', name: 'No' } }),
      403,
      'AUTH_FORBIDDEN',
    );
  });

  it('lists and gets keys without tokens or hashes', async () => {
    const tokens = [await t.key('agent'), await t.key('manager'), t.adminToken];
    const list = await t.request('GET', '/api/v1/api-keys?limit=500');
    expect(list.statusCode).toBe(200);
    const items = list.json().items;
    expect(items.length).toBeGreaterThanOrEqual(3);
    expectNoSecrets(items, tokens);
    expect(list.body).not.toMatch(/"token"/);
    for (const item of items) {
      const one = await t.request('GET', `/api/v1/api-keys/${item.id}`);
      expect(one.statusCode).toBe(200);
      expectNoSecrets(one.json(), tokens);
      const { lastUsedAt: _a, ...got } = one.json();
      const { lastUsedAt: _b, ...listed } = item;
      expect(got).toEqual(listed);
    }
    const agents = await t.request('GET', '/api/v1/api-keys?role=agent');
    expect(agents.json().items.every((k: { role: string }) => k.role === 'agent')).toBe(true);
    const bound = await t.request('GET', `/api/v1/api-keys?customerId=${customerId}`);
    expect(bound.json().items.every((k: { customerId: string }) => k.customerId === customerId)).toBe(true);
  });

  it('records when a key was last used', async () => {
    const res = await t.request('POST', '/api/v1/api-keys', { body: { name: 'used', role: 'agent' } });
    const { id, token } = res.json();
    await t.request('GET', '/api/v1/customers', { token });
    await expect
      .poll(async () => (await t.request('GET', `/api/v1/api-keys/${id}`)).json().lastUsedAt, {
        timeout: 2000,
      })
      .not.toBeNull();
  });

  it('revoking a key: 204, then its token gets 401; the key is listed only with includeRevoked', async () => {
    const res = await t.request('POST', '/api/v1/api-keys', { body: { name: 'doomed', role: 'agent' } });
    const { id, token } = res.json();
    expect((await t.request('GET', '/api/v1/customers', { token })).statusCode).toBe(200);

    const revoked = await t.request('DELETE', `/api/v1/api-keys/${id}`);
    expect(revoked.statusCode).toBe(204);
    expect(revoked.body).toBe('');

    const after = await t.request('GET', '/api/v1/customers', { token });
    expectProblem(after, 401, 'AUTH_INVALID');
    expect(after.headers['www-authenticate']).toBe('Bearer realm="tessera"');

    const got = (await t.request('GET', `/api/v1/api-keys/${id}`)).json();
    expect(got.revokedAt).not.toBeNull();
    const active = (await t.request('GET', '/api/v1/api-keys?limit=500')).json().items;
    expect(active.map((k: { id: string }) => k.id)).not.toContain(id);
    const all = (await t.request('GET', '/api/v1/api-keys?limit=500&includeRevoked=true')).json().items;
    expect(all.map((k: { id: string }) => k.id)).toContain(id);

    // Revoking again, or an unknown key, is a 404.
    expectProblem(await t.request('DELETE', `/api/v1/api-keys/${id}`), 404, 'API_KEY_NOT_FOUND');
    expectProblem(await t.request('DELETE', `/api/v1/api-keys/${randomUUID()}`), 404, 'API_KEY_NOT_FOUND');
    expectProblem(await t.request('GET', `/api/v1/api-keys/${randomUUID()}`), 404, 'API_KEY_NOT_FOUND');
  });

  it('the process that revokes a key forgets it at once, even with an auth cache', async () => {
    const cached = await buildApp({ ...t.config, AUTH_CACHE_MS: 60_000 }, t.resources, { logger: false });
    await cached.ready();
    try {
      const auth = (token: string) => ({ authorization: `Bearer ${token}` });
      const res = await t.request('POST', '/api/v1/api-keys', { body: { name: 'cached', role: 'agent' } });
      const { id, token } = res.json();
      const get = () => cached.inject({ method: 'GET', url: '/api/v1/customers', headers: auth(token) });
      expect((await get()).statusCode).toBe(200); // now cached for a minute
      const revoked = await cached.inject({
        method: 'DELETE',
        url: `/api/v1/api-keys/${id}`,
        headers: auth(t.adminToken),
      });
      expect(revoked.statusCode).toBe(204);
      expectProblem(await get(), 401, 'AUTH_INVALID');
    } finally {
      await cached.close();
    }
  });

  it('an admin key cannot be bound to a customer -> 400 at /customerId', async () => {
    const res = await t.request('POST', '/api/v1/api-keys', {
      body: { name: 'bound admin', role: 'admin', customerId },
    });
    expectProblem(res, 400, 'API_KEY_ADMIN_BOUND', [{ in: 'body', pointer: '/customerId' }]);
  });

  it('an unknown customerId -> 400 at /customerId, nothing created', async () => {
    const before = (await t.request('GET', '/api/v1/api-keys?limit=500')).json().items.length;
    const res = await t.request('POST', '/api/v1/api-keys', {
      body: { name: 'orphan', role: 'agent', customerId: randomUUID() },
    });
    expectProblem(res, 400, 'API_KEY_UNKNOWN_CUSTOMER', [{ in: 'body', pointer: '/customerId' }]);
    expect((await t.request('GET', '/api/v1/api-keys?limit=500')).json().items.length).toBe(before);
  });

  it('validates the create body', async () => {
    const res = await t.request('POST', '/api/v1/api-keys', { body: { name: '', role: 'root', extra: 1 } });
    expectProblem(res, 400, 'VALIDATION_FAILED', [
      { in: 'body', pointer: '/name' },
      { in: 'body', pointer: '/role' },
      { in: 'body', pointer: '/extra' },
    ]);
  });
});

describe('bootstrap admin key (ensureBootstrapKey)', () => {
  it('is idempotent, survives revocation, and a changed token revokes the old one', async () => {
    const first = `tsk_bootstrap_${randomUUID()}`;
    const second = `tsk_bootstrap_${randomUUID()}`;

    // The test app's own admin is a bootstrap key; a new token replaces it.
    await ensureBootstrapKey(t.db, first);
    await ensureBootstrapKey(t.db, first);
    const bootstrapKeys = () =>
      t.db.selectFrom('api_keys').selectAll().where('bootstrap', '=', true).orderBy('created_at').execute();
    let rows = await bootstrapKeys();
    expect(rows.filter((r) => r.revoked_at === null)).toHaveLength(1);
    expect(rows.filter((r) => r.token_hash === hashToken(first))).toHaveLength(1);
    expectProblem(await t.request('GET', '/api/v1/api-keys'), 401, 'AUTH_INVALID'); // the old admin token
    const ok = await t.request('GET', '/api/v1/api-keys', { token: first });
    expect(ok.statusCode).toBe(200);
    const listed = ok.json().items.find((k: { bootstrap: boolean }) => k.bootstrap);
    expect(listed).toMatchObject({ role: 'admin', customerId: null, name: 'bootstrap-admin' });

    // Changing the token revokes the old key.
    await ensureBootstrapKey(t.db, second);
    expectProblem(await t.request('GET', '/api/v1/api-keys', { token: first }), 401, 'AUTH_INVALID');
    expect((await t.request('GET', '/api/v1/api-keys', { token: second })).statusCode).toBe(200);

    // Going back to the first token revives it (no duplicate row); the second is revoked.
    await ensureBootstrapKey(t.db, first);
    rows = await bootstrapKeys();
    expect(rows.filter((r) => r.token_hash === hashToken(first))).toHaveLength(1);
    expect(rows.filter((r) => r.revoked_at === null).map((r) => r.token_hash)).toEqual([hashToken(first)]);
    expect((await t.request('GET', '/api/v1/api-keys', { token: first })).statusCode).toBe(200);
    expectProblem(await t.request('GET', '/api/v1/api-keys', { token: second }), 401, 'AUTH_INVALID');

    // Revoked through the API, it comes back on the next start.
    const id = rows.find((r) => r.token_hash === hashToken(first))!.id;
    expect((await t.request('DELETE', `/api/v1/api-keys/${id}`, { token: first })).statusCode).toBe(204);
    expectProblem(await t.request('GET', '/api/v1/api-keys', { token: first }), 401, 'AUTH_INVALID');
    await ensureBootstrapKey(t.db, first);
    expect((await t.request('GET', '/api/v1/api-keys', { token: first })).statusCode).toBe(200);

    // Concurrent starts (several processes) leave exactly one active bootstrap key.
    const third = `tsk_bootstrap_${randomUUID()}`;
    await Promise.all([1, 2, 3].map(() => ensureBootstrapKey(t.db, third)));
    rows = await bootstrapKeys();
    expect(rows.filter((r) => r.revoked_at === null).map((r) => r.token_hash)).toEqual([hashToken(third)]);

    // Leave the test app's admin token working for the other tests of this file.
    await ensureBootstrapKey(t.db, t.adminToken);
  });
});
