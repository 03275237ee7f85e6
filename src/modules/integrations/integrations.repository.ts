import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Executor, Tx } from '../../db/db.ts';
import type { AlertsTable, IntegrationDeliveriesTable, IntegrationsTable } from '../../db/schema.ts';
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

export type LockedAlertRow = AlertRow & { repeated: boolean; all_plain: boolean };

/**
 * One statement for the common case of a post: locks the existing alerts of `keys` (in dedup key
 * order, so concurrent posts lock rows in one order) and counts those of `repeats` that are not
 * resolved as plain repeats (repeat_count + 1, last_seen_at, content refreshed). Returns the locked
 * rows as they were before the update, each with `repeated`.
 *
 * With `allOrNothing` (a statement run outside a transaction): the repeats are counted only when
 * every one of the post's `allOrNothing.alerts` alerts is such a repeat, and then the accepted
 * delivery is logged in the same statement; otherwise nothing is written (`all_plain` false).
 */
export async function recordRepeats(
  db: Executor,
  integrationId: string,
  keys: string[],
  repeats: AlertContent[],
  allOrNothing?: { alerts: number; httpStatus: number; requestId: string | null },
): Promise<LockedAlertRow[]> {
  const values = JSON.stringify(repeats);
  const guard = allOrNothing ? sql`AND (SELECT all_plain FROM ok)` : sql``;
  const delivery = allOrNothing
    ? sql`, delivered AS (
        INSERT INTO integration_deliveries (integration_id, outcome, http_status, alerts, opened, payload, request_id)
        SELECT ${integrationId}, 'accepted', ${allOrNothing.httpStatus}, ${allOrNothing.alerts}, 0, NULL, ${allOrNothing.requestId}
        FROM ok WHERE ok.all_plain
      )`
    : sql``;
  const result = await sql<LockedAlertRow>`
    WITH v AS MATERIALIZED (
      SELECT * FROM jsonb_to_recordset(${values}::jsonb) AS v(dedup_key text, severity text, summary text,
        description text, labels jsonb, ci_hint text, service_hint text, links jsonb, ends_at timestamptz)
    ),
    cur AS MATERIALIZED (
      SELECT a.* FROM alerts a
      WHERE a.integration_id = ${integrationId} AND a.dedup_key = ANY(${keys}::text[])
      ORDER BY a.dedup_key
      FOR NO KEY UPDATE
    ),
    plain AS MATERIALIZED (
      SELECT cur.id, v.* FROM cur JOIN v ON v.dedup_key = cur.dedup_key WHERE cur.status <> 'resolved'
    ),
    ok AS (SELECT (SELECT count(*) FROM plain) = ${allOrNothing?.alerts ?? -1} AS all_plain),
    upd AS (
      UPDATE alerts a SET
        repeat_count = a.repeat_count + 1, last_seen_at = now(),
        severity = p.severity, summary = p.summary, description = p.description, labels = p.labels,
        ci_hint = p.ci_hint, service_hint = p.service_hint, links = p.links, ends_at = p.ends_at
      FROM plain p
      WHERE a.id = p.id ${guard}
      RETURNING a.id
    )${delivery}
    SELECT cur.*, cur.id IN (SELECT id FROM upd) AS repeated, (SELECT all_plain FROM ok) AS all_plain
    FROM cur`.execute(db);
  return result.rows;
}

/**
 * `recordRepeats` with `allOrNothing` for a post of one alert, in a statement simple enough to plan
 * quickly: the repeat counted and the delivery logged, or nothing written and undefined returned.
 */
