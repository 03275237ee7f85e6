import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../db/db.ts';
import type { PeriodRange, ReportScope } from './section.ts';

/**
 * The reports module's read-only view of other modules' tables (ARCHITECTURE: "reports and
 * compliance read through their own read-only queries"). Every query of a table this module does
 * not own is in this file and nowhere else; none writes. Tables read: incidents, incident_events,
 * incident_confirmations, categories (incident); service_requests, request_items (service desk);
 * sla_clocks, agreements, services (sla); assignment_groups, people, customers (directory);
 * webhook_subscriptions (integrations).
 *
 * Everything aggregates in PostgreSQL (one pass per table and figure family, GROUPING SETS for the
 * breakdowns); only aggregates and bounded lists (breaches, comments, major incidents) reach Node.
 */

const seconds = (expr: RawBuilder<unknown>) => sql<number>`extract(epoch FROM ${expr})`;

/** Incidents of the scope (alias `i`). */
function incidentScope(scope: ReportScope): RawBuilder<boolean> {
  return scope.serviceIds.length > 0
    ? sql<boolean>`i.customer_id = ${scope.customerId} AND i.service_id = ANY(${scope.serviceIds}::uuid[])`
    : sql<boolean>`i.customer_id = ${scope.customerId}`;
}

/** SLA clocks of the scope (alias `c`, agreements `a`): the customer's SLAs (not OLAs/UCs). */
function clockScope(scope: ReportScope): RawBuilder<boolean> {
  const parts = [sql`c.customer_id = ${scope.customerId}`, sql`a.kind = 'sla'`];
  if (scope.agreementIds.length > 0) parts.push(sql`c.agreement_id = ANY(${scope.agreementIds}::uuid[])`);
  if (scope.serviceIds.length > 0)
    parts.push(
      sql`c.ticket_type = 'incident' AND EXISTS (SELECT 1 FROM incidents si WHERE si.id = c.ticket_id AND si.service_id = ANY(${scope.serviceIds}::uuid[]))`,
    );
  return sql<boolean>`${sql.join(parts, sql` AND `)}`;
}

/** `(VALUES (0, from, to), ...) AS p(idx, pfrom, pto)` for per-period aggregation in one pass. */
function periodValues(periods: PeriodRange[]): RawBuilder<unknown> {
  return sql`(VALUES ${sql.join(
    periods.map(
      (p, i) => sql`(${i}::int, ${p.from.toISOString()}::timestamptz, ${p.to.toISOString()}::timestamptz)`,
    ),
  )}) AS p(idx, pfrom, pto)`;
}

// ---- directory / catalogue lookups (labels) ---------------------------------------------------
export async function customerName(
  db: Executor,
  id: string,
): Promise<{ name: string; code: string } | undefined> {
  return db.selectFrom('customers').select(['name', 'code']).where('id', '=', id).executeTakeFirst();
}

export async function existingServices(db: Executor, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('services').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

/** SLAs a definition may name: the customer's own, and templates (the default SLA). */
export async function agreementsOfCustomer(db: Executor, customerId: string, ids: string[]) {
  if (ids.length === 0) return new Set<string>();
  const rows = await db
    .selectFrom('agreements')
    .select('id')
    .where('id', 'in', ids)
    .where('kind', '=', 'sla')
    .where((eb) => eb.or([eb('customer_id', '=', customerId), eb('template', '=', true)]))
    .execute();
  return new Set(rows.map((r) => r.id));
}

export async function existingSubscriptions(db: Executor, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('webhook_subscriptions').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

export async function agreementsById(db: Executor, ids: string[]) {
  if (ids.length === 0) return new Map<string, { ref: string; name: string; targets: unknown[] }>();
  const rows = await db
    .selectFrom('agreements')
    .select(['id', 'ref', 'name', 'targets'])
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.id, { ref: r.ref, name: r.name, targets: r.targets as unknown[] }]));
}

