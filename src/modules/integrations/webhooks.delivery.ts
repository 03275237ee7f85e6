import type { JobsOptions } from 'bullmq';
import type { Config } from '../../config.ts';
import { type Database, inTransaction } from '../../db/db.ts';
import { writeAudit } from '../../platform/audit.ts';
import { systemContext } from '../../platform/context.ts';
import type { QueueRegistry } from '../../platform/jobs.ts';
import type { Logger } from '../../platform/logger.ts';
import type { EventJobData } from '../../platform/outbox-relay.ts';
import { isInternalEvent, wants } from './webhooks.events.ts';
import { type AttemptResult, postWebhook } from './webhooks.http.ts';
import * as repo from './webhooks.repository.ts';
import { signedHeaders } from './webhooks.signing.ts';
import { type AllowList, parseAllowList, type Resolver } from './webhooks.targets.ts';

export const WEBHOOKS_QUEUE = 'webhooks';
export const FAN_OUT_JOB = 'webhooks.fan-out';
export const DELIVER_JOB = 'webhooks.deliver';
export const REDELIVER_JOB = 'webhooks.redeliver';
export const PURGE_JOB = 'webhooks.purge';
/** The outbox event a manual redelivery writes; its job enqueues the new attempt series. */
export const REDELIVERY_EVENT = 'webhook_delivery.redelivery_requested';

/** BullMQ rejects ':' in custom ids; delivery ids are UUIDs. One job per delivery and series. */
export const deliverJobId = (deliveryId: string, redelivery: number) => `${deliveryId}.deliver.${redelivery}`;

/**
 * The retry schedule: attempt n+1 follows a failed attempt n after `base * 2^(n-1)` (BullMQ's
 * exponential backoff). With the defaults (5 s base, 15 attempts) the waits are 5 s, 10 s, 20 s, 40 s,
 * 80 s, 160 s, 320 s, ~11 min, ~21 min, ~43 min, ~85 min, ~2.8 h, ~5.7 h, ~11.4 h: the last attempt
 * comes about 22.75 hours after the first.
 */
export const retryDelayMs = (base: number, failedAttempt: number) =>
  Math.round(base * 2 ** (failedAttempt - 1));

export function deliverJobOptions(
  config: Config,
  deliveryId: string,
  redelivery: number,
  maxAttempts: number,
) {
  return {
    jobId: deliverJobId(deliveryId, redelivery),
    attempts: maxAttempts,
    backoff: { type: 'exponential', delay: config.WEBHOOK_RETRY_BASE_MS },
    removeOnComplete: { age: 86_400 },
    removeOnFail: { age: 7 * 86_400 },
  } satisfies JobsOptions;
}

/** The Standard Webhooks body of an event. */
export function webhookBody(event: {
  type: string;
  occurred_at: Date;
  event_id: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    type: event.type,
    timestamp: event.occurred_at.toISOString(),
    data: {
      ...event.payload,
      eventId: event.event_id,
      aggregateType: event.aggregate_type,
      aggregateId: event.aggregate_id,
    },
  };
}

/** Thrown by an attempt that failed and will be retried by BullMQ. */
export class RetryLaterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

export interface DeliveryEngineDeps {
  db: Database;
  config: Config;
  queues: QueueRegistry;
  log: Logger;
  resolve?: Resolver;
}

