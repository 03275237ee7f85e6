import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { type Database, type Executor, inTransaction } from '../../db/db.ts';
import { isUniqueViolation } from '../../db/pg-errors.ts';
import { writeAudit } from '../../platform/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { checkVersion, type FieldError } from '../../platform/errors.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { PageQuery } from '../../platform/paging.ts';
import { customerVisible, groupInfo } from '../directory/index.ts';
import { type CalendarSpec, calendarProblems } from './calendar.ts';
import { durationSeconds, type Terms } from './clock.ts';
import { CHINA_HOLIDAYS } from './holidays-cn.ts';
import { SlaErrors as E } from './sla.errors.ts';
import * as repo from './sla.repository.ts';
import type {
  AgreementCreate,
  AgreementListQuery,
  AgreementPatch,
  CalendarCreate,
  CalendarPatch,
  ServiceCreate,
  ServiceListQuery,
  ServicePatch,
} from './sla.schemas.ts';

type Exception = CalendarCreate['exceptions'] extends (infer T)[] | undefined ? T : never;

export function calendarSpecOf(row: {
  time_zone: string;
  always_open: boolean;
  working_hours: unknown;
  exceptions: unknown;
}): CalendarSpec {
  return {
    timeZone: row.time_zone,
    alwaysOpen: row.always_open,
    workingHours: row.working_hours as CalendarSpec['workingHours'],
    exceptions: row.exceptions as CalendarSpec['exceptions'],
  };
}

/** The terms a clock keeps as its snapshot: everything of the agreement the arithmetic needs. */
export function termsOf(row: repo.AgreementRow): Terms {
  const ruleWarnings: Terms['warnings'] = [];
  for (const rule of row.escalation_rules as { at: { percent?: number; before?: string } }[]) {
    if (rule.at.percent !== undefined && rule.at.percent < 100)
      ruleWarnings.push({ percent: rule.at.percent });
    if (rule.at.before) ruleWarnings.push({ beforeSeconds: durationSeconds(rule.at.before) ?? 0 });
  }
  return {
    kind: row.kind,
    groupId: row.group_id,
    targets: row.targets.map((t) => ({ priority: t.priority, metric: t.metric, seconds: t.seconds })),
    warnings: [
      ...row.warnings.map((w) =>
        'percent' in w ? { percent: w.percent } : { beforeSeconds: w.beforeSeconds },
      ),
      ...ruleWarnings,
    ],
    pauseOn: row.pause_on,
    priorityChangePolicy: row.priority_change_policy,
    reopenPolicy: row.reopen_policy,
  };
}

const DEFAULT_WARNINGS = [{ percent: 50 }, { percent: 75 }, { percent: 90 }];
const DEFAULT_PAUSE = [{ status: 'pending', reason: 'customer' }];

function addMonths(date: string, months: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
}
const today = () => new Date().toISOString().slice(0, 10);

