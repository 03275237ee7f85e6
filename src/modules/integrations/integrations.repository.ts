import { type Insertable, type RawBuilder, type Selectable, sql, type Updateable } from 'kysely';
import { type Executor, prepared, type Tx } from '../../db/db.ts';
import type { AlertsTable, IntegrationDeliveriesTable, IntegrationsTable } from '../../db/schema.ts';
import { outboxNotify } from '../../platform/outbox.ts';
import { type PageQuery, paginate } from '../../platform/paging.ts';
import { iso, isoOrNull } from '../../platform/schemas.ts';
import type { Integration } from './integrations.schemas.ts';

export type IntegrationRow = Selectable<IntegrationsTable>;
export type AlertRow = Selectable<AlertsTable>;

export function toIntegration(row: IntegrationRow): Integration {
  return {
    id: row.id,
    ref: row.ref,
    type: row.type,
    name: row.name,
    customerId: row.customer_id,
    serviceId: row.service_id,
    groupId: row.group_id,
    keyPrefix: row.key_prefix,
    signed: row.signing_secret !== null,
    severityMap: row.severity_map,
    rules: row.rules as Integration['rules'],
    autoResolve: row.auto_resolve,
    flapWindowSeconds: row.flap_window_seconds,
    grouping: row.grouping,
    rateLimitPerMinute: row.rate_limit_per_minute,
    active: row.active,
    endpoint:
      row.type === 'pagerduty' ? '/v2/enqueue (or /api/v1/inbound/pagerduty)' : `/api/v1/inbound/${row.type}`,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export const findIntegration = (db: Executor, id: string) =>
  db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst();

export const findIntegrationByKeyHash = (db: Executor, hash: string) =>
  db
    .selectFrom('integrations')
    .selectAll()
    .where('key_hash', '=', hash)
    .where('active', '=', true)
    .executeTakeFirst();

export const lockIntegration = (trx: Tx, id: string) =>
  trx.selectFrom('integrations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();

export const insertIntegration = (db: Executor, values: Insertable<IntegrationsTable>) =>
  db.insertInto('integrations').values(values).returningAll().executeTakeFirstOrThrow();

export const updateIntegration = (trx: Tx, id: string, values: Updateable<IntegrationsTable>) =>
  trx
    .updateTable('integrations')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();

export function listIntegrations(
  db: Executor,
  f: PageQuery & { type?: string; customerId?: string },
  customerId: string | null,
) {
  let q = db.selectFrom('integrations').selectAll();
  if (customerId) q = q.where('customer_id', '=', customerId);
  if (f.type) q = q.where('type', '=', f.type as IntegrationRow['type']);
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', name: 'name' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

// ---- alerts ----
/** Serialises the processing of one alert identity (or one group) of one integration. */
export async function lockKey(trx: Tx, integrationId: string, key: string) {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`alert:${integrationId}:${key}`}))`.execute(trx);
}

/**
 * Takes the advisory locks of several identities (or groups) of one integration in one round trip,
 * in one order (sorted by PostgreSQL), so that concurrent posts cannot deadlock on them.
 */
export async function lockKeys(trx: Tx, integrationId: string, keys: string[]) {
  if (keys.length === 0) return;
  await sql`SELECT count(pg_advisory_xact_lock(hashtext(${`alert:${integrationId}:`} || k)))
    FROM (SELECT k FROM unnest(${keys}::text[]) AS k ORDER BY k) AS sorted`.execute(trx);
}

/** What a plain repeat of a firing alert refreshes (everything but the raw payload and the status). */
export interface AlertContent {
  dedup_key: string;
  severity: string;
  summary: string;
  description: string | null;
  labels: Record<string, string>;
  ci_hint: string | null;
  service_hint: string | null;
  links: { href: string; text: string | null }[];
  ends_at: string | null;
}

export type LockedAlertRow = AlertRow & { repeated: boolean };

/** What a repeat refreshes of an alert from its row `v` of a post (everything but raw and status). */
const refreshFromV = sql`severity = v.severity, summary = v.summary, description = v.description,
  labels = v.labels, ci_hint = v.ci_hint, service_hint = v.service_hint, links = v.links, ends_at = v.ends_at`;

/**
 * The existing alerts named in `v`, locked in dedup key order (concurrent batches lock alike);
 * `also`: a further condition (one that makes the statement run another CTE first, say).
 */
const lockRowsOfV = (integrationId: string, also = sql`true`) =>
  sql`SELECT a.id, a.dedup_key, a.status, a.incident_id FROM alerts a
    WHERE a.integration_id = ${integrationId} AND a.dedup_key IN (SELECT dedup_key FROM v) AND ${also}
    ORDER BY a.dedup_key
    FOR NO KEY UPDATE`;

/** Counts the rows of `cur` that are not resolved as plain repeats (`v.n` each, content from `v`). */
const repeatRowsOfCur = sql`UPDATE alerts a SET
    repeat_count = a.repeat_count + v.n, last_seen_at = now(),
    ${refreshFromV}
  FROM cur JOIN v ON v.dedup_key = cur.dedup_key
  WHERE a.id = cur.id AND cur.status <> 'resolved'
  RETURNING a.dedup_key, a.incident_id`;

/**
 * For the general way, under the post's advisory locks: locks the existing alerts of `keys` (in
 * dedup key order, so concurrent posts lock rows in one order) and counts those of `repeats` that
 * are not resolved as plain repeats (repeat_count + 1, last_seen_at, content refreshed). Returns the
 * locked rows as they were before the update, each with `repeated`.
 */
export async function recordRepeats(
  db: Executor,
  integrationId: string,
  keys: string[],
  repeats: AlertContent[],
): Promise<LockedAlertRow[]> {
  const result = await sql<LockedAlertRow>`
    WITH v AS MATERIALIZED (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(repeats)}::jsonb) AS v(dedup_key text, severity text,
        summary text, description text, labels jsonb, ci_hint text, service_hint text, links jsonb,
        ends_at timestamptz)
    ),
    cur AS MATERIALIZED (
      SELECT a.* FROM alerts a
      WHERE a.integration_id = ${integrationId} AND a.dedup_key = ANY(${keys}::text[])
      ORDER BY a.dedup_key
      FOR NO KEY UPDATE
    ),
    upd AS (
      UPDATE alerts a SET
        repeat_count = a.repeat_count + 1, last_seen_at = now(),
        ${refreshFromV}
      FROM cur JOIN v ON v.dedup_key = cur.dedup_key
      WHERE a.id = cur.id AND cur.status <> 'resolved'
      RETURNING a.id
    )
    SELECT cur.*, cur.id IN (SELECT id FROM upd) AS repeated FROM cur`.execute(db);
  return result.rows;
}

/**
 * Repeats of several posts, as aggregated by `repeatAndLog`: an identity named by n of them counts
 * n times, with the content of the last. Each row's `seq` is its place in the list.
 */
const repeatValues = (repeats: AlertContent[]) =>
  sql`(
    SELECT DISTINCT ON (dedup_key) *, count(*) OVER (PARTITION BY dedup_key) AS n
    FROM jsonb_to_recordset(${JSON.stringify(repeats.map((r, seq) => ({ ...r, seq })))}::jsonb) AS v(
      dedup_key text, severity text, summary text, description text, labels jsonb, ci_hint text,
      service_hint text, links jsonb, ends_at timestamptz, seq int)
    ORDER BY dedup_key, seq DESC
  )`;

/**
 * The delivery lines of a batch of posts, in their order; `openedPerPost`: a CTE of (post, n) to take
 * the numbers opened from, instead of the lines' own.
 */
const deliveryValues = (integrationId: string, deliveries: DeliveryLine[], openedPerPost?: string) =>
  sql`
    SELECT ${integrationId}::uuid, 'accepted', d.http_status, d.alerts,
      ${openedPerPost ? sql`COALESCE(o.n, 0)` : sql`d.opened`}, NULL::text, d.request_id
    FROM jsonb_to_recordset(${JSON.stringify(
      deliveries.map((d, seq) => ({
        seq,
        alerts: d.alerts,
        opened: d.opened,
        http_status: d.httpStatus,
        request_id: d.requestId,
      })),
    )}::jsonb) AS d(seq int, alerts int, opened int, http_status int, request_id text)
    ${openedPerPost ? sql`LEFT JOIN ${sql.table(openedPerPost)} o ON o.post = d.seq` : sql``}
    ORDER BY d.seq`;

/**
 * One statement, run outside a transaction, for a batch of posts whose alerts all fire again:
 * counts every one of `repeats` as a plain repeat (rows locked in dedup key order) and logs a
 * delivery per post, when every alert is such a repeat; otherwise writes nothing and returns null
 * (an alert resolved or gone meanwhile: the caller takes the posts the claim way).
 */
export async function recordRepeatsOfPosts(
  db: Executor,
  integrationId: string,
  repeats: AlertContent[],
  deliveries: DeliveryLine[],
): Promise<{ dedup_key: string; incident_id: string }[] | null> {
  const result = await sql<{
    dedup_key: string;
    incident_id: string;
    all_plain: boolean;
  }>`${prepared('intake_repeats')}
    WITH v AS MATERIALIZED ${repeatValues(repeats)},
    cur AS MATERIALIZED (${lockRowsOfV(integrationId)}),
    ok AS (
      SELECT (SELECT count(*) FROM cur WHERE status <> 'resolved') = (SELECT count(*) FROM v) AS all_plain
    ),
    upd AS (
      UPDATE alerts a SET
        repeat_count = a.repeat_count + v.n, last_seen_at = now(),
        ${refreshFromV}
      FROM cur JOIN v ON v.dedup_key = cur.dedup_key
      WHERE a.id = cur.id AND (SELECT all_plain FROM ok)
    ),
    delivered AS (
      INSERT INTO integration_deliveries (integration_id, outcome, http_status, alerts, opened, payload, request_id)
      SELECT * FROM (${deliveryValues(integrationId, deliveries)}) AS lines WHERE (SELECT all_plain FROM ok)
    )
    SELECT cur.dedup_key, cur.incident_id, (SELECT all_plain FROM ok) AS all_plain FROM cur`.execute(db);
  const rows = result.rows;
  return rows.length > 0 && rows[0]!.all_plain ? rows : null;
}

/**
 * `recordRepeatsOfPosts` for one post of one alert, in a statement simple enough to plan quickly:
 * the repeat counted and the delivery logged, or nothing written and undefined returned.
 */
export async function recordSingleRepeat(
  db: Executor,
  integrationId: string,
  repeat: AlertContent,
  delivery: { httpStatus: number; requestId: string | null },
): Promise<{ incident_id: string } | undefined> {
  const result = await sql<{ incident_id: string }>`${prepared('intake_single_repeat')}
    WITH upd AS (
      UPDATE alerts SET
        repeat_count = repeat_count + 1, last_seen_at = now(),
        severity = ${repeat.severity}, summary = ${repeat.summary}, description = ${repeat.description},
        labels = ${JSON.stringify(repeat.labels)}, ci_hint = ${repeat.ci_hint},
        service_hint = ${repeat.service_hint}, links = ${JSON.stringify(repeat.links)},
        ends_at = ${repeat.ends_at}
      WHERE integration_id = ${integrationId} AND dedup_key = ${repeat.dedup_key} AND status <> 'resolved'
      RETURNING incident_id
    ), delivered AS (
      INSERT INTO integration_deliveries (integration_id, outcome, http_status, alerts, opened, payload, request_id)
      SELECT ${integrationId}, 'accepted', ${delivery.httpStatus}, 1, 0, NULL, ${delivery.requestId} FROM upd
    )
    SELECT incident_id FROM upd`.execute(db);
  return result.rows[0];
}

/**
 * The first statement of a batch of posts of firing alerts, inside its transaction: claims the
 * identities that have no row yet (inserted in dedup key order, `ON CONFLICT DO NOTHING`, with the
 * incident id the caller will open, the foreign key being checked at commit; a concurrent batch
 * inserting the same identity makes this one wait for its end). Each alert keeps the raw body of
 * its post (`raws[post]`, a JSON document). Returns the keys claimed. Existing rows are not touched, so nothing is
 * locked that another batch wants, but for new identities.
 */
export async function claimNew(
  trx: Tx,
  integrationId: string,
  alerts: Omit<NewAlertLine, 'mentions'>[],
  raws: (string | null)[],
): Promise<string[]> {
  const result = await sql<{ dedup_key: string }>`${prepared('intake_claim')}
    WITH fresh AS MATERIALIZED (${newAlertLines(alerts.map((a) => ({ ...a, mentions: 1 })))})
    ${claimFresh(integrationId, raws)}`.execute(trx);
  return result.rows.map((r) => r.dedup_key);
}

/** An alert a batch may open: a post's alert, its content that of the batch's last mention of it. */
export interface NewAlertLine extends AlertContent {
  occurrence: string;
  group_key: string | null;
  starts_at: string | null;
  incident_id: string;
  /** The post that names it first (its body becomes the alert's `raw`). */
  post: number;
  /** How many times the batch names it (its receipts: `repeat_count` counts the first too). */
  mentions: number;
}

const newAlertLines = (lines: NewAlertLine[]) =>
  sql`SELECT * FROM jsonb_to_recordset(${JSON.stringify(lines)}::jsonb) AS v(dedup_key text, occurrence text,
    group_key text, severity text, summary text, description text, labels jsonb, ci_hint text,
    service_hint text, links jsonb, starts_at timestamptz, ends_at timestamptz, incident_id uuid, post int,
    mentions int)`;

/**
 * Inserts the lines of CTE `fresh` that have no row yet, in dedup key order (`ON CONFLICT DO
 * NOTHING`: a concurrent batch inserting the same identity makes this one wait for its end), each
 * with the raw body of its post (`raws[post]`, a JSON document), returning their keys and incidents.
 */
function claimFresh(integrationId: string, raws: (string | null)[]) {
  // The bodies are JSON documents already: one array of them, parsed once by PostgreSQL.
  const bodies = `[${raws.map((r) => r ?? 'null').join(',')}]`;
  return sql`INSERT INTO alerts (integration_id, dedup_key, occurrence, group_key, incident_id, status,
      severity, summary, description, labels, ci_hint, service_hint, links, starts_at, ends_at, raw,
      repeat_count)
    SELECT ${integrationId}, dedup_key, occurrence, group_key, incident_id, 'firing', severity, summary,
      description, labels, ci_hint, service_hint, links, starts_at, ends_at, ${bodies}::jsonb -> post,
      mentions
    FROM fresh
    ORDER BY dedup_key
    ON CONFLICT (integration_id, dedup_key) DO NOTHING
    RETURNING dedup_key, incident_id`;
}

/** One post's line in the delivery log. */
export interface DeliveryLine {
  alerts: number;
  opened: number;
  httpStatus: number;
  requestId: string | null;
}

/**
 * The last statement of a batch of posts of firing alerts, just before the commit (so that the rows
 * stay locked only briefly): counts `repeats` of alerts that are not resolved as plain repeats (rows
 * locked in dedup key order; an identity named by n posts of the batch counts n times, with the
 * content of the last) and logs one delivery per post. Returns the repeated identities with their
 * incident, and the delivery ids in the order of `deliveries`; identities not repeated (resolved,
 * or claimed by a batch that committed after the claim) are the caller's to decide.
 */
export async function repeatAndLog(
  trx: Tx,
  integrationId: string,
  repeats: AlertContent[],
  deliveries: DeliveryLine[],
): Promise<{ repeated: { dedup_key: string; incident_id: string }[]; deliveryIds: number[] }> {
  const result = await sql<{
    kind: 'repeated' | 'delivery';
    dedup_key: string | null;
    incident_id: string | null;
    delivery_id: number | null;
  }>`${prepared('intake_repeat_and_log')}
    WITH v AS MATERIALIZED ${repeatValues(repeats)},
    cur AS MATERIALIZED (${lockRowsOfV(integrationId)}),
    upd AS (${repeatRowsOfCur}),
    delivered AS (
      INSERT INTO integration_deliveries (integration_id, outcome, http_status, alerts, opened, payload, request_id)
      ${deliveryValues(integrationId, deliveries)}
      RETURNING id
    )
    SELECT 'repeated' AS kind, dedup_key, incident_id, NULL::bigint AS delivery_id FROM upd
    UNION ALL SELECT 'delivery', NULL, NULL, id FROM delivered`.execute(trx);
  const out = { repeated: [] as { dedup_key: string; incident_id: string }[], deliveryIds: [] as number[] };
  for (const r of result.rows) {
    if (r.kind === 'repeated') out.repeated.push({ dedup_key: r.dedup_key!, incident_id: r.incident_id! });
    else out.deliveryIds.push(Number(r.delivery_id));
  }
  // Ids are drawn in insertion order (the order of `deliveries`).
  out.deliveryIds.sort((a, b) => a - b);
  return out;
}

/**
 * A whole batch of posts of firing alerts in one statement, outside a transaction (one round trip,
 * one commit): claims the identities of `fresh` that have no row yet (in dedup key order, `ON
 * CONFLICT DO NOTHING`), opens the claimed ones' incidents (`opening`: CTEs of the incident module,
 * which insert the incidents whose ids `claimed` yields), counts every other mention as a plain
 * repeat (rows locked in dedup key order, after the claim), and logs one delivery per post with
 * the number it opened. When some identity is neither claimed nor a plain repeat (resolved, or
 * claimed by a concurrent batch), `tessera_require` fails the statement (SQLSTATE TS001) and
 * nothing is written: the caller then takes the way of a transaction. Returns each identity's
 * incident, and whether this batch opened it.
 */
export async function recordBatch(
  db: Executor,
  integrationId: string,
  fresh: NewAlertLine[],
  raws: (string | null)[],
  repeats: AlertContent[],
  deliveries: DeliveryLine[],
  identities: number,
  opening: (claimedIds: RawBuilder<unknown>) => Promise<RawBuilder<unknown>>,
): Promise<{ dedup_key: string; incident_id: string; opened: boolean }[]> {
  const incidents = await opening(sql`SELECT incident_id FROM claimed`);
  const result = await sql<{ dedup_key: string; incident_id: string; opened: boolean }>`${prepared(
    'intake_batch',
  )}
    WITH fresh AS MATERIALIZED (${newAlertLines(fresh)}),
    claimed AS (${claimFresh(integrationId, raws)}),
    ${incidents},
    v AS MATERIALIZED ${repeatValues(repeats)},
    -- The claim first (its row locks too), then these rows: concurrent batches lock in one order.
    cur AS MATERIALIZED (${lockRowsOfV(integrationId, sql`(SELECT count(*) FROM claimed) >= 0`)}),
    upd AS (${repeatRowsOfCur}),
    handled AS MATERIALIZED (
      SELECT dedup_key, incident_id, true AS opened FROM claimed
      UNION ALL SELECT dedup_key, incident_id, false FROM upd
    ),
    opened_per_post AS (
      SELECT fresh.post, count(*)::int AS n FROM claimed JOIN fresh USING (dedup_key) GROUP BY fresh.post
    ),
    delivered AS (
      INSERT INTO integration_deliveries (integration_id, outcome, http_status, alerts, opened, payload, request_id)
      ${deliveryValues(integrationId, deliveries, 'opened_per_post')}
    ),
    checked AS (
      SELECT tessera_require((SELECT count(*) FROM handled) = ${identities},
        'an alert of the batch needs the per-alert way') AS ok
    ),
    notified AS (SELECT ${outboxNotify()} FROM (SELECT 1 FROM inc_new LIMIT 1) AS any_new)
    -- checked is the preserved side: it is read (and the check made) even when nothing was handled.
    SELECT h.dedup_key, h.incident_id, h.opened, (SELECT count(*) FROM notified) AS notified
    FROM checked LEFT JOIN handled h ON true`.execute(db);
  return result.rows.filter((r) => r.dedup_key !== null);
}

export const setDeliveryOpened = (trx: Tx, id: number, opened: number) =>
  trx.updateTable('integration_deliveries').set({ opened }).where('id', '=', id).execute();

export const findAlert = (trx: Executor, integrationId: string, key: string) =>
  trx
    .selectFrom('alerts')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('dedup_key', '=', key)
    .executeTakeFirst();

export const latestAlertOfGroup = (trx: Executor, integrationId: string, groupKey: string) =>
  trx
    .selectFrom('alerts')
    .select(['incident_id'])
    .where('integration_id', '=', integrationId)
    .where('group_key', '=', groupKey)
    .orderBy('last_seen_at', 'desc')
    .limit(1)
    .executeTakeFirst();

export const insertAlert = (trx: Executor, values: Insertable<AlertsTable>) =>
  trx.insertInto('alerts').values(values).returning('id').executeTakeFirstOrThrow();

export const updateAlert = (trx: Executor, id: string, values: Updateable<AlertsTable>) =>
  trx.updateTable('alerts').set(values).where('id', '=', id).execute();

export const recordRepeat = (trx: Executor, id: string, values: Updateable<AlertsTable>) =>
  trx
    .updateTable('alerts')
    .set((eb) => ({ ...values, repeat_count: eb('repeat_count', '+', 1), last_seen_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .execute();

/** Whether any alert of the incident still fires. */
export async function incidentHasFiringAlerts(trx: Executor, incidentId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('alerts')
    .select('id')
    .where('incident_id', '=', incidentId)
    .where('status', '!=', 'resolved')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export const alertsOfIncident = (db: Executor, incidentId: string) =>
  db
    .selectFrom('alerts')
    .innerJoin('integrations', 'integrations.id', 'alerts.integration_id')
    .selectAll('alerts')
    .select('integrations.type as source')
    .where('alerts.incident_id', '=', incidentId)
    .orderBy('alerts.first_seen_at')
    .execute();

export function toAlert(row: AlertRow & { source: string }) {
  return {
    id: row.id,
    integrationId: row.integration_id,
    source: row.source,
    dedupKey: row.dedup_key,
    occurrence: row.occurrence,
    status: row.status,
    severity: row.severity,
    summary: row.summary,
    description: row.description,
    labels: row.labels,
    ciHint: row.ci_hint,
    serviceHint: row.service_hint,
    links: row.links,
    startsAt: isoOrNull(row.starts_at),
    endsAt: isoOrNull(row.ends_at),
    firstSeenAt: iso(row.first_seen_at),
    lastSeenAt: iso(row.last_seen_at),
    resolvedAt: isoOrNull(row.resolved_at),
    repeatCount: row.repeat_count,
    raw: row.raw,
  };
}

// ---- deliveries ----
export const insertDelivery = (db: Executor, values: Insertable<IntegrationDeliveriesTable>) =>
  db.insertInto('integration_deliveries').values(values).execute();

/** New alerts (possibly none) and the delivery of their post, in one statement. */
export async function insertAlertsAndDelivery(
  trx: Tx,
  alerts: Insertable<AlertsTable>[],
  delivery: Insertable<IntegrationDeliveriesTable>,
) {
  if (alerts.length === 0) return insertDelivery(trx, delivery);
  await trx
    .with('new_alerts', (db) => db.insertInto('alerts').values(alerts))
    .insertInto('integration_deliveries')
    .values(delivery)
    .execute();
}

export const listDeliveries = (db: Executor, integrationId: string, page: PageQuery) =>
  paginate(db.selectFrom('integration_deliveries').selectAll().where('integration_id', '=', integrationId), {
    page: { ...page, sort: '-id' },
    columns: { id: 'id' },
    defaultSort: '-id',
    idColumn: 'id',
  });

export function toDelivery(row: Selectable<IntegrationDeliveriesTable>) {
  return {
    id: row.id,
    receivedAt: iso(row.received_at),
    outcome: row.outcome,
    httpStatus: row.http_status,
    alerts: row.alerts,
    opened: row.opened,
    reason: row.reason,
    errors: row.errors,
    payload: row.payload,
    requestId: row.request_id,
  };
}
