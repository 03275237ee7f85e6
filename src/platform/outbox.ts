import { sql } from 'kysely';
import type { Executor } from '../db/db.ts';
import { type AuditEntry, auditRow } from './audit.ts';
import type { RequestContext } from './context.ts';

export const OUTBOX_CHANNEL = 'tessera_outbox';

export interface DomainEvent {
  /** `<record>.<past tense>`, e.g. `customer.created`, `incident.resolved`, `sla.breached`. */
  type: string;
  aggregateType: string;
  aggregateId: string;
  customerId?: string | null;
  payload: Record<string, unknown>;
}

/**
 * Appends domain events to the outbox inside the caller's transaction. The relay (worker side)
 * moves them to BullMQ after commit; NOTIFY wakes it at commit time, and its poll covers the rest.
 */
export async function emitEvents(trx: Executor, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  // One round trip: the insert and the NOTIFY (delivered by PostgreSQL only when the caller commits).
  await trx
    .with('inserted', (db) => db.insertInto('outbox').values(events.map(outboxRow)))
    .selectNoFrom(notifyOutbox())
    .execute();
}

/**
 * The audit entries of a change and its domain events in one statement (one round trip), inside the
 * caller's transaction: `writeAudit` plus `emitEvents`.
 */
export async function auditAndEmit(
  trx: Executor,
  ctx: RequestContext,
  entries: AuditEntry[],
  events: DomainEvent[],
): Promise<void> {
  const audited = entries.map((e) => auditRow(ctx, e));
  if (events.length === 0) {
    if (audited.length > 0) await trx.insertInto('audit_log').values(audited).execute();
    return;
  }
  if (audited.length === 0) return emitEvents(trx, events);
  await trx
    .with('inserted', (db) => db.insertInto('outbox').values(events.map(outboxRow)))
    .with('audited', (db) => db.insertInto('audit_log').values(audited))
    .selectNoFrom(notifyOutbox())
    .execute();
}

/** Wakes the relay when the transaction commits (select it in the statement that inserts events). */
export const outboxNotify = () => sql<void>`pg_notify(${OUTBOX_CHANNEL}, '')`;
const notifyOutbox = () => outboxNotify().as('notified');

/** An event's outbox row with its payload as JSON (for statements that insert rows from a JSON array). */
export const outboxRecord = (e: DomainEvent) => ({ ...outboxRow(e), payload: e.payload });

function outboxRow(e: DomainEvent) {
  return {
    type: e.type,
    aggregate_type: e.aggregateType,
    aggregate_id: e.aggregateId,
    customer_id: e.customerId ?? null,
    payload: JSON.stringify(e.payload),
  };
}

export const emitEvent = (trx: Executor, event: DomainEvent) => emitEvents(trx, [event]);
