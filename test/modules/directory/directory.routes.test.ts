import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('customers', () => {
  it('creates, reads, patches with If-Match and lists with paging', async () => {
    const created = await t.request('POST', '/api/v1/customers', {
      body: { name: 'Acme 甲方', code: 'ACME' },
    });
    expect(created.statusCode).toBe(201);
    const customer = created.json();
    expect(customer).toMatchObject({ name: 'Acme 甲方', code: 'ACME', status: 'active', version: 1 });
    expect(customer.ref).toMatch(/^CUS-\d{6,}$/);
    expect(created.headers.etag).toBe('"1"');

    const got = await t.request('GET', `/api/v1/customers/${customer.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe('"1"');

    const patched = await t.request('PATCH', `/api/v1/customers/${customer.id}`, {
      body: { name: 'Acme 乙方' },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'Acme 乙方', version: 2 });
    expect(patched.headers.etag).toBe('"2"');

    const stale = await t.request('PATCH', `/api/v1/customers/${customer.id}`, {
      body: { name: 'Lost update' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toContain('application/problem+json');
    expect(stale.json()).toMatchObject({ status: 412, code: 'VERSION_MISMATCH', currentVersion: 2 });
    expect((await t.request('GET', `/api/v1/customers/${customer.id}`)).json().name).toBe('Acme 乙方');

    for (const code of ['B1', 'B2', 'B3']) {
      expect((await t.request('POST', '/api/v1/customers', { body: { name: code, code } })).statusCode).toBe(
        201,
      );
    }
    const page1 = await t.request('GET', '/api/v1/customers?limit=2');
    expect(page1.statusCode).toBe(200);
    expect(page1.json().items).toHaveLength(2);
    const page2 = await t.request('GET', `/api/v1/customers?limit=2&cursor=${page1.json().nextCursor}`);
    expect(page2.json().items).toHaveLength(2);
    expect(page2.json().nextCursor).toBeNull();
    const all = [...page1.json().items, ...page2.json().items].map((c: { code: string }) => c.code);
    expect(all).toEqual(['ACME', 'B1', 'B2', 'B3']);
  });
});