export async function recordSingleRepeat(
  db: Executor,
  integrationId: string,
  repeat: AlertContent,
  delivery: { httpStatus: number; requestId: string | null },
): Promise<{ incident_id: string } | undefined> {
  const result = await sql<{ incident_id: string }>`
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
 * The first statement of a post of firing alerts, inside its transaction: claims the identities
 * that have no row yet (inserted in dedup key order, `ON CONFLICT DO NOTHING`, with the incident id
 * the caller will open, the foreign key being checked at commit; a concurrent post inserting the
 * same identity makes this one wait for its end). Returns the keys claimed. Existing rows are not
 * touched, so nothing is locked that another post wants, but for new identities.
 */
export async function claimNew(
  trx: Tx,
  integrationId: string,
  alerts: (AlertContent & {
    occurrence: string;
    group_key: string | null;
    starts_at: string | null;
    incident_id: string;
  })[],
  raw: string,
): Promise<string[]> {
  const result = await sql<{ dedup_key: string }>`
    INSERT INTO alerts (integration_id, dedup_key, occurrence, group_key, incident_id, status, severity,
      summary, description, labels, ci_hint, service_hint, links, starts_at, ends_at, raw)
    SELECT ${integrationId}, dedup_key, occurrence, group_key, incident_id, 'firing', severity, summary,
      description, labels, ci_hint, service_hint, links, starts_at, ends_at, ${raw}::jsonb
    FROM jsonb_to_recordset(${JSON.stringify(alerts)}::jsonb) AS v(dedup_key text, occurrence text,
      group_key text, severity text, summary text, description text, labels jsonb, ci_hint text,
      service_hint text, links jsonb, starts_at timestamptz, ends_at timestamptz, incident_id uuid)
    ORDER BY dedup_key
    ON CONFLICT (integration_id, dedup_key) DO NOTHING
    RETURNING dedup_key`.execute(trx);
  return result.rows.map((r) => r.dedup_key);
}

/**
 * The last statement of a post of firing alerts, just before the commit (so that the rows stay
 * locked only briefly): counts those of `repeats` that are not resolved as plain repeats (rows
 * locked in dedup key order) and logs the delivery. Returns the repeated identities with their
 * incident, and the delivery id; identities not repeated (resolved, or claimed by a post that
 * committed after the claim) are the caller's to decide.
 */
export async function repeatAndLog(
  trx: Tx,
  integrationId: string,
  repeats: AlertContent[],
  delivery: { alerts: number; opened: number; httpStatus: number; requestId: string | null },
): Promise<{ repeated: { dedup_key: string; incident_id: string }[]; deliveryId: number }> {
  const result = await sql<{
    kind: 'repeated' | 'delivery';
    dedup_key: string | null;
    incident_id: string | null;
    delivery_id: number | null;
  }>`
    WITH v AS MATERIALIZED (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(repeats)}::jsonb) AS v(dedup_key text, severity text,
        summary text, description text, labels jsonb, ci_hint text, service_hint text, links jsonb,
        ends_at timestamptz)
    ),
    cur AS MATERIALIZED (
      SELECT a.id, a.dedup_key, a.status FROM alerts a
      WHERE a.integration_id = ${integrationId} AND a.dedup_key = ANY(${repeats.map((r) => r.dedup_key)}::text[])
      ORDER BY a.dedup_key
      FOR NO KEY UPDATE
    ),
    upd AS (
      UPDATE alerts a SET
        repeat_count = a.repeat_count + 1, last_seen_at = now(),
        severity = v.severity, summary = v.summary, description = v.description, labels = v.labels,
        ci_hint = v.ci_hint, service_hint = v.service_hint, links = v.links, ends_at = v.ends_at
      FROM cur JOIN v ON v.dedup_key = cur.dedup_key
      WHERE a.id = cur.id AND cur.status <> 'resolved'
      RETURNING a.dedup_key, a.incident_id
    ),
    delivered AS (
      INSERT INTO integration_deliveries (integration_id, outcome, http_status, alerts, opened, payload, request_id)
      VALUES (${integrationId}, 'accepted', ${delivery.httpStatus}, ${delivery.alerts}, ${delivery.opened},
        NULL, ${delivery.requestId})
      RETURNING id
    )
    SELECT 'repeated' AS kind, dedup_key, incident_id, NULL::bigint AS delivery_id FROM upd
    UNION ALL SELECT 'delivery', NULL, NULL, id FROM delivered`.execute(trx);
  const out = { repeated: [] as { dedup_key: string; incident_id: string }[], deliveryId: 0 };
  for (const r of result.rows) {
    if (r.kind === 'repeated') out.repeated.push({ dedup_key: r.dedup_key!, incident_id: r.incident_id! });
    else out.deliveryId = r.delivery_id!;
  }
  return out;
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
