import { sql } from 'kysely';
import type { Executor } from '../db/db.ts';

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
    .with('inserted', (db) =>
      db.insertInto('outbox').values(
        events.map((e) => ({
          type: e.type,
          aggregate_type: e.aggregateType,
          aggregate_id: e.aggregateId,
          customer_id: e.customerId ?? null,
          payload: JSON.stringify(e.payload),
        })),
      ),
    )
    .selectNoFrom(sql`pg_notify(${OUTBOX_CHANNEL}, '')`.as('notified'))
    .execute();
}

export const emitEvent = (trx: Executor, event: DomainEvent) => emitEvents(trx, [event]);
