import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Database, Executor, Tx } from '../../db/db.ts';
import { inTransaction } from '../../db/db.ts';
import type { RequestContext } from '../../platform/context.ts';
import { DomainError } from '../../platform/errors.ts';
import type { QueueRegistry } from '../../platform/jobs.ts';
import type { Logger } from '../../platform/logger.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { groupInfo } from '../directory/index.ts';
import { createIncidentService, type IncidentHistory } from '../incident/index.ts';
import { recordRequestSlaEvent, requestHistories } from '../service-desk/index.ts';
import type { CalendarSpec } from './calendar.ts';
import { type ClockResult, computeClock, cyclesOf, type Metric, type Terms } from './clock.ts';
import * as repo from './sla.repository.ts';
import { calendarSpecOf, termsOf } from './sla.service.ts';

export const SLA_QUEUE = 'sla';
export type TicketType = 'incident' | 'service_request';
/** A ticket's history as clocks read it (incidents and service requests alike). */
type TicketHistory = Omit<IncidentHistory, 'ticketType'> & { ticketType: TicketType };
export const FIRE_JOB = 'sla.fire';

/** A clock's snapshot: the agreement's terms (with its escalation rules) and its calendar. */
interface Snapshot {
  terms: Terms & { escalationRules: EscalationRule[]; agreementName: string; agreementRef: string };
  calendar: CalendarSpec;
}

interface EscalationRule {
  id: string;
  metric: Metric;
  at: { percent?: number; before?: string; breach?: true };
  when?: { tier?: number; priorities?: string[]; statuses?: string[] };
  actions: (
    | { type: 'reassign'; groupId: string }
    | { type: 'escalate' }
    | { type: 'raise_priority' }
    | { type: 'notify'; personId?: string; groupId?: string }
    | { type: 'flag_major' }
  )[];
}

export interface EvaluatedClock {
  row: repo.ClockRow | undefined;
  agreementId: string;
  metric: Metric;
  cycle: number;
  snapshot: Snapshot;
  result: ClockResult | null;
}

const SLA_ACTOR: RequestContext = {
  actor: { keyId: null, name: 'sla', role: 'admin', customerId: null },
  requestId: null,
};

function thresholdKey(at: EscalationRule['at']): string {
  if (at.breach || at.percent === 100) return 'breach';
  if (at.percent !== undefined) return `warning:${at.percent}%`;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(at.before ?? '');
  const seconds = m
    ? Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)
    : 0;
  return `warning:PT${seconds}S`;
}

const isoDuration = (seconds: number) =>
  `PT${seconds % 3600 === 0 ? `${seconds / 3600}H` : seconds % 60 === 0 ? `${seconds / 60}M` : `${seconds}S`}`;

interface TimerPlan {
  clockId: string;
  /** A timer to remove (replaced or no longer needed); never the job that runs the recompute. */
  previousJobId: string | null;
  jobId: string | null;
  dueAt: number;
  threshold: string;
}

const time = (d: Date | null) => d?.getTime() ?? null;

/** Whether a recompute moved a stored clock (anything but the elapsed time of a running clock). */
function changed(
  row: repo.ClockRow,
  v: {
    state: string;
    priority: string;
    target_seconds: number;
    started_at: Date;
    due_at: Date | null;
    met_at: Date | null;
    breached_at: Date | null;
    warnings_reached: string[];
    next_threshold: string | null;
    next_due_at: Date | null;
  },
): boolean {
  return (
    row.state !== v.state ||
    row.priority !== v.priority ||
    row.target_seconds !== v.target_seconds ||
    time(row.started_at) !== time(v.started_at) ||
    time(row.due_at) !== time(v.due_at) ||
    time(row.met_at) !== time(v.met_at) ||
    time(row.breached_at) !== time(v.breached_at) ||
    row.next_threshold !== v.next_threshold ||
    time(row.next_due_at) !== time(v.next_due_at) ||
    JSON.stringify(row.warnings_reached) !== JSON.stringify(v.warnings_reached)
  );
}

