import { type Insertable, type RawBuilder, type Selectable, sql, type Updateable } from 'kysely';
import type { Executor, Tx } from '../../db/db.ts';
import type {
  CategoriesTable,
  IncidentConfirmationsTable,
  IncidentEventsTable,
  IncidentSettingsTable,
  IncidentsTable,
} from '../../db/schema.ts';
import type { RequestContext, Scope } from '../../platform/context.ts';
import { paginate } from '../../platform/paging.ts';
import { iso, isoOrNull } from '../../platform/schemas.ts';
import { inScope, withinScope } from '../../platform/scope.ts';
import type { Incident, IncidentListQuery } from './incident.schemas.ts';
import { allowedActions } from './lifecycle.ts';
import type { PriorityMatrix } from './priority.ts';
import { containsPattern, planSearch } from './search.ts';

export type IncidentRow = Selectable<IncidentsTable>;
type CategoryRow = Selectable<CategoriesTable>;
type ConfirmationRow = Selectable<IncidentConfirmationsTable>;

/** Every column but the generated search columns (never sent to clients). */
const COLUMNS = [
  'id',
  'ref',
  'title',
  'description',
  'customer_id',
  'requester_id',
  'channel',
  'category',
  'service_id',
  'impact',
  'urgency',
  'priority',
  'priority_overridden',
  'priority_reason',
  'status',
  'pending_reason',
  'group_id',
  'assignee_id',
  'tier',
  'major',
  'major_reason',
  'parent_id',
  'resolution_code',
  'resolution_notes',
  'resolved_tier',
  'group_assignments',
  'escalation_count',
  'reopen_count',
  'close_reason',
  'source',
  'reported_at',
  'acknowledged_at',
  'resolved_at',
  'closed_at',
  'cancelled_at',
  'version',
  'created_at',
  'updated_at',
] as const;
export type IncidentRecord = Pick<IncidentRow, (typeof COLUMNS)[number]>;

