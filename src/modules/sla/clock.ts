import { addBusinessTime, businessElapsed, type CalendarSpec, classify } from './calendar.ts';

/**
 * SLA clock arithmetic, pure: a clock's state is a function of the ticket's history, the agreement's
 * terms (a snapshot), the calendar (a snapshot) and "now". Nothing here reads a clock from storage,
 * so any clock can be recomputed at any time and must come out the same.
 *
 * Rules:
 * - A clock starts when the ticket was reported (OLA: when first assigned to the agreement's group;
 *   a new cycle: at the reopen). It counts business time of the calendar while the ticket is not in
 *   a pausing status (`pauseOn`, e.g. pending with reason customer).
 * - `response` is met by the first response (`acknowledgedAt`; OLA: the first start of work in the
 *   group; UC: the first return from a supplier hold). `resolution` is met by `resolved`; while a
 *   ticket is resolved the clock stands still; with the `resume` reopen policy it continues after a
 *   reopen, with `new_cycle` a reopen starts a new clock (cycle + 1) and the old one stays as it was.
 * - Cancelling the ticket before the metric is met cancels the clock.
 * - The target follows the current priority. A priority change keeps the elapsed time
 *   (`retain_elapsed`) or starts counting again from the change (`restart`).
 * - Elapsed reaching the target breaches the clock; a breached clock keeps counting the overrun and
 *   stays breached when the metric is met later.
 * - OLA clocks count only while the ticket is with the agreement's group; UC clocks count only while
 *   the ticket waits for a supplier (pending, reason supplier).
 */

export type Metric = 'response' | 'resolution';

export interface Terms {
  kind: 'sla' | 'ola' | 'uc';
  groupId: string | null;
  /** Seconds per priority (`*` = any priority without its own target). */
  targets: { priority: string; metric: Metric; seconds: number }[];
  warnings: ({ percent: number } | { beforeSeconds: number })[];
  pauseOn: { status: string; reason?: string | null }[];
  priorityChangePolicy: 'retain_elapsed' | 'restart';
  reopenPolicy: 'resume' | 'new_cycle';
}

/** The ticket from `at` on (until the next state). */
export interface TicketState {
  at: number;
  status: string;
  pendingReason: string | null;
  priority: string;
  groupId: string | null;
}

export interface TicketHistory {
  reportedAt: number;
  /** First response (incidents: the first public agent reply or the start of work). */
  acknowledgedAt: number | null;
  /** Ordered; the first one is the state at `reportedAt`. */
  states: TicketState[];
}

export type ClockState = 'running' | 'paused' | 'met' | 'breached' | 'cancelled';

export interface Threshold {
  /** `warning:50%`, `warning:PT600S` or `breach`. */
  key: string;
  kind: 'warning' | 'breach';
  elapsedMs: number;
  /** When elapsed reached (or, while running, will reach) it; null while paused and not reached. */
  at: number | null;
  reached: boolean;
}

export interface ExplainSegment {
  from: number;
  to: number;
  kind: 'counted' | 'paused' | 'off_hours' | 'holiday';
  reason?: string;
}

export interface ClockResult {
  metric: Metric;
  cycle: number;
  startedAt: number;
  state: ClockState;
  priority: string;
  targetMs: number;
  elapsedMs: number;
  remainingMs: number;
  /** The breach instant: reached, or expected if counting goes on uninterrupted; null while paused. */
  dueAt: number | null;
  metAt: number | null;
  breachedAt: number | null;
  thresholds: Threshold[];
  /** The next threshold not yet reached, with its expected instant (null while paused). */
  next: Threshold | null;
  segments: ExplainSegment[];
}

export function targetMs(terms: Terms, metric: Metric, priority: string): number | null {
  const exact = terms.targets.find((t) => t.metric === metric && t.priority === priority);
  const any = terms.targets.find((t) => t.metric === metric && t.priority === '*');
  const target = exact ?? any;
  return target ? target.seconds * 1000 : null;
}

function pauseReason(terms: Terms, state: TicketState): string | null {
  for (const rule of terms.pauseOn) {
    if (rule.status === state.status && (!rule.reason || rule.reason === state.pendingReason)) {
      return state.pendingReason ? `${state.status}:${state.pendingReason}` : state.status;
    }
  }
  return null;
}

/** The instants at which new cycles start (reopens), for the new_cycle policy. */
function reopenInstants(history: TicketHistory): number[] {
  const out: number[] = [];
  for (let i = 1; i < history.states.length; i++) {
    if (
      history.states[i - 1]!.status === 'resolved' &&
      !['resolved', 'closed', 'cancelled'].includes(history.states[i]!.status)
    ) {
      out.push(history.states[i]!.at);
    }
  }
  return out;
}

/** How many clock cycles a metric has (resolution with new_cycle: one per reopen, plus the first). */
export function cyclesOf(terms: Terms, metric: Metric, history: TicketHistory): number {
  if (metric !== 'resolution' || terms.reopenPolicy !== 'new_cycle') return 1;
  return 1 + reopenInstants(history).length;
}

