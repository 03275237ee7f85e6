import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobContext } from '../../src/platform/jobs.ts';
import type { TesseraModule } from '../../src/platform/module.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/** A module's schedule runs for real: BullMQ job scheduler, cron with seconds, a time zone, the worker. */
const runs: { at: number; data: unknown; attempt: number; jobId: string | undefined }[] = [];
const ticker: TesseraModule = {
  name: 'ticker',
  jobs: [
    {
      queue: 'ticker',
      name: 'ticker.tick',
      payload: Type.Object({ source: Type.String() }),
      async process(data, ctx: JobContext) {
        // Processors get the shared resources: prove the database is usable from here.
        await ctx.db.selectFrom('outbox').select('id').limit(1).execute();
        runs.push({ at: Date.now(), data, attempt: ctx.attempt, jobId: ctx.jobId });
      },
    },
  ],
  schedules: [
    {
      id: 'ticker.every-second',
      job: 'ticker.tick',
      cron: '* * * * * *',
      timeZone: 'UTC',
      data: { source: 'cron' },
    },
  ],
};

let t: TestApp;
let booting: number;
let started: number;
beforeAll(async () => {
  booting = Date.now();
  t = await startTestApp({ worker: true, extraModules: [ticker] });
  started = Date.now(); // the schedule exists from here on (it may already have fired)
});
afterAll(async () => {
  await t?.close();
});

describe('scheduled jobs', () => {
  it('an every-second schedule fires its processor within ~3 s, with its data', async () => {
    await expect.poll(() => runs.length, { timeout: 3500, interval: 50 }).toBeGreaterThanOrEqual(1);
    expect(runs[0]!.at - started).toBeLessThan(3500);
    expect(runs[0]).toMatchObject({ data: { source: 'cron' }, attempt: 1 });
    expect(runs[0]!.jobId).toEqual(expect.any(String));
  });

  it('keeps firing, once per second', async () => {
    const before = runs.length;
    await expect.poll(() => runs.length, { timeout: 3000, interval: 50 }).toBeGreaterThanOrEqual(before + 2);
    const ids = runs.map((r) => r.jobId);
    expect(new Set(ids).size).toBe(ids.length);
    // Not more often than the cron says (no duplicate firings of one second).
    expect(runs.length).toBeLessThanOrEqual(Math.ceil((Date.now() - booting) / 1000) + 1);
  });

  it('is registered as a job scheduler with its cron and time zone', async () => {
    const schedulers = await t.resources.queues.get('ticker').getJobSchedulers();
    expect(schedulers).toContainEqual(
      expect.objectContaining({ key: 'ticker.every-second', pattern: '* * * * * *', tz: 'UTC' }),
    );
    const platform = await t.resources.queues.get('platform').getJobSchedulers();
    expect(platform.map((s) => s.key).sort()).toEqual([
      'platform.purge-idempotency-keys',
      'platform.purge-outbox',
    ]);
  });
});
