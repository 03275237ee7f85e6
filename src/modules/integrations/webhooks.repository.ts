import { type Selectable, sql } from 'kysely';
import type { Executor, Tx } from '../../db/db.ts';
import type {
  WebhookDeliveriesTable,
  WebhookDeliveryAttemptsTable,
  WebhookSubscriptionsTable,
} from '../../db/schema.ts';
import type { Scope } from '../../platform/context.ts';
import { paginate } from '../../platform/paging.ts';
import { iso, isoOrNull } from '../../platform/schemas.ts';
import { inScope, withinScope } from '../../platform/scope.ts';
import type {
  Attempt,
  Delivery,
  DeliveryListQuery,
  Subscription,
  SubscriptionListQuery,
} from './webhooks.schemas.ts';
import { secretHint } from './webhooks.signing.ts';

export type SubscriptionRow = Selectable<WebhookSubscriptionsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type AttemptRow = Selectable<WebhookDeliveryAttemptsTable>;

// ---- subscriptions (scope column: customer_id) -------------------------------------------------
export function toSubscription(row: SubscriptionRow): Subscription {
  const previousLive =
    row.previous_secret !== null &&
    row.previous_secret_expires_at !== null &&
    new Date(row.previous_secret_expires_at).getTime() > Date.now();
  return {
    id: row.id,
    ref: row.ref,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    customerId: row.customer_id,
    active: row.active,
    disabledReason: row.disabled_reason,
    disabledAt: isoOrNull(row.disabled_at),
    secretHint: secretHint(row.secret),
    previousSecretExpiresAt: previousLive ? isoOrNull(row.previous_secret_expires_at) : null,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function findSubscription(db: Executor, scope: Scope, id: string) {
  return withinScope(
    db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id),
    scope,
    'customer_id',
  ).executeTakeFirst();
}

export function lockSubscription(trx: Tx, scope: Scope, id: string) {
  return withinScope(
    trx.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id),
    scope,
    'customer_id',
  )
    .forUpdate()
    .executeTakeFirst();
}

