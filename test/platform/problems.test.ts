import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem } from '../helpers/problems.ts';

/** Bad requests of every kind answer with the right status and an RFC 9457 problem+json body. */
let t: TestApp;
let customerId: string;
beforeAll(async () => {
  t = await startTestApp();
  const res = await t.request('POST', '/api/v1/customers', { body: { code: 'BASE', name: 'Base' } });
  customerId = res.json().id;
});
afterAll(async () => {
  await t?.close();
});

describe('body validation', () => {
  it('lists every missing required field with its pointer', async () => {
    const res = await t.request('POST', '/api/v1/customers', { body: {} });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED', [
      { in: 'body', pointer: '/code' },
      { in: 'body', pointer: '/name' },
    ]);
    expect(body.title).toBe('Bad request');
    expect(body.detail).toContain('body/code');
    expect(body.errors?.find((e) => e.pointer === '/name')?.detail).toBe('is required');
  });

  // Bodies are validated with the same Ajv options as query strings (coerceTypes: 'array'), so
  // `"name": 123` is accepted as "123" and `"tier": "2"` as 2; only values that cannot be coerced
  // are type errors.
  it('rejects a value of the wrong type', async () => {
    const res = await t.request('POST', '/api/v1/groups', {
      body: { name: { en: 'x' }, tier: 'two', active: 'maybe' },
    });
    expectProblem(res, 400, 'VALIDATION_FAILED', [
      { in: 'body', pointer: '/name' },
      { in: 'body', pointer: '/tier' },
      { in: 'body', pointer: '/active' },
    ]);
  });

  it('rejects an unknown field', async () => {
    const res = await t.request('POST', '/api/v1/customers', {
      body: { code: 'UNK', name: 'Unknown field', colour: 'red' },
    });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'body', pointer: '/colour' }]);
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]?.detail).toBe('is not a known field');
  });

  it('rejects a value outside an enumeration and names the allowed values', async () => {
    const res = await t.request('POST', '/api/v1/customers', {
      body: { code: 'ENUM', name: 'Bad status', status: 'closed' },
    });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'body', pointer: '/status' }]);
    expect(body.errors?.[0]?.detail).toBe('must be one of active, inactive');
  });

  it('rejects bad email and uuid formats, each at its own pointer', async () => {
    const res = await t.request('POST', '/api/v1/people', {
      body: { name: 'Pat', email: 'not-an-email', kind: 'contact', customerId: 'not-a-uuid' },
    });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED', [
      { in: 'body', pointer: '/email' },
      { in: 'body', pointer: '/customerId' },
    ]);
    expect(body.errors?.map((e) => e.pointer).sort()).toEqual(['/customerId', '/email']);
  });

  it('points into arrays by index', async () => {
    const res = await t.request('POST', '/api/v1/groups', {
      body: { name: 'Array pointers', tier: 1, memberIds: [randomUUID(), 'nope'] },
    });
    expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'body', pointer: '/memberIds/1' }]);
  });

  it('rejects an empty PATCH (nothing to change)', async () => {
    const res = await t.request('PATCH', `/api/v1/customers/${customerId}`, { body: {} });
    expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'body', pointer: '/' }]);
  });

  it('rejects an over-long string', async () => {
    const res = await t.request('POST', '/api/v1/customers', {
      body: { code: 'LONG', name: 'x'.repeat(201) },
    });
    expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'body', pointer: '/name' }]);
  });
});

