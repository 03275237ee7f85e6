import type { Config } from '../../config.ts';
import { type Database, inTransaction } from '../../db/db.ts';
import { writeAudit } from '../../platform/audit.ts';
import { type RequestContext, scopeOf } from '../../platform/context.ts';
import { checkVersion } from '../../platform/errors.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { Page } from '../../platform/paging.ts';
import { REDELIVERY_EVENT } from './webhooks.delivery.ts';
import { WebhookErrors as E } from './webhooks.errors.ts';
import { eventPatternProblem } from './webhooks.events.ts';
import * as repo from './webhooks.repository.ts';
import type {
  Delivery,
  DeliveryDetail,
  DeliveryListQuery,
  RotateSecret,
  Subscription,
  SubscriptionCreate,
  SubscriptionListQuery,
  SubscriptionPatch,
  SubscriptionWithSecret,
} from './webhooks.schemas.ts';
import { generateSecret } from './webhooks.signing.ts';
import { checkTargetUrl, parseAllowList } from './webhooks.targets.ts';

const RECORD = 'webhook_subscription';

export function createWebhookService({ db, config }: { db: Database; config: Config }) {
  const allow = parseAllowList(config.WEBHOOK_ALLOWED_HOSTS);

  function checkUrl(url: string): void {
    const problem = checkTargetUrl(url, allow);
    if (problem) throw E.badUrl(problem.detail);
  }

  function checkEventTypes(types: readonly string[]): void {
    const problems = types.flatMap((type, index) => {
      const detail = eventPatternProblem(type);
      return detail ? [{ index, detail }] : [];
    });
    if (problems.length > 0) throw E.badEventTypes(problems);
  }

  // ---- subscriptions ----
  async function create(ctx: RequestContext, input: SubscriptionCreate): Promise<SubscriptionWithSecret> {
    checkUrl(input.url);
    checkEventTypes(input.eventTypes);
    const bound = ctx.actor.customerId;
    let customerId = input.customerId ?? null;
    if (bound) {
      if (customerId && customerId !== bound) throw E.boundKeyOtherCustomer();
      customerId = bound;
    } else if (customerId && !(await repo.customerExists(db, customerId))) {
      throw E.unknownCustomer(customerId);
    }
    const active = input.active ?? true;
    return inTransaction(db, async (trx) => {
      const row = await repo.insertSubscription(trx, {
        url: input.url,
        description: input.description ?? null,
        event_types: input.eventTypes,
        customer_id: customerId,
        secret: generateSecret(),
        active,
        ...(active ? {} : { disabled_reason: 'manual', disabled_at: new Date() }),
      });
      const subscription = repo.toSubscription(row);
      await writeAudit(trx, ctx, {
        action: `${RECORD}.create`,
        recordType: RECORD,
        recordId: row.id,
        customerId,
        after: subscription,
      });
      return { ...subscription, secret: row.secret };
    });
  }

  async function get(ctx: RequestContext, id: string): Promise<Subscription> {
    const row = await repo.findSubscription(db, scopeOf(ctx), id);
    if (!row) throw E.subscriptionNotFound(id);
    return repo.toSubscription(row);
  }

  async function list(ctx: RequestContext, query: SubscriptionListQuery): Promise<Page<Subscription>> {
    const page = await repo.listSubscriptions(db, scopeOf(ctx), query);
    return { items: page.items.map(repo.toSubscription), nextCursor: page.nextCursor };
  }

  async function update(
    ctx: RequestContext,
    id: string,
    patch: SubscriptionPatch,
    expected?: number,
  ): Promise<Subscription> {
    if (patch.url !== undefined) checkUrl(patch.url);
    if (patch.eventTypes !== undefined) checkEventTypes(patch.eventTypes);
    return inTransaction(db, async (trx) => {
      const scope = scopeOf(ctx);
      const before = await repo.lockSubscription(trx, scope, id);
      if (!before) throw E.subscriptionNotFound(id);
      checkVersion(before.version, expected);
      const values: Parameters<typeof repo.updateSubscription>[3] = {};
      if (patch.url !== undefined) values.url = patch.url;
      if (patch.eventTypes !== undefined) values.event_types = patch.eventTypes;
      if (patch.description !== undefined) values.description = patch.description;
      if (patch.active !== undefined && patch.active !== before.active) {
        values.active = patch.active;
        values.disabled_reason = patch.active ? null : 'manual';
        values.disabled_at = patch.active ? null : new Date();
      }
      const after = await repo.updateSubscription(trx, scope, id, values);
      if (values.active === false) await repo.cancelPendingDeliveries(trx, id, 'subscription deactivated');
      const result = repo.toSubscription(after);
      await writeAudit(trx, ctx, {
        action: `${RECORD}.update`,
        recordType: RECORD,
        recordId: id,
        customerId: after.customer_id,
        before: repo.toSubscription(before),
        after: result,
      });
      return result;
    });
  }

  async function remove(ctx: RequestContext, id: string, expected?: number): Promise<void> {
    await inTransaction(db, async (trx) => {
      const scope = scopeOf(ctx);
      const before = await repo.lockSubscription(trx, scope, id);
      if (!before) throw E.subscriptionNotFound(id);
      checkVersion(before.version, expected);
      await repo.deleteSubscription(trx, scope, id);
      await writeAudit(trx, ctx, {
        action: `${RECORD}.delete`,
        recordType: RECORD,
        recordId: id,
        customerId: before.customer_id,
        before: repo.toSubscription(before),
      });
    });
  }

  /** A new secret, shown once; the old one keeps signing (second signature) for `keepPreviousSeconds`. */
  async function rotateSecret(
    ctx: RequestContext,
    id: string,
    input: RotateSecret,
    expected?: number,
  ): Promise<SubscriptionWithSecret> {
    const keep = input.keepPreviousSeconds ?? 86_400;
    return inTransaction(db, async (trx) => {
      const scope = scopeOf(ctx);
      const before = await repo.lockSubscription(trx, scope, id);
      if (!before) throw E.subscriptionNotFound(id);
      checkVersion(before.version, expected);
      const secret = generateSecret();
      const after = await repo.updateSubscription(trx, scope, id, {
        secret,
        previous_secret: keep > 0 ? before.secret : null,
        previous_secret_expires_at: keep > 0 ? new Date(Date.now() + keep * 1000) : null,
      });
      const result = repo.toSubscription(after);
      await writeAudit(trx, ctx, {
        action: `${RECORD}.rotate_secret`,
        recordType: RECORD,
        recordId: id,
        customerId: after.customer_id,
        before: repo.toSubscription(before),
        after: result,
      });
      return { ...result, secret };
    });
  }

  // ---- deliveries ----
  async function listDeliveries(
    ctx: RequestContext,
    subscriptionId: string,
    query: DeliveryListQuery,
  ): Promise<Page<Delivery>> {
    if (!(await repo.findSubscription(db, scopeOf(ctx), subscriptionId))) {
      throw E.subscriptionNotFound(subscriptionId);
    }
    const page = await repo.listDeliveries(db, subscriptionId, query);
    return { items: page.items.map(repo.toDelivery), nextCursor: page.nextCursor };
  }

  async function getDelivery(ctx: RequestContext, id: string): Promise<DeliveryDetail> {
    const row = await repo.findDelivery(db, scopeOf(ctx), id);
    if (!row) throw E.deliveryNotFound(id);
    const attempts = await repo.attemptsOf(db, id);
    return { ...repo.toDelivery(row), payload: row.payload, attempts: attempts.map(repo.toAttempt) };
  }

  /**
   * Starts a new attempt series (attempts and backoff as configured now) for any delivery, whatever
   * its status; a series still retrying stops at its next attempt. The job is enqueued through the
   * outbox, so the request does not need Redis and the redelivery cannot be lost.
   */
  async function redeliver(ctx: RequestContext, id: string): Promise<Delivery> {
    return inTransaction(db, async (trx) => {
      const before = await repo.lockDelivery(trx, scopeOf(ctx), id);
      if (!before) throw E.deliveryNotFound(id);
      if (!before.subscription_active) throw E.subscriptionInactive(before.subscription_id);
      const after = repo.toDelivery(await repo.restartDelivery(trx, id, config.WEBHOOK_MAX_ATTEMPTS));
      await writeAudit(trx, ctx, {
        action: 'webhook_delivery.redeliver',
        recordType: 'webhook_delivery',
        recordId: id,
        customerId: before.customer_id,
        before: { status: before.status, redeliveries: before.redelivery },
        after: { status: after.status, redeliveries: after.redeliveries },
      });
      await emitEvent(trx, {
        type: REDELIVERY_EVENT,
        aggregateType: 'webhook_delivery',
        aggregateId: id,
        customerId: before.customer_id,
        payload: { deliveryId: id, redelivery: after.redeliveries },
      });
      return after;
    });
  }

  return { create, get, list, update, remove, rotateSecret, listDeliveries, getDelivery, redeliver };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