export async function labelsOf(
  db: Executor,
  kind: 'category' | 'service' | 'group' | 'agent',
  keys: string[],
  locale: 'en' | 'zh-CN',
): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  switch (kind) {
    case 'category': {
      const rows = await db
        .selectFrom('categories')
        .select(['code', 'name', 'name_zh'])
        .where('code', 'in', keys)
        .execute();
      return new Map(rows.map((r) => [r.code, locale === 'zh-CN' ? (r.name_zh ?? r.name) : r.name]));
    }
    case 'service': {
      const rows = await db.selectFrom('services').select(['id', 'name']).where('id', 'in', keys).execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    }
    case 'group': {
      const rows = await db
        .selectFrom('assignment_groups')
        .select(['id', 'name'])
        .where('id', 'in', keys)
        .execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    }
    case 'agent': {
      const rows = await db.selectFrom('people').select(['id', 'name']).where('id', 'in', keys).execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    }
  }
}

// ---- SLA performance ---------------------------------------------------------------------------
export interface TargetRow {
  agreement_id: string;
  metric: 'response' | 'resolution';
  priority: string | null;
  target_seconds: number;
  measured: number;
  met: number;
  breached: number;
  mean_seconds: number | null;
  p90_seconds: number | null;
}

/**
 * Per agreement, metric and priority: clocks that started in the period; measured = met or breached
 * (running, paused and cancelled clocks are not measured yet). Times are business time (elapsed_ms).
 */
export async function slaTargets(
  db: Executor,
  scope: ReportScope,
  from: Date,
  to: Date,
): Promise<TargetRow[]> {
  const { rows } = await sql<TargetRow>`
    SELECT c.agreement_id, c.metric, c.priority,
      max(c.target_seconds)::int AS target_seconds,
      count(*) FILTER (WHERE c.state IN ('met', 'breached'))::int AS measured,
      count(*) FILTER (WHERE c.state = 'met')::int AS met,
      count(*) FILTER (WHERE c.state = 'breached')::int AS breached,
      (avg(c.elapsed_ms) FILTER (WHERE c.state IN ('met', 'breached')) / 1000)::float8 AS mean_seconds,
      (percentile_cont(0.9) WITHIN GROUP (ORDER BY c.elapsed_ms) FILTER (WHERE c.state IN ('met', 'breached')) / 1000)::float8 AS p90_seconds
    FROM sla_clocks c JOIN agreements a ON a.id = c.agreement_id
    WHERE ${clockScope(scope)} AND c.started_at >= ${from} AND c.started_at < ${to}
    GROUP BY c.agreement_id, c.metric, c.priority
    ORDER BY c.agreement_id, c.metric DESC, c.priority NULLS LAST`.execute(db);
  return rows;
}

/** Per agreement and period (index into `periods`): measured, met, breached. */
export async function slaTrend(db: Executor, scope: ReportScope, periods: PeriodRange[]) {
  const { rows } = await sql<{
    agreement_id: string;
    idx: number;
    measured: number;
    met: number;
    breached: number;
  }>`
    SELECT c.agreement_id, p.idx,
      count(*) FILTER (WHERE c.state IN ('met', 'breached'))::int AS measured,
      count(*) FILTER (WHERE c.state = 'met')::int AS met,
      count(*) FILTER (WHERE c.state = 'breached')::int AS breached
    FROM sla_clocks c JOIN agreements a ON a.id = c.agreement_id
      JOIN ${periodValues(periods)} ON c.started_at >= p.pfrom AND c.started_at < p.pto
    WHERE ${clockScope(scope)}
      AND c.started_at >= ${periods[0]!.from} AND c.started_at < ${periods[periods.length - 1]!.to}
    GROUP BY c.agreement_id, p.idx`.execute(db);
  return rows;
}

// ---- nonconformities ---------------------------------------------------------------------------
export interface BreachRow {
  clock_id: string;
  ticket_type: 'incident' | 'service_request';
  ticket_id: string;
  ref: string | null;
  title: string | null;
  agreement_id: string;
  metric: 'response' | 'resolution';
  priority: string | null;
  target_seconds: number;
  elapsed_seconds: number;
  breached_at: Date;
  group_name: string | null;
  assignee_name: string | null;
  escalations: number;
  reassignments: number;
}

