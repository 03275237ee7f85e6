import { sql } from 'kysely';
import { Type } from 'typebox';
import type { Database } from '../db/db.ts';
import type { App } from './module.ts';
import { listQuery, pageOf, paginate } from './paging.ts';
import { iso, Nullable } from './schemas.ts';

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.Object({ keyId: Nullable(Type.String()), name: Type.String(), role: Type.String() }),
  action: Type.String({ description: '`<record type>.<verb>`' }),
  recordType: Type.String(),
  recordId: Type.String(),
  customerId: Nullable(Type.String()),
  before: Type.Unknown(),
  after: Type.Unknown(),
  requestId: Nullable(Type.String()),
});

const AuditQuerySchema = listQuery({
  recordType: Type.Optional(Type.String({ maxLength: 100 })),
  recordId: Type.Optional(Type.String({ maxLength: 100 })),
  action: Type.Optional(Type.String({ maxLength: 100 })),
  actorKeyId: Type.Optional(Type.String({ format: 'uuid' })),
  requestId: Type.Optional(Type.String({ maxLength: 200 })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Entries before' })),
});

/** `GET /audit`: every mutation's actor, action, record and before/after, newest first. */
export function auditRoutes(app: App, db: Database): void {
  app.get(
    '/audit',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['audit'],
        operationId: 'listAuditEntries',
        summary: 'List audit entries, newest first',
        querystring: AuditQuerySchema,
        response: { 200: pageOf(AuditEntrySchema) },
      },
    },
    async (request) => {
      const f = request.query;
      let q = db.selectFrom('audit_log').selectAll();
      if (f.recordType) q = q.where('record_type', '=', f.recordType);
      if (f.recordId) q = q.where('record_id', '=', f.recordId);
      if (f.action) q = q.where('action', '=', f.action);
      if (f.actorKeyId) q = q.where('actor_key_id', '=', f.actorKeyId);
      if (f.requestId) q = q.where('request_id', '=', f.requestId);
      if (f.from) q = q.where('at', '>=', sql<Date>`${f.from}::timestamptz`);
      if (f.to) q = q.where('at', '<', sql<Date>`${f.to}::timestamptz`);
      const page = await paginate(q, {
        page: { limit: f.limit, cursor: f.cursor, sort: '-id' },
        columns: { id: 'id' },
        defaultSort: '-id',
        idColumn: 'id',
      });
      return {
        nextCursor: page.nextCursor,
        items: page.items.map((row) => ({
          id: row.id,
          at: iso(row.at),
          actor: { keyId: row.actor_key_id, name: row.actor_name, role: row.actor_role },
          action: row.action,
          recordType: row.record_type,
          recordId: row.record_id,
          customerId: row.customer_id,
          before: row.before,
          after: row.after,
          requestId: row.request_id,
        })),
      };
    },
  );
}
