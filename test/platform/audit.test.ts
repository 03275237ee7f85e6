import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem } from '../helpers/problems.ts';

/** Every mutation writes one audit entry: actor, action, record, before/after, request id. */
let t: TestApp;
let adminKeyId: string;
beforeAll(async () => {
  t = await startTestApp();
  const keys = (await t.request('GET', '/api/v1/api-keys')).json().items;
  adminKeyId = keys.find((k: { bootstrap: boolean }) => k.bootstrap).id;
});
afterAll(async () => {
  await t?.close();
});

interface AuditEntry {
  id: number;
  at: string;
  actor: { keyId: string | null; name: string; role: string };
  action: string;
  recordType: string;
  recordId: string;
  customerId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
}

async function auditOf(recordType: string, recordId: string): Promise<AuditEntry[]> {
  const res = await t.request('GET', `/api/v1/audit?recordType=${recordType}&recordId=${recordId}`);
  expect(res.statusCode).toBe(200);
  return res.json().items;
}

describe('audit entries', () => {
  it('customer create and update: actor, action, before/after, the request id of the reply', async () => {
    const created = await t.request('POST', '/api/v1/customers', { body: { code: 'AUD', name: 'Audited' } });
    const customer = created.json();
    const patched = await t.request('PATCH', `/api/v1/customers/${customer.id}`, {
      body: { name: 'Audited 2' },
      headers: { 'x-request-id': 'audit-patch-1' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.headers['x-request-id']).toBe('audit-patch-1');

    const entries = await auditOf('customer', customer.id);
    expect(entries.map((e) => e.action)).toEqual(['customer.update', 'customer.create']); // newest first
    const [update, create] = entries as [AuditEntry, AuditEntry];
    expect(create).toMatchObject({
      actor: { keyId: adminKeyId, name: 'bootstrap-admin', role: 'admin' },
      recordType: 'customer',
      recordId: customer.id,
      customerId: customer.id,
      before: null,
      after: customer,
      requestId: created.headers['x-request-id'],
    });
    expect(create.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(update).toMatchObject({
      before: customer,
      after: patched.json(),
      requestId: 'audit-patch-1',
    });
    expect(update.after).toMatchObject({ name: 'Audited 2', version: 2 });
    expect(Date.parse(update.at)).toBeGreaterThanOrEqual(Date.parse(create.at));
  });

  it('records the acting key, not the admin, for other keys', async () => {
    const res = await t.request('POST', '/api/v1/api-keys', {
      body: { name: 'audit-manager', role: 'manager' },
    });
    const manager = res.json();
    const created = await t.request('POST', '/api/v1/customers', {
      token: manager.token,
      body: { code: 'AUD-M', name: 'By manager' },
    });
    const [entry] = await auditOf('customer', created.json().id);
    expect(entry!.actor).toEqual({ keyId: manager.id, name: 'audit-manager', role: 'manager' });
    expect(entry!.requestId).toBe(created.headers['x-request-id']);
    const byKey = await t.request('GET', `/api/v1/audit?actorKeyId=${manager.id}`);
    expect(byKey.json().items.map((e: AuditEntry) => e.recordId)).toEqual([created.json().id]);
  });

  it('person create and update', async () => {
    const created = await t.request('POST', '/api/v1/people', {
      body: { name: 'Pat', email: 'pat@audit.example', kind: 'agent' },
    });
    const person = created.json();
    const patched = await t.request('PATCH', `/api/v1/people/${person.id}`, { body: { department: 'Ops' } });
    const [update, create] = (await auditOf('person', person.id)) as [AuditEntry, AuditEntry];
    expect(create).toMatchObject({
      action: 'person.create',
      before: null,
      after: person,
      requestId: created.headers['x-request-id'],
    });
    expect(update).toMatchObject({
      action: 'person.update',
      before: person,
      after: patched.json(),
      requestId: patched.headers['x-request-id'],
    });
  });

  it('group create and update (members included)', async () => {
    const agent = (
      await t.request('POST', '/api/v1/people', {
        body: { name: 'Gil', email: 'gil@audit.example', kind: 'agent' },
      })
    ).json();
    const created = await t.request('POST', '/api/v1/groups', { body: { name: 'Audit desk', tier: 1 } });
    const group = created.json();
    const patched = await t.request('PATCH', `/api/v1/groups/${group.id}`, {
      body: { memberIds: [agent.id], tier: 2 },
    });
    expect(patched.statusCode).toBe(200);
    const [update, create] = (await auditOf('group', group.id)) as [AuditEntry, AuditEntry];
    expect(create).toMatchObject({
      action: 'group.create',
      after: group,
      requestId: created.headers['x-request-id'],
    });
    expect(update).toMatchObject({
      action: 'group.update',
      before: { memberIds: [], tier: 1, version: 1 },
      after: { memberIds: [agent.id], tier: 2, version: 2 },
      requestId: patched.headers['x-request-id'],
    });
  });

  it('API key create and revoke, without the token', async () => {
    const created = await t.request('POST', '/api/v1/api-keys', {
      body: { name: 'audited-key', role: 'agent' },
    });
    const key = created.json();
    const revoked = await t.request('DELETE', `/api/v1/api-keys/${key.id}`);
    expect(revoked.statusCode).toBe(204);
    const entries = await auditOf('api_key', key.id);
    const [revoke, create] = entries as [AuditEntry, AuditEntry];
    expect(create).toMatchObject({
      action: 'api_key.create',
      actor: { keyId: adminKeyId },
      before: null,
      after: { id: key.id, name: 'audited-key', role: 'agent', revokedAt: null },
      requestId: created.headers['x-request-id'],
    });
    expect(revoke).toMatchObject({
      action: 'api_key.revoke',
      before: { id: key.id, revokedAt: null },
      requestId: revoked.headers['x-request-id'],
    });
    expect(revoke.after?.revokedAt).toEqual(expect.any(String));
    expect(JSON.stringify(entries)).not.toContain(key.token);
  });

  it('failed mutations write nothing', async () => {
    const before = (await t.request('GET', '/api/v1/audit?limit=500')).json().items.length;
    await t.request('POST', '/api/v1/customers', { body: { code: 'AUD', name: 'Duplicate' } });
    await t.request('POST', '/api/v1/customers', { body: { name: 'Invalid' } });
    const after = (await t.request('GET', '/api/v1/audit?limit=500')).json().items.length;
    expect(after).toBe(before);
  });
});

describe('GET /audit', () => {
  it('filters by recordType, recordId, action and requestId', async () => {
    const res = await t.request('POST', '/api/v1/customers', {
      body: { code: 'AUD-F', name: 'Filter' },
      headers: { 'x-request-id': 'audit-filter-req' },
    });
    const id = res.json().id;
    const byAction = (await t.request('GET', '/api/v1/audit?action=customer.create&limit=500')).json().items;
    expect(byAction.length).toBeGreaterThanOrEqual(3);
    expect(byAction.every((e: AuditEntry) => e.action === 'customer.create')).toBe(true);
    const byType = (await t.request('GET', '/api/v1/audit?recordType=api_key&limit=500')).json().items;
    expect(byType.length).toBeGreaterThan(0);
    expect(byType.every((e: AuditEntry) => e.recordType === 'api_key')).toBe(true);
    const byRecord = (await t.request('GET', `/api/v1/audit?recordId=${id}`)).json().items;
    expect(byRecord.map((e: AuditEntry) => e.action)).toEqual(['customer.create']);
    const byRequest = (await t.request('GET', '/api/v1/audit?requestId=audit-filter-req')).json().items;
    expect(byRequest.map((e: AuditEntry) => e.recordId)).toEqual([id]);
    const none = (await t.request('GET', '/api/v1/audit?action=customer.update&recordId=' + id)).json().items;
    expect(none).toEqual([]);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await t.request('GET', `/api/v1/audit?from=${future}`)).json().items).toEqual([]);
    expect(
      (await t.request('GET', `/api/v1/audit?to=${future}&recordId=${id}`))
        .json()
        .items.map((e: AuditEntry) => e.recordId),
    ).toEqual([id]);
  });

  it('pages newest first with a cursor: no duplicates, no gaps', async () => {
    for (let i = 0; i < 7; i++) {
      await t.request('POST', '/api/v1/groups', { body: { name: `Paged audit ${i}`, tier: 1 } });
    }
    const all = (await t.request('GET', '/api/v1/audit?action=group.create&limit=500')).json()
      .items as AuditEntry[];
    expect(all.length).toBeGreaterThanOrEqual(7);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/audit?action=group.create&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await t.request('GET', url);
      expect(page.statusCode).toBe(200);
      const body = page.json();
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items.map((e: AuditEntry) => e.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toEqual(all.map((e) => e.id));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((x, y) => y - x)).toEqual(seen);
    expect(pages).toBe(Math.ceil(all.length / 3));
  });

  it('rejects a garbage cursor and bad filters', async () => {
    expectProblem(await t.request('GET', '/api/v1/audit?cursor=garbage'), 400, 'INVALID_CURSOR', [
      { in: 'query', pointer: '/cursor' },
    ]);
    expectProblem(await t.request('GET', '/api/v1/audit?actorKeyId=nope'), 400, 'VALIDATION_FAILED', [
      { in: 'query', pointer: '/actorKeyId' },
    ]);
    expectProblem(await t.request('GET', '/api/v1/audit?from=yesterday'), 400, 'VALIDATION_FAILED', [
      { in: 'query', pointer: '/from' },
    ]);
  });
});
