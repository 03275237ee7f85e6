import { Type } from 'typebox';
import type { JobContext, JobDefinition, ScheduleDefinition } from '../../platform/jobs.ts';
import { REPORTS_QUEUE, RUN_JOB, SCHEDULED_JOB, SYNC_JOB } from './reports.scheduler.ts';
import { createReportService } from './reports.service.ts';

const serviceOf = (ctx: JobContext) =>
  createReportService({ db: ctx.db, config: ctx.config, queues: ctx.queues, log: ctx.log });

/** One requested run (job id `run.<runId>`): compute, store, announce, e-mail. */
export const runJob: JobDefinition<{ runId: string }> = {
  queue: REPORTS_QUEUE,
  name: RUN_JOB,
  payload: Type.Object({ runId: Type.String({ format: 'uuid' }) }),
  process: (data, ctx) => serviceOf(ctx).executeRun(data.runId),
};

/**
 * A definition's job scheduler fired (scheduler id `reports.definition.<id>`, the definition's cron
 * and time zone): report the last complete period. `at` (ISO 8601) replaces the firing instant, for
 * replays and tests.
 */
export const scheduledJob: JobDefinition<{ definitionId: string; at?: string }> = {
  queue: REPORTS_QUEUE,
  name: SCHEDULED_JOB,
  payload: Type.Object({
    definitionId: Type.String({ format: 'uuid' }),
    at: Type.Optional(Type.String({ format: 'date-time' })),
  }),
  process: (data, ctx) =>
    serviceOf(ctx).runScheduled(data.definitionId, data.at ? new Date(data.at) : new Date()),
};

/** Every 5 minutes: schedulers match the definitions (after Redis was down), lost run jobs are re-enqueued. */
export const syncJob: JobDefinition<Record<string, never>> = {
  queue: REPORTS_QUEUE,
  name: SYNC_JOB,
  payload: Type.Object({}),
  process: (_data, ctx) => serviceOf(ctx).syncSchedules(),
};

export const reportJobs = [runJob, scheduledJob, syncJob] as JobDefinition[];

export const reportSchedules: ScheduleDefinition[] = [
  { id: SYNC_JOB, job: SYNC_JOB, cron: '30 */5 * * * *', timeZone: 'UTC' },
];
