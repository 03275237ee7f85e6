import type { Executor } from '../db/db.ts';
import type { RequestContext } from './context.ts';

export interface AuditEntry {
  /** `<record type>.<verb>`, e.g. `customer.update`, `incident.resolve`. */
  action: string;
  recordType: string;
  recordId: string;
  customerId?: string | null;
  before?: unknown;
  after?: unknown;
  /** The request behind the change, when it is not the context's (work batched across requests). */
  requestId?: string | null;
}

/** The audit_log row of an entry (for writers that insert it together with other rows). */
export function auditRow(ctx: RequestContext, entry: AuditEntry) {
  return {
    actor_key_id: ctx.actor.keyId,
    actor_name: ctx.actor.name,
    actor_role: ctx.actor.role,
    action: entry.action,
    record_type: entry.recordType,
    record_id: entry.recordId,
    customer_id: entry.customerId ?? null,
    before: entry.before === undefined ? null : JSON.stringify(entry.before),
    after: entry.after === undefined ? null : JSON.stringify(entry.after),
    request_id: entry.requestId !== undefined ? entry.requestId : ctx.requestId,
  };
}

/** An entry's audit_log row with before/after as JSON (for statements that insert rows from a JSON array). */
export const auditRecord = (ctx: RequestContext, entry: AuditEntry) => ({
  ...auditRow(ctx, entry),
  before: entry.before ?? null,
  after: entry.after ?? null,
});

/** Writes one audit entry; call it inside the transaction of the change it describes. */
export async function writeAudit(trx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void> {
  await trx.insertInto('audit_log').values(auditRow(ctx, entry)).execute();
}
