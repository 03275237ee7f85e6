import { CronExpressionParser } from 'cron-parser';
import { IANAZone } from 'luxon';
import type { QueueRegistry } from '../../platform/jobs.ts';

/** The reports queue, its jobs, and the BullMQ job scheduler of each definition. */
export const REPORTS_QUEUE = 'reports';
export const RUN_JOB = 'reports.run';
export const SCHEDULED_JOB = 'reports.scheduled';
export const SYNC_JOB = 'reports.sync-schedules';
/** BullMQ refuses custom ids with ':'; these use '.'. */
export const schedulerId = (definitionId: string) => `reports.definition.${definitionId}`;
export const runJobId = (runId: string) => `run.${runId}`;
const SCHEDULER_PREFIX = 'reports.definition.';

export const isValidTimeZone = (zone: string) => IANAZone.isValidZone(zone);

/** Why a cron pattern is unusable, or null. Five fields, or six with seconds first (BullMQ's cron-parser). */
export function cronProblem(cron: string, timeZone: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6)
    return `must have 5 fields (minute hour day month weekday) or 6 with seconds first; got ${fields.length}`;
  try {
    CronExpressionParser.parse(cron, { tz: isValidTimeZone(timeZone) ? timeZone : 'UTC' }).next();
    return null;
  } catch (err) {
    return `is not a valid cron pattern: ${(err as Error).message}`;
  }
}

/** The next firing after `after`, or null when the pattern is unusable. */
export function nextRun(cron: string, timeZone: string, after = new Date()): Date | null {
  try {
    return CronExpressionParser.parse(cron, { tz: timeZone, currentDate: after }).next().toDate();
  } catch {
    return null;
  }
}

export interface SchedulableDefinition {
  id: string;
  cron: string | null;
  time_zone: string;
  active: boolean;
  deleted_at: Date | null;
}

const wanted = (d: SchedulableDefinition) => d.active && d.deleted_at === null && d.cron !== null;

export function createScheduler(queues: QueueRegistry) {
  const queue = () => {
    if (queues.connection.status !== 'ready') throw new Error(`Redis is ${queues.connection.status}`);
    return queues.get(REPORTS_QUEUE);
  };

  /** Creates, changes or removes the definition's job scheduler to match the row. */
  async function apply(d: SchedulableDefinition): Promise<void> {
    const q = queue();
    if (!wanted(d)) {
      await q.removeJobScheduler(schedulerId(d.id));
      return;
    }
    await q.upsertJobScheduler(
      schedulerId(d.id),
      { pattern: d.cron!, tz: d.time_zone },
      {
        name: SCHEDULED_JOB,
        data: { definitionId: d.id },
        opts: {
          removeOnComplete: 100,
          removeOnFail: 500,
          attempts: 3,
          backoff: { type: 'exponential', delay: 30_000 },
        },
      },
    );
  }

  /**
   * Makes Redis hold exactly the schedulers the definitions ask for: missing or different ones are
   * upserted, ones of paused or deleted definitions (and of definitions that no longer exist) removed.
   * Returns the ids of definitions whose scheduler now matches.
   */
  async function reconcile(
    definitions: SchedulableDefinition[],
  ): Promise<{ upserted: number; removed: number }> {
    const q = queue();
    const existing = new Map(
      (await q.getJobSchedulers(0, -1))
        .filter((s) => s.key.startsWith(SCHEDULER_PREFIX))
        .map((s) => [s.key, s]),
    );
    let upserted = 0;
    let removed = 0;
    for (const d of definitions) {
      const key = schedulerId(d.id);
      const have = existing.get(key);
      existing.delete(key);
      if (wanted(d)) {
        if (!have || have.pattern !== d.cron || have.tz !== d.time_zone || have.name !== SCHEDULED_JOB) {
          await apply(d);
          upserted++;
        }
      } else if (have) {
        await q.removeJobScheduler(key);
        removed++;
      }
    }
    for (const orphan of existing.keys()) {
      await q.removeJobScheduler(orphan);
      removed++;
    }
    return { upserted, removed };
  }

  async function enqueueRun(runId: string): Promise<void> {
    await queue().add(
      RUN_JOB,
      { runId },
      {
        jobId: runJobId(runId),
        attempts: 3,
        backoff: { type: 'exponential', delay: 10_000 },
        removeOnComplete: 1000,
        removeOnFail: 1000,
      },
    );
  }

  return { apply, reconcile, enqueueRun };
}

export type ReportScheduler = ReturnType<typeof createScheduler>;
