import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allModules } from '../../../src/app.ts';
import { startWorkers } from '../../../src/platform/worker-runtime.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
let customerId: string;
let serviceId: string;
let calendarId: string;
let tier1: string;
let tier2: string;

const post = (url: string, body: unknown) => t.request('POST', url, { body });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sla(targets: unknown[], extra: Record<string, unknown> = {}) {
  const created = await post('/api/v1/slas', {
    name: `SLA ${Math.random()}`,
    kind: 'sla',
    customerId,
    serviceIds: [serviceId],
    calendarId,
    validFrom: '2026-01-01',
    targets,
    warnings: [{ percent: 50 }],
    ...extra,
  });
  expect(created.statusCode, created.body).toBe(201);
  await post(`/api/v1/slas/${created.json().id}/activate`, {});
  return created.json().id as string;
}

async function timelineOf(id: string) {
  return (await t.request('GET', `/api/v1/incidents/${id}/timeline`)).json().items as {
    type: string;
    [k: string]: unknown;
  }[];
}

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(100);
    value = await probe();
  }
  return value;
}

beforeAll(async () => {
  t = await startTestApp({ worker: true });
  customerId = (await post('/api/v1/customers', { name: 'Timer Co', code: 'TIMER' })).json().id;
  serviceId = (await post('/api/v1/services', { code: 'vpn', name: 'VPN' })).json().id;
  calendarId = (
    await post('/api/v1/calendars', { name: '24x7', timeZone: 'Asia/Shanghai', alwaysOpen: true })
  ).json().id;
  tier1 = (await post('/api/v1/groups', { name: 'Desk', tier: 1 })).json().id;
  tier2 = (await post('/api/v1/groups', { name: 'Network L2', tier: 2 })).json().id;
  await sla(
    [
      { priority: '*', metric: 'response', duration: 'PT2S' },
      { priority: '*', metric: 'resolution', duration: 'PT1H' },
    ],
    {
      escalationRules: [
        {
          metric: 'response',
          at: { percent: 50 },
          when: { tier: 1 },
          actions: [
            { type: 'reassign', groupId: tier2 },
            { type: 'notify', groupId: tier2 },
          ],
        },
      ],
    },
  );
});
afterAll(async () => {
  await t?.close();
});