/** Fan-out of domain events to subscriptions, and the attempts of each delivery. */
export function createDeliveryEngine({ db, config, queues, log, resolve }: DeliveryEngineDeps) {
  const allow: AllowList = parseAllowList(config.WEBHOOK_ALLOWED_HOSTS);

  async function enqueue(deliveryId: string, redelivery: number, maxAttempts: number): Promise<void> {
    await queues
      .get(WEBHOOKS_QUEUE)
      .add(
        DELIVER_JOB,
        { deliveryId, redelivery },
        deliverJobOptions(config, deliveryId, redelivery, maxAttempts),
      );
  }

  /**
   * One event -> one delivery per active subscription that wants it (customer-bound subscriptions
   * only get their customer's events), each with its deliver job. Idempotent: deliveries are unique
   * per (subscription, event) and job ids are deterministic.
   */
  async function fanOut(event: EventJobData) {
    if (isInternalEvent(event.type)) return { skipped: 'internal event' };
    const row = await db
      .selectFrom('outbox')
      .select(['event_id', 'type', 'aggregate_type', 'aggregate_id', 'customer_id', 'payload', 'occurred_at'])
      .where('event_id', '=', event.eventId)
      .executeTakeFirst();
    if (!row) return { skipped: 'event no longer in the outbox' };
    const subscriptions = (await repo.activeSubscriptionsFor(db, row.customer_id)).filter((s) =>
      wants(s.event_types, row.type),
    );
    if (subscriptions.length > 0) {
      const payload = JSON.stringify(webhookBody(row));
      await repo.insertDeliveries(
        db,
        subscriptions.map((s) => ({
          subscription_id: s.id,
          event_id: row.event_id,
          event_type: row.type,
          aggregate_type: row.aggregate_type,
          aggregate_id: row.aggregate_id,
          customer_id: row.customer_id,
          payload,
          occurred_at: row.occurred_at,
          max_attempts: config.WEBHOOK_MAX_ATTEMPTS,
        })),
      );
    }
    const todo = await repo.unstartedDeliveriesOf(db, row.event_id);
    for (const d of todo) await enqueue(d.id, d.redelivery, d.max_attempts);
    return { deliveries: todo.length };
  }

  /** After a manual redelivery: enqueue the attempt series the delivery row now names. */
  async function startRedelivery(deliveryId: string) {
    const d = await db
      .selectFrom('webhook_deliveries')
      .select(['id', 'status', 'redelivery', 'max_attempts'])
      .where('id', '=', deliveryId)
      .executeTakeFirst();
    if (d?.status !== 'pending') return { skipped: d ? d.status : 'gone' };
    await enqueue(d.id, d.redelivery, d.max_attempts);
    return { enqueued: deliverJobId(d.id, d.redelivery) };
  }

  /**
   * One HTTP attempt of a delivery (BullMQ attempt `attempt` of the series `redelivery`). 2xx:
   * delivered. 410 Gone: the receiver asks to stop, so the delivery fails and the subscription turns
   * inactive (`disabledReason: gone`). Refused target: failed at once. Anything else (other status,
   * network error, timeout): recorded, then thrown so BullMQ retries it with backoff until the
   * series' attempts are spent.
   */
  async function attempt(deliveryId: string, redelivery: number, attemptNo: number) {
    const d = await repo.deliveryForAttempt(db, deliveryId);
    if (!d) return { skipped: 'delivery deleted' };
    if (d.redelivery !== redelivery || d.status !== 'pending') return { skipped: `delivery ${d.status}` };
    if (!d.subscription_active) {
      await repo.updateDelivery(db, d.id, {
        status: 'cancelled',
        next_attempt_at: null,
        last_error: 'subscription inactive',
      });
      return { skipped: 'subscription inactive' };
    }

    const body = JSON.stringify(d.payload);
    const secrets = [d.secret];
    if (
      d.previous_secret &&
      d.previous_secret_expires_at &&
      new Date(d.previous_secret_expires_at).getTime() > Date.now()
    ) {
      secrets.push(d.previous_secret);
    }
    const at = new Date();
    const headers = signedHeaders(secrets, d.id, Math.floor(at.getTime() / 1000), body);
    const result: AttemptResult = await postWebhook({
      url: d.url,
      body,
      headers: { ...headers },
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      allow,
      ...(resolve ? { resolve } : {}),
    });

    const code = result.statusCode;
    const outcome = result.refused
      ? 'refused'
      : code !== null && code >= 200 && code < 300
        ? 'delivered'
        : code === 410
          ? 'gone'
          : 'failed';
    const final = outcome !== 'failed' || attemptNo >= d.max_attempts;
    const error =
      result.error ?? (outcome === 'failed' ? `HTTP ${code}` : outcome === 'gone' ? 'HTTP 410 Gone' : null);
    const status = outcome === 'delivered' ? 'delivered' : final ? 'failed' : 'pending';
    const nextAttemptAt = final
      ? null
      : new Date(Date.now() + retryDelayMs(config.WEBHOOK_RETRY_BASE_MS, attemptNo));

    const current = await inTransaction(db, async (trx) => {
      // Lock order subscription -> delivery, as the service's changes to a subscription do.
      if (outcome === 'gone') await repo.lockSubscription(trx, { customerId: null }, d.subscription_id);
      await repo.insertAttempt(trx, {
        delivery_id: d.id,
        redelivery,
        attempt: attemptNo,
        at,
        outcome,
        status_code: code,
        error: error?.slice(0, 1000) ?? null,
        duration_ms: result.durationMs,
        response_excerpt: result.excerpt,
      });
      // A redelivery requested meanwhile owns the row now: record the attempt, leave the rest.
      const locked = await trx
        .selectFrom('webhook_deliveries')
        .select(['redelivery', 'status'])
        .where('id', '=', d.id)
        .forUpdate()
        .executeTakeFirst();
      if (!locked || locked.redelivery !== redelivery || locked.status !== 'pending') return false;
      await repo.updateDelivery(
        trx,
        d.id,
        {
          status,
          last_status_code: code,
          last_error: error,
          last_duration_ms: result.durationMs,
          last_attempt_at: at,
          next_attempt_at: nextAttemptAt,
          ...(outcome === 'delivered' ? { delivered_at: new Date() } : {}),
        },
        { countAttempt: true },
      );
      if (outcome === 'gone') await disableGone(trx, d.subscription_id);
      return true;
    });

    if (current && !final) {
      throw new RetryLaterError(`attempt ${attemptNo} of ${d.max_attempts} failed: ${error}`);
    }
    if (outcome !== 'delivered') log.info({ deliveryId: d.id, outcome, error }, 'webhook delivery ended');
    return { outcome, statusCode: code, durationMs: result.durationMs };
  }

  /** 410 Gone: the receiver wants no more; the subscription turns inactive, its queue is cancelled. */
  async function disableGone(trx: Parameters<typeof repo.updateSubscription>[0], subscriptionId: string) {
    const before = await repo.lockSubscription(trx, { customerId: null }, subscriptionId);
    if (!before?.active) return;
    const after = await repo.updateSubscription(trx, { customerId: null }, subscriptionId, {
      active: false,
      disabled_reason: 'gone',
      disabled_at: new Date(),
    });
    await repo.cancelPendingDeliveries(
      trx,
      subscriptionId,
      'subscription disabled: receiver answered 410 Gone',
    );
    await writeAudit(trx, systemContext, {
      action: 'webhook_subscription.disable',
      recordType: 'webhook_subscription',
      recordId: subscriptionId,
      customerId: after.customer_id,
      before: repo.toSubscription(before),
      after: repo.toSubscription(after),
    });
  }

  async function purge() {
    const cutoff = new Date(Date.now() - config.WEBHOOK_LOG_RETENTION_DAYS * 86_400_000);
    const result = await repo.purgeDeliveries(db, cutoff);
    return { deleted: Number(result.numDeletedRows) };
  }

  return { fanOut, startRedelivery, attempt, purge, enqueue };
}

export type DeliveryEngine = ReturnType<typeof createDeliveryEngine>;
