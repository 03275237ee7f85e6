/**
 * Monitoring intake and service level management together, with the real worker: an incident that
 * an alert opens gets its agreement's clocks; PagerDuty `acknowledge` meets the response clock; the
 * resolve that auto-resolves the incident stops the resolution clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { enqueueEvent, fixture } from '../../helpers/intake.ts';

let t: TestApp;
let key: string;

const post = (url: string, body: unknown) => t.request('POST', url, { body });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const enqueue = (body: unknown) => enqueueEvent(t.app, body);

interface Clock {
  metric: string;
  state: string;
}
const clocksOf = async (incidentId: string) =>
  ((await t.request('GET', `/api/v1/incidents/${incidentId}/sla`)).json().clocks ?? []) as Clock[];
async function waitForClocks(incidentId: string, ok: (clocks: Clock[]) => boolean): Promise<Clock[]> {
  const deadline = Date.now() + 15_000;
  let clocks = await clocksOf(incidentId);
  while (!ok(clocks) && Date.now() < deadline) {
    await sleep(100);
    clocks = await clocksOf(incidentId);
  }
  return clocks;
}
const stateOf = (clocks: Clock[], metric: string) => clocks.find((c) => c.metric === metric)?.state;

beforeAll(async () => {
  t = await startTestApp({ worker: true });
  const customerId = (await post('/api/v1/customers', { name: 'Clocked Co', code: 'CLOCKED' })).json().id;
  const serviceId = (await post('/api/v1/services', { code: 'datapipe', name: 'Data pipeline' })).json().id;
  const calendarId = (
    await post('/api/v1/calendars', { name: 'always', timeZone: 'Asia/Shanghai', alwaysOpen: true })
  ).json().id;
  const agreement = await post('/api/v1/slas', {
    name: 'Datapipe SLA',
    kind: 'sla',
    customerId,
    serviceIds: [serviceId],
    calendarId,
    validFrom: '2026-01-01',
    targets: [
      { priority: '*', metric: 'response', duration: 'PT1H' },
      { priority: '*', metric: 'resolution', duration: 'PT4H' },
    ],
  });
  expect(agreement.statusCode, agreement.body).toBe(201);
  await post(`/api/v1/slas/${agreement.json().id}/activate`, {});
  const integration = await post('/api/v1/integrations', {
    type: 'pagerduty',
    name: 'datapipe monitor',
    customerId,
    serviceId,
    autoResolve: true,
  });
  expect(integration.statusCode, integration.body).toBe(201);
  key = integration.json().key;
});
afterAll(async () => {
  await t?.close();
});

describe('intake and SLA clocks', () => {
  it('starts the clocks, meets the response clock on acknowledge, stops the resolution clock on resolve', async () => {
    const trigger = fixture('pagerduty-trigger.json');
    const event = {
      ...trigger,
      routing_key: key,
      dedup_key: 'datapipe/disk',
      payload: { ...trigger.payload, timestamp: new Date().toISOString() },
    };
    const opened = await enqueue(event);
    expect(opened.statusCode, opened.body).toBe(202);
    const incident = (await t.request('GET', '/api/v1/incidents?source=pagerduty&limit=10')).json()
      .items[0] as { id: string; serviceId: string };
    expect(incident.serviceId).toBeTruthy();

    const running = await waitForClocks(incident.id, (c) => c.length === 2);
    expect(stateOf(running, 'response')).toBe('running');
    expect(stateOf(running, 'resolution')).toBe('running');

    await enqueue({ ...fixture('pagerduty-acknowledge.json'), routing_key: key, dedup_key: 'datapipe/disk' });
    const acknowledged = await waitForClocks(incident.id, (c) => stateOf(c, 'response') === 'met');
    expect(stateOf(acknowledged, 'response')).toBe('met');
    expect(stateOf(acknowledged, 'resolution')).toBe('running');

    await enqueue({ ...fixture('pagerduty-resolve.json'), routing_key: key, dedup_key: 'datapipe/disk' });
    const resolved = await waitForClocks(incident.id, (c) => stateOf(c, 'resolution') === 'met');
    expect(stateOf(resolved, 'resolution')).toBe('met');
    expect((await t.request('GET', `/api/v1/incidents/${incident.id}`)).json()).toMatchObject({
      status: 'resolved',
      resolutionCode: 'auto_resolved',
    });
  });
});
