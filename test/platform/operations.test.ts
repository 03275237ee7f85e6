import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem } from '../helpers/problems.ts';

/** What ops teams and portals rely on outside the resources: health, metrics, docs, request ids, labels. */
let t: TestApp;
let noRedis: TestApp;
beforeAll(async () => {
  [t, noRedis] = await Promise.all([startTestApp(), startTestApp({ redisUrl: 'redis://127.0.0.1:1' })]);
});
afterAll(async () => {
  await Promise.all([t?.close(), noRedis?.close()]);
});

describe('health', () => {
  it('/healthz answers 200 without a key', async () => {
    const res = await t.request('GET', '/healthz', { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when PostgreSQL and Redis answer', async () => {
    const res = await t.request('GET', '/readyz', { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok',
      checks: { postgres: { status: 'ok' }, redis: { status: 'ok' } },
    });
  });

  it('/readyz answers 503 with the reason when Redis is unreachable', async () => {
    const res = await noRedis.request('GET', '/readyz', { token: null });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body).toMatchObject({
      status: 'fail',
      checks: { postgres: { status: 'ok' }, redis: { status: 'fail' } },
    });
    expect(body.checks.redis.reason).toEqual(expect.stringMatching(/redis/i));
    // ... while liveness and the API itself still work: writes do not need Redis.
    expect((await noRedis.request('GET', '/healthz', { token: null })).statusCode).toBe(200);
    const created = await noRedis.request('POST', '/api/v1/customers', {
      body: { code: 'NR', name: 'No Redis' },
    });
    expect(created.statusCode).toBe(201);
    const metrics = await noRedis.request('GET', '/metrics', { token: null });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^tessera_outbox_unsent 1$/m);
  });
});

describe('metrics', () => {
  it('serves Prometheus text with request latency by route, outbox backlog and queue depth', async () => {
    const id = (
      await t.request('POST', '/api/v1/customers', { body: { code: 'MET', name: 'Metrics' } })
    ).json().id;
    await t.request('GET', `/api/v1/customers/${id}`);
    await t.request('GET', '/api/v1/customers?limit=0');
    const res = await t.request('GET', '/metrics', { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toContain('# TYPE tessera_http_request_duration_seconds histogram');
    expect(text).toMatch(
      /^tessera_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/customers\/:id",status="200"\} 1$/m,
    );
    expect(text).toMatch(
      /^tessera_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/customers",status="201"\} 1$/m,
    );
    expect(text).toMatch(
      /tessera_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/customers",status="400"\} 1/,
    );
    // Route templates, never raw URLs with ids.
    expect(text).not.toContain(id);
    expect(text).toMatch(/^tessera_outbox_unsent 1$/m); // customer.created, no worker running
    expect(text).toMatch(/^tessera_outbox_lag_seconds \d/m);
    expect(text).toContain('# TYPE tessera_queue_jobs gauge');
    expect(text).toMatch(/^tessera_queue_jobs\{queue="platform",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^tessera_process_cpu_user_seconds_total /m);
  });

  it('does not record unknown routes or /metrics itself', async () => {
    await t.request('GET', '/no/such/route');
    const text = (await t.request('GET', '/metrics', { token: null })).body;
    expect(text).not.toContain('/no/such/route');
    expect(text).not.toContain('route="/metrics"');
  });
});

describe('documents', () => {
  it('/openapi.json is OpenAPI 3.1.0', async () => {
    const res = await t.request('GET', '/openapi.json', { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Tessera');
    expect(doc.paths['/api/v1/customers']).toBeDefined();
  });

  it('/docs serves the API reference as HTML', async () => {
    let res = await t.request('GET', '/docs', { token: null });
    for (let hops = 0; hops < 3 && res.statusCode >= 300 && res.statusCode < 400; hops++) {
      const location = String(res.headers.location);
      res = await t.request('GET', new URL(location, 'http://localhost/docs/').pathname, { token: null });
    }
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/<html/i);
  });
});

describe('request ids', () => {
  it('echoes a given x-request-id, and makes one up otherwise', async () => {
    const given = await t.request('GET', '/healthz', {
      token: null,
      headers: { 'x-request-id': 'ops-123:a.b_c' },
    });
    expect(given.headers['x-request-id']).toBe('ops-123:a.b_c');
    const made = await t.request('GET', '/api/v1/customers');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const other = await t.request('GET', '/api/v1/customers');
    expect(other.headers['x-request-id']).not.toBe(made.headers['x-request-id']);
  });

  it('replaces an unsafe x-request-id rather than echoing it', async () => {
    const res = await t.request('GET', '/healthz', {
      token: null,
      headers: { 'x-request-id': `<script>${'x'.repeat(200)}` },
    });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is on problem replies too', async () => {
    const res = await t.request('GET', '/api/v1/customers', {
      token: null,
      headers: { 'x-request-id': 'ops-401' },
    });
    const body = expectProblem(res, 401, 'AUTH_REQUIRED');
    expect(res.headers['x-request-id']).toBe('ops-401');
    expect(body.requestId).toBe('ops-401');
  });
});

describe('enumerations', () => {
  it('labels in English by default', async () => {
    const res = await t.request('GET', '/api/v1/enumerations');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-language']).toBe('en');
    expect(res.headers.vary).toMatch(/accept-language/i);
    const body = res.json();
    expect(body.customerStatus).toEqual([
      { code: 'active', label: 'Active' },
      { code: 'inactive', label: 'Inactive' },
    ]);
    expect(body.role).toContainEqual({ code: 'admin', label: 'Administrator' });
    expect(body.groupTier).toContainEqual({ code: '1', label: 'Tier 1 (service desk)' });
  });

  it('labels in Chinese for Accept-Language zh-CN (codes unchanged)', async () => {
    const res = await t.request('GET', '/api/v1/enumerations', { headers: { 'accept-language': 'zh-CN' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-language']).toBe('zh-CN');
    const body = res.json();
    expect(body.customerStatus).toEqual([
      { code: 'active', label: '有效' },
      { code: 'inactive', label: '停用' },
    ]);
    expect(body.personKind).toContainEqual({ code: 'contact', label: '客户联系人' });
    expect(body.role).toContainEqual({ code: 'admin', label: '管理员' });
    const english = (await t.request('GET', '/api/v1/enumerations')).json();
    expect(Object.keys(body)).toEqual(Object.keys(english));
    for (const name of Object.keys(english)) {
      expect(body[name].map((e: { code: string }) => e.code)).toEqual(
        english[name].map((e: { code: string }) => e.code),
      );
    }
  });

  it.each([
    ['zh', 'zh-CN'],
    ['zh-Hans-CN,zh;q=0.9', 'zh-CN'],
    ['en-US,zh-CN;q=0.5', 'en'],
    ['fr-FR,zh-CN;q=0.8,en;q=0.5', 'zh-CN'],
    ['de', 'en'],
  ])('Accept-Language %s -> %s', async (header, locale) => {
    const res = await t.request('GET', '/api/v1/enumerations', { headers: { 'accept-language': header } });
    expect(res.headers['content-language']).toBe(locale);
  });
});
