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
 *
 * Precisely (the edge cases):
 * - Of several states at one instant only the last one holds (as the incident history builder does):
 *   a resolve undone in the same millisecond is no resolve and no reopen.
 * - The response is met at `acknowledgedAt` itself, also in the middle of a state (a public reply);
 *   one before the clock's start meets it at the start, one after `now` has not happened yet.
 *   Resolving or closing the ticket meets a response clock of any kind that is still open.
 * - A resolution clock (SLA, OLA or UC alike) under `resume` is met while the ticket is resolved or
 *   closed, at the resolve that started that (resolve then close: still the resolve). After a reopen
 *   it is not met any more (`metAt` null) and continues from the elapsed time it stopped at; the
 *   resolved stretch shows as a `paused` segment with reason `resolved`.
 * - A cancel stops the clock: `cancelled` unless the metric was met by then (met stays met). A clock
 *   that breached before the cancel is `cancelled` and keeps its `breachedAt`.
 * - A clock stops at the instant it is met or cancelled; a priority change at that very instant comes
 *   too late for it. While the clock goes on, a change exactly at `now` applies.
 * - A warning or the breach is reached at the first instant t at which the elapsed time (since the
 *   last restart) reaches it under the target in effect at t (a target applies from its priority
 *   change until the next one, not at it). Reached once, it stays reached, at that instant: a clock
 *   computed later never contradicts one computed earlier. Hence a priority change to a target that
 *   the elapsed time already exceeds (`retain_elapsed`) reaches the breach at the change itself, not
 *   at the earlier instant where the elapsed time passed the new target (then the old target applied,
 *   and a clock computed then showed no breach); and lowering the priority, or a `restart`, does not
 *   undo a warning or a breach already reached (`remainingMs` is 0 once breached). A warning not
 *   reached by the breach instant is never reached (it would come after the breach it warns of).
 * - `segments` cover [startedAt, the stop or now): `paused` with the reason, else the calendar's
 *   `counted` / `off_hours` / `holiday` (reason: the holiday's name). Counted segments without a
 *   reason sum to `elapsedMs`; under `restart`, those before the last restart have the reason
 *   `before priority restart`.
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
  /** The elapsed time it stands for (reached: under the target it was reached under). */
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
  /** Until the breach; 0 once breached. */
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

const isResolved = (s: TicketState) => s.status === 'resolved' || s.status === 'closed';
const isSupplierHold = (s: TicketState) => s.status === 'pending' && s.pendingReason === 'supplier';

/**
 * The states in effect, by time: of several states at one instant only the last holds (a state holds
 * "from `at` on, until the next state", so the others hold for no time at all; the incident history
 * builder keeps only the last one too).
 */
function effectiveStates(states: TicketState[]): TicketState[] {
  const out: TicketState[] = [];
  for (const s of [...states].sort((a, b) => a.at - b.at)) {
    if (out.length > 0 && out[out.length - 1]!.at === s.at) out[out.length - 1] = s;
    else out.push(s);
  }
  return out;
}

/** The instants at which new cycles start (reopens: resolved to an open status), for new_cycle. */
function reopenInstants(states: TicketState[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < states.length; i++) {
    if (states[i - 1]!.status === 'resolved' && isOpen(states[i]!.status)) out.push(states[i]!.at);
  }
  return out;
}

/** How many clock cycles a metric has (resolution with new_cycle: one per reopen, plus the first). */
export function cyclesOf(terms: Terms, metric: Metric, history: TicketHistory): number {
  if (metric !== 'resolution' || terms.reopenPolicy !== 'new_cycle') return 1;
  return 1 + reopenInstants(effectiveStates(history.states)).length;
}

/** A stretch of counted time. */
interface Counted {
  from: number;
  to: number;
  /** Elapsed (since the last restart) at `from`. */
  before: number;
  /** Business time in [from, to). */
  span: number;
}

/** A stretch with one target: from the start, then from each priority change. */
interface Regime {
  at: number;
  target: number;
  /** Elapsed (since the last restart) at `at`. */
  before: number;
  counted: Counted[];
}

interface Stop {
  at: number;
  kind: 'met' | 'cancelled';
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
  const states = effectiveStates(history.states).filter((s) => s.at <= now);
  if (states.length === 0 || now < history.reportedAt) return null;
  const newCycles = metric === 'resolution' && terms.reopenPolicy === 'new_cycle';
  const reopens = newCycles ? reopenInstants(states) : [];
  if (!Number.isInteger(cycle) || cycle < 1 || cycle > reopens.length + 1) return null;
  let start = cycle === 1 ? history.reportedAt : reopens[cycle - 2]!;
  const cycleEnd = reopens[cycle - 1] ?? Number.POSITIVE_INFINITY;
  if (terms.kind === 'ola') {
    const first = sequence(states, start, cycleEnd).find((s) => s.groupId === terms.groupId);
    if (!first) return null;
    start = first.at;
  }

  let priority = stateAt(states, start).priority;
  let target = targetMs(terms, metric, priority);
  if (target === null) return null;

  const stop = stopOf(terms, metric, newCycles, history, sequence(states, start, cycleEnd), now);
  const end = stop ? stop.at : Math.min(now, cycleEnd);
  const restart = terms.priorityChangePolicy === 'restart';

  const segments: ExplainSegment[] = [];
  const regimes: Regime[] = [{ at: start, target, before: 0, counted: [] }];
  let elapsed = 0;
  const changePriority = (at: number, to: string) => {
    if (to === priority) return;
    priority = to;
    target = targetMs(terms, metric, to) ?? target!;
    if (restart) {
      for (const segment of segments)
        if (segment.kind === 'counted') segment.reason = 'before priority restart';
      elapsed = 0;
    }
    regimes.push({ at, target, before: elapsed, counted: [] });
  };

  // Walk [start, end) state by state. A priority change at the stop instant is too late for the clock.
  const bounds = [...states.filter((s) => s.at > start && s.at < end).map((s) => s.at), end];
  let from = start;
  for (const to of bounds) {
    if (to <= from) continue;
    const state = stateAt(states, from);
    if (from > start) changePriority(from, state.priority);
    const pause = pauseOf(terms, state);
    if (pause) {
      segments.push({ from, to, kind: 'paused', reason: pause });
    } else {
      const span = businessElapsed(calendar, from, to);
      regimes[regimes.length - 1]!.counted.push({ from, to, before: elapsed, span });
      elapsed += span;
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
    from = to;
  }
  // A change exactly now applies to a clock that is still going.
  if (!stop && end === now && end > start) changePriority(end, stateAt(states, end).priority);

  const runningNow = !stop && end === now && pauseOf(terms, stateAt(states, now)) === null;

  // The instant a threshold is reached: the first instant the elapsed time reaches it under the
  // target in effect at that instant (a target that shrinks below the elapsed time: at the change).
  // A regime's target is in effect until the next regime starts, not at that instant.
  const crossing = (i: number, ms: number): number | null => {
    const regime = regimes[i]!;
    if (regime.before >= ms) return regime.at;
    const until = regimes[i + 1]?.at ?? Number.POSITIVE_INFINITY;
    for (const c of regime.counted) {
      if (c.before + c.span < ms) continue;
      const at = addBusinessTime(calendar, c.from, ms - c.before);
      return at < until ? at : null;
    }
    return null;
  };
  const specs: { key: string; kind: Threshold['kind']; ms: (target: number) => number | null }[] = [];
  for (const warning of terms.warnings) {
    const percent = 'percent' in warning;
    const key = percent ? `warning:${warning.percent}%` : `warning:PT${warning.beforeSeconds}S`;
    if (specs.some((s) => s.key === key)) continue;
    specs.push({
      key,
      kind: 'warning',
      ms: (t) => {
        const ms = percent ? Math.round((t * warning.percent) / 100) : t - warning.beforeSeconds * 1000;
        return ms > 0 && ms < t ? ms : null;
      },
    });
  }
  const breachSpec = { key: 'breach', kind: 'breach' as const, ms: (t: number) => t };

  // A warning comes before the breach: once breached, a warning not reached by then never is.
  const evaluate = (spec: (typeof specs)[number], limit: number, project: boolean): Threshold | null => {
    for (let i = 0; i < regimes.length; i++) {
      const ms = spec.ms(regimes[i]!.target);
      const at = ms === null ? null : crossing(i, ms);
      if (at !== null && at <= limit)
        return { key: spec.key, kind: spec.kind, elapsedMs: ms!, at, reached: true };
    }
    const ms = spec.ms(target!);
    if (ms === null) return null;
    // Not reached: elapsed < ms under the current target, so ms - elapsed > 0.
    const at = project && runningNow ? addBusinessTime(calendar, now, ms - elapsed) : null;
    return { key: spec.key, kind: spec.kind, elapsedMs: ms, at, reached: false };
  };
  const breach = evaluate(breachSpec, Number.POSITIVE_INFINITY, true)!;
  const thresholds = specs
    .map((spec) => evaluate(spec, breach.reached ? breach.at! : Number.POSITIVE_INFINITY, !breach.reached))
    .filter((t): t is Threshold => t !== null)
    .sort((a, b) => a.elapsedMs - b.elapsedMs);
  thresholds.push(breach);

  const breachedAt = breach.reached ? breach.at : null;
  const metAt = stop?.kind === 'met' ? stop.at : null;
  let state: ClockState;
  if (stop?.kind === 'cancelled') state = 'cancelled';
  else if (breachedAt !== null) state = 'breached';
  else if (metAt !== null) state = 'met';
  else state = runningNow ? 'running' : 'paused';
  const next = stop || breachedAt !== null ? null : (thresholds.find((t) => !t.reached) ?? null);

  return {
    metric,
    cycle,
    startedAt: start,
    state,
    priority,
    targetMs: target,
    elapsedMs: elapsed,
    remainingMs: breachedAt !== null ? 0 : Math.max(0, target - elapsed),
    dueAt: breach.at,
    metAt,
    breachedAt,
    thresholds,
    next,
    segments: mergeSegments(segments),
  };
}

/** Why a clock does not count while the ticket is in `state` (null: it counts). */
function pauseOf(terms: Terms, state: TicketState): string | null {
  if (isResolved(state)) return 'resolved';
  if (state.status === 'cancelled') return 'cancelled';
  if (terms.kind === 'ola' && state.groupId !== terms.groupId) return 'with_another_group';
  if (terms.kind === 'uc' && !isSupplierHold(state)) return 'not_with_supplier';
  return pauseReason(terms, state);
}

/**
 * Where the clock stops within its cycle, seen at `now`: met or cancelled, or null while it goes on.
 * `seq` is the states of the cycle from the clock's start, the first one starting at the start.
 */
function stopOf(
  terms: Terms,
  metric: Metric,
  newCycles: boolean,
  history: TicketHistory,
  seq: TicketState[],
  now: number,
): Stop | null {
  const start = seq[0]!.at;
  if (metric === 'response') {
    const ack =
      terms.kind === 'sla' && history.acknowledgedAt !== null && history.acknowledgedAt <= now
        ? Math.max(history.acknowledgedAt, start)
        : null;
    let held = false;
    for (const s of seq) {
      if (ack !== null && ack <= s.at) return { at: ack, kind: 'met' };
      if (s.status === 'cancelled') return { at: s.at, kind: 'cancelled' };
      if (isResolved(s)) return { at: s.at, kind: 'met' };
      if (terms.kind === 'ola' && s.status === 'in_progress' && s.groupId === terms.groupId)
        return { at: s.at, kind: 'met' };
      if (terms.kind === 'uc') {
        if (isSupplierHold(s)) held = true;
        else if (held) return { at: s.at, kind: 'met' };
      }
    }
    return ack !== null ? { at: ack, kind: 'met' } : null;
  }
  if (newCycles) {
    // A cycle ends at the next reopen, so its first resolve is its only one.
    for (const s of seq) {
      if (s.status === 'cancelled') return { at: s.at, kind: 'cancelled' };
      if (isResolved(s)) return { at: s.at, kind: 'met' };
    }
    return null;
  }
  // resume: met while resolved (since the last resolve); a reopen undoes it.
  let resolvedSince: number | null = null;
  for (const s of seq) {
    if (s.status === 'cancelled')
      return resolvedSince !== null ? { at: resolvedSince, kind: 'met' } : { at: s.at, kind: 'cancelled' };
    if (isResolved(s)) resolvedSince ??= s.at;
    else resolvedSince = null;
  }
  return resolvedSince !== null ? { at: resolvedSince, kind: 'met' } : null;
}

function isOpen(status: string): boolean {
  return !['resolved', 'closed', 'cancelled'].includes(status);
}

function stateAt(states: TicketState[], at: number): TicketState {
  let current = states[0]!;
  for (const s of states) {
    if (s.at <= at) current = s;
    else break;
  }
  return current;
}

/** The states from `from` (the one in effect then, as starting at `from`) to before `until`. */
function sequence(states: TicketState[], from: number, until: number): TicketState[] {
  return [{ ...stateAt(states, from), at: from }, ...states.filter((s) => s.at > from && s.at < until)];
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