/** Clocks that breached inside the period, oldest breach first, at most `limit`. */
export async function breaches(db: Executor, scope: ReportScope, from: Date, to: Date, limit: number) {
  const where = sql`${clockScope(scope)} AND c.breached_at >= ${from} AND c.breached_at < ${to}`;
  const [list, totals] = await Promise.all([
    sql<BreachRow>`
      SELECT c.id AS clock_id, c.ticket_type, c.ticket_id, coalesce(i.ref, r.ref) AS ref,
        coalesce(i.title, r.title) AS title, c.agreement_id, c.metric, c.priority, c.target_seconds,
        (c.elapsed_ms / 1000.0)::float8 AS elapsed_seconds, c.breached_at,
        g.name AS group_name, pe.name AS assignee_name,
        coalesce(i.escalation_count, 0)::int AS escalations,
        greatest(coalesce(i.group_assignments, 0) - 1 - coalesce(i.escalation_count, 0), 0)::int AS reassignments
      FROM sla_clocks c JOIN agreements a ON a.id = c.agreement_id
        LEFT JOIN incidents i ON c.ticket_type = 'incident' AND i.id = c.ticket_id
        LEFT JOIN service_requests r ON c.ticket_type = 'service_request' AND r.id = c.ticket_id
        LEFT JOIN assignment_groups g ON g.id = i.group_id
        LEFT JOIN people pe ON pe.id = i.assignee_id
      WHERE ${where}
      ORDER BY c.breached_at, c.id
      LIMIT ${limit}`.execute(db),
    sql<{ metric: string; n: number }>`
      SELECT c.metric, count(*)::int AS n FROM sla_clocks c JOIN agreements a ON a.id = c.agreement_id
      WHERE ${where} GROUP BY c.metric`.execute(db),
  ]);
  return { rows: list.rows, byMetric: totals.rows };
}

/** How often each incident waited in `pending`, by reason (the SLA pause causes). */
export async function pendingReasons(db: Executor, incidentIds: string[]) {
  if (incidentIds.length === 0) return [];
  const { rows } = await sql<{ incident_id: string; reason: string | null; n: number }>`
    SELECT incident_id, data->>'reason' AS reason, count(*)::int AS n
    FROM incident_events
    WHERE incident_id = ANY(${incidentIds}::uuid[]) AND type = 'status_changed' AND data->>'to' = 'pending'
    GROUP BY incident_id, data->>'reason'`.execute(db);
  return rows;
}

/** Information-security incidents: category `security` or `security.*`, reported in the period. */
export async function securityIncidents(
  db: Executor,
  scope: ReportScope,
  from: Date,
  to: Date,
  limit: number,
) {
  const { rows } = await sql<{
    id: string;
    ref: string;
    title: string;
    priority: string;
    category: string;
    status: string;
    reported_at: Date;
    resolved_at: Date | null;
  }>`
    SELECT i.id, i.ref, i.title, i.priority, i.category, i.status, i.reported_at, i.resolved_at
    FROM incidents i
    WHERE ${incidentScope(scope)} AND i.reported_at >= ${from} AND i.reported_at < ${to}
      AND (i.category = 'security' OR i.category LIKE 'security.%')
    ORDER BY i.reported_at, i.id LIMIT ${limit}`.execute(db);
  return rows;
}

// ---- workload ----------------------------------------------------------------------------------
export type Dimension = 'category' | 'channel' | 'priority' | 'service' | 'group' | 'agent';

export interface VolumeRow {
  /** A breakdown dimension, the total, backlog age buckets, or the local day opened / resolved. */
  dimension: Dimension | 'total' | 'ageing' | 'openedOn' | 'resolvedOn';
  key: string | null;
  opened: number;
  resolved: number;
  backlog: number;
  backlog_age_sum: number;
}

const AGE_BUCKETS = sql`CASE
  WHEN age < 86400 THEN '0-1d' WHEN age < 5 * 86400 THEN '1-5d' WHEN age < 10 * 86400 THEN '5-10d'
  WHEN age < 30 * 86400 THEN '10-30d' ELSE '30d+' END`;

