import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledJob, syncJob } from '../../../src/modules/reports/reports.jobs.ts';
import { REPORTS_QUEUE, runJobId, schedulerId } from '../../../src/modules/reports/reports.scheduler.ts';
import type { JobContext } from '../../../src/platform/jobs.ts';
import type { Logger } from '../../../src/platform/logger.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { PrivateRedis } from '../../helpers/redis-server.ts';

/**
 * Schedules: one BullMQ job scheduler per definition, following its cron, time zone and active flag;
 * a firing reports the last complete period before it (the processor is called with a fixed instant),
 * at most once per period; a Redis outage while saving is repaired by the sync job.
 */
let t: TestApp;
let redis: PrivateRedis;
let customerId: string;

const post = (url: string, body: unknown) => t.request('POST', url, { body });
const ctx = (): JobContext => ({
  db: t.db,
  config: t.config,
  queues: t.resources.queues,
  log: t.app.log as unknown as Logger,
  attempt: 1,
  jobId: 'test',
});
const queue = () => t.resources.queues.get(REPORTS_QUEUE);
const schedulerOf = (id: string) => queue().getJobScheduler(schedulerId(id));

async function define(extra: Record<string, unknown> = {}) {
  const res = await post('/api/v1/report-definitions', {
    name: '月报',
    customerId,
    period: 'monthly',
    schedule: { cron: '0 8 1 * *', timeZone: 'Asia/Shanghai' },
    locale: 'zh-CN',
    sections: ['workload'],
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

beforeAll(async () => {
  redis = await PrivateRedis.start();
  t = await startTestApp({ redisUrl: redis.url });
  customerId = (await post('/api/v1/customers', { name: 'Acme', code: 'ACME' })).json().id;
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

describe('job schedulers of definitions', () => {
  it('exist with the definition cron and time zone, follow changes, pause and removal', async () => {
    const def = await define();
    expect(await schedulerOf(def.id)).toMatchObject({
      key: schedulerId(def.id),
      name: 'reports.scheduled',
      pattern: '0 8 1 * *',
      tz: 'Asia/Shanghai',
    });
    expect((await schedulerOf(def.id))!.template?.data).toEqual({ definitionId: def.id });
    // The scheduler's next firing is 08:00 on the 1st in Shanghai (00:00 UTC).
    const next = new Date((await schedulerOf(def.id))!.next!);
    expect([next.getUTCDate(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 0, 0]);

    let res = await t.request('PATCH', `/api/v1/report-definitions/${def.id}`, {
      body: { schedule: { cron: '30 7 2 * *', timeZone: 'Europe/Berlin' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().schedule).toMatchObject({
      cron: '30 7 2 * *',
      timeZone: 'Europe/Berlin',
      synced: true,
    });
    expect(await schedulerOf(def.id)).toMatchObject({ pattern: '30 7 2 * *', tz: 'Europe/Berlin' });

    res = await t.request('PATCH', `/api/v1/report-definitions/${def.id}`, { body: { active: false } });
    expect(res.json().schedule).toMatchObject({ nextRunAt: null, synced: true });
    expect(await schedulerOf(def.id)).toBeUndefined();
    await t.request('PATCH', `/api/v1/report-definitions/${def.id}`, { body: { active: true } });
    expect(await schedulerOf(def.id)).toMatchObject({ pattern: '30 7 2 * *' });

    // A bad change is refused whole and leaves the scheduler as it was.
    res = await t.request('PATCH', `/api/v1/report-definitions/${def.id}`, {
      body: { schedule: { cron: '0 8 1 * *', timeZone: 'Nowhere/Atlantis' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/schedule/timeZone']);
    expect(await schedulerOf(def.id)).toMatchObject({ pattern: '30 7 2 * *', tz: 'Europe/Berlin' });

    // On-demand only: no scheduler.
    res = await t.request('PATCH', `/api/v1/report-definitions/${def.id}`, {
      body: { schedule: { cron: null, timeZone: 'Asia/Shanghai' } },
    });
    expect(res.json().schedule).toMatchObject({ cron: null, nextRunAt: null });
    expect(await schedulerOf(def.id)).toBeUndefined();

    const other = await define();
    const accepted = await post(`/api/v1/report-definitions/${other.id}/run`, { period: '2026-10' });
    expect((await t.request('DELETE', `/api/v1/report-definitions/${other.id}`)).statusCode).toBe(204);
    expect(await schedulerOf(other.id)).toBeUndefined();
    expect((await t.request('GET', `/api/v1/report-definitions/${other.id}`)).statusCode).toBe(404);
    // Its reports stay as records.
    expect((await t.request('GET', `/api/v1/reports/${accepted.json().runId}`)).statusCode).toBe(200);
  });

  it('a firing at 08:00 on 1 November in Shanghai reports October, once', async () => {
    const def = await define();
    const first = await scheduledJob.process({ definitionId: def.id, at: '2026-11-01T00:00:00.000Z' }, ctx());
    expect(first).toMatchObject({ period: '2026-10', status: 'completed' });
    const again = await scheduledJob.process({ definitionId: def.id, at: '2026-11-01T00:00:05.000Z' }, ctx());
    expect(again).toMatchObject({ skipped: 'period already reported', period: '2026-10' });
    const runs = (await t.request('GET', `/api/v1/report-definitions/${def.id}/runs`)).json().items;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      period: '2026-10',
      periodStart: '2026-09-30T16:00:00.000Z',
      periodEnd: '2026-10-31T16:00:00.000Z',
      trigger: 'schedule',
      requestedBy: 'report scheduler',
      status: 'completed',
      revision: 1,
    });
    // 23:59 on 31 October in Shanghai is still October: the last complete month is September.
    expect(
      await scheduledJob.process({ definitionId: def.id, at: '2026-10-31T15:59:00.000Z' }, ctx()),
    ).toMatchObject({ period: '2026-09' });
    // A manual re-run still adds a revision.
    const rerun = await post(`/api/v1/report-definitions/${def.id}/run`, { period: '2026-10' });
    expect(rerun.json().revision).toBe(2);
  });

  it('weekly and quarterly definitions report the previous ISO week and quarter', async () => {
    const weekly = await define({
      period: 'weekly',
      schedule: { cron: '0 8 * * 1', timeZone: 'Asia/Shanghai' },
    });
    expect(
      await scheduledJob.process({ definitionId: weekly.id, at: '2026-10-26T00:00:00.000Z' }, ctx()),
    ).toMatchObject({ period: '2026-W43', status: 'completed' });
    const quarterly = await define({
      period: 'quarterly',
      schedule: { cron: '0 8 1 1,4,7,10 *', timeZone: 'UTC' },
    });
    expect(
      await scheduledJob.process({ definitionId: quarterly.id, at: '2027-01-01T08:00:00.000Z' }, ctx()),
    ).toMatchObject({ period: '2026-Q4' });
    await t.request('PATCH', `/api/v1/report-definitions/${weekly.id}`, { body: { active: false } });
    expect(await scheduledJob.process({ definitionId: weekly.id }, ctx())).toEqual({
      skipped: 'definition inactive',
    });
  });

  it('with Redis down, definitions and runs are still saved; the sync job creates what is missing', async () => {
    await redis.stop();
    const def = await define({ schedule: { cron: '0 9 1 * *', timeZone: 'Asia/Shanghai' } });
    expect(def.schedule.synced).toBe(false);
    expect(def.schedule.error).toMatch(/scheduler not updated/);
    const accepted = await post(`/api/v1/report-definitions/${def.id}/run`, { period: '2026-10' });
    expect(accepted.statusCode).toBe(202);
    await redis.start();
    await expect.poll(() => t.resources.queues.connection.status, { timeout: 10_000 }).toBe('ready');
    // A scheduler nobody wants any more is removed too.
    await queue().upsertJobScheduler('reports.definition.00000000-0000-4000-8000-000000000000', {
      pattern: '0 0 1 1 *',
    });
    await t.db
      .updateTable('report_runs')
      .set({ queued_at: new Date(Date.now() - 120_000) })
      .where('id', '=', accepted.json().runId)
      .execute();
    const result = (await syncJob.process({}, ctx())) as {
      upserted: number;
      removed: number;
      requeued: number;
    };
    expect(result.requeued).toBe(1);
    expect(result.removed).toBeGreaterThanOrEqual(1);
    expect(await schedulerOf(def.id)).toMatchObject({ pattern: '0 9 1 * *', tz: 'Asia/Shanghai' });
    expect(
      await queue().getJobScheduler('reports.definition.00000000-0000-4000-8000-000000000000'),
    ).toBeUndefined();
    expect(await queue().getJob(runJobId(accepted.json().runId))).toBeDefined();
    const after = (await t.request('GET', `/api/v1/report-definitions/${def.id}`)).json();
    expect(after.schedule).toMatchObject({ synced: true, error: null });
  });
});
