import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TesseraModule } from '../../src/platform/module.ts';
import { type EventJobData, eventJobId } from '../../src/platform/outbox-relay.ts';
import { jobCatalogue, startWorkers } from '../../src/platform/worker-runtime.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';

/**
 * The outbox for real: a Redis of our own that the test kills and restarts. Writes succeed while
 * Redis is down, their events wait in the outbox, and once Redis is back every event reaches its job
 * exactly once.
 */
const seen: EventJobData[] = [];
const probe: TesseraModule = {
  name: 'probe',
  jobs: [
    {
      queue: 'probe',
      name: 'probe.record',
      payload: Type.Object({
        eventId: Type.String(),
        type: Type.String(),
        aggregateType: Type.String(),
        aggregateId: Type.String(),
      }),
      async process(data) {
        seen.push(data as EventJobData);
      },
    },
  ],
  eventRoutes: [{ events: 'customer.*', job: 'probe.record' }],
};

let redis: PrivateRedis;
let t: TestApp;
beforeAll(async () => {
  redis = await PrivateRedis.start();
  t = await startTestApp({ worker: true, redisUrl: redis.url, extraModules: [probe] });
});
afterAll(async () => {
  try {
    await redis?.start().catch(() => {}); // lets the workers close cleanly
    await t?.close();
  } finally {
    await redis?.stop();
  }
});

const outboxRows = (ids: string[]) =>
  t.db
    .selectFrom('outbox')
    .select(['event_id', 'aggregate_id', 'type', 'sent_at', 'attempts'])
    .where('aggregate_id', 'in', ids)
    .execute();

const timesSeen = (eventId: string) => seen.filter((s) => s.eventId === eventId).length;

async function createCustomer(code: string): Promise<string> {
  const res = await t.request('POST', '/api/v1/customers', { body: { code, name: `Outbox ${code}` } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

describe('outbox relay', () => {
  it('delivers an event to its routed job while Redis is up', async () => {
    const id = await createCustomer('OB-UP');
    await expect.poll(() => seen.filter((s) => s.aggregateId === id).length, { timeout: 5000 }).toBe(1);
    const [row] = await outboxRows([id]);
    expect(seen.find((s) => s.aggregateId === id)).toEqual({
      eventId: row!.event_id,
      type: 'customer.created',
      aggregateType: 'customer',
      aggregateId: id,
    });
    await expect.poll(async () => (await outboxRows([id]))[0]!.sent_at, { timeout: 2000 }).not.toBeNull();
    // One job per event and route, under its deterministic id.
    const job = await t.resources.queues.get('probe').getJob(eventJobId(row!.event_id, 'probe.record'));
    expect(job?.name).toBe('probe.record');
  });

  it('keeps writes working while Redis is down and catches up exactly once when it is back', async () => {
    await redis.stop();
    const ready = await t.request('GET', '/readyz', { token: null });
    expect(ready.statusCode).toBe(503);

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createCustomer(`OB-DOWN-${i}`));
    const patched = await t.request('PATCH', `/api/v1/customers/${ids[0]}`, {
      body: { notes: 'while down' },
    });
    expect(patched.statusCode).toBe(200);

    // Give the relay time to try (and fail): nothing is sent, nothing is lost.
    await new Promise((resolve) => setTimeout(resolve, 700));
    let rows = await outboxRows(ids);
    expect(rows).toHaveLength(6); // 5 created + 1 updated
    expect(rows.every((r) => r.sent_at === null)).toBe(true);
    expect(seen.filter((s) => ids.includes(s.aggregateId))).toEqual([]);

    const restarted = Date.now();
    await redis.start();
    await expect
      .poll(async () => (await outboxRows(ids)).filter((r) => r.sent_at !== null).length, {
        timeout: 5000,
        interval: 50,
      })
      .toBe(6);
    await expect
      .poll(() => seen.filter((s) => ids.includes(s.aggregateId)).length, { timeout: 5000, interval: 50 })
      .toBe(6);
    const catchUpMs = Date.now() - restarted;

    rows = await outboxRows(ids);
    for (const row of rows) expect(timesSeen(row.event_id), `event ${row.event_id}`).toBe(1);
    const unsent = await t.db.selectFrom('outbox').select('id').where('sent_at', 'is', null).execute();
    expect(unsent).toEqual([]);
    expect(new Set(seen.map((s) => s.eventId)).size).toBe(seen.length);
    expect(seen.filter((s) => s.type === 'customer.updated').map((s) => s.aggregateId)).toEqual([ids[0]]);
    expect(catchUpMs, 'the relay catches up within seconds of Redis coming back').toBeLessThan(5000);
    expect((await t.request('GET', '/readyz', { token: null })).statusCode).toBe(200);
  });

  it('a batch sent again (crash between "added" and "marked sent") is not processed twice', async () => {
    const ids = [await createCustomer('OB-AGAIN-1'), await createCustomer('OB-AGAIN-2')];
    await expect
      .poll(() => seen.filter((s) => ids.includes(s.aggregateId)).length, { timeout: 5000 })
      .toBe(2);
    await expect
      .poll(async () => (await outboxRows(ids)).every((r) => r.sent_at !== null), { timeout: 2000 })
      .toBe(true);

    await t.db.updateTable('outbox').set({ sent_at: null }).where('aggregate_id', 'in', ids).execute();
    t.worker!.relay.wake();
    await expect
      .poll(async () => (await outboxRows(ids)).every((r) => r.sent_at !== null), { timeout: 3000 })
      .toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const row of await outboxRows(ids)) expect(timesSeen(row.event_id)).toBe(1);
  });
});

describe('the worker refuses to boot with an incomplete job catalogue', () => {
  const job = probe.jobs![0]!;

  it('a schedule naming a job without a processor', () => {
    expect(() =>
      jobCatalogue([
        { name: 'x', schedules: [{ id: 'x.nightly', job: 'x.missing', cron: '0 0 * * *', timeZone: 'UTC' }] },
      ]),
    ).toThrow(/schedule x\.nightly names job x\.missing, which has no processor/);
  });

  it('an event route naming a job without a processor', () => {
    expect(() =>
      jobCatalogue([{ name: 'x', eventRoutes: [{ events: 'customer.*', job: 'x.missing' }] }]),
    ).toThrow(/event route customer\.\* names job x\.missing, which has no processor/);
  });

  it('a job without a process function, or defined twice', () => {
    const broken = { ...job, name: 'x.broken', process: undefined } as unknown as typeof job;
    expect(() => jobCatalogue([{ name: 'x', jobs: [broken] }])).toThrow(/job x\.broken has no processor/);
    expect(() =>
      jobCatalogue([
        { name: 'a', jobs: [job] },
        { name: 'b', jobs: [job] },
      ]),
    ).toThrow(/job probe\.record is defined twice/);
  });

  it('startWorkers rejects before starting anything', async () => {
    await expect(
      startWorkers({
        config: t.config,
        databaseUrl: t.databaseUrl,
        redisUrl: t.redisUrl,
        db: t.db,
        queues: t.resources.queues,
        modules: [{ name: 'x', eventRoutes: [{ events: '*', job: 'x.missing' }] }],
        log: t.app.log,
      }),
    ).rejects.toThrow(/Refusing to start the worker/);
  });

  it('accepts a complete catalogue', () => {
    const catalogue = jobCatalogue([probe]);
    expect([...catalogue.jobs.keys()]).toEqual(['probe.record']);
    expect(catalogue.routes).toEqual([{ events: 'customer.*', job: 'probe.record' }]);
  });
});
