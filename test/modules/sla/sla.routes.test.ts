import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
let customerId: string;
let serviceId: string;
let calendarId: string;

const post = (url: string, body: unknown, token?: string) => t.request('POST', url, { body, token });

async function activeSla(extra: Record<string, unknown> = {}) {
  const created = await post('/api/v1/slas', {
    name: '邮件服务 SLA',
    kind: 'sla',
    customerId,
    serviceIds: [serviceId],
    calendarId,
    validFrom: '2026-01-01',
    validTo: '2027-12-31',
    targets: [
      { priority: 'P1', metric: 'response', duration: 'PT20S' },
      { priority: 'P1', metric: 'resolution', duration: 'PT1H' },
    ],
    warnings: [{ percent: 50 }, { before: 'PT10M' }],
    pauseOn: [{ status: 'pending', reason: 'customer' }],
    ...extra,
  });
  expect(created.statusCode, created.body).toBe(201);
  expect(created.json().status).toBe('draft');
  const activated = await post(`/api/v1/slas/${created.json().id}/activate`, {});
  expect(activated.statusCode, activated.body).toBe(200);
  expect(activated.json().status).toBe('active');
  return activated.json();
}

beforeAll(async () => {
  t = await startTestApp();
  customerId = (await post('/api/v1/customers', { name: 'Acme 甲方', code: 'ACME' })).json().id;
  serviceId = (await post('/api/v1/services', { code: 'mail', name: '邮件服务' })).json().id;
  const calendar = await post('/api/v1/calendars', {
    name: '24x7',
    timeZone: 'Asia/Shanghai',
    alwaysOpen: true,
  });
  expect(calendar.statusCode, calendar.body).toBe(201);
  calendarId = calendar.json().id;
});
afterAll(async () => {
  await t?.close();
});

describe('agreements', () => {
  it('accepts the contract shape and gives an incident clocks', async () => {
    const sla = await activeSla();
    const incident = (
      await post('/api/v1/incidents', {
        title: '邮件发不出去',
        customerId,
        serviceId,
        impact: 'high',
        urgency: 'high',
      })
    ).json();
    const res = await t.request('GET', `/api/v1/incidents/${incident.id}/sla`);
    expect(res.statusCode, res.body).toBe(200);
    const clocks = res.json().clocks;
    expect(clocks).toHaveLength(2);
    const response = clocks.find((c: { metric: string }) => c.metric === 'response');
    expect(response).toMatchObject({
      agreementId: sla.id,
      state: 'running',
      target: 'PT20S',
      targetSeconds: 20,
      breachedAt: null,
      warningsReached: [],
    });
    expect(response.remainingSeconds).toBeLessThanOrEqual(20);
    expect(Date.parse(response.dueAt) - Date.parse(incident.reportedAt)).toBe(20_000);

    const explain = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla/explain`)).json();
    expect(explain.clocks[0].segments[0]).toMatchObject({ kind: 'counted' });

    // pause on pending(customer); the response was met by start
    await post(`/api/v1/incidents/${incident.id}/start`, {});
    await post(`/api/v1/incidents/${incident.id}/pend`, { reason: 'customer' });
    const paused = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla`)).json().clocks;
    expect(paused.find((c: { metric: string }) => c.metric === 'response').state).toBe('met');
    const resolution = paused.find((c: { metric: string }) => c.metric === 'resolution');
    expect(resolution.state).toBe('paused');
    expect(resolution.dueAt).toBeNull();
    const segments = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla/explain`))
      .json()
      .clocks.find((c: { metric: string }) => c.metric === 'resolution').segments;
    expect(segments.at(-1)).toMatchObject({ kind: 'paused', reason: 'pending:customer' });
  });

  it('refuses unknown services, calendars and bad durations with pointers', async () => {
    const res = await post('/api/v1/slas', {
      name: 'bad',
      kind: 'sla',
      customerId,
      serviceIds: ['00000000-0000-4000-8000-000000000000'],
      calendarId,
      validFrom: '2026-01-01',
      targets: [{ priority: 'P1', metric: 'response', duration: 'PT0S' }],
    });
    expect(res.statusCode).toBe(400);
    const pointers = res.json().errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toContain('/serviceIds/0');
    expect(pointers).toContain('/targets/0/duration');
  });
});