/**
 * Incidents opened (reported in the period), resolved (in the period) and in the backlog (reported
 * before `asOf`, neither resolved nor cancelled by then), by each dimension, in total, the backlog by
 * age bucket, and opened and resolved per local day: one pass with GROUPING SETS. Group and agent are
 * the incident's current ones.
 */
export async function incidentVolumes(
  db: Executor,
  scope: ReportScope,
  from: Date,
  to: Date,
  asOf: Date,
  timeZone: string,
): Promise<VolumeRow[]> {
  const { rows } = await sql<VolumeRow & { g: number; bucket: string | null; [k: string]: unknown }>`
    WITH inc AS (
      SELECT i.category, i.channel, i.priority, i.service_id::text AS service, i.group_id::text AS grp,
        i.assignee_id::text AS agent,
        (i.reported_at >= ${from}) AS opened,
        (i.resolved_at >= ${from} AND i.resolved_at < ${to}) AS resolved,
        (i.reported_at < ${asOf} AND (coalesce(i.resolved_at, i.cancelled_at) IS NULL OR coalesce(i.resolved_at, i.cancelled_at) >= ${asOf})) AS backlog,
        ${seconds(sql`${asOf}::timestamptz - i.reported_at`)} AS age,
        CASE WHEN i.reported_at >= ${from} THEN to_char(i.reported_at AT TIME ZONE ${timeZone}, 'YYYY-MM-DD') END AS rday,
        CASE WHEN i.resolved_at >= ${from} AND i.resolved_at < ${to} THEN to_char(i.resolved_at AT TIME ZONE ${timeZone}, 'YYYY-MM-DD') END AS sday
      FROM incidents i
      WHERE ${incidentScope(scope)} AND i.reported_at < ${to}
        AND (coalesce(i.resolved_at, i.cancelled_at) IS NULL OR coalesce(i.resolved_at, i.cancelled_at) >= ${from})
    ), b AS (SELECT inc.*, CASE WHEN backlog THEN ${AGE_BUCKETS} END AS bucket FROM inc)
    SELECT category, channel, priority, service, grp, agent, bucket, rday, sday,
      GROUPING(category, channel, priority, service, grp, agent, bucket, rday, sday)::int AS g,
      count(*) FILTER (WHERE opened)::int AS opened,
      count(*) FILTER (WHERE resolved)::int AS resolved,
      count(*) FILTER (WHERE backlog)::int AS backlog,
      coalesce(sum(age) FILTER (WHERE backlog), 0)::float8 AS backlog_age_sum
    FROM b
    GROUP BY GROUPING SETS ((category), (channel), (priority), (service), (grp), (agent), (bucket), (rday), (sday), ())`.execute(
    db,
  );
  return rows.map((r) => toVolume(r));
}

/** Service requests the same way: opened = submitted, resolved = fulfilled; only the category (of the item) is known. */
export async function requestVolumes(
  db: Executor,
  scope: ReportScope,
  from: Date,
  to: Date,
  asOf: Date,
  timeZone: string,
): Promise<VolumeRow[]> {
  if (scope.serviceIds.length > 0) return [];
  const ended = sql`coalesce(r.fulfilled_at, r.cancelled_at, CASE WHEN r.status = 'rejected' THEN r.decided_at END, r.closed_at)`;
  const { rows } = await sql<VolumeRow & { g: number; bucket: string | null; [k: string]: unknown }>`
    WITH req AS (
      SELECT it.category,
        (r.created_at >= ${from}) AS opened,
        (r.fulfilled_at >= ${from} AND r.fulfilled_at < ${to}) AS resolved,
        (r.created_at < ${asOf} AND (${ended} IS NULL OR ${ended} >= ${asOf})) AS backlog,
        ${seconds(sql`${asOf}::timestamptz - r.created_at`)} AS age,
        CASE WHEN r.created_at >= ${from} THEN to_char(r.created_at AT TIME ZONE ${timeZone}, 'YYYY-MM-DD') END AS rday,
        CASE WHEN r.fulfilled_at >= ${from} AND r.fulfilled_at < ${to} THEN to_char(r.fulfilled_at AT TIME ZONE ${timeZone}, 'YYYY-MM-DD') END AS sday
      FROM service_requests r JOIN request_items it ON it.id = r.item_id
      WHERE r.customer_id = ${scope.customerId} AND r.created_at < ${to} AND (${ended} IS NULL OR ${ended} >= ${from})
    ), b AS (SELECT req.*, CASE WHEN backlog THEN ${AGE_BUCKETS} END AS bucket FROM req)
    SELECT category, bucket, rday, sday, GROUPING(category, bucket, rday, sday)::int AS g,
      count(*) FILTER (WHERE opened)::int AS opened,
      count(*) FILTER (WHERE resolved)::int AS resolved,
      count(*) FILTER (WHERE backlog)::int AS backlog,
      coalesce(sum(age) FILTER (WHERE backlog), 0)::float8 AS backlog_age_sum
    FROM b GROUP BY GROUPING SETS ((category), (bucket), (rday), (sday), ())`.execute(db);
  return rows.map((r) => toVolume(r, ['category', 'bucket', 'rday', 'sday']));
}

