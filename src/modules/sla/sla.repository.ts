import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Executor, Tx } from '../../db/db.ts';
import type { AgreementsTable, CalendarsTable, ServicesTable, SlaClocksTable } from '../../db/schema.ts';
import { paginate } from '../../platform/paging.ts';
import { iso } from '../../platform/schemas.ts';
import type { Agreement, AgreementListQuery, Calendar, Service, ServiceListQuery } from './sla.schemas.ts';

type ServiceRow = Selectable<ServicesTable>;
type CalendarRow = Selectable<CalendarsTable>;
export type AgreementRow = Selectable<AgreementsTable>;
/** A stored clock with the thresholds it has fired. */
export type ClockRow = Awaited<ReturnType<typeof clocksOfTicket>>[number];

// ---- services ----
export function toService(row: ServiceRow): Service {
  return {
    id: row.id,
    ref: row.ref,
    code: row.code,
    name: row.name,
    description: row.description,
    ownerGroupId: row.owner_group_id,
    status: row.status,
    customerVisible: row.customer_visible,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export const findService = (db: Executor, id: string) =>
  db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();

export const lockService = (trx: Tx, id: string) =>
  trx.selectFrom('services').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();

export const insertService = (db: Executor, values: Insertable<ServicesTable>) =>
  db.insertInto('services').values(values).returningAll().executeTakeFirstOrThrow();

export const updateService = (trx: Tx, id: string, values: Updateable<ServicesTable>) =>
  trx
    .updateTable('services')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();

export function listServices(db: Executor, f: ServiceListQuery, customerView: boolean) {
  let q = db.selectFrom('services').selectAll();
  if (customerView) q = q.where('customer_visible', '=', true).where('status', '=', 'live');
  if (f.status) q = q.where('status', '=', f.status);
  if (f.code) q = q.where(sql`lower(code)`, '=', f.code.toLowerCase());
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', code: 'code', name: 'name' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

/** The ids among `ids` that are not in the catalogue. */
export async function unknownServices(db: Executor, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const found = new Set(
    (await db.selectFrom('services').select('id').where('id', 'in', ids).execute()).map((r) => r.id),
  );
  return ids.filter((id) => !found.has(id));
}

// ---- calendars ----
export function toCalendar(row: CalendarRow): Calendar {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.time_zone,
    alwaysOpen: row.always_open,
    workingHours: row.working_hours as Calendar['workingHours'],
    exceptions: row.exceptions,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export const findCalendar = (db: Executor, id: string) =>
  db.selectFrom('calendars').selectAll().where('id', '=', id).executeTakeFirst();

export const lockCalendar = (trx: Tx, id: string) =>
  trx.selectFrom('calendars').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();

export const insertCalendar = (db: Executor, values: Insertable<CalendarsTable>) =>
  db.insertInto('calendars').values(values).returningAll().executeTakeFirstOrThrow();

export const updateCalendar = (trx: Tx, id: string, values: Updateable<CalendarsTable>) =>
  trx
    .updateTable('calendars')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();

export const listCalendars = (db: Executor, page: { limit?: number; cursor?: string }) =>
  paginate(db.selectFrom('calendars').selectAll(), {
    page,
    columns: { createdAt: 'created_at' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });

// ---- agreements ----
export function toAgreement(row: AgreementRow, serviceIds: string[]): Agreement {
  return {
    id: row.id,
    ref: row.ref,
    name: row.name,
    kind: row.kind,
    status: row.status,
    isDefault: row.template,
    customerId: row.customer_id,
    groupId: row.group_id,
    supplierId: row.supplier_id,
    supplierName: row.supplier_name,
    serviceIds,
    calendarId: row.calendar_id,
    validFrom: row.valid_from,
    validTo: row.valid_to,
    targets: row.targets,
    warnings: row.warnings.map((w) => ('percent' in w ? { percent: w.percent } : { before: w.before })),
    pauseOn: row.pause_on.map((p) => ({ status: p.status, reason: p.reason ?? null })),
    priorityChangePolicy: row.priority_change_policy,
    reopenPolicy: row.reopen_policy,
    escalationRules: row.escalation_rules as Agreement['escalationRules'],
    nextReviewAt: row.next_review_at,
    report: (row.report as Agreement['report']) ?? null,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export const findAgreement = (db: Executor, id: string) =>
  db.selectFrom('agreements').selectAll().where('id', '=', id).executeTakeFirst();

export const lockAgreement = (trx: Tx, id: string) =>
  trx.selectFrom('agreements').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();

export const insertAgreement = (db: Executor, values: Insertable<AgreementsTable>) =>
  db.insertInto('agreements').values(values).returningAll().executeTakeFirstOrThrow();

export const updateAgreement = (trx: Tx, id: string, values: Updateable<AgreementsTable>) =>
  trx
    .updateTable('agreements')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();

export async function servicesOf(
  db: Executor,
  agreementIds: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(agreementIds.map((id) => [id, []]));
  if (agreementIds.length === 0) return out;
  const rows = await db
    .selectFrom('agreement_services')
    .select(['agreement_id', 'service_id'])
    .where('agreement_id', 'in', agreementIds)
    .orderBy('service_id')
    .execute();
  for (const r of rows) out.get(r.agreement_id)?.push(r.service_id);
  return out;
}

export async function replaceServices(trx: Tx, agreementId: string, serviceIds: readonly string[]) {
  await trx.deleteFrom('agreement_services').where('agreement_id', '=', agreementId).execute();
  if (serviceIds.length > 0) {
    await trx
      .insertInto('agreement_services')
      .values(serviceIds.map((service_id) => ({ agreement_id: agreementId, service_id })))
      .execute();
  }
}

export function listAgreements(db: Executor, f: AgreementListQuery, customerId: string | null) {
  let q = db.selectFrom('agreements').selectAll();
  if (customerId) q = q.where('customer_id', '=', customerId);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  if (f.serviceId) {
    q = q.where(
      'id',
      'in',
      db.selectFrom('agreement_services').select('agreement_id').where('service_id', '=', f.serviceId!),
    );
  }
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', name: 'name' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

export async function appendAgreementEvent(
  trx: Executor,
  values: {
    agreement_id: string;
    type: string;
    actor_name: string;
    actor_key_id: string | null;
    reason?: string | null;
    data?: Record<string, unknown>;
  },
) {
  await trx
    .insertInto('agreement_events')
    .values({ ...values, reason: values.reason ?? null, data: JSON.stringify(values.data ?? {}) })
    .execute();
}

export const agreementEvents = (db: Executor, id: string) =>
  db.selectFrom('agreement_events').selectAll().where('agreement_id', '=', id).orderBy('id').execute();

/**
 * Active agreements that may apply to a ticket: SLAs of its customer (or the default SLA), OLAs of
 * any group it has been with, UCs covering its service. Validity is checked against `at`. Each row
 * carries its covered services (`service_ids`), so a recompute needs one query for both.
 */
export function candidateAgreements(
  db: Executor,
  ticket: { customerId: string; serviceId: string | null; groupIds: string[]; at: Date },
) {
  const day = ticket.at.toISOString().slice(0, 10);
  return db
    .selectFrom('agreements')
    .selectAll()
    .select(
      sql<
        string[]
      >`array(SELECT s.service_id FROM agreement_services s WHERE s.agreement_id = agreements.id ORDER BY s.service_id)`.as(
        'service_ids',
      ),
    )
    .where('status', '=', 'active')
    .where('valid_from', '<=', day)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>=', day)]))
    .where((eb) =>
      eb.or([
        eb.and([
          eb('kind', '=', 'sla'),
          eb.or([eb('customer_id', '=', ticket.customerId), eb('template', '=', true)]),
        ]),
        ...(ticket.groupIds.length > 0
          ? [eb.and([eb('kind', '=', 'ola'), eb('group_id', 'in', ticket.groupIds)])]
          : []),
        eb('kind', '=', 'uc'),
      ]),
    )
    .orderBy('created_at')
    .execute();
}
export type CandidateAgreement = Awaited<ReturnType<typeof candidateAgreements>>[number];

// ---- clocks ----
/** A ticket's stored clocks, each with the thresholds already fired (`fired`). */
export const clocksOfTicket = (db: Executor, ticketType: string, ticketId: string) =>
  db
    .selectFrom('sla_clocks')
    .selectAll()
    .select(
      sql<string[]>`array(SELECT e.threshold FROM sla_clock_events e WHERE e.clock_id = sla_clocks.id)`.as(
        'fired',
      ),
    )
    .where('ticket_type', '=', ticketType as 'incident')
    .where('ticket_id', '=', ticketId)
    .orderBy('created_at')
    .orderBy('metric', 'desc')
    .execute();

/** Serialises every recompute of one ticket (timers, sweeps, events, recompute requests). */
export async function lockTicket(trx: Tx, ticketType: string, ticketId: string) {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`sla:${ticketType}:${ticketId}`}))`.execute(trx);
}

/** A new clock (the ticket is locked, so a conflict means a concurrent first computation: update it). */
export function insertClock(trx: Tx, values: Insertable<SlaClocksTable>) {
  return trx
    .insertInto('sla_clocks')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['ticket_type', 'ticket_id', 'agreement_id', 'metric', 'cycle']).doUpdateSet((eb) => ({
        state: eb.ref('excluded.state'),
        priority: eb.ref('excluded.priority'),
        target_seconds: eb.ref('excluded.target_seconds'),
        elapsed_ms: eb.ref('excluded.elapsed_ms'),
        computed_at: eb.ref('excluded.computed_at'),
        started_at: eb.ref('excluded.started_at'),
        due_at: eb.ref('excluded.due_at'),
        met_at: eb.ref('excluded.met_at'),
        breached_at: eb.ref('excluded.breached_at'),
        warnings_reached: eb.ref('excluded.warnings_reached'),
        next_threshold: eb.ref('excluded.next_threshold'),
        next_due_at: eb.ref('excluded.next_due_at'),
        planned_job_id: eb.ref('excluded.planned_job_id'),
        version: sql`sla_clocks.version + 1`,
        updated_at: sql`now()`,
      })),
    )
    .returning(['id', 'planned_job_id'])
    .executeTakeFirstOrThrow();
}

/** The computed state of a stored clock (its snapshot of terms and calendar is never rewritten here). */
export async function updateClock(trx: Tx, id: string, values: Updateable<SlaClocksTable>) {
  await trx
    .updateTable('sla_clocks')
    .set({ ...values, version: sql`version + 1`, updated_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

/** Forgets a timer that could not be planned (the sweep fires its threshold from next_due_at). */
export async function clearPlannedJob(db: Executor, clockId: string, jobId: string) {
  await db
    .updateTable('sla_clocks')
    .set({ planned_job_id: null })
    .where('id', '=', clockId)
    .where('planned_job_id', '=', jobId)
    .execute();
}

/** Records that a threshold fired; false when it had fired already (exactly once per clock and threshold). */
export async function recordFire(
  trx: Tx,
  values: { clock_id: string; threshold: string; kind: 'warning' | 'breach'; due_at: Date; fired_by: string },
): Promise<boolean> {
  const row = await trx
    .insertInto('sla_clock_events')
    .values(values)
    .onConflict((oc) => oc.columns(['clock_id', 'threshold']).doNothing())
    .returning('clock_id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function recordEscalation(
  trx: Tx,
  values: {
    clock_id: string;
    rule_id: string;
    threshold: string;
    action: string;
    result: Record<string, unknown>;
  },
): Promise<boolean> {
  const row = await trx
    .insertInto('sla_escalations')
    .values({ ...values, result: JSON.stringify(values.result) })
    .onConflict((oc) => oc.columns(['clock_id', 'rule_id', 'threshold', 'action']).doNothing())
    .returning('clock_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Tickets with a threshold due (for the sweep), oldest due first. */
export const dueTickets = (db: Executor, now: Date, limit: number) =>
  db
    .selectFrom('sla_clocks')
    .select(['ticket_type', 'ticket_id'])
    .where('next_due_at', '<=', now)
    .where('state', 'in', ['running', 'paused'])
    .groupBy(['ticket_type', 'ticket_id'])
    .orderBy(sql`min(next_due_at)`)
    .limit(limit)
    .execute();

export const runningClocksOfAgreement = (db: Executor, agreementId: string) =>
  db
    .selectFrom('sla_clocks')
    .select(['id', 'ticket_type', 'ticket_id'])
    .where('agreement_id', '=', agreementId)
    .where('state', 'in', ['running', 'paused'])
    .execute();

export async function refreshSnapshots(trx: Tx, agreementId: string, terms: unknown, calendar: unknown) {
  const result = await trx
    .updateTable('sla_clocks')
    .set({ terms: JSON.stringify(terms), calendar: JSON.stringify(calendar) })
    .where('agreement_id', '=', agreementId)
    .where('state', 'in', ['running', 'paused'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function compliance(db: Executor, agreementId: string, from: Date, to: Date) {
  return db
    .selectFrom('sla_clocks')
    .select([
      'priority',
      'metric',
      sql<number>`max(target_seconds)::int`.as('target_seconds'),
      sql<number>`count(*) FILTER (WHERE state IN ('met', 'breached'))::int`.as('measured'),
      sql<number>`count(*) FILTER (WHERE state = 'met')::int`.as('met'),
      sql<number>`count(*) FILTER (WHERE state = 'breached')::int`.as('breached'),
      sql<number | null>`(avg(elapsed_ms) FILTER (WHERE state IN ('met', 'breached')) / 1000)::float8`.as(
        'mean_seconds',
      ),
      sql<
        number | null
      >`(percentile_cont(0.9) WITHIN GROUP (ORDER BY elapsed_ms) FILTER (WHERE state IN ('met', 'breached')) / 1000)::float8`.as(
        'p90_seconds',
      ),
    ])
    .where('agreement_id', '=', agreementId)
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .groupBy(['priority', 'metric'])
    .orderBy('priority')
    .orderBy('metric', 'desc')
    .execute();
}
