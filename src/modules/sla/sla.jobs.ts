import { sql } from 'kysely';
import { Type } from 'typebox';
import type { JobDefinition, ScheduleDefinition } from '../../platform/jobs.ts';
import type { EventJobData } from '../../platform/outbox-relay.ts';
import { createClockEngine, FIRE_JOB, SLA_QUEUE } from './sla.clocks.ts';

/** Any change to an incident re-derives its clocks and re-plans their timers. */
export const recomputeJob: JobDefinition<EventJobData> = {
  queue: SLA_QUEUE,
  name: 'sla.recompute',
  payload: Type.Object({
    eventId: Type.String(),
    type: Type.String(),
    aggregateType: Type.String(),
    aggregateId: Type.String(),
  }),
  async process(data, { db, queues, log }) {
    if (data.aggregateType !== 'incident' && data.aggregateType !== 'service_request')
      return { skipped: true };
    return createClockEngine({ db, queues, log }).recompute(data.aggregateType, data.aggregateId, 'event');
  },
};

/** A timer at a clock's next threshold: re-reads everything and fires only what is really due. */
export const fireJob: JobDefinition<{
  ticketType: 'incident';
  ticketId: string;
  clockId: string;
  threshold: string;
}> = {
  queue: SLA_QUEUE,
  name: FIRE_JOB,
  payload: Type.Object({
    ticketType: Type.Literal('incident'),
    ticketId: Type.String(),
    clockId: Type.String(),
    threshold: Type.String(),
  }),
  async process(data, { db, queues, log, jobId }) {
    return createClockEngine({ db, queues, log }).recompute(data.ticketType, data.ticketId, 'timer', jobId);
  },
};

/** Every minute: fire thresholds whose due instant passed without their event (lost timers). */
export const sweepJob: JobDefinition<Record<string, never>> = {
  queue: SLA_QUEUE,
  name: 'sla.sweep',
  payload: Type.Object({}),
  async process(_data, { db, queues, log }) {
    const result = await createClockEngine({ db, queues, log }).sweep();
    if (result.fired > 0) log.info(result, 'SLA sweep fired overdue thresholds');
    return result;
  },
};

/** Daily: active agreements past their validity become expired. */
export const expireJob: JobDefinition<Record<string, never>> = {
  queue: SLA_QUEUE,
  name: 'sla.expire-agreements',
  payload: Type.Object({}),
  async process(_data, { db }) {
    const result = await db
      .updateTable('agreements')
      .set((eb) => ({ status: 'expired', version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
      .where('status', '=', 'active')
      .where('valid_to', '<', sql<string>`current_date`)
      .executeTakeFirst();
    return { expired: Number(result.numUpdatedRows) };
  },
};

export const slaSchedules: ScheduleDefinition[] = [
  { id: 'sla.sweep', job: sweepJob.name, cron: '0 * * * * *', timeZone: 'UTC' },
  { id: 'sla.expire-agreements', job: expireJob.name, cron: '0 5 0 * * *', timeZone: 'Asia/Shanghai' },
];
