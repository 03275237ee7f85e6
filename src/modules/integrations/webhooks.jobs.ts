import { Type } from 'typebox';
import type { Executor } from '../../db/db.ts';
import type { EventRoute, JobDefinition, RoutedEvent, ScheduleDefinition } from '../../platform/jobs.ts';
import type { EventJobData } from '../../platform/outbox-relay.ts';
import {
  createDeliveryEngine,
  DELIVER_JOB,
  FAN_OUT_JOB,
  PURGE_JOB,
  REDELIVER_JOB,
  REDELIVERY_EVENT,
  WEBHOOKS_QUEUE,
} from './webhooks.delivery.ts';
import { wants } from './webhooks.events.ts';
import { activeSubscriptionPatterns } from './webhooks.repository.ts';

const EventPayload = Type.Object({
  eventId: Type.String(),
  type: Type.String(),
  aggregateType: Type.String(),
  aggregateId: Type.String(),
});

/** Every domain event: one delivery (and deliver job) per subscription that wants it. */
export const fanOutJob: JobDefinition<EventJobData> = {
  queue: WEBHOOKS_QUEUE,
  name: FAN_OUT_JOB,
  payload: EventPayload,
  async process(data, ctx) {
    return createDeliveryEngine(ctx).fanOut(data);
  },
};

/**
 * One HTTP attempt of a delivery. Enqueued with `attempts = WEBHOOK_MAX_ATTEMPTS` and exponential
 * backoff from `WEBHOOK_RETRY_BASE_MS`; a failed attempt throws, so BullMQ schedules the next one.
 */
export const deliverJob: JobDefinition<{ deliveryId: string; redelivery: number }> = {
  queue: WEBHOOKS_QUEUE,
  name: DELIVER_JOB,
  payload: Type.Object({
    deliveryId: Type.String({ format: 'uuid' }),
    redelivery: Type.Integer({ minimum: 0 }),
  }),
  async process(data, ctx) {
    return createDeliveryEngine(ctx).attempt(data.deliveryId, data.redelivery, ctx.attempt);
  },
};

/** A manual redelivery, relayed from the outbox: enqueue its new attempt series. */
export const redeliverJob: JobDefinition<EventJobData> = {
  queue: WEBHOOKS_QUEUE,
  name: REDELIVER_JOB,
  payload: EventPayload,
  async process(data, ctx) {
    return createDeliveryEngine(ctx).startRedelivery(data.aggregateId);
  },
};

/** Daily: finished deliveries older than WEBHOOK_LOG_RETENTION_DAYS go, with their attempts. */
export const purgeJob: JobDefinition<Record<string, never>> = {
  queue: WEBHOOKS_QUEUE,
  name: PURGE_JOB,
  payload: Type.Object({}),
  async process(_data, ctx) {
    return createDeliveryEngine(ctx).purge();
  },
};

export const webhookJobs = [fanOutJob, deliverJob, redeliverJob, purgeJob] as JobDefinition[];

/**
 * The fan-out gets only the events that some active subscription wants (of the event's customer or
 * of all customers), so a system without subscriptions pays nothing per event; the job re-checks.
 */
async function subscribedEvents(db: Executor): Promise<(event: RoutedEvent) => boolean> {
  const subscriptions = await activeSubscriptionPatterns(db);
  return (event) =>
    subscriptions.some(
      (s) =>
        (s.customer_id === null || s.customer_id === event.customerId) && wants(s.event_types, event.type),
    );
}

export const webhookEventRoutes: EventRoute[] = [
  { events: '*', job: FAN_OUT_JOB, wanted: subscribedEvents },
  { events: REDELIVERY_EVENT, job: REDELIVER_JOB },
];

export const webhookSchedules: ScheduleDefinition[] = [
  { id: PURGE_JOB, job: PURGE_JOB, cron: '0 50 3 * * *', timeZone: 'UTC' },
];