export function toIncident(row: IncidentRecord): Incident {
  return {
    id: row.id,
    ref: row.ref,
    title: row.title,
    description: row.description,
    customerId: row.customer_id,
    requesterId: row.requester_id,
    channel: row.channel as Incident['channel'],
    category: row.category,
    serviceId: row.service_id,
    impact: row.impact,
    urgency: row.urgency,
    priority: row.priority,
    priorityOverridden: row.priority_overridden,
    priorityReason: row.priority_reason,
    status: row.status,
    pendingReason: row.pending_reason as Incident['pendingReason'],
    groupId: row.group_id,
    assigneeId: row.assignee_id,
    tier: row.tier,
    major: row.major,
    majorReason: row.major_reason,
    parentId: row.parent_id,
    resolutionCode: row.resolution_code,
    resolutionNotes: row.resolution_notes,
    reopenCount: row.reopen_count,
    escalationCount: row.escalation_count,
    closeReason: row.close_reason,
    source: row.source,
    reportedAt: iso(row.reported_at),
    acknowledgedAt: isoOrNull(row.acknowledged_at),
    resolvedAt: isoOrNull(row.resolved_at),
    closedAt: isoOrNull(row.closed_at),
    cancelledAt: isoOrNull(row.cancelled_at),
    allowedActions: allowedActions(row.status),
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function findIncident(db: Executor, scope: Scope, id: string) {
  return withinScope(
    db.selectFrom('incidents').select(COLUMNS).where('id', '=', id),
    scope,
    'customer_id',
  ).executeTakeFirst();
}

export function lockIncident(trx: Tx, scope: Scope, id: string) {
  return withinScope(trx.selectFrom('incidents').select(COLUMNS).where('id', '=', id), scope, 'customer_id')
    .forUpdate()
    .executeTakeFirst();
}

/** A new incident's row as `createMany` builds it: what the caller decides, before the defaults. */
export type NewIncidentRow = Insertable<IncidentsTable> & { id: string };

/**
 * Inserts incidents and their first timeline entries (at least one each, `timelines[i]` for
 * `rows[i]`) in one statement (one round trip): ids are chosen by the caller, so the entries need
 * not wait for the rows to come back. Returns the rows in the order given.
 */
export async function insertIncidentsWithEvents(
  trx: Tx,
  rows: NewIncidentRow[],
  ctx: RequestContext,
  timelines: TimelineEntry[][],
): Promise<IncidentRecord[]> {
  const inserted = await trx
    .with('timeline', (db) =>
      db
        .insertInto('incident_events')
        .values(rows.flatMap((row, i) => eventValues(row.id, ctx, timelines[i]!))),
    )
    .insertInto('incidents')
    .values(rows)
    .returning(COLUMNS)
    .execute();
  const byId = new Map(inserted.map((r) => [r.id, r]));
  return rows.map((r) => byId.get(r.id)!);
}

const EPOCH = new Date(0);
/**
 * What a new incident takes from its table's defaults (migration 20261123001000), but for what only
 * the insert knows (ref and timestamps, see `insertedFields`). A test compares the payloads built
 * from it with the incident as read back.
 */
const NEW_INCIDENT: Omit<IncidentRecord, keyof NewIncidentRow | 'ref' | 'created_at' | 'updated_at'> = {
  status: 'new',
  pending_reason: null,
  assignee_id: null,
  major: false,
  major_reason: null,
  parent_id: null,
  resolution_code: null,
  resolution_notes: null,
  resolved_tier: null,
  escalation_count: 0,
  reopen_count: 0,
  close_reason: null,
  acknowledged_at: null,
  resolved_at: null,
  closed_at: null,
  cancelled_at: null,
  version: 1,
};

/** The incident a new row will be, but for `ref` and the timestamps (placeholders until the insert). */
export function newIncident(row: NewIncidentRow): IncidentRecord {
  return {
    ...NEW_INCIDENT,
    ...(row as IncidentRecord),
    ref: '',
    reported_at: (row.reported_at as Date | undefined) ?? EPOCH,
    created_at: EPOCH,
    updated_at: EPOCH,
  };
}

const isoText = (column: string) =>
  sql`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** The fields of `Incident` that only the insert decides, as JSON (as `toIncident` renders them). */
const insertedFields = sql`jsonb_build_object('ref', ref, 'reportedAt', ${isoText('reported_at')},
  'createdAt', ${isoText('created_at')}, 'updatedAt', ${isoText('updated_at')})`;

/**
 * CTEs for a statement of the caller's (which names its own CTEs otherwise): inserts those of `rows`
 * whose id `ids` (a subquery) yields, each with its timeline, audit entry and event, whose JSON
 * (built from `newIncident`) gets the inserted ref and timestamps. `inc_new` yields (id) of the
 * incidents inserted. Text that does not vary with the rows (a prepared statement may hold it).
 */
export function insertIncidentsWhere(
  rows: NewIncidentRow[],
  timelines: TimelineEntry[][],
  ctx: RequestContext,
  audits: Record<string, unknown>[],
  events: Record<string, unknown>[],
  ids: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const values = rows.map((r) => ({ ...r, reported_at: r.reported_at ?? null }));
  const timeline = rows.flatMap((row, i) => eventRecords(row.id, ctx, timelines[i]!));
  return sql`inc_new AS (
      INSERT INTO incidents (id, source, title, description, customer_id, requester_id, channel, category,
        service_id, impact, urgency, priority, priority_overridden, priority_reason, group_id, tier,
        group_assignments, reported_at)
      SELECT r.id, r.source, r.title, r.description, r.customer_id, r.requester_id, r.channel, r.category,
        r.service_id, r.impact, r.urgency, r.priority, r.priority_overridden, r.priority_reason, r.group_id,
        r.tier, r.group_assignments, COALESCE(r.reported_at, now())
      FROM jsonb_populate_recordset(NULL::incidents, ${JSON.stringify(values)}::jsonb) AS r
      WHERE r.id IN (${ids})
      RETURNING id, ${insertedFields} AS fields
    ),
    inc_timeline AS (
      INSERT INTO incident_events (incident_id, type, visibility, actor_key_id, actor_name, actor_role, data)
      SELECT e.incident_id, e.type, e.visibility, e.actor_key_id, e.actor_name, e.actor_role, e.data
      FROM jsonb_populate_recordset(NULL::incident_events, ${JSON.stringify(timeline)}::jsonb) AS e
      WHERE e.incident_id IN (SELECT id FROM inc_new)
    ),
    inc_audit AS (
      INSERT INTO audit_log (actor_key_id, actor_name, actor_role, action, record_type, record_id, customer_id,
        after, request_id)
      SELECT a.actor_key_id, a.actor_name, a.actor_role, a.action, a.record_type, a.record_id, a.customer_id,
        a.after || n.fields, a.request_id
      FROM jsonb_populate_recordset(NULL::audit_log, ${JSON.stringify(audits)}::jsonb) AS a
      JOIN inc_new n ON n.id::text = a.record_id
    ),
    inc_events AS (
      INSERT INTO outbox (type, aggregate_type, aggregate_id, customer_id, payload)
      SELECT o.type, o.aggregate_type, o.aggregate_id, o.customer_id,
        jsonb_set(o.payload, '{incident}', (o.payload -> 'incident') || n.fields)
      FROM jsonb_populate_recordset(NULL::outbox, ${JSON.stringify(events)}::jsonb) AS o
      JOIN inc_new n ON n.id::text = o.aggregate_id
    )`;
}

export function updateIncident(trx: Tx, id: string, values: Updateable<IncidentsTable>) {
  return trx
    .updateTable('incidents')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export function listIncidents(db: Executor, scope: Scope, f: IncidentListQuery) {
  let q = withinScope(db.selectFrom('incidents').select(COLUMNS), scope, 'customer_id');
  if (f.status?.length) q = q.where('status', 'in', f.status);
  if (f.priority?.length) q = q.where('priority', 'in', f.priority);
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  if (f.groupId) q = q.where('group_id', '=', f.groupId);
  if (f.assigneeId) q = q.where('assignee_id', '=', f.assigneeId);
  if (f.requesterId) q = q.where('requester_id', '=', f.requesterId);
  if (f.channel) q = q.where('channel', '=', f.channel);
  if (f.source) q = q.where('source', '=', f.source);
  if (f.category) {
    const category = f.category;
    q = q.where((eb) => eb.or([eb('category', '=', category), eb('category', 'like', `${category}.%`)]));
  }
  if (f.major !== undefined) q = q.where('major', '=', f.major);
  if (f.parentId) q = q.where('parent_id', '=', f.parentId);
  if (f.slaState) {
    // ticket_sla_states is the SLA module's read interface (a view over its clocks).
    const column = f.slaState === 'breached' ? 'breached' : 'at_risk';
    q = q.where('id', 'in', (eb) =>
      eb
        .selectFrom('ticket_sla_states')
        .select('ticket_id')
        .where('ticket_type', '=', 'incident')
        .where(column, '=', true),
    );
  }
  if (f.createdFrom) q = q.where('created_at', '>=', new Date(f.createdFrom));
  if (f.createdTo) q = q.where('created_at', '<', new Date(f.createdTo));
  if (f.updatedFrom) q = q.where('updated_at', '>=', new Date(f.updatedFrom));
  if (f.updatedTo) q = q.where('updated_at', '<', new Date(f.updatedTo));
  if (f.q) {
    const plan = planSearch(f.q);
    if (plan.bigrams.length > 0) q = q.where('search_bigrams', '@>', sql<string[]>`${plan.bigrams}::text[]`);
    // A 2-character CJK term is fully answered by the bigram index (repeating it as a LIKE only
    // misleads the planner's row estimate); every other term is a substring match.
    for (const term of plan.terms) {
      if (!plan.bigrams.includes(term)) q = q.where('search_text', 'like', containsPattern(term));
    }
  }
  return paginate(q, {
    page: f,
    columns: {
      createdAt: 'created_at',
      updatedAt: 'updated_at',
      reportedAt: 'reported_at',
      priority: 'priority',
    },
    defaultSort: '-createdAt',
    idColumn: 'id',
  });
}

/** Open children and the parent link of a major incident. */
export function setParent(trx: Tx, childId: string, parentId: string | null) {
  return trx
    .updateTable('incidents')
    .set((eb) => ({ parent_id: parentId, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', childId)
    .returning(COLUMNS)
    .executeTakeFirst();
}

// ---- timeline ----
export interface TimelineEntry {
  type: string;
  visibility?: 'public' | 'internal';
  data?: Record<string, unknown>;
}

export async function appendEvents(
  trx: Executor,
  incidentId: string,
  ctx: RequestContext,
  events: TimelineEntry[],
) {
  if (events.length === 0) return;
  await trx
    .insertInto('incident_events')
    .values(eventValues(incidentId, ctx, events))
    .execute();
}

function eventRecords(incidentId: string, ctx: RequestContext, events: TimelineEntry[]) {
  return events.map((e) => ({
    incident_id: incidentId,
    type: e.type,
    visibility: e.visibility ?? ('internal' as const),
    actor_key_id: ctx.actor.keyId,
    actor_name: ctx.actor.name,
    actor_role: ctx.actor.role,
    data: e.data ?? {},
  }));
}

const eventValues = (incidentId: string, ctx: RequestContext, events: TimelineEntry[]) =>
  eventRecords(incidentId, ctx, events).map((e) => ({ ...e, data: JSON.stringify(e.data) }));

export function toTimelineItem(row: Selectable<IncidentEventsTable>) {
  return {
    ...row.data,
    id: row.id,
    type: row.type,
    at: iso(row.at),
    actor: { name: row.actor_name, role: row.actor_role, keyId: row.actor_key_id },
    visibility: row.visibility,
  };
}

export function timeline(db: Executor, incidentId: string, publicOnly: boolean) {
  let q = db.selectFrom('incident_events').selectAll().where('incident_id', '=', incidentId);
  if (publicOnly) q = q.where('visibility', '=', 'public');
  return q.orderBy('id').limit(5000).execute();
}

// ---- attachments ----
export function insertAttachment(
  trx: Executor,
  values: {
    incident_id: string;
    filename: string;
    content_type: string;
    size_bytes: number;
    sha256: string;
    content: Buffer;
    uploaded_by: string;
  },
) {
  return trx
    .insertInto('incident_attachments')
    .values(values)
    .returning(['id', 'filename', 'content_type', 'size_bytes', 'sha256', 'uploaded_by', 'created_at'])
    .executeTakeFirstOrThrow();
}

export function listAttachments(db: Executor, incidentId: string) {
  return db
    .selectFrom('incident_attachments')
    .select(['id', 'filename', 'content_type', 'size_bytes', 'sha256', 'uploaded_by', 'created_at'])
    .where('incident_id', '=', incidentId)
    .orderBy('created_at')
    .execute();
}

export function findAttachment(db: Executor, incidentId: string, id: string) {
  return db
    .selectFrom('incident_attachments')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .where('id', '=', id)
    .executeTakeFirst();
}

// ---- confirmations ----
export function insertConfirmation(
  trx: Tx,
  values: { incident_id: string; token: string; expires_at: Date },
) {
  return trx.insertInto('incident_confirmations').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Marks every unanswered confirmation of the incident as superseded (a reopen or a new resolve). */
export function supersedeConfirmations(trx: Tx, incidentId: string) {
  return trx
    .updateTable('incident_confirmations')
    .set({ answered_at: new Date(), outcome: 'superseded' })
    .where('incident_id', '=', incidentId)
    .where('answered_at', 'is', null)
    .execute();
}

export function lockConfirmationByToken(trx: Tx, token: string) {
  return trx
    .selectFrom('incident_confirmations')
    .selectAll()
    .where('token', '=', token)
    .forUpdate()
    .executeTakeFirst();
}

export function findConfirmationByToken(db: Executor, token: string) {
  return db.selectFrom('incident_confirmations').selectAll().where('token', '=', token).executeTakeFirst();
}

export function latestConfirmation(db: Executor, incidentId: string) {
  return db
    .selectFrom('incident_confirmations')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function answerConfirmation(
  trx: Tx,
  id: string,
  answer: {
    outcome: NonNullable<ConfirmationRow['outcome']>;
    rating?: number | null;
    comment?: string | null;
  },
) {
  return trx
    .updateTable('incident_confirmations')
    .set({
      answered_at: new Date(),
      outcome: answer.outcome,
      rating: answer.rating ?? null,
      comment: answer.comment ?? null,
    })
    .where('id', '=', id)
    .execute();
}

/** Unanswered confirmations whose time is up (for the auto-close job), oldest first. */
export function expiredConfirmations(db: Executor, now: Date, limit: number) {
  return db
    .selectFrom('incident_confirmations')
    .select(['id', 'incident_id', 'token'])
    .where('answered_at', 'is', null)
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

// ---- settings and categories ----
export async function getSettings(db: Executor) {
  return db.selectFrom('incident_settings').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
}

export function lockSettings(trx: Tx) {
  return trx
    .selectFrom('incident_settings')
    .selectAll()
    .where('id', '=', 1)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export function updateSettings(
  trx: Tx,
  values: Partial<{
    priority_matrix: PriorityMatrix;
    resolution_codes: unknown;
    reopen_window_days: number;
    auto_close_days: number;
  }>,
) {
  const set: Updateable<IncidentSettingsTable> = {};
  if (values.priority_matrix) set.priority_matrix = JSON.stringify(values.priority_matrix);
  if (values.resolution_codes) set.resolution_codes = JSON.stringify(values.resolution_codes);
  if (values.reopen_window_days !== undefined) set.reopen_window_days = values.reopen_window_days;
  if (values.auto_close_days !== undefined) set.auto_close_days = values.auto_close_days;
  return trx
    .updateTable('incident_settings')
    .set((eb) => ({ ...set, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', 1)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function toCategory(row: CategoryRow & { parent_code: string | null }) {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    nameZh: row.name_zh,
    parentCode: row.parent_code,
    active: row.active,
    version: row.version,
  };
}

export function listCategories(db: Executor) {
  return db
    .selectFrom('categories as c')
    .leftJoin('categories as p', 'p.id', 'c.parent_id')
    .selectAll('c')
    .select('p.code as parent_code')
    .orderBy('c.code')
    .execute();
}

export function findCategory(db: Executor, code: string) {
  return db
    .selectFrom('categories as c')
    .leftJoin('categories as p', 'p.id', 'c.parent_id')
    .selectAll('c')
    .select('p.code as parent_code')
    .where('c.code', '=', code)
    .executeTakeFirst();
}

export function insertCategory(trx: Executor, values: Insertable<CategoriesTable>) {
  return trx.insertInto('categories').values(values).returning('id').executeTakeFirstOrThrow();
}

export function updateCategory(trx: Executor, code: string, values: Updateable<CategoriesTable>) {
  return trx
    .updateTable('categories')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('code', '=', code)
    .execute();
}

// ---- statistics (aggregated in SQL) ----
export async function stats(db: Executor, scope: Scope, from: Date, to: Date, customerId?: string) {
  let base = db
    .selectFrom('incidents')
    .where('reported_at', '>=', from)
    .where('reported_at', '<', to)
    .where(inScope(scope, 'customer_id'));
  if (customerId) base = base.where('customer_id', '=', customerId);

  const grouped = (column: 'status' | 'priority' | 'category' | 'channel') =>
    base
      .select([
        sql<string>`coalesce(${sql.ref(column)}, 'none')`.as('key'),
        (eb) => eb.fn.countAll<number>().as('n'),
      ])
      .groupBy(column)
      .execute();

  const [byStatus, byPriority, byCategory, byChannel, summary] = await Promise.all([
    grouped('status'),
    grouped('priority'),
    grouped('category'),
    grouped('channel'),
    base
      .select([
        sql<number>`count(*)::int`.as('total'),
        sql<number>`count(acknowledged_at)::int`.as('ack_n'),
        sql<number | null>`avg(extract(epoch FROM acknowledged_at - reported_at))::float8`.as('ack_mean'),
        sql<
          number | null
        >`percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - reported_at))::float8`.as(
          'ack_p90',
        ),
        sql<number>`count(resolved_at)::int`.as('res_n'),
        sql<number | null>`avg(extract(epoch FROM resolved_at - reported_at))::float8`.as('res_mean'),
        sql<
          number | null
        >`percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - reported_at))::float8`.as(
          'res_p90',
        ),
        sql<number>`count(*) FILTER (WHERE resolved_at IS NOT NULL AND resolved_tier = 1 AND group_assignments <= 1 AND escalation_count = 0)::int`.as(
          'fcr_n',
        ),
        sql<number>`count(*) FILTER (WHERE resolved_at IS NOT NULL AND reopen_count > 0)::int`.as('reopen_n'),
        sql<number>`count(*) FILTER (WHERE escalation_count > 0)::int`.as('esc_n'),
      ])
      .executeTakeFirstOrThrow(),
  ]);
  const counts = (rows: { key: string; n: number }[]) =>
    Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
  const rate = (n: number, d: number) => (d > 0 ? n / d : null);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    total: summary.total,
    byStatus: counts(byStatus),
    byPriority: counts(byPriority),
    byCategory: counts(byCategory),
    byChannel: counts(byChannel),
    timeToAcknowledge: { count: summary.ack_n, meanSeconds: summary.ack_mean, p90Seconds: summary.ack_p90 },
    timeToResolve: { count: summary.res_n, meanSeconds: summary.res_mean, p90Seconds: summary.res_p90 },
    firstContactResolutionRate: rate(summary.fcr_n, summary.res_n),
    reopenRate: rate(summary.reopen_n, summary.res_n),
    escalationRate: rate(summary.esc_n, summary.total),
  };
}

// ---- SLA history ----
/**
 * What SLA clocks read of incidents: the fields and the timeline entries that move a clock (in
 * order), in one statement.
 */
export function historyRows(db: Executor, ids: string[]) {
  return db
    .selectFrom('incidents')
    .select([
      'id',
      'customer_id',
      'service_id',
      'reported_at',
      'acknowledged_at',
      'status',
      'priority',
      'group_id',
      sql<{ at: string; type: string; data: Record<string, unknown> }[]>`coalesce((
        SELECT json_agg(json_build_object('at', e.at, 'type', e.type, 'data', e.data) ORDER BY e.id)
          FROM incident_events e
         WHERE e.incident_id = incidents.id
           AND e.type IN ('created', 'status_changed', 'priority_changed', 'assigned', 'escalated')
      ), '[]')`.as('events'),
    ])
    .where('id', 'in', ids)
    .execute();
}