const ALL_COLUMNS = [
  'category',
  'channel',
  'priority',
  'service',
  'grp',
  'agent',
  'bucket',
  'rday',
  'sday',
] as const;

const RENAMED: Record<string, VolumeRow['dimension']> = {
  grp: 'group',
  bucket: 'ageing',
  rday: 'openedOn',
  sday: 'resolvedOn',
};

/** GROUPING() is a bit mask over the listed columns (1 = aggregated away); the one 0 bit names the set. */
function toVolume(
  row: { g: number; opened: number; resolved: number; backlog: number; backlog_age_sum: number } & Record<
    string,
    unknown
  >,
  columns: readonly string[] = ALL_COLUMNS,
): VolumeRow {
  const base = {
    opened: row.opened,
    resolved: row.resolved,
    backlog: row.backlog,
    backlog_age_sum: row.backlog_age_sum,
  };
  for (let i = 0; i < columns.length; i++) {
    const bit = 1 << (columns.length - 1 - i);
    if ((row.g & bit) === 0) {
      const column = columns[i]!;
      const dimension = RENAMED[column] ?? column;
      return {
        dimension: dimension as VolumeRow['dimension'],
        key: (row[column] as string | null) ?? null,
        ...base,
      };
    }
  }
  return { dimension: 'total', key: null, ...base };
}

/** Work-note minutes recorded in the period, by the incident's current group and assignee. */
export async function minutesSpent(db: Executor, scope: ReportScope, from: Date, to: Date) {
  const { rows } = await sql<{ grp: string | null; agent: string | null; g: number; minutes: number }>`
    SELECT i.group_id::text AS grp, i.assignee_id::text AS agent, GROUPING(i.group_id, i.assignee_id)::int AS g,
      coalesce(sum((e.data->>'minutesSpent')::numeric), 0)::float8 AS minutes
    FROM incident_events e JOIN incidents i ON i.id = e.incident_id
    WHERE ${incidentScope(scope)} AND e.type = 'work_note' AND e.at >= ${from} AND e.at < ${to}
      AND jsonb_typeof(e.data->'minutesSpent') = 'number'
    GROUP BY GROUPING SETS ((i.group_id), (i.assignee_id))`.execute(db);
  return rows.map((r) => ({
    dimension: (r.g & 2) === 0 ? ('group' as const) : ('agent' as const),
    key: (r.g & 2) === 0 ? r.grp : r.agent,
    minutes: r.minutes,
  }));
}

