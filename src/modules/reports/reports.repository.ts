import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Executor, Tx } from '../../db/db.ts';
import type { ReportDefinitionsTable, ReportRunsTable } from '../../db/schema.ts';
import type { Scope } from '../../platform/context.ts';
import { paginate } from '../../platform/paging.ts';
import { inScope, withinScope } from '../../platform/scope.ts';
import type { ReportDefinitionListQuery, RunListQuery } from './reports.schemas.ts';

/** The module's own tables: report_definitions and report_runs (scope column: customer_id). */
export type DefinitionRow = Selectable<ReportDefinitionsTable>;
export type RunRow = Selectable<ReportRunsTable>;

// ---- definitions -----------------------------------------------------------------------------
export function findDefinition(db: Executor, scope: Scope, id: string) {
  return withinScope(
    db.selectFrom('report_definitions').selectAll().where('id', '=', id).where('deleted_at', 'is', null),
    scope,
    'customer_id',
  ).executeTakeFirst();
}

export function lockDefinition(trx: Tx, scope: Scope, id: string) {
  return withinScope(
    trx.selectFrom('report_definitions').selectAll().where('id', '=', id).where('deleted_at', 'is', null),
    scope,
    'customer_id',
  )
    .forUpdate()
    .executeTakeFirst();
}

export function insertDefinition(trx: Executor, values: Insertable<ReportDefinitionsTable>) {
  return trx.insertInto('report_definitions').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateDefinition(
  trx: Tx,
  scope: Scope,
  id: string,
  values: Updateable<ReportDefinitionsTable>,
) {
  return trx
    .updateTable('report_definitions')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .where(inScope(scope, 'customer_id'))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Bookkeeping of the job scheduler: no new version (it is not a change of the definition). */
export async function markScheduleSynced(db: Executor, id: string, version: number, error: string | null) {
  await db
    .updateTable('report_definitions')
    .set(
      error === null
        ? { schedule_synced_version: version, schedule_error: null }
        : { schedule_synced_version: null, schedule_error: error },
    )
    .where('id', '=', id)
    .where('version', '=', version)
    .execute();
}

export function listDefinitions(db: Executor, scope: Scope, f: ReportDefinitionListQuery) {
  let q = withinScope(
    db.selectFrom('report_definitions').selectAll().where('deleted_at', 'is', null),
    scope,
    'customer_id',
  );
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  if (f.period) q = q.where('period', '=', f.period);
  if (f.active !== undefined) q = q.where('active', '=', f.active);
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', name: 'name' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

/** Every definition whose scheduler must exist (active, with a cron) and those that must not. */
export function definitionsForSchedules(db: Executor) {
  return db
    .selectFrom('report_definitions')
    .select(['id', 'version', 'cron', 'time_zone', 'active', 'deleted_at', 'schedule_synced_version'])
    .execute();
}

// ---- runs ------------------------------------------------------------------------------------
export async function nextRevision(trx: Tx, definitionId: string, period: string): Promise<number> {
  const row = await trx
    .selectFrom('report_runs')
    .select(sql<number>`coalesce(max(revision), 0)::int`.as('n'))
    .where('definition_id', '=', definitionId)
    .where('period', '=', period)
    .executeTakeFirstOrThrow();
  return row.n + 1;
}

export function currentRun(db: Executor, definitionId: string, period: string) {
  return db
    .selectFrom('report_runs')
    .selectAll()
    .where('definition_id', '=', definitionId)
    .where('period', '=', period)
    .where('current', '=', true)
    .executeTakeFirst();
}

/** Makes a new revision the current one of its period (the older ones stay, not current). */
export async function insertRun(trx: Tx, values: Insertable<ReportRunsTable>) {
  await trx
    .updateTable('report_runs')
    .set({ current: false })
    .where('definition_id', '=', values.definition_id)
    .where('period', '=', values.period)
    .where('current', '=', true)
    .execute();
  return trx.insertInto('report_runs').values(values).returningAll().executeTakeFirstOrThrow();
}

export function findRun(db: Executor, scope: Scope, id: string) {
  return withinScope(
    db.selectFrom('report_runs').selectAll().where('id', '=', id),
    scope,
    'customer_id',
  ).executeTakeFirst();
}

/** Claims a queued or failed run (or one whose worker died while running) for processing. */
export function claimRun(db: Executor, id: string) {
  return db
    .updateTable('report_runs')
    .set((eb) => ({
      status: 'running',
      started_at: sql<Date>`now()`,
      attempts: eb('attempts', '+', 1),
      error: null,
    }))
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['queued', 'failed']),
        // A worker that died mid-run: its job comes back (stalled) and may take the run over.
        eb.and([
          eb('status', '=', 'running'),
          eb('started_at', '<', sql<Date>`now() - interval '15 minutes'`),
        ]),
      ]),
    )
    .returningAll()
    .executeTakeFirst();
}

export function completeRun(trx: Tx, id: string, sections: Record<string, unknown>, durationMs: number) {
  return trx
    .updateTable('report_runs')
    .set({
      status: 'completed',
      sections: JSON.stringify(sections),
      generated_at: sql<Date>`now()`,
      duration_ms: durationMs,
      error: null,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function failRun(db: Executor, id: string, error: string) {
  await db
    .updateTable('report_runs')
    .set({ status: 'failed', error: error.slice(0, 4000) })
    .where('id', '=', id)
    .execute();
}

export async function recordEmail(db: Executor, id: string, error: string | null) {
  await db
    .updateTable('report_runs')
    .set(
      error === null
        ? { email_sent_at: sql<Date>`now()`, email_error: null }
        : { email_error: error.slice(0, 2000) },
    )
    .where('id', '=', id)
    .execute();
}

export function listRuns(db: Executor, definitionId: string, f: RunListQuery) {
  let q = db
    .selectFrom('report_runs')
    .select([
      'id',
      'definition_id',
      'customer_id',
      'period',
      'revision',
      'current',
      'status',
      'trigger',
      'requested_by',
      'period_start',
      'period_end',
      'definition',
      'error',
      'attempts',
      'queued_at',
      'started_at',
      'generated_at',
      'duration_ms',
      'email_sent_at',
      'email_error',
    ])
    .where('definition_id', '=', definitionId);
  if (f.period) q = q.where('period', '=', f.period);
  if (f.current !== undefined) q = q.where('current', '=', f.current);
  if (f.status) q = q.where('status', '=', f.status);
  return paginate(q, {
    page: f,
    columns: { queuedAt: 'queued_at', period: 'period' },
    defaultSort: '-queuedAt',
    idColumn: 'id',
  });
}

/** Runs still queued after `olderThan` (their job was lost, e.g. Redis was down when they were requested). */
export function staleQueuedRuns(db: Executor, olderThan: Date, limit: number) {
  return db
    .selectFrom('report_runs')
    .select('id')
    .where('status', '=', 'queued')
    .where('queued_at', '<', olderThan)
    .orderBy('queued_at')
    .limit(limit)
    .execute();
}