describe('query and path validation', () => {
  it.each([
    ['limit=0', '/limit'],
    ['limit=501', '/limit'],
    ['limit=ten', '/limit'],
    ['sort=colour', '/sort'],
    ['sort=-', '/sort'],
    ['status=closed', '/status'],
  ])('GET /customers?%s -> 400 at query %s', async (query, pointer) => {
    const res = await t.request('GET', `/api/v1/customers?${query}`);
    const body = expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'query', pointer }]);
    expect(body.detail).toContain(`query${pointer}`);
  });

  it('accepts the limits themselves (1 and 500)', async () => {
    expect((await t.request('GET', '/api/v1/customers?limit=1')).statusCode).toBe(200);
    expect((await t.request('GET', '/api/v1/customers?limit=500')).statusCode).toBe(200);
  });

  it('rejects a path id that is not a uuid', async () => {
    const res = await t.request('GET', '/api/v1/customers/12345');
    expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'params', pointer: '/id' }]);
  });

  it('answers 404 for a well-formed id that does not exist', async () => {
    const id = randomUUID();
    const res = await t.request('GET', `/api/v1/customers/${id}`);
    const body = expectProblem(res, 404, 'DIRECTORY_CUSTOMER_NOT_FOUND');
    expect(body.detail).toContain(id);
  });
});

describe('NUL characters (PostgreSQL stores none)', () => {
  it('a NUL in a body string or key -> 400 INVALID_TEXT at its pointer; nothing is written', async () => {
    const before = (await t.request('GET', '/api/v1/customers?limit=500')).json().items.length;
    const value = await t.request('POST', '/api/v1/customers', {
      body: { code: 'NUL1', name: 'Bad\u0000name' },
    });
    expectProblem(value, 400, 'INVALID_TEXT', [{ in: 'body', pointer: '/name' }]);
    const nested = await t.request('POST', '/api/v1/incidents', {
      body: { title: 'ok', customerId, labels: ['fine', 'x\u0000'] },
    });
    expectProblem(nested, 400, 'INVALID_TEXT', [{ in: 'body', pointer: '/labels/1' }]);
    const key = await t.request('POST', '/api/v1/customers', {
      headers: { 'content-type': 'application/json' },
      body: '{"code": "NUL2", "name": "ok", "a/b\\u0000": 1}',
    });
    expectProblem(key, 400, 'INVALID_TEXT', [{ in: 'body', pointer: '/a~1b\u0000' }]);
    expect((await t.request('GET', '/api/v1/customers?limit=500')).json().items).toHaveLength(before);
  });

  it('finds a NUL however deep the body nests it (no stack overflow, no 500)', async () => {
    const depth = 20_000;
    const res = await t.request('POST', '/api/v1/customers', {
      headers: { 'content-type': 'application/json' },
      body: `{"code": "NUL4", "name": "ok", "deep": ${'['.repeat(depth)}"x\\u0000"${']'.repeat(depth)}}`,
    });
    const body = expectProblem(res, 400, 'INVALID_TEXT');
    expect(body.errors?.[0]?.pointer).toBe(`/deep${'/0'.repeat(depth)}`);
  });

  it('a literal backslash-u0000 (escaped backslash) is ordinary text', async () => {
    const res = await t.request('POST', '/api/v1/customers', {
      headers: { 'content-type': 'application/json' },
      body: '{"code": "NUL3", "name": "back\\\\u0000slash"}',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().name).toBe('back\\u0000slash');
  });

  it('a %00 in a query or path value -> 400 INVALID_TEXT naming it', async () => {
    const query = await t.request('GET', '/api/v1/incidents?q=disk%00full');
    expectProblem(query, 400, 'INVALID_TEXT', [{ in: 'query', pointer: '/q' }]);
    const path = await t.request('GET', '/api/v1/confirmations/tok%00en', { token: null });
    expectProblem(path, 400, 'INVALID_TEXT', [{ in: 'params', pointer: '/token' }]);
  });
});

describe('request format', () => {
  it('malformed JSON -> 400 MALFORMED_JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customers',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      payload: '{"code": "X", "name": ',
    });
    expectProblem(res, 400, 'MALFORMED_JSON');
  });

  it('Content-Type text/plain on a JSON route -> 415', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customers',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'text/plain' },
      payload: JSON.stringify({ code: 'TXT', name: 'Text' }),
    });
    const body = expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(body.detail).toContain('text/plain');
  });

  it('unknown route -> 404 problem, with or without a key', async () => {
    const res = await t.request('GET', '/api/v1/no-such-thing');
    const body = expectProblem(res, 404, 'ROUTE_NOT_FOUND');
    expect(body.detail).toBe('No route GET /api/v1/no-such-thing');
    expectProblem(await t.request('DELETE', '/api/v1/customers', { token: null }), 404, 'ROUTE_NOT_FOUND');
    expectProblem(await t.request('GET', '/nowhere', { token: null }), 404, 'ROUTE_NOT_FOUND');
  });

  it('problems carry the request id and the instance', async () => {
    const res = await t.request('GET', '/api/v1/customers?limit=0', {
      headers: { 'x-request-id': 'problem-req-1' },
    });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.requestId).toBe('problem-req-1');
    expect(res.headers['x-request-id']).toBe('problem-req-1');
    expect(body.instance).toBe('/api/v1/customers?limit=0');
  });
});