// ---- major incidents ---------------------------------------------------------------------------
export async function majorIncidents(db: Executor, scope: ReportScope, from: Date, to: Date, limit: number) {
  const { rows } = await sql<{
    id: string;
    ref: string;
    title: string;
    priority: string;
    impact: string;
    urgency: string;
    status: string;
    major_reason: string | null;
    service_name: string | null;
    group_name: string | null;
    reported_at: Date;
    resolved_at: Date | null;
    closed_at: Date | null;
    cancelled_at: Date | null;
    children: number;
  }>`
    SELECT i.id, i.ref, i.title, i.priority, i.impact, i.urgency, i.status, i.major_reason,
      s.name AS service_name, g.name AS group_name, i.reported_at, i.resolved_at, i.closed_at, i.cancelled_at,
      (SELECT count(*)::int FROM incidents ch WHERE ch.parent_id = i.id) AS children
    FROM incidents i
      LEFT JOIN services s ON s.id = i.service_id
      LEFT JOIN assignment_groups g ON g.id = i.group_id
    WHERE ${incidentScope(scope)} AND i.major AND i.reported_at < ${to}
      AND (coalesce(i.resolved_at, i.cancelled_at) IS NULL OR coalesce(i.resolved_at, i.cancelled_at) >= ${from})
    ORDER BY i.reported_at, i.id LIMIT ${limit}`.execute(db);
  return rows;
}

/** The timeline entries worth a summary (not comments or work notes), oldest first, per incident. */
export async function majorTimelines(db: Executor, ids: string[], perIncident: number) {
  if (ids.length === 0) return [];
  const { rows } = await sql<{ incident_id: string; at: Date; type: string; data: Record<string, unknown> }>`
    SELECT incident_id, at, type, data FROM (
      SELECT e.incident_id, e.at, e.type, e.data,
        row_number() OVER (PARTITION BY e.incident_id ORDER BY e.at, e.id) AS n
      FROM incident_events e
      WHERE e.incident_id = ANY(${ids}::uuid[])
        AND e.type IN ('created', 'major_declared', 'assigned', 'escalated', 'status_changed', 'communication', 'child_linked', 'priority_changed', 'sla.breached')
    ) t WHERE n <= ${perIncident} ORDER BY incident_id, at`.execute(db);
  return rows;
}

// ---- service desk KPIs -------------------------------------------------------------------------
export interface ReportedKpiRow {
  idx: number;
  reported: number;
  ack_n: number;
  ack_sum: number;
  escalated: number;
  dispatched: number;
  returned: number;
}

/** Per period, over incidents reported in it (cancelled ones left out). */
export async function reportedKpis(db: Executor, scope: ReportScope, periods: PeriodRange[]) {
  const { rows } = await sql<ReportedKpiRow>`
    SELECT p.idx, count(*)::int AS reported,
      count(i.acknowledged_at)::int AS ack_n,
      coalesce(sum(${seconds(sql`i.acknowledged_at - i.reported_at`)}), 0)::float8 AS ack_sum,
      count(*) FILTER (WHERE i.escalation_count > 0)::int AS escalated,
      count(*) FILTER (WHERE i.group_assignments >= 1)::int AS dispatched,
      count(*) FILTER (WHERE i.group_assignments > 1 + i.escalation_count)::int AS returned
    FROM incidents i JOIN ${periodValues(periods)} ON i.reported_at >= p.pfrom AND i.reported_at < p.pto
    WHERE ${incidentScope(scope)} AND i.status <> 'cancelled'
      AND i.reported_at >= ${periods[0]!.from} AND i.reported_at < ${periods[periods.length - 1]!.to}
    GROUP BY p.idx`.execute(db);
  return rows;
}

export interface ResolvedKpiRow {
  idx: number;
  resolved: number;
  res_sum: number;
  fcr: number;
  reopened: number;
}

/** Per period, over incidents resolved in it. */
export async function resolvedKpis(db: Executor, scope: ReportScope, periods: PeriodRange[]) {
  const { rows } = await sql<ResolvedKpiRow>`
    SELECT p.idx, count(*)::int AS resolved,
      coalesce(sum(${seconds(sql`i.resolved_at - i.reported_at`)}), 0)::float8 AS res_sum,
      count(*) FILTER (WHERE i.resolved_tier = 1 AND i.group_assignments <= 1 AND i.escalation_count = 0)::int AS fcr,
      count(*) FILTER (WHERE i.reopen_count > 0)::int AS reopened
    FROM incidents i JOIN ${periodValues(periods)} ON i.resolved_at >= p.pfrom AND i.resolved_at < p.pto
    WHERE ${incidentScope(scope)}
      AND i.resolved_at >= ${periods[0]!.from} AND i.resolved_at < ${periods[periods.length - 1]!.to}
    GROUP BY p.idx`.execute(db);
  return rows;
}