export function createSlaService({ db }: { db: Database }) {
  // ---- service catalogue ----
  async function createService(ctx: RequestContext, input: ServiceCreate) {
    if (input.ownerGroupId && !(await groupInfo(db, input.ownerGroupId))) {
      throw E.field('SLA_UNKNOWN_GROUP', 'ownerGroupId', `no group ${input.ownerGroupId}`);
    }
    try {
      return await inTransaction(db, async (trx) => {
        const row = await repo.insertService(trx, {
          code: input.code,
          name: input.name,
          description: input.description ?? null,
          owner_group_id: input.ownerGroupId ?? null,
          status: input.status ?? 'live',
          customer_visible: input.customerVisible ?? true,
        });
        const service = repo.toService(row);
        await writeAudit(trx, ctx, {
          action: 'service.create',
          recordType: 'service',
          recordId: row.id,
          after: service,
        });
        await emitEvent(trx, {
          type: 'service.created',
          aggregateType: 'service',
          aggregateId: row.id,
          payload: { service },
        });
        return service;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'services_code_key')) throw E.serviceCodeTaken(input.code);
      throw err;
    }
  }

  async function updateService(ctx: RequestContext, id: string, patch: ServicePatch, expected?: number) {
    if (patch.ownerGroupId && !(await groupInfo(db, patch.ownerGroupId))) {
      throw E.field('SLA_UNKNOWN_GROUP', 'ownerGroupId', `no group ${patch.ownerGroupId}`);
    }
    try {
      return await inTransaction(db, async (trx) => {
        const before = await repo.lockService(trx, id);
        if (!before) throw E.serviceNotFound(id);
        checkVersion(before.version, expected);
        const after = repo.toService(
          await repo.updateService(trx, id, {
            ...(patch.code !== undefined ? { code: patch.code } : {}),
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.description !== undefined ? { description: patch.description } : {}),
            ...(patch.ownerGroupId !== undefined ? { owner_group_id: patch.ownerGroupId } : {}),
            ...(patch.status !== undefined ? { status: patch.status } : {}),
            ...(patch.customerVisible !== undefined ? { customer_visible: patch.customerVisible } : {}),
          }),
        );
        await writeAudit(trx, ctx, {
          action: 'service.update',
          recordType: 'service',
          recordId: id,
          before: repo.toService(before),
          after,
        });
        await emitEvent(trx, {
          type: 'service.updated',
          aggregateType: 'service',
          aggregateId: id,
          payload: { service: after },
        });
        return after;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'services_code_key')) throw E.serviceCodeTaken(patch.code ?? '');
      throw err;
    }
  }

  async function getService(ctx: RequestContext, id: string) {
    const row = await repo.findService(db, id);
    if (!row || (isCustomerView(ctx) && (!row.customer_visible || row.status !== 'live')))
      throw E.serviceNotFound(id);
    return repo.toService(row);
  }

  async function listServices(ctx: RequestContext, query: ServiceListQuery) {
    const page = await repo.listServices(db, query, isCustomerView(ctx));
    return { items: page.items.map(repo.toService), nextCursor: page.nextCursor };
  }

  // ---- calendars ----
  function checkCalendar(spec: CalendarSpec) {
    const problems = calendarProblems(spec);
    if (problems.length > 0) {
      throw E.invalid(
        'SLA_INVALID_CALENDAR',
        problems.map((p) => ({ in: 'body' as const, pointer: p.pointer, detail: p.detail })),
      );
    }
  }

  async function createCalendar(ctx: RequestContext, input: CalendarCreate) {
    const spec: CalendarSpec = {
      timeZone: input.timeZone,
      alwaysOpen: input.alwaysOpen ?? false,
      workingHours: input.workingHours ?? [],
      exceptions: input.exceptions ?? [],
    };
    checkCalendar(spec);
    return inTransaction(db, async (trx) => {
      const row = await repo.insertCalendar(trx, {
        name: input.name,
        time_zone: spec.timeZone,
        always_open: spec.alwaysOpen,
        working_hours: JSON.stringify(spec.workingHours),
        exceptions: JSON.stringify(spec.exceptions),
      });
      const calendar = repo.toCalendar(row);
      await writeAudit(trx, ctx, {
        action: 'calendar.create',
        recordType: 'calendar',
        recordId: row.id,
        after: calendar,
      });
      return calendar;
    });
  }

  async function updateCalendar(ctx: RequestContext, id: string, patch: CalendarPatch, expected?: number) {
    return inTransaction(db, async (trx) => {
      const before = await repo.lockCalendar(trx, id);
      if (!before) throw E.calendarNotFound(id);
      checkVersion(before.version, expected);
      const current = calendarSpecOf(before);
      const spec: CalendarSpec = {
        timeZone: patch.timeZone ?? current.timeZone,
        alwaysOpen: patch.alwaysOpen ?? current.alwaysOpen,
        workingHours: patch.workingHours ?? current.workingHours,
        exceptions: patch.exceptions ?? current.exceptions,
      };
      checkCalendar(spec);
      const after = repo.toCalendar(
        await repo.updateCalendar(trx, id, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          time_zone: spec.timeZone,
          always_open: spec.alwaysOpen,
          working_hours: JSON.stringify(spec.workingHours),
          exceptions: JSON.stringify(spec.exceptions),
        }),
      );
      await writeAudit(trx, ctx, {
        action: 'calendar.update',
        recordType: 'calendar',
        recordId: id,
        before: repo.toCalendar(before),
        after,
      });
      return after;
    });
  }

  /** Adds exceptions (a JSON list, or the shipped China holidays of a year) to a calendar. */
  async function importExceptions(
    ctx: RequestContext,
    id: string,
    input: { exceptions?: Exception[]; holidays?: { country: 'CN'; year: number }; replace?: boolean },
  ) {
    const incoming: Exception[] = [...(input.exceptions ?? [])];
    if (input.holidays)
      incoming.push(...(CHINA_HOLIDAYS[String(input.holidays.year) as '2025' | '2026'] ?? []));
    return inTransaction(db, async (trx) => {
      const before = await repo.lockCalendar(trx, id);
      if (!before) throw E.calendarNotFound(id);
      const byDate = new Map<string, Exception>();
      for (const e of before.exceptions as Exception[]) byDate.set(e.date, e);
      let added = 0;
      for (const e of incoming) {
        if (byDate.has(e.date) && !input.replace) continue;
        byDate.set(e.date, e);
        added++;
      }
      const exceptions = [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date));
      checkCalendar({ ...calendarSpecOf(before), exceptions });
      const after = repo.toCalendar(
        await repo.updateCalendar(trx, id, { exceptions: JSON.stringify(exceptions) }),
      );
      await writeAudit(trx, ctx, {
        action: 'calendar.import_exceptions',
        recordType: 'calendar',
        recordId: id,
        before: { exceptions: before.exceptions },
        after: { exceptions, added },
      });
      return { calendar: after, added };
    });
  }

  async function getCalendar(id: string) {
    const row = await repo.findCalendar(db, id);
    if (!row) throw E.calendarNotFound(id);
    return repo.toCalendar(row);
  }

  async function listCalendars(page: PageQuery) {
    const result = await repo.listCalendars(db, page);
    return { items: result.items.map(repo.toCalendar), nextCursor: result.nextCursor };
  }

  // ---- agreements ----
  async function validateAgreement(
    ctx: RequestContext,
    executor: Executor,
    kind: 'sla' | 'ola' | 'uc',
    input: Partial<AgreementCreate>,
  ) {
    const errors: FieldError[] = [];
    const bad = (pointer: string, detail: string) => errors.push({ in: 'body', pointer, detail });
    if (kind === 'sla' && input.customerId === undefined) bad('/customerId', 'an SLA names its customer');
    if (kind === 'ola' && !input.groupId) bad('/groupId', 'an OLA names the assignment group it binds');
    if (kind === 'uc' && !input.supplierId && !input.supplierName)
      bad('/supplierName', 'a UC names its supplier');
    if (
      input.customerId &&
      !(await customerVisible(executor, { customerId: ctx.actor.customerId }, input.customerId))
    ) {
      bad('/customerId', `no customer ${input.customerId}`);
    }
    if (input.groupId && !(await groupInfo(executor, input.groupId)))
      bad('/groupId', `no group ${input.groupId}`);
    if (input.calendarId && !(await repo.findCalendar(executor, input.calendarId)))
      bad('/calendarId', `no calendar ${input.calendarId}`);
    const unknown = await repo.unknownServices(executor, input.serviceIds ?? []);
    for (const id of unknown)
      bad(`/serviceIds/${input.serviceIds!.indexOf(id)}`, `${id} is not in the service catalogue`);
    input.targets?.forEach((t, i) => {
      if (durationSeconds(t.duration) === null)
        bad(`/targets/${i}/duration`, 'not a positive ISO 8601 duration');
      if (input.targets!.findIndex((o) => o.priority === t.priority && o.metric === t.metric) !== i) {
        bad(`/targets/${i}`, `a second ${t.metric} target for ${t.priority}`);
      }
    });
    input.warnings?.forEach((w, i) => {
      if ('before' in w && durationSeconds(w.before) === null)
        bad(`/warnings/${i}/before`, 'not a positive ISO 8601 duration');
    });
    input.escalationRules?.forEach((rule, i) => {
      if ('before' in rule.at && durationSeconds(rule.at.before) === null)
        bad(`/escalationRules/${i}/at/before`, 'not a positive ISO 8601 duration');
    });
    if (input.validFrom && input.validTo && input.validTo < input.validFrom)
      bad('/validTo', 'ends before validFrom');
    if (input.nextReviewAt && input.nextReviewAt > addMonths(today(), 12))
      bad('/nextReviewAt', 'at most 12 months ahead (ISO 20000 8.3.3)');
    for (const rule of input.escalationRules ?? []) {
      for (const action of rule.actions) {
        if (
          (action.type === 'reassign' || (action.type === 'notify' && action.groupId)) &&
          action.groupId &&
          !(await groupInfo(executor, action.groupId))
        ) {
          bad(`/escalationRules/${input.escalationRules!.indexOf(rule)}`, `no group ${action.groupId}`);
        }
      }
    }
    if (errors.length > 0) throw E.invalid('SLA_INVALID_AGREEMENT', errors);
  }

  function agreementValues(input: Partial<AgreementCreate>) {
    return {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.calendarId !== undefined ? { calendar_id: input.calendarId } : {}),
      ...(input.validFrom !== undefined ? { valid_from: input.validFrom } : {}),
      ...(input.validTo !== undefined ? { valid_to: input.validTo } : {}),
      ...(input.targets !== undefined
        ? {
            targets: JSON.stringify(
              input.targets.map((t) => ({ ...t, seconds: durationSeconds(t.duration)! })),
            ),
          }
        : {}),
      ...(input.warnings !== undefined
        ? {
            warnings: JSON.stringify(
              input.warnings.map((w) =>
                'percent' in w ? w : { before: w.before, beforeSeconds: durationSeconds(w.before)! },
              ),
            ),
          }
        : {}),
      ...(input.pauseOn !== undefined ? { pause_on: JSON.stringify(input.pauseOn) } : {}),
      ...(input.priorityChangePolicy !== undefined
        ? { priority_change_policy: input.priorityChangePolicy }
        : {}),
      ...(input.reopenPolicy !== undefined ? { reopen_policy: input.reopenPolicy } : {}),
      ...(input.escalationRules !== undefined
        ? {
            escalation_rules: JSON.stringify(
              input.escalationRules.map((r) => ({ ...r, id: r.id ?? randomUUID().slice(0, 8) })),
            ),
          }
        : {}),
      ...(input.nextReviewAt !== undefined ? { next_review_at: input.nextReviewAt } : {}),
      ...(input.report !== undefined
        ? { report: input.report === null ? null : JSON.stringify(input.report) }
        : {}),
    };
  }

  async function loadAgreement(executor: Executor, id: string, ctx?: RequestContext) {
    const row = await repo.findAgreement(executor, id);
    if (!row || (ctx && isCustomerView(ctx) && row.customer_id !== ctx.actor.customerId))
      throw E.agreementNotFound(id);
    return repo.toAgreement(row, (await repo.servicesOf(executor, [id])).get(id) ?? []);
  }

  async function createAgreement(ctx: RequestContext, input: AgreementCreate) {
    await validateAgreement(ctx, db, input.kind, input);
    return inTransaction(db, async (trx) => {
      const row = await repo.insertAgreement(trx, {
        kind: input.kind,
        customer_id: input.kind === 'sla' ? (input.customerId ?? null) : null,
        group_id: input.kind === 'ola' ? (input.groupId ?? null) : null,
        supplier_id: input.kind === 'uc' ? (input.supplierId ?? null) : null,
        supplier_name: input.kind === 'uc' ? (input.supplierName ?? null) : null,
        name: input.name,
        calendar_id: input.calendarId,
        valid_from: input.validFrom,
        targets: '[]',
        warnings: JSON.stringify(DEFAULT_WARNINGS),
        pause_on: JSON.stringify(DEFAULT_PAUSE),
        escalation_rules: '[]',
        next_review_at: input.nextReviewAt ?? addMonths(today(), 12),
        ...agreementValues(input),
      });
      await repo.replaceServices(trx, row.id, input.serviceIds ?? []);
      const agreement = await loadAgreement(trx, row.id);
      await repo.appendAgreementEvent(trx, {
        agreement_id: row.id,
        type: 'created',
        actor_name: ctx.actor.name,
        actor_key_id: ctx.actor.keyId,
      });
      await writeAudit(trx, ctx, {
        action: 'agreement.create',
        recordType: 'agreement',
        recordId: row.id,
        customerId: row.customer_id,
        after: agreement,
      });
      await emitEvent(trx, {
        type: 'agreement.created',
        aggregateType: 'agreement',
        aggregateId: row.id,
        customerId: row.customer_id,
        payload: { agreement },
      });
      return agreement;
    });
  }

  async function updateAgreement(ctx: RequestContext, id: string, patch: AgreementPatch, expected?: number) {
    return inTransaction(db, async (trx) => {
      const before = await repo.lockAgreement(trx, id);
      if (!before) throw E.agreementNotFound(id);
      checkVersion(before.version, expected);
      if (before.status === 'expired' || before.status === 'terminated')
        throw E.transition('change', before.status, []);
      if (before.status === 'active' && !patch.changeReason) throw E.changeReasonRequired();
      const { changeReason, serviceIds, ...fields } = patch;
      await validateAgreement(ctx, trx, before.kind, {
        ...patch,
        customerId: before.customer_id,
        groupId: before.group_id,
        supplierName: before.supplier_name ?? before.supplier_id ?? undefined,
      });
      const previous = await loadAgreement(trx, id);
      await repo.updateAgreement(trx, id, agreementValues(fields));
      if (serviceIds) await repo.replaceServices(trx, id, serviceIds);
      const after = await loadAgreement(trx, id);
      await repo.appendAgreementEvent(trx, {
        agreement_id: id,
        type: 'changed',
        actor_name: ctx.actor.name,
        actor_key_id: ctx.actor.keyId,
        reason: changeReason ?? null,
        data: { fields: Object.keys(patch).filter((k) => k !== 'changeReason') },
      });
      await writeAudit(trx, ctx, {
        action: 'agreement.update',
        recordType: 'agreement',
        recordId: id,
        customerId: before.customer_id,
        before: previous,
        after,
      });
      await emitEvent(trx, {
        type: 'agreement.changed',
        aggregateType: 'agreement',
        aggregateId: id,
        customerId: before.customer_id,
        payload: { agreement: after, reason: changeReason ?? null },
      });
      return after;
    });
  }

  async function transition(
    ctx: RequestContext,
    id: string,
    action: 'activate' | 'terminate' | 'review',
    input: { reason?: string; notes?: string; nextReviewAt?: string },
    expected?: number,
  ) {
    return inTransaction(db, async (trx) => {
      const before = await repo.lockAgreement(trx, id);
      if (!before) throw E.agreementNotFound(id);
      checkVersion(before.version, expected);
      const allowed: Record<string, string[]> = {
        draft: ['activate'],
        active: ['terminate', 'review'],
        expired: [],
        terminated: [],
      };
      if (!allowed[before.status]!.includes(action))
        throw E.transition(action, before.status, allowed[before.status]!);
      const values: Parameters<typeof repo.updateAgreement>[2] = {};
      if (action === 'activate') {
        if (before.targets.length === 0)
          throw E.field('SLA_NO_TARGETS', 'targets', 'an agreement needs targets to be activated');
        values.status = 'active';
      } else if (action === 'terminate') {
        values.status = 'terminated';
      } else {
        const next = input.nextReviewAt ?? addMonths(today(), 12);
        if (next > addMonths(today(), 12))
          throw E.field('SLA_REVIEW_TOO_FAR', 'nextReviewAt', 'at most 12 months ahead');
        if (next <= today()) throw E.field('SLA_REVIEW_IN_PAST', 'nextReviewAt', 'must be in the future');
        values.next_review_at = next;
      }
      const previous = await loadAgreement(trx, id);
      await repo.updateAgreement(trx, id, values);
      const after = await loadAgreement(trx, id);
      const type = { activate: 'activated', terminate: 'terminated', review: 'reviewed' }[action];
      await repo.appendAgreementEvent(trx, {
        agreement_id: id,
        type,
        actor_name: ctx.actor.name,
        actor_key_id: ctx.actor.keyId,
        reason: input.reason ?? null,
        data: action === 'review' ? { notes: input.notes, nextReviewAt: values.next_review_at } : {},
      });
      await writeAudit(trx, ctx, {
        action: `agreement.${action}`,
        recordType: 'agreement',
        recordId: id,
        customerId: before.customer_id,
        before: previous,
        after,
      });
      await emitEvent(trx, {
        type: `agreement.${type}`,
        aggregateType: 'agreement',
        aggregateId: id,
        customerId: before.customer_id,
        payload: { agreement: after },
      });
      return after;
    });
  }

  async function listAgreements(ctx: RequestContext, query: AgreementListQuery) {
    const page = await repo.listAgreements(db, query, ctx.actor.customerId);
    const services = await repo.servicesOf(
      db,
      page.items.map((a) => a.id),
    );
    return {
      items: page.items.map((row) => repo.toAgreement(row, services.get(row.id) ?? [])),
      nextCursor: page.nextCursor,
    };
  }

  async function history(ctx: RequestContext, id: string) {
    await loadAgreement(db, id, ctx);
    const rows = await repo.agreementEvents(db, id);
    return {
      items: rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        type: r.type,
        actor: r.actor_name,
        reason: r.reason,
        data: r.data,
      })),
    };
  }

  async function compliance(ctx: RequestContext, id: string, query: { from?: string; to?: string }) {
    const agreement = await loadAgreement(db, id, ctx);
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * 86_400_000);
    const rows = await repo.compliance(db, id, from, to);
    const durationOf = (priority: string, metric: string) =>
      agreement.targets.find((t) => t.priority === priority && t.metric === metric)?.duration ??
      agreement.targets.find((t) => t.priority === '*' && t.metric === metric)?.duration ??
      '';
    return {
      agreementId: id,
      from: from.toISOString(),
      to: to.toISOString(),
      targets: rows.map((r) => ({
        priority: r.priority ?? '*',
        metric: r.metric,
        target: durationOf(r.priority ?? '*', r.metric) || `PT${r.target_seconds}S`,
        measured: r.measured,
        met: r.met,
        breached: r.breached,
        percentMet: r.measured > 0 ? (100 * r.met) / r.measured : null,
        meanSeconds: r.mean_seconds,
        p90Seconds: r.p90_seconds,
      })),
    };
  }

  return {
    createService,
    updateService,
    getService,
    listServices,
    createCalendar,
    updateCalendar,
    importExceptions,
    getCalendar,
    listCalendars,
    createAgreement,
    updateAgreement,
    activate: (ctx: RequestContext, id: string, expected?: number) =>
      transition(ctx, id, 'activate', {}, expected),
    terminate: (ctx: RequestContext, id: string, reason: string, expected?: number) =>
      transition(ctx, id, 'terminate', { reason }, expected),
    review: (
      ctx: RequestContext,
      id: string,
      input: { notes: string; nextReviewAt?: string },
      expected?: number,
    ) => transition(ctx, id, 'review', input, expected),
    getAgreement: (ctx: RequestContext, id: string) => loadAgreement(db, id, ctx),
    listAgreements,
    history,
    compliance,
  };
}