describe('authentication and authorisation', () => {
  it('no key -> 401 with WWW-Authenticate', async () => {
    const res = await t.request('GET', '/api/v1/customers', { token: null });
    expectProblem(res, 401, 'AUTH_REQUIRED');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
  });

  it('an unknown key -> 401 with WWW-Authenticate', async () => {
    const res = await t.request('GET', '/api/v1/customers', { token: 'tsk_not-a-real-token' });
    expectProblem(res, 401, 'AUTH_INVALID');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
  });

  it('a malformed Authorization header -> 401', async () => {
    for (const authorization of ['Bearer', 'Token abc', 'Bearer    ']) {
      const res = await t.request('GET', '/api/v1/customers', { token: null, headers: { authorization } });
      expectProblem(res, 401, 'AUTH_REQUIRED');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    }
  });

  it('401 comes before validation: no key and a bad body still says 401', async () => {
    const res = await t.request('POST', '/api/v1/customers', { token: null, body: { nope: 1 } });
    expectProblem(res, 401, 'AUTH_REQUIRED');
  });

  it('wrong role -> 403 naming the allowed roles', async () => {
    const requester = await t.key('requester');
    const integration = await t.key('integration');
    const manager = await t.key('manager');
    const agent = await t.key('agent');

    const post = await t.request('POST', '/api/v1/customers', {
      token: requester,
      body: { code: 'REQ', name: 'By requester' },
    });
    const body = expectProblem(post, 403, 'AUTH_FORBIDDEN');
    expect(body.allowedRoles).toEqual(['admin', 'manager']);
    expect(post.headers['www-authenticate']).toBeUndefined();

    expectProblem(await t.request('GET', '/api/v1/customers', { token: integration }), 403, 'AUTH_FORBIDDEN');
    expectProblem(await t.request('GET', '/api/v1/audit', { token: manager }), 403, 'AUTH_FORBIDDEN');
    expectProblem(await t.request('GET', '/api/v1/audit', { token: agent }), 403, 'AUTH_FORBIDDEN');
    expectProblem(await t.request('GET', '/api/v1/api-keys', { token: manager }), 403, 'AUTH_FORBIDDEN');
    expectProblem(
      await t.request('POST', '/api/v1/api-keys', { token: manager, body: { name: 'x', role: 'admin' } }),
      403,
      'AUTH_FORBIDDEN',
    );
    expectProblem(
      await t.request('PATCH', `/api/v1/customers/${customerId}`, { token: agent, body: { name: 'x' } }),
      403,
      'AUTH_FORBIDDEN',
    );
    // ... while the roles that may read still can.
    expect((await t.request('GET', '/api/v1/customers', { token: requester })).statusCode).toBe(200);
    expect((await t.request('GET', '/api/v1/enumerations', { token: integration })).statusCode).toBe(200);
  });
});