/**
 * SLA clocks of tickets: evaluation (pure arithmetic over the stored history and snapshots), the
 * recompute that persists clocks, fires warnings and breaches exactly once and runs escalation
 * rules, and the timer planning (BullMQ delayed jobs at the next due instant).
 */
export function createClockEngine({
  db,
  queues,
  log,
}: {
  db: Database;
  queues?: QueueRegistry;
  log?: Logger;
}) {
  const incidents = createIncidentService({ db });

  function termsSnapshot(agreement: repo.AgreementRow): Snapshot['terms'] {
    return {
      ...termsOf(agreement),
      escalationRules: agreement.escalation_rules as EscalationRule[],
      agreementName: agreement.name,
      agreementRef: agreement.ref,
    };
  }

  const calendarOf = async (executor: Executor, calendarId: string) =>
    calendarSpecOf((await repo.findCalendar(executor, calendarId))!);

  async function snapshotOf(executor: Executor, agreement: repo.AgreementRow): Promise<Snapshot> {
    return { terms: termsSnapshot(agreement), calendar: await calendarOf(executor, agreement.calendar_id) };
  }

  /** The agreements that apply to a ticket now (SLA of its customer and service, else the default). */
  async function applicable(executor: Executor, history: TicketHistory): Promise<repo.CandidateAgreement[]> {
    const groupIds = [
      ...new Set(history.states.map((s) => s.groupId).filter((g): g is string => g !== null)),
    ];
    const candidates = await repo.candidateAgreements(executor, {
      customerId: history.customerId,
      serviceId: history.serviceId,
      groupIds,
      at: new Date(history.reportedAt),
    });
    const covers = (a: repo.CandidateAgreement) =>
      a.service_ids.length === 0 || (history.serviceId !== null && a.service_ids.includes(history.serviceId));
    const slas = candidates.filter(
      (a) => a.kind === 'sla' && !a.template && a.customer_id === history.customerId && covers(a),
    );
    const fallback =
      slas.length === 0 ? candidates.filter((a) => a.kind === 'sla' && a.template).slice(0, 1) : [];
    const olas = candidates.filter((a) => a.kind === 'ola');
    const supplierHold = history.states.some((s) => s.status === 'pending' && s.pendingReason === 'supplier');
    const ucs = candidates.filter(
      (a) =>
        a.kind === 'uc' &&
        supplierHold &&
        history.serviceId !== null &&
        a.service_ids.includes(history.serviceId),
    );
    return [...slas, ...fallback, ...olas, ...ucs];
  }

  /** Every clock of the ticket at `now`: stored snapshots for known clocks, current terms for new ones. */
  async function evaluate(
    executor: Executor,
    history: TicketHistory,
    now: number,
  ): Promise<EvaluatedClock[]> {
    const rows = await repo.clocksOfTicket(executor, history.ticketType, history.ticketId);
    const agreements = await applicable(executor, history);
    const out: EvaluatedClock[] = [];
    const seen = new Set<string>();
    const key = (agreementId: string, metric: string, cycle: number) => `${agreementId}|${metric}|${cycle}`;

    for (const row of rows) {
      seen.add(key(row.agreement_id, row.metric, row.cycle));
      const snapshot = { terms: row.terms, calendar: row.calendar } as unknown as Snapshot;
      // Clocks are recomputed from their own snapshot, so agreement or calendar edits never rewrite
      // them; only the ticket's history can (a reopen under the resume policy continues a met clock).
      const stillApplies = agreements.some((a) => a.id === row.agreement_id);
      const result = computeClock(snapshot.terms, snapshot.calendar, history, row.metric, row.cycle, now);
      out.push({
        row,
        agreementId: row.agreement_id,
        metric: row.metric,
        cycle: row.cycle,
        snapshot,
        result:
          result && !stillApplies && result.state !== 'met' && result.state !== 'breached'
            ? { ...result, state: 'cancelled', next: null }
            : result,
      });
    }
    const calendars = new Map<string, CalendarSpec>();
    for (const agreement of agreements) {
      const terms = termsSnapshot(agreement);
      for (const metric of ['response', 'resolution'] as const) {
        for (let cycle = 1; cycle <= cyclesOf(terms, metric, history); cycle++) {
          if (seen.has(key(agreement.id, metric, cycle))) continue;
          // The calendar is read only for a clock that starts now (known clocks carry their snapshot).
          let calendar = calendars.get(agreement.calendar_id);
          if (!calendar) {
            calendar = await calendarOf(executor, agreement.calendar_id);
            calendars.set(agreement.calendar_id, calendar);
          }
          const snapshot = { terms, calendar };
          const result = computeClock(terms, calendar, history, metric, cycle, now);
          if (result)
            out.push({
              row: undefined,
              agreementId: agreement.id,
              metric,
              cycle,
              snapshot,
              result,
            });
        }
      }
    }
    return out;
  }

  async function historyOf(
    executor: Executor,
    ticketType: TicketType,
    ticketId: string,
  ): Promise<TicketHistory | undefined> {
    if (ticketType === 'service_request') return (await requestHistories(executor, [ticketId]))[0];
    return (await incidents.histories([ticketId], executor))[0];
  }

  const nowFor = (history: TicketHistory) =>
    Math.max(Date.now(), ...history.states.map((s) => s.at), history.acknowledgedAt ?? 0);

  /**
   * Re-derives and stores every clock of a ticket, records warnings and breaches that were reached
   * (each once: the primary key of sla_clock_events), runs the escalation rules of those thresholds
   * (each action once), then plans the timer of each running clock. Safe to run any number of times
   * from any number of workers at once. `currentJobId` is the timer job running this recompute (it
   * is never removed from the queue: BullMQ removes it when it completes).
   */
  async function recompute(
    ticketType: TicketType,
    ticketId: string,
    firedBy: string,
    currentJobId?: string,
  ): Promise<{ clocks: number; fired: number }> {
    const plans: TimerPlan[] = [];
    const canPlan = queues !== undefined && queues.connection.status === 'ready';
    let clockCount = 0;
    const fired = await inTransaction(db, async (trx) => {
      await repo.lockTicket(trx, ticketType, ticketId);
      const history = await historyOf(trx, ticketType, ticketId);
      if (!history) return 0;
      const now = nowFor(history);
      const clocks = await evaluate(trx, history, now);
      let count = 0;
      for (const clock of clocks) {
        if (!clock.result) continue;
        clockCount++;
        const r = clock.result;
        const due = r.next?.at ?? null;
        const previousJobId = clock.row?.planned_job_id ?? null;
        // A new clock's id is made here, so that its timer's id can be stored with it in one write.
        let clockId = clock.row?.id ?? randomUUID();
        // BullMQ refuses job ids with ':' in them; threshold keys have one.
        const timerId = (id: string) =>
          due !== null && r.state === 'running'
            ? `fire.${id}.${r.next!.key.replace(/[:%]/g, '_')}.${due}`
            : null;
        const wantedJobId = timerId(clockId);
        // Without Redis no timer is planned now; the sweep fires the threshold from next_due_at.
        const jobId = canPlan || wantedJobId === previousJobId ? wantedJobId : null;
        const values = {
          state: r.state,
          priority: r.priority,
          target_seconds: Math.round(r.targetMs / 1000),
          elapsed_ms: r.elapsedMs,
          computed_at: new Date(now),
          started_at: new Date(r.startedAt),
          due_at: r.dueAt === null ? null : new Date(r.dueAt),
          met_at: r.metAt === null ? null : new Date(r.metAt),
          breached_at: r.breachedAt === null ? null : new Date(r.breachedAt),
          warnings_reached: r.thresholds.filter((t) => t.kind === 'warning' && t.reached).map((t) => t.key),
          next_threshold: r.next?.key ?? null,
          next_due_at: r.next?.at != null ? new Date(r.next.at) : null,
        };
        let jobIdStored = jobId;
        if (clock.row) {
          // A clock whose state did not move keeps its row (no write, no WAL): the elapsed time of a
          // running clock is derived on read, and is stored when the clock stops or crosses a threshold.
          if (changed(clock.row, values) || jobId !== previousJobId) {
            await repo.updateClock(trx, clockId, {
              ...values,
              warnings_reached: JSON.stringify(values.warnings_reached),
              planned_job_id: jobId,
            });
          }
        } else {
          const stored = await repo.insertClock(trx, {
            id: clockId,
            ticket_type: ticketType,
            ticket_id: ticketId,
            customer_id: history.customerId,
            agreement_id: clock.agreementId,
            metric: clock.metric,
            cycle: clock.cycle,
            terms: JSON.stringify(clock.snapshot.terms),
            calendar: JSON.stringify(clock.snapshot.calendar),
            ...values,
            warnings_reached: JSON.stringify(values.warnings_reached),
            planned_job_id: jobId,
          });
          if (stored.id !== clockId) {
            // Another transaction created this clock first (the insert became an update).
            clockId = stored.id;
            jobIdStored = canPlan ? timerId(clockId) : null;
            await repo.updateClock(trx, clockId, { planned_job_id: jobIdStored });
          }
        }
        const finalJobId = jobIdStored;
        const done = new Set(clock.row?.fired ?? []);
        for (const threshold of r.thresholds) {
          if (!threshold.reached || threshold.at === null || done.has(threshold.key)) continue;
          if (
            await repo.recordFire(trx, {
              clock_id: clockId,
              threshold: threshold.key,
              kind: threshold.kind,
              due_at: new Date(threshold.at),
              fired_by: firedBy,
            })
          ) {
            count++;
            await announce(trx, history, clock, clockId, threshold.key, threshold.kind, threshold.at, r);
            await escalate(trx, history, clock, clockId, threshold.key);
          }
        }
        if (finalJobId !== previousJobId) {
          plans.push({
            clockId,
            previousJobId: previousJobId === currentJobId ? null : previousJobId,
            jobId: finalJobId,
            dueAt: due ?? now,
            threshold: r.next?.key ?? '',
          });
        }
      }
      return count;
    });
    if (queues) await plan(plans, ticketType, ticketId);
    return { clocks: clockCount, fired };
  }

  /**
   * After the commit: removes replaced timers and adds the new ones (their ids are already stored
   * in planned_job_id). A timer that cannot be added is forgotten, and the sweep fires its threshold
   * (next_due_at is stored).
   */
  async function plan(plans: TimerPlan[], ticketType: string, ticketId: string) {
    if (plans.length === 0 || !queues) return;
    const queue: Queue = queues.get(SLA_QUEUE);
    for (const p of plans) {
      if (p.previousJobId) await queue.remove(p.previousJobId).catch(() => 0);
      if (!p.jobId) continue;
      try {
        await queue.add(
          FIRE_JOB,
          { ticketType, ticketId, clockId: p.clockId, threshold: p.threshold },
          {
            jobId: p.jobId,
            // Measured after the commit, so a slow recompute does not make the timer late.
            delay: Math.max(0, p.dueAt - Date.now()),
            removeOnComplete: true,
            removeOnFail: { age: 86_400 },
            attempts: 5,
            backoff: { type: 'exponential', delay: 500 },
          },
        );
      } catch (err) {
        log?.warn(
          { err: String(err), clockId: p.clockId },
          'could not plan an SLA timer; the sweep will fire it',
        );
        await repo.clearPlannedJob(db, p.clockId, p.jobId).catch(() => {});
      }
    }
  }

  async function announce(
    trx: Tx,
    history: TicketHistory,
    clock: EvaluatedClock,
    clockId: string,
    threshold: string,
    kind: 'warning' | 'breach',
    dueAt: number,
    r: ClockResult,
  ) {
    const type = kind === 'breach' ? 'sla.breached' : 'sla.warning';
    const data = {
      clockId,
      agreementId: clock.agreementId,
      agreementName: clock.snapshot.terms.agreementName,
      metric: clock.metric,
      cycle: clock.cycle,
      threshold,
      dueAt: new Date(dueAt).toISOString(),
      target: isoDuration(Math.round(r.targetMs / 1000)),
      elapsedSeconds: Math.floor(r.elapsedMs / 1000),
    };
    if (history.ticketType === 'incident') {
      await incidents.recordSlaEvent(
        SLA_ACTOR,
        history.ticketId,
        { type, visibility: 'internal', data },
        trx,
      );
    } else {
      await recordRequestSlaEvent(trx, history.ticketId, SLA_ACTOR, { type, data });
    }
    await emitEvent(trx, {
      type,
      aggregateType: history.ticketType,
      aggregateId: history.ticketId,
      customerId: history.customerId,
      payload: { ticketType: history.ticketType, ticketId: history.ticketId, ...data },
    });
  }

  async function escalate(
    trx: Tx,
    history: TicketHistory,
    clock: EvaluatedClock,
    clockId: string,
    threshold: string,
  ) {
    const rules = (clock.snapshot.terms.escalationRules ?? []).filter(
      (rule) => rule.metric === clock.metric && thresholdKey(rule.at) === threshold,
    );
    if (rules.length === 0) return;
    const current = history.states[history.states.length - 1]!;
    const tier = current.groupId ? ((await groupInfo(trx, current.groupId))?.tier ?? null) : null;
    for (const rule of rules) {
      if (rule.when?.tier !== undefined && rule.when.tier !== (tier ?? 1)) continue;
      if (rule.when?.priorities && !rule.when.priorities.includes(current.priority)) continue;
      if (rule.when?.statuses && !rule.when.statuses.includes(current.status)) continue;
      for (const action of rule.actions) {
        const reason = `SLA ${clock.snapshot.terms.agreementRef} ${clock.metric} ${threshold}`;
        let result: Record<string, unknown> = { ok: true };
        try {
          if (action.type === 'reassign')
            await incidents.reassign(SLA_ACTOR, history.ticketId, action.groupId, reason, trx);
          else if (action.type === 'escalate')
            await incidents.escalate(SLA_ACTOR, history.ticketId, { reason, trigger: 'sla' }, undefined, trx);
          else if (action.type === 'raise_priority')
            await incidents.raisePriority(SLA_ACTOR, history.ticketId, reason, trx);
          else if (action.type === 'flag_major')
            await incidents.flagMajor(SLA_ACTOR, history.ticketId, { reason }, undefined, trx);
          else {
            await incidents.recordSlaEvent(
              SLA_ACTOR,
              history.ticketId,
              {
                type: 'sla.notified',
                data: { personId: action.personId ?? null, groupId: action.groupId ?? null, reason },
              },
              trx,
            );
            await emitEvent(trx, {
              type: 'sla.escalation_notice',
              aggregateType: 'incident',
              aggregateId: history.ticketId,
              customerId: history.customerId,
              payload: {
                ticketId: history.ticketId,
                personId: action.personId ?? null,
                groupId: action.groupId ?? null,
                reason,
                threshold,
              },
            });
          }
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          result = { ok: false, code: err.code, detail: err.message };
        }
        await repo.recordEscalation(trx, {
          clock_id: clockId,
          rule_id: rule.id,
          threshold,
          action: action.type,
          result,
        });
      }
    }
  }

  /** The clocks of an incident as the API shows them, computed at this instant. */
  async function clocksForApi(ticketType: TicketType, ticketId: string) {
    const history = await historyOf(db, ticketType, ticketId);
    if (!history) return { history: undefined, clocks: [] as EvaluatedClock[], now: Date.now() };
    const now = nowFor(history);
    return { history, clocks: await evaluate(db, history, now), now };
  }

  async function read(ticketType: TicketType, ticketId: string) {
    const { clocks } = await clocksForApi(ticketType, ticketId);
    return {
      clocks: clocks.map((c) => {
        const terms = c.snapshot.terms;
        if (!c.result) {
          const row = c.row!;
          return {
            id: row.id,
            agreementId: c.agreementId,
            agreementRef: terms.agreementRef,
            agreementName: terms.agreementName,
            kind: terms.kind,
            metric: c.metric,
            cycle: c.cycle,
            priority: row.priority ?? '*',
            target: isoDuration(row.target_seconds),
            targetSeconds: row.target_seconds,
            state: row.state,
            elapsedSeconds: Math.floor(Number(row.elapsed_ms) / 1000),
            remainingSeconds: Math.max(0, row.target_seconds - Math.floor(Number(row.elapsed_ms) / 1000)),
            startedAt: row.started_at.toISOString(),
            dueAt: row.due_at?.toISOString() ?? null,
            metAt: row.met_at?.toISOString() ?? null,
            breachedAt: row.breached_at?.toISOString() ?? null,
            warningsReached: row.warnings_reached,
            nextThreshold: null,
          };
        }
        const r = c.result;
        const targetSeconds = Math.round(r.targetMs / 1000);
        return {
          id: c.row?.id ?? null,
          agreementId: c.agreementId,
          agreementRef: terms.agreementRef,
          agreementName: terms.agreementName,
          kind: terms.kind,
          metric: c.metric,
          cycle: c.cycle,
          priority: r.priority,
          target: isoDuration(targetSeconds),
          targetSeconds,
          state: r.state,
          elapsedSeconds: Math.floor(r.elapsedMs / 1000),
          remainingSeconds: Math.ceil(r.remainingMs / 1000),
          startedAt: new Date(r.startedAt).toISOString(),
          dueAt: r.dueAt === null ? null : new Date(r.dueAt).toISOString(),
          metAt: r.metAt === null ? null : new Date(r.metAt).toISOString(),
          breachedAt: r.breachedAt === null ? null : new Date(r.breachedAt).toISOString(),
          warningsReached: r.thresholds.filter((t) => t.kind === 'warning' && t.reached).map((t) => t.key),
          nextThreshold: r.next
            ? { key: r.next.key, at: r.next.at === null ? null : new Date(r.next.at).toISOString() }
            : null,
        };
      }),
    };
  }

  async function explain(ticketType: TicketType, ticketId: string) {
    const { history, clocks } = await clocksForApi(ticketType, ticketId);
    if (!history) return { clocks: [] };
    return {
      clocks: clocks.map((c) => {
        const r = c.result;
        return {
          agreementId: c.agreementId,
          metric: c.metric,
          cycle: c.cycle,
          state: r?.state ?? 'cancelled',
          elapsedSeconds: Math.floor((r?.elapsedMs ?? 0) / 1000),
          targetSeconds: Math.round((r?.targetMs ?? 0) / 1000),
          segments: (r?.segments ?? []).map((s) => ({
            from: new Date(s.from).toISOString(),
            to: new Date(s.to).toISOString(),
            seconds: Math.round((s.to - s.from) / 1000),
            kind: s.kind,
            ...(s.reason ? { reason: s.reason } : {}),
          })),
        };
      }),
    };
  }

  /** Fires what is due and was not fired (Redis flushed, worker down, timer lost). */
  async function sweep(now = new Date(), limit = 1000) {
    const due = await repo.dueTickets(db, now, limit);
    let fired = 0;
    for (const ticket of due) fired += (await recompute(ticket.ticket_type, ticket.ticket_id, 'sweep')).fired;
    return { tickets: due.length, fired };
  }

  /** Refreshes the snapshots of an agreement's running clocks from its current terms, then recomputes them. */
  async function recomputeAgreement(agreementId: string) {
    const agreement = await repo.findAgreement(db, agreementId);
    if (!agreement) return null;
    const snapshot = await snapshotOf(db, agreement);
    const clocks = await inTransaction(db, (trx) =>
      repo.refreshSnapshots(trx, agreementId, snapshot.terms, snapshot.calendar),
    );
    const running = await repo.runningClocksOfAgreement(db, agreementId);
    const tickets = [...new Map(running.map((c) => [`${c.ticket_type}|${c.ticket_id}`, c])).values()];
    for (const ticket of tickets) await recompute(ticket.ticket_type, ticket.ticket_id, 'recompute');
    return { agreementId, tickets: tickets.length, clocks };
  }

  return { recompute, read, explain, sweep, recomputeAgreement, evaluate };
}

export type ClockEngine = ReturnType<typeof createClockEngine>;