export function insertSubscription(
  db: Executor,
  values: Pick<SubscriptionRow, 'url' | 'description' | 'event_types' | 'customer_id' | 'secret' | 'active'> &
    Partial<Pick<SubscriptionRow, 'disabled_reason' | 'disabled_at'>>,
) {
  return db.insertInto('webhook_subscriptions').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateSubscription(
  trx: Tx,
  scope: Scope,
  id: string,
  values: Partial<Omit<SubscriptionRow, 'id' | 'ref' | 'version' | 'created_at' | 'updated_at'>>,
) {
  return trx
    .updateTable('webhook_subscriptions')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .where(inScope(scope, 'customer_id'))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function deleteSubscription(trx: Tx, scope: Scope, id: string) {
  return trx
    .deleteFrom('webhook_subscriptions')
    .where('id', '=', id)
    .where(inScope(scope, 'customer_id'))
    .executeTakeFirst();
}

export function listSubscriptions(db: Executor, scope: Scope, f: SubscriptionListQuery) {
  let q = withinScope(db.selectFrom('webhook_subscriptions').selectAll(), scope, 'customer_id');
  if (f.active !== undefined) q = q.where('active', '=', f.active);
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  if (f.eventType) {
    const type = f.eventType;
    const family = `${type.split('.')[0]}.*`;
    q = q.where(sql<boolean>`event_types && ARRAY[${type}, ${family}, '*']::text[]`);
  }
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

/** Active subscriptions that may receive an event of `customerId` (null: provider-wide events). */
export function activeSubscriptionsFor(db: Executor, customerId: string | null) {
  let q = db
    .selectFrom('webhook_subscriptions')
    .select(['id', 'event_types', 'customer_id'])
    .where('active', '=', true);
  q =
    customerId === null
      ? q.where('customer_id', 'is', null)
      : q.where((eb) => eb.or([eb('customer_id', 'is', null), eb('customer_id', '=', customerId)]));
  return q.execute();
}

/** Every active subscription's customer and event patterns (for the relay's per-batch check). */
export const activeSubscriptionPatterns = (db: Executor) =>
  db
    .selectFrom('webhook_subscriptions')
    .select(['customer_id', 'event_types'])
    .where('active', '=', true)
    .execute();

export async function customerExists(db: Executor, id: string): Promise<boolean> {
  return (
    (await db.selectFrom('customers').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
  );
}

/** Pending deliveries of a subscription that turned inactive are cancelled. */
export function cancelPendingDeliveries(trx: Tx, subscriptionId: string, reason: string) {
  return trx
    .updateTable('webhook_deliveries')
    .set({ status: 'cancelled', next_attempt_at: null, last_error: reason, updated_at: sql<Date>`now()` })
    .where('subscription_id', '=', subscriptionId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
}

// ---- deliveries ------------------------------------------------------------------------------
export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    eventId: row.event_id,
    eventType: row.event_type,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    customerId: row.customer_id,
    status: row.status,
    attemptCount: row.attempt_count,
    maxAttempts: row.max_attempts,
    redeliveries: row.redelivery,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastDurationMs: row.last_duration_ms,
    lastAttemptAt: isoOrNull(row.last_attempt_at),
    nextAttemptAt: isoOrNull(row.next_attempt_at),
    deliveredAt: isoOrNull(row.delivered_at),
    occurredAt: iso(row.occurred_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function toAttempt(row: AttemptRow): Attempt {
  return {
    attempt: row.attempt,
    redelivery: row.redelivery,
    at: iso(row.at),
    outcome: row.outcome,
    statusCode: row.status_code,
    error: row.error,
    durationMs: row.duration_ms,
    responseExcerpt: row.response_excerpt,
  };
}

/** A delivery, seen through its subscription's customer scope. */
export function findDelivery(db: Executor, scope: Scope, id: string) {
  return withinScope(
    db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
      .selectAll('d')
      .where('d.id', '=', id),
    scope,
    's.customer_id',
  ).executeTakeFirst();
}

export function lockDelivery(trx: Tx, scope: Scope, id: string) {
  return withinScope(
    trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
      .selectAll('d')
      .select('s.active as subscription_active')
      .where('d.id', '=', id),
    scope,
    's.customer_id',
  )
    .forUpdate('d')
    .executeTakeFirst();
}

export function listDeliveries(db: Executor, subscriptionId: string, f: DeliveryListQuery) {
  let q = db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', subscriptionId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.eventType) q = q.where('event_type', '=', f.eventType);
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at' },
    defaultSort: '-createdAt',
    idColumn: 'id',
  });
}

export function attemptsOf(db: Executor, deliveryId: string) {
  return db
    .selectFrom('webhook_delivery_attempts')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .orderBy('id')
    .limit(500)
    .execute();
}

export interface NewDelivery {
  subscription_id: string;
  event_id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  customer_id: string | null;
  payload: string;
  occurred_at: Date;
  max_attempts: number;
}

/** One delivery per (subscription, event); a repeated fan-out inserts nothing new. */
export function insertDeliveries(db: Executor, rows: NewDelivery[]) {
  if (rows.length === 0) return Promise.resolve([]);
  return db
    .insertInto('webhook_deliveries')
    .values(rows)
    .onConflict((oc) => oc.constraint('webhook_deliveries_event_key').doNothing())
    .returning('id')
    .execute();
}

/** Deliveries of an event still waiting for their first attempt (fan-out re-enqueues only these). */
export function unstartedDeliveriesOf(db: Executor, eventId: string) {
  return db
    .selectFrom('webhook_deliveries')
    .select(['id', 'redelivery', 'max_attempts'])
    .where('event_id', '=', eventId)
    .where('status', '=', 'pending')
    .where('attempt_count', '=', 0)
    .where('redelivery', '=', 0)
    .execute();
}

/** The delivery with what an attempt needs from its subscription. */
export function deliveryForAttempt(db: Executor, id: string) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
    .selectAll('d')
    .select([
      's.url',
      's.secret',
      's.previous_secret',
      's.previous_secret_expires_at',
      's.active as subscription_active',
    ])
    .where('d.id', '=', id)
    .executeTakeFirst();
}

export function insertAttempt(db: Executor, values: Omit<AttemptRow, 'id' | 'at'> & { at: Date }) {
  return db.insertInto('webhook_delivery_attempts').values(values).execute();
}

export function updateDelivery(
  db: Executor,
  id: string,
  values: Partial<Omit<DeliveryRow, 'id' | 'created_at' | 'payload'>>,
  extra: { countAttempt?: boolean } = {},
) {
  return db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      ...values,
      ...(extra.countAttempt ? { attempt_count: eb('attempt_count', '+', 1) } : {}),
      updated_at: sql<Date>`now()`,
    }))
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Finished deliveries (and their attempts, by cascade) older than the cutoff. */
export function purgeDeliveries(db: Executor, before: Date) {
  return db
    .deleteFrom('webhook_deliveries')
    .where('status', '!=', 'pending')
    .where('created_at', '<', before)
    .executeTakeFirst();
}

/** A manual redelivery: a new attempt series (the old series' jobs see the change and stop). */
export function restartDelivery(trx: Tx, id: string, maxAttempts: number) {
  return trx
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status: 'pending',
      redelivery: eb('redelivery', '+', 1),
      max_attempts: maxAttempts,
      next_attempt_at: sql<Date>`now()`,
      delivered_at: null,
      updated_at: sql<Date>`now()`,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