describe('SLA timers', () => {
  it('fires the warning and the breach once each, on the timeline and in the outbox, and escalates once', async () => {
    const incident = (
      await post('/api/v1/incidents', { title: 'VPN 无法连接', customerId, serviceId, groupId: tier1 })
    ).json();
    const items = await waitFor(
      () => timelineOf(incident.id),
      (list) => list.some((i) => i.type === 'sla.breached'),
    );
    const warnings = items.filter((i) => i.type === 'sla.warning' && i.metric === 'response');
    const breaches = items.filter((i) => i.type === 'sla.breached' && i.metric === 'response');
    expect(warnings).toHaveLength(1);
    expect(breaches).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ threshold: 'warning:50%' });
    const reassigned = items.filter((i) => i.type === 'assigned' && i.trigger === 'sla');
    expect(reassigned).toHaveLength(1);
    expect(reassigned[0]).toMatchObject({ groupId: tier2 });
    expect(items.filter((i) => i.type === 'sla.notified')).toHaveLength(1);
    const clocks = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla`)).json().clocks;
    const response = clocks.find((c: { metric: string }) => c.metric === 'response');
    expect(response.state).toBe('breached');
    expect(Date.parse(response.breachedAt) - Date.parse(incident.reportedAt)).toBe(2000);
    expect(response.elapsedSeconds).toBeGreaterThanOrEqual(2);
    const outbox = await t.db
      .selectFrom('outbox')
      .select('type')
      .where('aggregate_id', '=', incident.id)
      .where('type', 'like', 'sla.%')
      .execute();
    expect(outbox.filter((o) => o.type === 'sla.breached')).toHaveLength(1);
    expect(outbox.filter((o) => o.type === 'sla.warning')).toHaveLength(1);
    // Lateness of the recorded fire.
    const fired = await t.db
      .selectFrom('sla_clock_events')
      .select(['due_at', 'fired_at', 'fired_by'])
      .where('threshold', '=', 'breach')
      .execute();
    expect(fired.length).toBeGreaterThanOrEqual(1);

    // Breached incidents are listed by slaState.
    const breached = (
      await t.request('GET', `/api/v1/incidents?slaState=breached&customerId=${customerId}`)
    ).json().items;
    expect(breached.map((i: { id: string }) => i.id)).toContain(incident.id);
  });

  it('records every threshold once after Redis lost the timers and the worker was down', async () => {
    await t.worker!.close();
    const incident = (await post('/api/v1/incidents', { title: '断网', customerId, serviceId })).json();
    // The relay is stopped: recompute explicitly as the worker would have, then lose every timer.
    const { createClockEngine } = await import('../../../src/modules/sla/index.ts');
    await createClockEngine({ db: t.db, queues: t.resources.queues }).recompute(
      'incident',
      incident.id,
      'event',
    );
    await t.resources.queues.get('sla').obliterate({ force: true });
    await sleep(2500);
    expect((await timelineOf(incident.id)).filter((i) => i.type.startsWith('sla.'))).toHaveLength(0);

    t.worker = await startWorkers({
      config: t.config,
      databaseUrl: t.databaseUrl,
      redisUrl: t.redisUrl,
      db: t.db,
      queues: t.resources.queues,
      modules: allModules(),
      log: t.app.log,
    });
    // The minute sweep would find it; run the sweep job now through the real queue.
    const job = await t.resources.queues.get('sla').add('sla.sweep', {});
    await waitFor(
      () => job.isCompleted(),
      (done) => done,
    );
    const items = await timelineOf(incident.id);
    expect(items.filter((i) => i.type === 'sla.warning' && i.metric === 'response')).toHaveLength(1);
    expect(items.filter((i) => i.type === 'sla.breached' && i.metric === 'response')).toHaveLength(1);
    const byWho = await t.db
      .selectFrom('sla_clock_events as e')
      .innerJoin('sla_clocks as c', 'c.id', 'e.clock_id')
      .select('e.fired_by')
      .where('c.ticket_id', '=', incident.id)
      .execute();
    // Timers were lost: nothing fired by a timer; the sweep (or the explicit recompute, on a slow
    // machine) recorded each threshold once.
    expect(byWho.some((r) => r.fired_by === 'timer')).toBe(false);
    expect(byWho.length).toBeGreaterThanOrEqual(2);
  });

  it('fires every threshold exactly once with two worker processes racing', async () => {
    const second = await startWorkers({
      config: t.config,
      databaseUrl: t.databaseUrl,
      redisUrl: t.redisUrl,
      db: t.db,
      queues: t.resources.queues,
      modules: allModules(),
      log: t.app.log,
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++)
        ids.push((await post('/api/v1/incidents', { title: `并发 ${i}`, customerId, serviceId })).json().id);
      // Both workers also sweep at once, as they would on a shared schedule.
      await sleep(2500);
      const sweeps = [
        t.resources.queues.get('sla').add('sla.sweep', {}),
        t.resources.queues.get('sla').add('sla.sweep', {}),
      ];
      for (const job of await Promise.all(sweeps))
        await waitFor(
          () => job.isCompleted(),
          (done) => done,
        );
      await waitFor(
        async () =>
          (
            await sql<{
              n: number;
            }>`SELECT count(*)::int AS n FROM incident_events WHERE type = 'sla.breached' AND incident_id = ANY(${ids}::uuid[])`.execute(
              t.db,
            )
          ).rows[0]!.n,
        (n) => n >= 10,
      );
      const counts = await sql<{ incident_id: string; type: string; n: number }>`
        SELECT incident_id, type, count(*)::int AS n FROM incident_events
        WHERE incident_id = ANY(${ids}::uuid[]) AND type IN ('sla.warning', 'sla.breached')
        GROUP BY incident_id, type`.execute(t.db);
      expect(counts.rows).toHaveLength(20);
      expect(counts.rows.every((r) => r.n === 1)).toBe(true);
    } finally {
      await second.close();
    }
  });
});