interface Counted {
  from: number;
  to: number;
  /** Elapsed before this interval (after any restart). */
  before: number;
}

/**
 * Computes one clock at `now`. Returns null when the agreement has no target for the metric at the
 * ticket's priority, or (OLA) the ticket never reached the agreement's group.
 */
export function computeClock(
  terms: Terms,
  calendar: CalendarSpec,
  history: TicketHistory,
  metric: Metric,
  cycle: number,
  now: number,
): ClockResult | null {
  const states = history.states.filter((s) => s.at <= now);
  // The first response may fall inside a state (it is stamped apart from the status history):
  // split the state there, so the response clock stops exactly at acknowledgedAt.
  const ack = history.acknowledgedAt;
  if (metric === 'response' && ack !== null && ack <= now && !states.some((s) => s.at === ack)) {
    const at = states.findLastIndex((s) => s.at < ack);
    if (at >= 0) states.splice(at + 1, 0, { ...states[at]!, at: ack });
  }
  if (states.length === 0) return null;
  const reopens = reopenInstants({ ...history, states });
  const newCycles = metric === 'resolution' && terms.reopenPolicy === 'new_cycle';
  let cycleStart = cycle === 1 ? history.reportedAt : (reopens[cycle - 2] ?? null);
  if (cycleStart === null) return null;
  const cycleEnd =
    newCycles && reopens[cycle - 1] !== undefined ? reopens[cycle - 1]! : Number.POSITIVE_INFINITY;
  if (terms.kind === 'ola') {
    const start = cycleStart;
    const first =
      stateAt(states, start).groupId === terms.groupId
        ? start
        : states.find((s) => s.groupId === terms.groupId && s.at >= start && s.at < cycleEnd)?.at;
    if (first === undefined) return null;
    cycleStart = first;
  }

  let priority = stateAt(states, cycleStart).priority;
  let target = targetMs(terms, metric, priority);
  if (target === null) return null;

  const segments: ExplainSegment[] = [];
  let counted: Counted[] = [];
  let elapsed = 0;
  let metAt: number | null = null;
  let cancelled = false;
  let seenSupplierHold = false;

  const end = Math.min(now, cycleEnd);
  for (let i = 0; i < states.length; i++) {
    const state = states[i]!;
    const from = Math.max(state.at, cycleStart);
    const to = Math.min(states[i + 1]?.at ?? end, end);
    if (to <= from && !(i === states.length - 1 && from === to)) continue;

    if (state.priority !== priority && state.at >= cycleStart) {
      priority = state.priority;
      target = targetMs(terms, metric, priority) ?? target;
      if (terms.priorityChangePolicy === 'restart') {
        for (const segment of segments)
          if (segment.kind === 'counted') segment.reason = 'before priority restart';
        counted = [];
        elapsed = 0;
      }
    }

    // Is the metric met at the start of this state?
    if (metAt === null && isMet(terms, metric, history, state, from, seenSupplierHold)) metAt = from;
    if (state.status === 'pending' && state.pendingReason === 'supplier') seenSupplierHold = true;
    // Response, UC and new-cycle resolution clocks stop when met; a `resume` resolution clock only
    // stands still while resolved (the final status decides whether it is met, below).
    if (metAt !== null && (metric === 'response' || terms.kind === 'uc' || newCycles)) break;
    if (state.status === 'cancelled') {
      cancelled = true;
      break;
    }
    if (to <= from) continue;

    let pause: string | null = null;
    if (state.status === 'resolved' || state.status === 'closed') pause = 'resolved';
    else if (terms.kind === 'ola' && state.groupId !== terms.groupId) pause = 'with_another_group';
    else if (terms.kind === 'uc' && !(state.status === 'pending' && state.pendingReason === 'supplier'))
      pause = 'not_with_supplier';
    else pause = pauseReason(terms, state);

    if (pause) {
      segments.push({ from, to, kind: 'paused', reason: pause });
      continue;
    }
    counted.push({ from, to, before: elapsed });
    elapsed += businessElapsed(calendar, from, to);
    for (const piece of classify(calendar, from, to)) {
      segments.push(
        piece.kind === 'working'
          ? { from: piece.start, to: piece.end, kind: 'counted' }
          : {
              from: piece.start,
              to: piece.end,
              kind: piece.kind,
              ...(piece.holiday ? { reason: piece.holiday } : {}),
            },
      );
    }
  }
  // A resolution clock under `resume` is met only if the ticket is resolved now.
  if (metric === 'resolution' && !newCycles && terms.kind !== 'uc') {
    const last = stateAt(states, end);
    metAt =
      last.status === 'resolved' || last.status === 'closed' ? lastResolvedAt(states, cycleStart, end) : null;
    cancelled = last.status === 'cancelled' && metAt === null;
  }
  if (newCycles && cycleEnd !== Number.POSITIVE_INFINITY && metAt === null) {
    metAt = lastResolvedAt(states, cycleStart, cycleEnd);
  }

  const stopped = metAt !== null || cancelled;
  const lastCounted = counted[counted.length - 1];
  const runningNow = !stopped && lastCounted !== undefined && lastCounted.to === end && end === now;
  const crossing = (ms: number): number | null => {
    for (const interval of counted) {
      const span = businessElapsed(calendar, interval.from, interval.to);
      if (interval.before + span >= ms && ms > interval.before)
        return addBusinessTime(calendar, interval.from, ms - interval.before);
      if (ms <= interval.before) return interval.from;
    }
    if (runningNow && lastCounted)
      return addBusinessTime(calendar, lastCounted.from, ms - lastCounted.before);
    if (!stopped && !runningNow && counted.length === 0 && ms === 0) return cycleStart;
    return null;
  };

  const thresholds: Threshold[] = [];
  for (const warning of terms.warnings) {
    const ms =
      'percent' in warning
        ? Math.round((target * warning.percent) / 100)
        : target - warning.beforeSeconds * 1000;
    if (ms <= 0 || ms >= target) continue;
    const key = 'percent' in warning ? `warning:${warning.percent}%` : `warning:PT${warning.beforeSeconds}S`;
    if (thresholds.some((t) => t.key === key)) continue;
    thresholds.push({ key, kind: 'warning', elapsedMs: ms, at: null, reached: elapsed >= ms });
  }
  thresholds.sort((a, b) => a.elapsedMs - b.elapsedMs);
  thresholds.push({ key: 'breach', kind: 'breach', elapsedMs: target, at: null, reached: elapsed >= target });
  for (const t of thresholds) t.at = t.reached || runningNow ? crossing(t.elapsedMs) : null;

  const breach = thresholds[thresholds.length - 1]!;
  const breachedAt = breach.reached ? breach.at : null;
  let state: ClockState;
  if (cancelled) state = 'cancelled';
  else if (breachedAt !== null) state = 'breached';
  else if (metAt !== null) state = 'met';
  else state = runningNow ? 'running' : 'paused';
  const next = stopped || breachedAt !== null ? null : (thresholds.find((t) => !t.reached) ?? null);

  return {
    metric,
    cycle,
    startedAt: cycleStart,
    state,
    priority,
    targetMs: target,
    elapsedMs: elapsed,
    remainingMs: Math.max(0, target - elapsed),
    dueAt: breachedAt ?? (runningNow ? breach.at : null),
    metAt,
    breachedAt,
    thresholds,
    next,
    segments: mergeSegments(segments),
  };
}