// ---- customer satisfaction ---------------------------------------------------------------------
export async function callbackSummary(db: Executor, scope: ReportScope, from: Date, to: Date) {
  const { rows } = await sql<{
    confirmed: number;
    rejected: number;
    auto_closed: number;
    rated: number;
    rating_sum: number;
    satisfied: number;
    r1: number;
    r2: number;
    r3: number;
    r4: number;
    r5: number;
  }>`
    SELECT count(*) FILTER (WHERE ic.outcome = 'confirmed')::int AS confirmed,
      count(*) FILTER (WHERE ic.outcome = 'rejected')::int AS rejected,
      count(*) FILTER (WHERE ic.outcome = 'auto_closed')::int AS auto_closed,
      count(ic.rating) FILTER (WHERE ic.outcome IN ('confirmed', 'rejected'))::int AS rated,
      coalesce(sum(ic.rating) FILTER (WHERE ic.outcome IN ('confirmed', 'rejected')), 0)::int AS rating_sum,
      count(*) FILTER (WHERE ic.outcome IN ('confirmed', 'rejected') AND ic.rating >= 4)::int AS satisfied,
      count(*) FILTER (WHERE ic.outcome IN ('confirmed', 'rejected') AND ic.rating = 1)::int AS r1,
      count(*) FILTER (WHERE ic.outcome IN ('confirmed', 'rejected') AND ic.rating = 2)::int AS r2,
      count(*) FILTER (WHERE ic.outcome IN ('confirmed', 'rejected') AND ic.rating = 3)::int AS r3,
      count(*) FILTER (WHERE ic.outcome IN ('confirmed', 'rejected') AND ic.rating = 4)::int AS r4,
      count(*) FILTER (WHERE ic.outcome IN ('confirmed', 'rejected') AND ic.rating = 5)::int AS r5
    FROM incident_confirmations ic JOIN incidents i ON i.id = ic.incident_id
    WHERE ${incidentScope(scope)} AND ic.answered_at >= ${from} AND ic.answered_at < ${to}`.execute(db);
  return rows[0]!;
}

/** Incidents closed in the period, and how many of them had a call-back answered by the requester. */
export async function closedCoverage(db: Executor, scope: ReportScope, from: Date, to: Date) {
  const { rows } = await sql<{ closed: number; answered: number }>`
    SELECT count(*)::int AS closed,
      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM incident_confirmations ic
        WHERE ic.incident_id = i.id AND ic.outcome IN ('confirmed', 'rejected')))::int AS answered
    FROM incidents i
    WHERE ${incidentScope(scope)} AND i.closed_at >= ${from} AND i.closed_at < ${to}`.execute(db);
  return rows[0]!;
}

export async function callbackList(
  db: Executor,
  scope: ReportScope,
  from: Date,
  to: Date,
  kind: 'comments' | 'unconfirmed',
  limit: number,
) {
  const filter =
    kind === 'comments'
      ? sql`ic.outcome IN ('confirmed', 'rejected') AND ic.comment IS NOT NULL AND btrim(ic.comment) <> ''`
      : sql`ic.outcome = 'auto_closed'`;
  const { rows } = await sql<{
    incident_id: string;
    ref: string;
    title: string;
    outcome: string;
    rating: number | null;
    comment: string | null;
    answered_at: Date;
  }>`
    SELECT ic.incident_id, i.ref, i.title, ic.outcome, ic.rating, ic.comment, ic.answered_at
    FROM incident_confirmations ic JOIN incidents i ON i.id = ic.incident_id
    WHERE ${incidentScope(scope)} AND ic.answered_at >= ${from} AND ic.answered_at < ${to} AND ${filter}
    ORDER BY ic.answered_at, ic.id LIMIT ${limit}`.execute(db);
  return rows;
}