describe('versions and uniqueness', () => {
  it('stale If-Match -> 412 with both versions; the record is unchanged', async () => {
    const created = (
      await t.request('POST', '/api/v1/customers', { body: { code: 'VER', name: 'Versioned' } })
    ).json();
    const first = await t.request('PATCH', `/api/v1/customers/${created.id}`, {
      body: { name: 'v2' },
      headers: { 'if-match': '"1"' },
    });
    expect(first.statusCode).toBe(200);
    const res = await t.request('PATCH', `/api/v1/customers/${created.id}`, {
      body: { name: 'lost' },
      headers: { 'if-match': '"1"' },
    });
    const body = expectProblem(res, 412, 'VERSION_MISMATCH');
    expect(body).toMatchObject({ expectedVersion: 1, currentVersion: 2, title: 'Precondition failed' });
    const now = (await t.request('GET', `/api/v1/customers/${created.id}`)).json();
    expect(now).toMatchObject({ name: 'v2', version: 2 });
    // The weak form and a bare number are accepted as well.
    const weak = await t.request('PATCH', `/api/v1/customers/${created.id}`, {
      body: { name: 'v3' },
      headers: { 'if-match': 'W/"2"' },
    });
    expect(weak.statusCode).toBe(200);
    expect(weak.headers.etag).toBe('"3"');
  });

  it('malformed If-Match -> 400 at headers /if-match', async () => {
    for (const ifMatch of ['"abc"', 'version-1', '"1", "2"']) {
      const res = await t.request('PATCH', `/api/v1/customers/${customerId}`, {
        body: { name: 'x' },
        headers: { 'if-match': ifMatch },
      });
      expectProblem(res, 400, 'INVALID_IF_MATCH', [{ in: 'headers', pointer: '/if-match' }]);
    }
  });

  it('duplicate customer code (any case) -> 409 at /code', async () => {
    expect(
      (await t.request('POST', '/api/v1/customers', { body: { code: 'Dup-1', name: 'First' } })).statusCode,
    ).toBe(201);
    const res = await t.request('POST', '/api/v1/customers', { body: { code: 'dup-1', name: 'Second' } });
    const body = expectProblem(res, 409, 'DIRECTORY_CUSTOMER_CODE_TAKEN', [{ in: 'body', pointer: '/code' }]);
    expect(body.title).toBe('Conflict');
    const renamed = await t.request('PATCH', `/api/v1/customers/${customerId}`, { body: { code: 'DUP-1' } });
    expectProblem(renamed, 409, 'DIRECTORY_CUSTOMER_CODE_TAKEN', [{ in: 'body', pointer: '/code' }]);
    const list = await t.request('GET', '/api/v1/customers?code=DUP-1');
    expect(list.json().items).toHaveLength(1);
  });

  it('duplicate person email (any case) -> 409 at /email', async () => {
    const first = await t.request('POST', '/api/v1/people', {
      body: { name: 'Ann', email: 'ann@example.com', kind: 'agent' },
    });
    expect(first.statusCode).toBe(201);
    const res = await t.request('POST', '/api/v1/people', {
      body: { name: 'Ann again', email: 'ANN@example.com', kind: 'contact', customerId },
    });
    expectProblem(res, 409, 'DIRECTORY_EMAIL_TAKEN', [{ in: 'body', pointer: '/email' }]);
  });

  it('duplicate group name -> 409 at /name', async () => {
    expect(
      (await t.request('POST', '/api/v1/groups', { body: { name: 'Service Desk', tier: 1 } })).statusCode,
    ).toBe(201);
    const res = await t.request('POST', '/api/v1/groups', { body: { name: 'service desk', tier: 2 } });
    expectProblem(res, 409, 'DIRECTORY_GROUP_NAME_TAKEN', [{ in: 'body', pointer: '/name' }]);
  });
});

describe('JSON bodies are not coerced', () => {
  it('rejects a number where a string is expected, and a string where an integer is expected', async () => {
    const { startTestApp } = await import('../helpers/app.ts');
    const app = await startTestApp();
    try {
      const name = await app.request('POST', '/api/v1/customers', { body: { name: 123, code: 'NUM' } });
      expect(name.statusCode).toBe(400);
      expect(name.json().errors[0]).toMatchObject({ in: 'body', pointer: '/name' });
      const tier = await app.request('POST', '/api/v1/groups', { body: { name: 'g', tier: '2' } });
      expect(tier.statusCode).toBe(400);
      expect(tier.json().errors[0]).toMatchObject({ in: 'body', pointer: '/tier' });
      const list = await app.request('GET', '/api/v1/customers?limit=2');
      expect(list.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