function isOpen(status: string): boolean {
  return !['resolved', 'closed', 'cancelled'].includes(status);
}

function isMet(
  terms: Terms,
  metric: Metric,
  history: TicketHistory,
  state: TicketState,
  at: number,
  seenSupplierHold: boolean,
): boolean {
  if (metric === 'response') {
    if (terms.kind === 'ola') return state.status === 'in_progress' && state.groupId === terms.groupId;
    if (terms.kind === 'uc')
      return seenSupplierHold && !(state.status === 'pending' && state.pendingReason === 'supplier');
    return (
      (history.acknowledgedAt !== null && history.acknowledgedAt <= at) ||
      state.status === 'resolved' ||
      state.status === 'closed'
    );
  }
  if (terms.kind === 'uc')
    return (
      seenSupplierHold &&
      !(state.status === 'pending' && state.pendingReason === 'supplier') &&
      !isOpen(state.status)
    );
  return state.status === 'resolved' || state.status === 'closed';
}

function stateAt(states: TicketState[], at: number): TicketState {
  let current = states[0]!;
  for (const s of states) {
    if (s.at <= at) current = s;
    else break;
  }
  return current;
}

function lastResolvedAt(states: TicketState[], from: number, to: number): number | null {
  let at: number | null = null;
  for (let i = 0; i < states.length; i++) {
    const s = states[i]!;
    if (s.at > to) break;
    if (s.status === 'resolved' && (i === 0 || states[i - 1]!.status !== 'resolved') && s.at >= from)
      at = s.at;
  }
  return at;
}

function mergeSegments(segments: ExplainSegment[]): ExplainSegment[] {
  const out: ExplainSegment[] = [];
  for (const s of segments) {
    if (s.to <= s.from) continue;
    const last = out[out.length - 1];
    if (last && last.kind === s.kind && last.reason === s.reason && last.to === s.from) last.to = s.to;
    else out.push({ ...s });
  }
  return out;
}

/** ISO 8601 duration (`PT2H`, `PT30S`, `P1DT4H`, `P3D`) to seconds; null when not one we accept. */
export function durationSeconds(text: string): number | null {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const [, w, d, h, min, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
  const seconds =
    (w as number) * 7 * 24 * 3600 +
    (d as number) * 24 * 3600 +
    (h as number) * 3600 +
    (min as number) * 60 +
    (s as number);
  return seconds > 0 ? seconds : null;
}