export type SlaService = ReturnType<typeof createSlaService>;

const isCustomerView = (ctx: RequestContext) =>
  ctx.actor.role === 'requester' || ctx.actor.customerId !== null;

/**
 * First start: a 5x8 Asia/Shanghai calendar with the China holidays, and the default SLA of the
 * users' policy (answer within 2 h, solution or progress within 24 h of working time) for customers
 * without their own. Runs once per database (skipped when any calendar exists).
 */
export async function seedDefaults(db: Database): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(20261123)`.execute(trx);
    if (await trx.selectFrom('calendars').select('id').limit(1).executeTakeFirst()) return false;
    const hours = ['mon', 'tue', 'wed', 'thu', 'fri'].flatMap((day) => [
      { day, from: '09:00', to: '12:00' },
      { day, from: '13:00', to: '18:00' },
    ]);
    const calendar = await repo.insertCalendar(trx, {
      name: '5x8 工作日 (Asia/Shanghai)',
      time_zone: 'Asia/Shanghai',
      always_open: false,
      working_hours: JSON.stringify(hours),
      exceptions: JSON.stringify([...CHINA_HOLIDAYS['2025'], ...CHINA_HOLIDAYS['2026']]),
    });
    await repo.insertAgreement(trx, {
      name: '默认服务级别协议 Default SLA (响应 2h / 解决 24h)',
      kind: 'sla',
      template: true,
      status: 'active',
      calendar_id: calendar.id,
      valid_from: '2025-01-01',
      valid_to: null,
      targets: JSON.stringify([
        { priority: '*', metric: 'response', duration: 'PT2H', seconds: 7200 },
        { priority: '*', metric: 'resolution', duration: 'PT24H', seconds: 86400 },
      ]),
      warnings: JSON.stringify(DEFAULT_WARNINGS),
      pause_on: JSON.stringify(DEFAULT_PAUSE),
      escalation_rules: '[]',
      next_review_at: addMonths(today(), 12),
    });
    return true;
  });
}

/** For other modules: a catalogue service by its code (case-insensitive), or undefined. */
export async function serviceByCode(executor: Executor, code: string) {
  return executor
    .selectFrom('services')
    .select(['id', 'code', 'status'])
    .where(sql`lower(code)`, '=', code.toLowerCase())
    .executeTakeFirst();
}

/** For other modules: whether a service id is in the catalogue. */
export async function serviceExists(executor: Executor, id: string): Promise<boolean> {
  return (await repo.findService(executor, id)) !== undefined;
}
