import { describe, expect, it } from 'vitest';
import { businessElapsed, type CalendarSpec, type WorkingHours } from '../../../src/modules/sla/calendar.ts';
import {
  type ClockResult,
  computeClock,
  cyclesOf,
  durationSeconds,
  type ExplainSegment,
  type Metric,
  type Terms,
  type TicketHistory,
} from '../../../src/modules/sla/clock.ts';
import { CHINA_HOLIDAYS } from '../../../src/modules/sla/holidays-cn.ts';

// ---------------------------------------------------------------------------------------------------
// Fixtures

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Monday 2026-03-02 00:00 UTC: the origin of the minute-based (24x7) histories. */
const T0 = Date.UTC(2026, 2, 2);
/** The instant `n` minutes after T0. */
const m = (n: number) => T0 + n * MIN;
/** An instant in Asia/Shanghai local time, e.g. sh('2026-03-02 11:00'). */
const sh = (local: string) => Date.parse(`${local.replace(' ', 'T')}:00+08:00`);

const ALWAYS: CalendarSpec = {
  timeZone: 'Asia/Shanghai',
  alwaysOpen: true,
  workingHours: [],
  exceptions: [],
};
const MON_FRI = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
/** 5x8 with a lunch break, mainland China public holidays and make-up working days of 2026. */
const SH_5X8: CalendarSpec = {
  timeZone: 'Asia/Shanghai',
  alwaysOpen: false,
  workingHours: MON_FRI.flatMap((day): WorkingHours[] => [
    { day, from: '08:00', to: '12:00' },
    { day, from: '14:00', to: '18:00' },
  ]),
  exceptions: CHINA_HOLIDAYS['2026'],
};

/**
 * 24x7 terms with easy numbers: P1 10 min response / 30 min resolution, P2 20 / 60, anything else
 * ('*') 40 / 120; warnings at 50 % and 10 minutes before the breach; pending:customer pauses.
 */
function terms(over: Partial<Terms> = {}): Terms {
  return {
    kind: 'sla',
    groupId: null,
    targets: [
      { priority: 'P1', metric: 'response', seconds: 10 * 60 },
      { priority: 'P1', metric: 'resolution', seconds: 30 * 60 },
      { priority: 'P2', metric: 'response', seconds: 20 * 60 },
      { priority: 'P2', metric: 'resolution', seconds: 60 * 60 },
      { priority: '*', metric: 'response', seconds: 40 * 60 },
      { priority: '*', metric: 'resolution', seconds: 120 * 60 },
    ],
    warnings: [{ percent: 50 }, { beforeSeconds: 600 }],
    pauseOn: [{ status: 'pending', reason: 'customer' }],
    priorityChangePolicy: 'retain_elapsed',
    reopenPolicy: 'resume',
    ...over,
  };
}

/** Business-hours terms: P2 30 min response / 4 h resolution, same warnings. */
const BUSINESS = terms({
  targets: [
    { priority: 'P2', metric: 'response', seconds: 30 * 60 },
    { priority: 'P2', metric: 'resolution', seconds: 4 * 3600 },
  ],
});

/** One state: `t` is minutes after T0 or a Shanghai local time; priority and group carry over. */
interface Step {
  t: number | string;
  status: string;
  reason?: string;
  priority?: string;
  group?: string | null;
}
const instant = (t: number | string) => (typeof t === 'string' ? sh(t) : m(t));

function history(steps: Step[], ack: number | string | null = null): TicketHistory {
  let priority = 'P2';
  let groupId: string | null = 'g1';
  const states = steps.map((s) => {
    priority = s.priority ?? priority;
    groupId = s.group === undefined ? groupId : s.group;
    return { at: instant(s.t), status: s.status, pendingReason: s.reason ?? null, priority, groupId };
  });
  return { reportedAt: states[0]!.at, acknowledgedAt: ack === null ? null : instant(ack), states };
}

const seg = (from: number, to: number, kind: ExplainSegment['kind'], reason?: string): ExplainSegment =>
  reason === undefined ? { from, to, kind } : { from, to, kind, reason };
const counted = (a: number, b: number, reason?: string) => seg(m(a), m(b), 'counted', reason);
const paused = (a: number, b: number, reason: string) => seg(m(a), m(b), 'paused', reason);

interface Case {
  name: string;
  terms?: Terms;
  calendar?: CalendarSpec;
  steps: Step[];
  ack?: number | string | null;
  metric: Metric;
  cycle?: number;
  now: number | string;
  /** An exact instant instead of `now`. */
  nowMs?: number;
  /** Checked with toMatchObject (instants and durations in exact ms); null = no clock. */
  expect:
    | (Partial<Omit<ClockResult, 'thresholds' | 'next'>> & {
        next?: { key: string; at: number | null } | null;
        thresholds?: { key: string; elapsedMs: number; at: number | null; reached: boolean }[];
        segments?: ExplainSegment[];
      })
    | null;
}

function run(c: Case): ClockResult | null {
  return computeClock(
    c.terms ?? terms(),
    c.calendar ?? ALWAYS,
    history(c.steps, c.ack ?? null),
    c.metric,
    c.cycle ?? 1,
    c.nowMs ?? instant(c.now),
  );
}

/** Segments cover [startedAt, end) without gaps; the counted ones (not before a restart) sum to elapsed. */
function checkSegments(r: ClockResult, end: number): void {
  expect(r.segments.length).toBeGreaterThan(0);
  expect(r.segments[0]!.from).toBe(r.startedAt);
  expect(r.segments[r.segments.length - 1]!.to).toBe(end);
  for (let i = 1; i < r.segments.length; i++) expect(r.segments[i]!.from).toBe(r.segments[i - 1]!.to);
  for (const s of r.segments) expect(s.to).toBeGreaterThan(s.from);
  const sum = r.segments
    .filter((s) => s.kind === 'counted' && s.reason === undefined)
    .reduce((n, s) => n + s.to - s.from, 0);
  if (r.segments.every((s) => s.kind !== 'off_hours' && s.kind !== 'holiday')) expect(sum).toBe(r.elapsedMs);
}

function table(cases: Case[]) {
  it.each(cases)('$name', (c) => {
    const r = run(c);
    if (c.expect === null) {
      expect(r).toBeNull();
      return;
    }
    expect(r).not.toBeNull();
    expect(r).toMatchObject(c.expect);
    if (c.expect.segments) expect(r!.segments).toEqual(c.expect.segments);
    if (c.expect.thresholds) {
      const kind = (key: string) => (key === 'breach' ? 'breach' : 'warning');
      expect(r!.thresholds).toEqual(c.expect.thresholds.map((t) => ({ ...t, kind: kind(t.key) })));
    }
    // Invariants of every result.
    expect(r!.remainingMs).toBe(r!.state === 'breached' ? 0 : Math.max(0, r!.targetMs - r!.elapsedMs));
    if (r!.state === 'paused') {
      expect(r!.dueAt).toBeNull();
      expect(r!.next?.at ?? null).toBeNull();
    }
    if (r!.state === 'running') expect(r!.dueAt).not.toBeNull();
    if (r!.segments.length > 0) {
      const now = c.nowMs ?? instant(c.now);
      const stop = r!.metAt ?? (r!.state === 'cancelled' ? r!.segments[r!.segments.length - 1]!.to : now);
      checkSegments(r!, stop);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Rules

describe('pause and resume by status', () => {
  table([
    {
      name: 'counts while open, stands still while pending customer, resumes',
      steps: [
        { t: 0, status: 'new' },
        { t: 5, status: 'in_progress' },
        { t: 20, status: 'pending', reason: 'customer' },
        { t: 50, status: 'in_progress' },
      ],
      metric: 'resolution',
      now: 70,
      expect: {
        state: 'running',
        startedAt: m(0),
        priority: 'P2',
        targetMs: 60 * MIN,
        elapsedMs: 40 * MIN,
        remainingMs: 20 * MIN,
        dueAt: m(90),
        metAt: null,
        breachedAt: null,
        next: { key: 'warning:PT600S', at: m(80) },
        thresholds: [
          { key: 'warning:50%', elapsedMs: 30 * MIN, at: m(60), reached: true },
          { key: 'warning:PT600S', elapsedMs: 50 * MIN, at: m(80), reached: false },
          { key: 'breach', elapsedMs: 60 * MIN, at: m(90), reached: false },
        ],
        segments: [counted(0, 20), paused(20, 50, 'pending:customer'), counted(50, 70)],
      },
    },
    {
      name: 'paused now: dueAt and next.at are null',
      steps: [
        { t: 0, status: 'new' },
        { t: 20, status: 'pending', reason: 'customer' },
      ],
      metric: 'resolution',
      now: 40,
      expect: {
        state: 'paused',
        elapsedMs: 20 * MIN,
        dueAt: null,
        next: { key: 'warning:50%', at: null },
        thresholds: [
          { key: 'warning:50%', elapsedMs: 30 * MIN, at: null, reached: false },
          { key: 'warning:PT600S', elapsedMs: 50 * MIN, at: null, reached: false },
          { key: 'breach', elapsedMs: 60 * MIN, at: null, reached: false },
        ],
        segments: [counted(0, 20), paused(20, 40, 'pending:customer')],
      },
    },
    {
      name: 'a pause that starts exactly now: paused',
      steps: [
        { t: 0, status: 'new' },
        { t: 20, status: 'pending', reason: 'customer' },
      ],
      metric: 'resolution',
      now: 20,
      expect: { state: 'paused', elapsedMs: 20 * MIN, dueAt: null, segments: [counted(0, 20)] },
    },
    {
      name: 'a resume exactly now: running, due in the remaining time',
      steps: [
        { t: 0, status: 'new' },
        { t: 20, status: 'pending', reason: 'customer' },
        { t: 50, status: 'in_progress' },
      ],
      metric: 'resolution',
      now: 50,
      expect: {
        state: 'running',
        elapsedMs: 20 * MIN,
        dueAt: m(90),
        next: { key: 'warning:50%', at: m(60) },
        segments: [counted(0, 20), paused(20, 50, 'pending:customer')],
      },
    },
    {
      name: 'now === reportedAt: running with nothing elapsed',
      steps: [{ t: 0, status: 'new' }],
      metric: 'resolution',
      now: 0,
      expect: {
        state: 'running',
        startedAt: m(0),
        elapsedMs: 0,
        remainingMs: 60 * MIN,
        dueAt: m(60),
        next: { key: 'warning:50%', at: m(30) },
        segments: [],
      },
    },
    {
      name: 'several pauses add up',
      steps: [
        { t: 0, status: 'new' },
        { t: 10, status: 'pending', reason: 'customer' },
        { t: 20, status: 'in_progress' },
        { t: 30, status: 'pending', reason: 'customer' },
        { t: 45, status: 'in_progress' },
      ],
      metric: 'resolution',
      now: 60,
      expect: { state: 'running', elapsedMs: 35 * MIN, dueAt: m(85) },
    },
    {
      name: 'pending for a reason the agreement does not pause on keeps counting',
      steps: [
        { t: 0, status: 'new' },
        { t: 10, status: 'pending', reason: 'supplier' },
      ],
      metric: 'resolution',
      now: 30,
      expect: { state: 'running', elapsedMs: 30 * MIN, dueAt: m(60), segments: [counted(0, 30)] },
    },
    {
      name: 'a pause rule without a reason pauses on any pending reason',
      terms: terms({ pauseOn: [{ status: 'pending' }] }),
      steps: [
        { t: 0, status: 'new' },
        { t: 10, status: 'pending', reason: 'supplier' },
      ],
      metric: 'resolution',
      now: 30,
      expect: {
        state: 'paused',
        elapsedMs: 10 * MIN,
        segments: [counted(0, 10), paused(10, 30, 'pending:supplier')],
      },
    },
    {
      name: 'the response clock pauses too',
      steps: [
        { t: 0, status: 'new' },
        { t: 5, status: 'pending', reason: 'customer' },
        { t: 15, status: 'in_progress' },
      ],
      ack: 18,
      metric: 'response',
      now: 30,
      expect: {
        state: 'met',
        metAt: m(18),
        elapsedMs: 8 * MIN,
        segments: [counted(0, 5), paused(5, 15, 'pending:customer'), counted(15, 18)],
      },
    },
  ]);
});

describe('response is met by the first response (acknowledgedAt)', () => {
  table([
    {
      name: 'acknowledged in the middle of a state (a public reply)',
      steps: [{ t: 0, status: 'new' }],
      ack: 7,
      metric: 'response',
      now: 30,
      expect: {
        state: 'met',
        targetMs: 20 * MIN,
        metAt: m(7),
        elapsedMs: 7 * MIN,
        dueAt: null,
        breachedAt: null,
        next: null,
        thresholds: [
          { key: 'warning:50%', elapsedMs: 10 * MIN, at: null, reached: false },
          { key: 'warning:PT600S', elapsedMs: 10 * MIN, at: null, reached: false },
          { key: 'breach', elapsedMs: 20 * MIN, at: null, reached: false },
        ],
        segments: [counted(0, 7)],
      },
    },
    {
      name: 'acknowledged by starting work',
      steps: [
        { t: 0, status: 'new' },
        { t: 7, status: 'in_progress' },
      ],
      ack: 7,
      metric: 'response',
      now: 30,
      expect: { state: 'met', metAt: m(7), elapsedMs: 7 * MIN, segments: [counted(0, 7)] },
    },
    {
      name: 'an acknowledgement after now has not happened yet',
      steps: [{ t: 0, status: 'new' }],
      ack: 30,
      metric: 'response',
      now: 12,
      expect: {
        state: 'running',
        metAt: null,
        elapsedMs: 12 * MIN,
        dueAt: m(20),
        next: { key: 'breach', at: m(20) },
      },
    },
    {
      name: 'a late response: breached, then met',
      steps: [{ t: 0, status: 'new' }],
      ack: 25,
      metric: 'response',
      now: 40,
      expect: {
        state: 'breached',
        metAt: m(25),
        breachedAt: m(20),
        dueAt: m(20),
        elapsedMs: 25 * MIN,
        remainingMs: 0,
        next: null,
      },
    },
    {
      name: 'resolving without an acknowledgement meets the response',
      steps: [
        { t: 0, status: 'new' },
        { t: 12, status: 'resolved' },
      ],
      metric: 'response',
      now: 30,
      expect: { state: 'met', metAt: m(12), elapsedMs: 12 * MIN },
    },
    {
      name: 'acknowledged at the report, computed at the report',
      steps: [{ t: 0, status: 'new' }],
      ack: 0,
      metric: 'response',
      now: 0,
      expect: { state: 'met', metAt: m(0), elapsedMs: 0, segments: [] },
    },
    {
      name: 'acknowledged at the instant the ticket is put on hold',
      steps: [
        { t: 0, status: 'new' },
        { t: 10, status: 'pending', reason: 'customer' },
      ],
      ack: 10,
      metric: 'response',
      now: 30,
      expect: { state: 'met', metAt: m(10), elapsedMs: 10 * MIN, segments: [counted(0, 10)] },
    },
    {
      name: 'a reopen does not touch a met response',
      steps: [
        { t: 0, status: 'new' },
        { t: 5, status: 'in_progress' },
        { t: 10, status: 'resolved' },
        { t: 20, status: 'in_progress' },
      ],
      ack: 5,
      terms: terms({ reopenPolicy: 'new_cycle' }),
      metric: 'response',
      now: 40,
      expect: { state: 'met', metAt: m(5), elapsedMs: 5 * MIN, cycle: 1 },
    },
  ]);
});

describe('resolution is met by resolved', () => {
  table([
    {
      name: 'met at the resolve; reached thresholds keep their instants',
      steps: [
        { t: 0, status: 'new' },
        { t: 5, status: 'in_progress' },
        { t: 45, status: 'resolved' },
      ],
      ack: 5,
      metric: 'resolution',
      now: 100,
      expect: {
        state: 'met',
        metAt: m(45),
        elapsedMs: 45 * MIN,
        remainingMs: 15 * MIN,
        dueAt: null,
        breachedAt: null,
        next: null,
        thresholds: [
          { key: 'warning:50%', elapsedMs: 30 * MIN, at: m(30), reached: true },
          { key: 'warning:PT600S', elapsedMs: 50 * MIN, at: null, reached: false },
          { key: 'breach', elapsedMs: 60 * MIN, at: null, reached: false },
        ],
        segments: [counted(0, 45)],
      },
    },
    {
      name: 'resolve then close: still met at the resolve',
      steps: [
        { t: 0, status: 'new' },
        { t: 45, status: 'resolved' },
        { t: 70, status: 'closed' },
      ],
      metric: 'resolution',
      now: 100,
      expect: { state: 'met', metAt: m(45), elapsedMs: 45 * MIN, segments: [counted(0, 45)] },
    },
    {
      name: 'resolved exactly now',
      steps: [
        { t: 0, status: 'new' },
        { t: 45, status: 'resolved' },
      ],
      metric: 'resolution',
      now: 45,
      expect: { state: 'met', metAt: m(45), elapsedMs: 45 * MIN },
    },
    {
      name: 'closed without a resolve (closed counts as resolved)',
      steps: [
        { t: 0, status: 'new' },
        { t: 45, status: 'closed' },
      ],
      metric: 'resolution',
      now: 50,
      expect: { state: 'met', metAt: m(45), elapsedMs: 45 * MIN },
    },
  ]);
});

describe('cancel cancels', () => {
  table([
    {
      name: 'resolution: cancelled at the cancel',
      steps: [
        { t: 0, status: 'new' },
        { t: 30, status: 'cancelled' },
      ],
      metric: 'resolution',
      now: 90,
      expect: {
        state: 'cancelled',
        elapsedMs: 30 * MIN,
        metAt: null,
        breachedAt: null,
        dueAt: null,
        next: null,
        segments: [counted(0, 30)],
      },
    },
    {
      name: 'response: cancelled before any response',
      steps: [
        { t: 0, status: 'new' },
        { t: 15, status: 'cancelled' },
      ],
      metric: 'response',
      now: 90,
      expect: { state: 'cancelled', elapsedMs: 15 * MIN, metAt: null, next: null },
    },
    {
      name: 'response: a cancel after the response leaves it met',
      steps: [
        { t: 0, status: 'new' },
        { t: 30, status: 'cancelled' },
      ],
      ack: 5,
      metric: 'response',
      now: 90,
      expect: { state: 'met', metAt: m(5), elapsedMs: 5 * MIN },
    },
    {
      name: 'response: acknowledged at the same ms as the cancel: met',
      steps: [
        { t: 0, status: 'new' },
        { t: 15, status: 'cancelled' },
      ],
      ack: 15,
      metric: 'response',
      now: 90,
      expect: { state: 'met', metAt: m(15), elapsedMs: 15 * MIN },
    },
    {
      name: 'resolution: cancelled after a breach keeps the breach instant',
      steps: [
        { t: 0, status: 'new' },
        { t: 70, status: 'cancelled' },
      ],
      metric: 'resolution',
      now: 90,
      expect: {
        state: 'cancelled',
        elapsedMs: 70 * MIN,
        breachedAt: m(60),
        dueAt: m(60),
        metAt: null,
        next: null,
      },
    },
    {
      name: 'cancelled exactly now',
      steps: [
        { t: 0, status: 'new' },
        { t: 30, status: 'cancelled' },
      ],
      metric: 'resolution',
      now: 30,
      expect: { state: 'cancelled', elapsedMs: 30 * MIN, dueAt: null, next: null },
    },
    {
      name: 'cancelled while on hold',
      steps: [
        { t: 0, status: 'new' },
        { t: 10, status: 'pending', reason: 'customer' },
        { t: 20, status: 'cancelled' },
      ],
      metric: 'resolution',
      now: 30,
      expect: {
        state: 'cancelled',
        elapsedMs: 10 * MIN,
        segments: [counted(0, 10), paused(10, 20, 'pending:customer')],
      },
    },
  ]);
});

describe('a priority change follows the policy', () => {
  table([
    {
      name: 'retain_elapsed (default): the elapsed time carries over to the new target',
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 10, status: 'in_progress', priority: 'P1' },
      ],
      metric: 'resolution',
      now: 20,
      expect: {
        state: 'running',
        priority: 'P1',
        targetMs: 30 * MIN,
        elapsedMs: 20 * MIN,
        dueAt: m(30),
        next: { key: 'breach', at: m(30) },
        thresholds: [
          { key: 'warning:50%', elapsedMs: 15 * MIN, at: m(15), reached: true },
          { key: 'warning:PT600S', elapsedMs: 20 * MIN, at: m(20), reached: true },
          { key: 'breach', elapsedMs: 30 * MIN, at: m(30), reached: false },
        ],
        segments: [counted(0, 20)],
      },
    },
    {
      name: 'retain_elapsed, priority lowered: the longer target applies',
      steps: [
        { t: 0, status: 'new', priority: 'P1' },
        { t: 10, status: 'new', priority: 'P2' },
      ],
      metric: 'resolution',
      now: 20,
      expect: {
        state: 'running',
        priority: 'P2',
        targetMs: 60 * MIN,
        elapsedMs: 20 * MIN,
        dueAt: m(60),
        next: { key: 'warning:50%', at: m(30) },
      },
    },
    {
      name: 'retain_elapsed, the new target is already exceeded: breached at the change, not before',
      steps: [
        { t: 0, status: 'new', priority: 'P3' },
        { t: 40, status: 'new', priority: 'P1' },
      ],
      metric: 'resolution',
      now: 50,
      expect: {
        state: 'breached',
        priority: 'P1',
        targetMs: 30 * MIN,
        elapsedMs: 50 * MIN,
        remainingMs: 0,
        breachedAt: m(40),
        dueAt: m(40),
        next: null,
        thresholds: [
          { key: 'warning:50%', elapsedMs: 15 * MIN, at: m(40), reached: true },
          { key: 'warning:PT600S', elapsedMs: 20 * MIN, at: m(40), reached: true },
          { key: 'breach', elapsedMs: 30 * MIN, at: m(40), reached: true },
        ],
      },
    },
    {
      name: '... and one ms before that change the clock was running under the old target',
      steps: [
        { t: 0, status: 'new', priority: 'P3' },
        { t: 40, status: 'new', priority: 'P1' },
      ],
      metric: 'resolution',
      now: 0,
      nowMs: m(40) - 1,
      expect: { state: 'running', priority: 'P3', targetMs: 120 * MIN, dueAt: m(120), breachedAt: null },
    },
    {
      name: 'retain_elapsed, a breach stays when the priority is lowered afterwards',
      steps: [
        { t: 0, status: 'new', priority: 'P1' },
        { t: 40, status: 'new', priority: 'P2' },
      ],
      metric: 'resolution',
      now: 50,
      expect: {
        state: 'breached',
        priority: 'P2',
        targetMs: 60 * MIN,
        elapsedMs: 50 * MIN,
        remainingMs: 0,
        breachedAt: m(30),
        dueAt: m(30),
        next: null,
      },
    },
    {
      name: 'retain_elapsed, a breach stays: a warning of the new target comes too late to be reached',
      terms: terms({ warnings: [{ percent: 50 }, { beforeSeconds: 1800 }] }),
      steps: [
        { t: 0, status: 'new', priority: 'P1' },
        { t: 40, status: 'new', priority: 'P3' },
      ],
      metric: 'resolution',
      now: 100,
      expect: {
        state: 'breached',
        priority: 'P3',
        targetMs: 120 * MIN,
        elapsedMs: 100 * MIN,
        breachedAt: m(30),
        next: null,
        thresholds: [
          { key: 'warning:50%', elapsedMs: 15 * MIN, at: m(15), reached: true },
          { key: 'warning:PT1800S', elapsedMs: 90 * MIN, at: null, reached: false },
          { key: 'breach', elapsedMs: 30 * MIN, at: m(30), reached: true },
        ],
      },
    },
    {
      name: 'retain_elapsed, a warning reached under an earlier priority stays reached',
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 10, status: 'new', priority: 'P1' },
        { t: 20, status: 'new', priority: 'P2' },
      ],
      metric: 'resolution',
      now: 25,
      expect: {
        state: 'running',
        priority: 'P2',
        elapsedMs: 25 * MIN,
        dueAt: m(60),
        next: { key: 'warning:PT600S', at: m(50) },
        thresholds: [
          { key: 'warning:50%', elapsedMs: 15 * MIN, at: m(15), reached: true },
          { key: 'warning:PT600S', elapsedMs: 50 * MIN, at: m(50), reached: false },
          { key: 'breach', elapsedMs: 60 * MIN, at: m(60), reached: false },
        ],
      },
    },
    {
      name: 'a priority without its own target takes the * target',
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 10, status: 'new', priority: 'P4' },
      ],
      metric: 'resolution',
      now: 20,
      expect: { state: 'running', priority: 'P4', targetMs: 120 * MIN, dueAt: m(120) },
    },
    {
      name: 'restart: counting starts again at the change',
      terms: terms({ priorityChangePolicy: 'restart' }),
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 10, status: 'in_progress', priority: 'P1' },
      ],
      metric: 'resolution',
      now: 20,
      expect: {
        state: 'running',
        priority: 'P1',
        targetMs: 30 * MIN,
        elapsedMs: 10 * MIN,
        dueAt: m(40),
        next: { key: 'warning:50%', at: m(25) },
        segments: [counted(0, 10, 'before priority restart'), counted(10, 20)],
      },
    },
    {
      name: 'restart exactly now: running with nothing elapsed',
      terms: terms({ priorityChangePolicy: 'restart' }),
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 20, status: 'new', priority: 'P1' },
      ],
      metric: 'resolution',
      now: 20,
      expect: {
        state: 'running',
        priority: 'P1',
        elapsedMs: 0,
        dueAt: m(50),
        segments: [counted(0, 20, 'before priority restart')],
      },
    },
    {
      name: 'restart while on hold: counting starts from zero when the hold ends',
      terms: terms({ priorityChangePolicy: 'restart' }),
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 10, status: 'pending', reason: 'customer' },
        { t: 20, status: 'pending', reason: 'customer', priority: 'P1' },
        { t: 30, status: 'in_progress' },
      ],
      metric: 'resolution',
      now: 40,
      expect: {
        state: 'running',
        elapsedMs: 10 * MIN,
        dueAt: m(60),
        segments: [
          counted(0, 10, 'before priority restart'),
          paused(10, 30, 'pending:customer'),
          counted(30, 40),
        ],
      },
    },
    {
      name: 'restart after a breach: the breach stays, the count starts again',
      terms: terms({ priorityChangePolicy: 'restart' }),
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 70, status: 'new', priority: 'P1' },
      ],
      metric: 'resolution',
      now: 80,
      expect: {
        state: 'breached',
        priority: 'P1',
        elapsedMs: 10 * MIN,
        remainingMs: 0,
        breachedAt: m(60),
        dueAt: m(60),
        next: null,
      },
    },
  ]);
});

describe('a reopen follows the policy', () => {
  const reopened: Step[] = [
    { t: 0, status: 'new' },
    { t: 40, status: 'resolved' },
    { t: 70, status: 'in_progress' },
  ];
  table([
    {
      name: 'resume (default): the clock continues where it stopped',
      steps: reopened,
      metric: 'resolution',
      now: 80,
      expect: {
        state: 'running',
        cycle: 1,
        startedAt: m(0),
        elapsedMs: 50 * MIN,
        metAt: null,
        dueAt: m(90),
        next: { key: 'breach', at: m(90) },
        thresholds: [
          { key: 'warning:50%', elapsedMs: 30 * MIN, at: m(30), reached: true },
          { key: 'warning:PT600S', elapsedMs: 50 * MIN, at: m(80), reached: true },
          { key: 'breach', elapsedMs: 60 * MIN, at: m(90), reached: false },
        ],
        segments: [counted(0, 40), paused(40, 70, 'resolved'), counted(70, 80)],
      },
    },
    {
      name: 'resume: reopened exactly now',
      steps: reopened,
      metric: 'resolution',
      now: 70,
      expect: { state: 'running', elapsedMs: 40 * MIN, metAt: null, dueAt: m(90) },
    },
    {
      name: 'resume: while still resolved it is met',
      steps: reopened,
      metric: 'resolution',
      now: 60,
      expect: { state: 'met', elapsedMs: 40 * MIN, metAt: m(40), segments: [counted(0, 40)] },
    },
    {
      name: 'resume: resolved again, met at the last resolve',
      steps: [...reopened, { t: 85, status: 'resolved' }],
      metric: 'resolution',
      now: 100,
      expect: {
        state: 'met',
        elapsedMs: 55 * MIN,
        metAt: m(85),
        segments: [counted(0, 40), paused(40, 70, 'resolved'), counted(70, 85)],
      },
    },
    {
      name: 'resume: breached after the reopen, then resolved: breached and met',
      steps: [...reopened, { t: 100, status: 'resolved' }],
      metric: 'resolution',
      now: 120,
      expect: { state: 'breached', elapsedMs: 70 * MIN, breachedAt: m(90), metAt: m(100) },
    },
    {
      name: 'new_cycle: the first cycle stays met as it was',
      terms: terms({ reopenPolicy: 'new_cycle' }),
      steps: reopened,
      metric: 'resolution',
      cycle: 1,
      now: 80,
      expect: {
        state: 'met',
        cycle: 1,
        startedAt: m(0),
        elapsedMs: 40 * MIN,
        metAt: m(40),
        segments: [counted(0, 40)],
      },
    },
    {
      name: 'new_cycle: the reopen starts cycle 2 from zero',
      terms: terms({ reopenPolicy: 'new_cycle' }),
      steps: reopened,
      metric: 'resolution',
      cycle: 2,
      now: 80,
      expect: {
        state: 'running',
        cycle: 2,
        startedAt: m(70),
        elapsedMs: 10 * MIN,
        metAt: null,
        dueAt: m(130),
        segments: [counted(70, 80)],
      },
    },
    {
      name: 'new_cycle: no cycle 3 yet',
      terms: terms({ reopenPolicy: 'new_cycle' }),
      steps: reopened,
      metric: 'resolution',
      cycle: 3,
      now: 80,
      expect: null,
    },
    {
      name: 'new_cycle: a priority set at the reopen belongs to cycle 2 only',
      terms: terms({ reopenPolicy: 'new_cycle', priorityChangePolicy: 'restart' }),
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 40, status: 'resolved' },
        { t: 70, status: 'in_progress', priority: 'P1' },
      ],
      metric: 'resolution',
      cycle: 1,
      now: 70,
      expect: { state: 'met', priority: 'P2', targetMs: 60 * MIN, elapsedMs: 40 * MIN, metAt: m(40) },
    },
    {
      name: 'new_cycle: cycle 2 takes the priority of the reopen',
      terms: terms({ reopenPolicy: 'new_cycle' }),
      steps: [
        { t: 0, status: 'new', priority: 'P2' },
        { t: 40, status: 'resolved' },
        { t: 70, status: 'in_progress', priority: 'P1' },
      ],
      metric: 'resolution',
      cycle: 2,
      now: 75,
      expect: { state: 'running', priority: 'P1', targetMs: 30 * MIN, elapsedMs: 5 * MIN, dueAt: m(100) },
    },
    {
      name: 'resume is the policy of the response metric whatever the agreement says (cycle 2: none)',
      terms: terms({ reopenPolicy: 'new_cycle' }),
      steps: reopened,
      metric: 'response',
      cycle: 2,
      now: 80,
      expect: null,
    },
  ]);

  it('cyclesOf counts one cycle per reopen under new_cycle only', () => {
    const twice = history([
      { t: 0, status: 'new' },
      { t: 40, status: 'resolved' },
      { t: 70, status: 'in_progress' },
      { t: 80, status: 'resolved' },
      { t: 90, status: 'closed' },
    ]);
    const thrice = history([
      { t: 0, status: 'new' },
      { t: 40, status: 'resolved' },
      { t: 70, status: 'in_progress' },
      { t: 80, status: 'resolved' },
      { t: 85, status: 'in_progress' },
    ]);
    expect(cyclesOf(terms(), 'resolution', twice)).toBe(1);
    expect(cyclesOf(terms({ reopenPolicy: 'new_cycle' }), 'response', twice)).toBe(1);
    expect(cyclesOf(terms({ reopenPolicy: 'new_cycle' }), 'resolution', twice)).toBe(2);
    expect(cyclesOf(terms({ reopenPolicy: 'new_cycle' }), 'resolution', thrice)).toBe(3);
    // A priority change while resolved, and the close, are not reopens.
    const noReopen = history([
      { t: 0, status: 'new' },
      { t: 40, status: 'resolved' },
      { t: 50, status: 'resolved', priority: 'P1' },
      { t: 60, status: 'closed' },
    ]);
    expect(cyclesOf(terms({ reopenPolicy: 'new_cycle' }), 'resolution', noReopen)).toBe(1);
  });

  it('new_cycle: every cycle of a history, computed long after', () => {
    const t = terms({ reopenPolicy: 'new_cycle' });
    const h = history([
      { t: 0, status: 'new' },
      { t: 40, status: 'resolved' },
      { t: 70, status: 'in_progress' },
      { t: 85, status: 'resolved' },
      { t: 100, status: 'in_progress' },
      { t: 130, status: 'resolved' },
    ]);
    const cycles = Array.from({ length: cyclesOf(t, 'resolution', h) }, (_, i) =>
      computeClock(t, ALWAYS, h, 'resolution', i + 1, m(500)),
    );
    expect(cycles.map((c) => [c!.startedAt, c!.metAt, c!.elapsedMs, c!.state])).toEqual([
      [m(0), m(40), 40 * MIN, 'met'],
      [m(70), m(85), 15 * MIN, 'met'],
      [m(100), m(130), 30 * MIN, 'met'],
    ]);
  });
});

describe('warning thresholds: percentages or durations before the breach', () => {
  table([
    {
      name: 'percentages and a duration (PT30M), ordered by when they are reached',
      terms: terms({
        warnings: [{ percent: 50 }, { percent: 75 }, { beforeSeconds: durationSeconds('PT30M')! }],
      }),
      steps: [{ t: 0, status: 'new' }],
      metric: 'resolution',
      now: 40,
      expect: {
        state: 'running',
        next: { key: 'warning:75%', at: m(45) },
        thresholds: [
          { key: 'warning:50%', elapsedMs: 30 * MIN, at: m(30), reached: true },
          { key: 'warning:PT1800S', elapsedMs: 30 * MIN, at: m(30), reached: true },
          { key: 'warning:75%', elapsedMs: 45 * MIN, at: m(45), reached: false },
          { key: 'breach', elapsedMs: 60 * MIN, at: m(60), reached: false },
        ],
      },
    },
    {
      name: 'warnings that are not before the breach, and duplicates, are left out',
      terms: terms({
        warnings: [
          { percent: 0 },
          { percent: 100 },
          { percent: 150 },
          { beforeSeconds: 3600 },
          { beforeSeconds: 7200 },
          { percent: 50 },
          { percent: 50 },
        ],
      }),
      steps: [{ t: 0, status: 'new' }],
      metric: 'resolution',
      now: 10,
      expect: {
        thresholds: [
          { key: 'warning:50%', elapsedMs: 30 * MIN, at: m(30), reached: false },
          { key: 'breach', elapsedMs: 60 * MIN, at: m(60), reached: false },
        ],
      },
    },
    {
      name: 'reached and future instants account for a hold in between',
      steps: [
        { t: 0, status: 'new' },
        { t: 10, status: 'pending', reason: 'customer' },
        { t: 20, status: 'in_progress' },
      ],
      metric: 'resolution',
      now: 40,
      expect: {
        state: 'running',
        elapsedMs: 30 * MIN,
        dueAt: m(70),
        next: { key: 'warning:PT600S', at: m(60) },
        thresholds: [
          { key: 'warning:50%', elapsedMs: 30 * MIN, at: m(40), reached: true },
          { key: 'warning:PT600S', elapsedMs: 50 * MIN, at: m(60), reached: false },
          { key: 'breach', elapsedMs: 60 * MIN, at: m(70), reached: false },
        ],
      },
    },
    {
      name: 'a threshold reached exactly when a hold starts',
      steps: [
        { t: 0, status: 'new' },
        { t: 30, status: 'pending', reason: 'customer' },
      ],
      metric: 'resolution',
      now: 40,
      expect: {
        state: 'paused',
        next: { key: 'warning:PT600S', at: null },
        thresholds: [
          { key: 'warning:50%', elapsedMs: 30 * MIN, at: m(30), reached: true },
          { key: 'warning:PT600S', elapsedMs: 50 * MIN, at: null, reached: false },
          { key: 'breach', elapsedMs: 60 * MIN, at: null, reached: false },
        ],
      },
    },
  ]);

  it.each([
    ['PT30M', 1800],
    ['PT600S', 600],
    ['PT2H', 7200],
    ['P1DT4H', 100_800],
    ['P3D', 259_200],
    ['P1W', 604_800],
    ['PT0S', null],
    ['P', null],
    ['PT', null],
    ['30M', null],
    ['PT1.5H', null],
  ])('durationSeconds(%s) = %s', (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });
});

describe('a breached clock keeps counting the overrun', () => {
  table([
    {
      name: 'overrun after the breach',
      steps: [{ t: 0, status: 'new' }],
      metric: 'resolution',
      now: 90,
      expect: {
        state: 'breached',
        elapsedMs: 90 * MIN,
        remainingMs: 0,
        breachedAt: m(60),
        dueAt: m(60),
        next: null,
        segments: [counted(0, 90)],
      },
    },
    {
      name: 'breached exactly now',
      steps: [{ t: 0, status: 'new' }],
      metric: 'resolution',
      now: 60,
      expect: { state: 'breached', elapsedMs: 60 * MIN, breachedAt: m(60) },
    },
    {
      name: 'one ms before the breach',
      steps: [{ t: 0, status: 'new' }],
      metric: 'resolution',
      now: 0,
      nowMs: m(60) - 1,
      expect: { state: 'running', elapsedMs: 60 * MIN - 1, remainingMs: 1, dueAt: m(60), breachedAt: null },
    },
    {
      name: 'resolved after the breach: stays breached, met, the overrun counted',
      steps: [
        { t: 0, status: 'new' },
        { t: 80, status: 'resolved' },
      ],
      metric: 'resolution',
      now: 100,
      expect: { state: 'breached', elapsedMs: 80 * MIN, breachedAt: m(60), metAt: m(80), next: null },
    },
    {
      name: 'breached, then on hold: breached, the overrun stands still',
      steps: [
        { t: 0, status: 'new' },
        { t: 70, status: 'pending', reason: 'customer' },
      ],
      metric: 'resolution',
      now: 90,
      expect: { state: 'breached', elapsedMs: 70 * MIN, breachedAt: m(60), dueAt: m(60), next: null },
    },
  ]);
});

describe('OLA clocks: only while with the agreement group', () => {
  const ola = terms({ kind: 'ola', groupId: 'g2' });
  table([
    {
      name: 'response: starts at the first assignment, met when the group starts work',
      terms: ola,
      steps: [
        { t: 0, status: 'new', group: 'g1' },
        { t: 10, status: 'assigned', group: 'g2' },
        { t: 25, status: 'in_progress' },
      ],
      ack: 3,
      metric: 'response',
      now: 60,
      expect: {
        state: 'met',
        startedAt: m(10),
        metAt: m(25),
        elapsedMs: 15 * MIN,
        segments: [counted(10, 25)],
      },
    },
    {
      name: 'response: work started in another group does not count',
      terms: ola,
      steps: [
        { t: 0, status: 'new', group: 'g1' },
        { t: 5, status: 'in_progress' },
        { t: 10, status: 'assigned', group: 'g2' },
        { t: 28, status: 'in_progress' },
      ],
      ack: 5,
      metric: 'response',
      now: 60,
      expect: { state: 'met', startedAt: m(10), metAt: m(28), elapsedMs: 18 * MIN },
    },
    {
      name: 'response: resolved by the group without starting work is met',
      terms: ola,
      steps: [
        { t: 0, status: 'new', group: 'g2' },
        { t: 15, status: 'resolved' },
      ],
      metric: 'response',
      now: 60,
      expect: { state: 'met', startedAt: m(0), metAt: m(15), elapsedMs: 15 * MIN },
    },
    {
      name: 'resolution: paused while with another group',
      terms: ola,
      steps: [
        { t: 0, status: 'new', group: 'g1' },
        { t: 10, status: 'assigned', group: 'g2' },
        { t: 25, status: 'in_progress' },
        { t: 40, status: 'assigned', group: 'g3' },
        { t: 60, status: 'assigned', group: 'g2' },
        { t: 65, status: 'in_progress' },
        { t: 70, status: 'resolved' },
      ],
      metric: 'resolution',
      now: 100,
      expect: {
        state: 'met',
        startedAt: m(10),
        metAt: m(70),
        elapsedMs: 40 * MIN,
        segments: [counted(10, 40), paused(40, 60, 'with_another_group'), counted(60, 70)],
      },
    },
    {
      name: 'resolution: with another group now: paused',
      terms: ola,
      steps: [
        { t: 0, status: 'new', group: 'g2' },
        { t: 10, status: 'assigned', group: 'g3' },
      ],
      metric: 'resolution',
      now: 30,
      expect: { state: 'paused', startedAt: m(0), elapsedMs: 10 * MIN, dueAt: null },
    },
    {
      name: 'the agreement pause rules apply while with the group',
      terms: ola,
      steps: [
        { t: 0, status: 'new', group: 'g2' },
        { t: 10, status: 'pending', reason: 'customer' },
      ],
      metric: 'resolution',
      now: 30,
      expect: { state: 'paused', segments: [counted(0, 10), paused(10, 30, 'pending:customer')] },
    },
    {
      name: 'never with the group: no clock',
      terms: ola,
      steps: [
        { t: 0, status: 'new', group: 'g1' },
        { t: 10, status: 'in_progress' },
      ],
      metric: 'resolution',
      now: 30,
      expect: null,
    },
    {
      name: 'assigned to the group later than now: no clock yet',
      terms: ola,
      steps: [
        { t: 0, status: 'new', group: 'g1' },
        { t: 40, status: 'assigned', group: 'g2' },
      ],
      metric: 'resolution',
      now: 30,
      expect: null,
    },
  ]);
});

describe('UC clocks: only while pending with reason supplier', () => {
  const uc = terms({ kind: 'uc' });
  const holds: Step[] = [
    { t: 0, status: 'new' },
    { t: 5, status: 'in_progress' },
    { t: 10, status: 'pending', reason: 'supplier' },
    { t: 25, status: 'in_progress' },
    { t: 35, status: 'pending', reason: 'supplier' },
    { t: 40, status: 'in_progress' },
    { t: 70, status: 'resolved' },
  ];
  table([
    {
      name: 'response: met at the first return from the supplier',
      terms: uc,
      steps: holds,
      ack: 5,
      metric: 'response',
      now: 100,
      expect: {
        state: 'met',
        startedAt: m(0),
        metAt: m(25),
        elapsedMs: 15 * MIN,
        segments: [paused(0, 10, 'not_with_supplier'), counted(10, 25)],
      },
    },
    {
      name: 'resolution: the supplier holds add up, met at the resolve',
      terms: uc,
      steps: holds,
      metric: 'resolution',
      now: 100,
      expect: {
        state: 'met',
        metAt: m(70),
        elapsedMs: 20 * MIN,
        segments: [
          paused(0, 10, 'not_with_supplier'),
          counted(10, 25),
          paused(25, 35, 'not_with_supplier'),
          counted(35, 40),
          paused(40, 70, 'not_with_supplier'),
        ],
      },
    },
    {
      name: 'running while with the supplier',
      terms: uc,
      steps: holds.slice(0, 3),
      metric: 'resolution',
      now: 20,
      expect: {
        state: 'running',
        elapsedMs: 10 * MIN,
        dueAt: m(70),
        next: { key: 'warning:50%', at: m(40) },
      },
    },
    {
      name: 'paused while not with the supplier',
      terms: uc,
      steps: holds.slice(0, 4),
      metric: 'resolution',
      now: 30,
      expect: { state: 'paused', elapsedMs: 15 * MIN, dueAt: null, next: { key: 'warning:50%', at: null } },
    },
    {
      name: 'response: cancelled while with the supplier is cancelled, not met',
      terms: uc,
      steps: [...holds.slice(0, 3), { t: 20, status: 'cancelled' }],
      metric: 'response',
      now: 30,
      expect: { state: 'cancelled', elapsedMs: 10 * MIN, metAt: null },
    },
    {
      name: 'resolution: cancelled after a supplier hold is cancelled, not met',
      terms: uc,
      steps: [...holds.slice(0, 4), { t: 30, status: 'cancelled' }],
      metric: 'resolution',
      now: 50,
      expect: { state: 'cancelled', elapsedMs: 15 * MIN, metAt: null },
    },
    {
      name: 'resolution: a reopen resumes the clock (resume policy)',
      terms: uc,
      steps: [...holds, { t: 80, status: 'in_progress' }, { t: 85, status: 'pending', reason: 'supplier' }],
      metric: 'resolution',
      now: 95,
      expect: { state: 'running', elapsedMs: 30 * MIN, metAt: null, dueAt: m(125) },
    },
  ]);
});

describe('events at the same millisecond', () => {
  table([
    {
      name: 'of two states at one instant the last one holds',
      steps: [
        { t: 0, status: 'new' },
        { t: 20, status: 'pending', reason: 'customer' },
        { t: 20, status: 'in_progress' },
      ],
      metric: 'resolution',
      now: 40,
      expect: { state: 'running', elapsedMs: 40 * MIN, segments: [counted(0, 40)] },
    },
    {
      name: 'a resolve undone at the same instant is no reopen (new_cycle: one cycle)',
      terms: terms({ reopenPolicy: 'new_cycle' }),
      steps: [
        { t: 0, status: 'new' },
        { t: 20, status: 'resolved' },
        { t: 20, status: 'in_progress' },
      ],
      metric: 'resolution',
      now: 40,
      expect: { state: 'running', cycle: 1, elapsedMs: 40 * MIN, metAt: null },
    },
    {
      name: 'a priority change and a hold at the same instant',
      terms: terms({ priorityChangePolicy: 'restart' }),
      steps: [
        { t: 0, status: 'new' },
        { t: 20, status: 'pending', reason: 'customer', priority: 'P1' },
      ],
      metric: 'resolution',
      now: 40,
      expect: {
        state: 'paused',
        priority: 'P1',
        elapsedMs: 0,
        segments: [counted(0, 20, 'before priority restart'), paused(20, 40, 'pending:customer')],
      },
    },
  ]);
});

// ---------------------------------------------------------------------------------------------------
// Business calendar (5x8 Asia/Shanghai with lunch break and 2026 holidays)

describe('business time: dueAt and threshold instants are exact', () => {
  const cases: {
    name: string;
    steps: Step[];
    ack?: string;
    metric: Metric;
    now: string;
    state: ClockResult['state'];
    elapsed: number;
    dueAt: string | null;
    thresholds: Record<string, string | null>;
    segments?: [string, string, ExplainSegment['kind'], string?][];
  }[] = [
    {
      name: 'across the lunch break',
      steps: [{ t: '2026-03-02 11:00', status: 'new' }],
      metric: 'resolution',
      now: '2026-03-02 11:30',
      state: 'running',
      elapsed: 30 * MIN,
      dueAt: '2026-03-02 17:00',
      thresholds: { 'warning:50%': '2026-03-02 15:00', 'warning:PT600S': '2026-03-02 16:50' },
      segments: [['2026-03-02 11:00', '2026-03-02 11:30', 'counted']],
    },
    {
      name: 'a warning that falls due exactly at lunch is due at 12:00, not 14:00',
      steps: [{ t: '2026-03-02 10:00', status: 'new' }],
      metric: 'resolution',
      now: '2026-03-02 13:00',
      state: 'running',
      elapsed: 2 * HOUR,
      dueAt: '2026-03-02 16:00',
      thresholds: { 'warning:50%': '2026-03-02 12:00', 'warning:PT600S': '2026-03-02 15:50' },
      segments: [
        ['2026-03-02 10:00', '2026-03-02 12:00', 'counted'],
        ['2026-03-02 12:00', '2026-03-02 13:00', 'off_hours'],
      ],
    },
    {
      name: 'over a weekend',
      steps: [{ t: '2026-03-06 16:00', status: 'new' }],
      metric: 'resolution',
      now: '2026-03-07 12:00',
      state: 'running',
      elapsed: 2 * HOUR,
      dueAt: '2026-03-09 10:00',
      thresholds: { 'warning:50%': '2026-03-06 18:00', 'warning:PT600S': '2026-03-09 09:50' },
      segments: [
        ['2026-03-06 16:00', '2026-03-06 18:00', 'counted'],
        ['2026-03-06 18:00', '2026-03-07 12:00', 'off_hours'],
      ],
    },
    {
      name: 'a holiday inside the span (清明节, Sat–Mon)',
      steps: [{ t: '2026-04-03 16:00', status: 'new' }],
      metric: 'resolution',
      now: '2026-04-07 09:00',
      state: 'running',
      elapsed: 3 * HOUR,
      dueAt: '2026-04-07 10:00',
      thresholds: { 'warning:50%': '2026-04-03 18:00', 'warning:PT600S': '2026-04-07 09:50' },
      segments: [
        ['2026-04-03 16:00', '2026-04-03 18:00', 'counted'],
        ['2026-04-03 18:00', '2026-04-04 00:00', 'off_hours'],
        ['2026-04-04 00:00', '2026-04-07 00:00', 'holiday', '清明节'],
        ['2026-04-07 00:00', '2026-04-07 08:00', 'off_hours'],
        ['2026-04-07 08:00', '2026-04-07 09:00', 'counted'],
      ],
    },
    {
      name: 'the Labour Day holidays (Fri–Tue), due on the Wednesday after',
      steps: [{ t: '2026-04-30 17:00', status: 'new' }],
      metric: 'resolution',
      now: '2026-04-30 17:30',
      state: 'running',
      elapsed: 30 * MIN,
      dueAt: '2026-05-06 11:00',
      thresholds: { 'warning:50%': '2026-05-06 09:00', 'warning:PT600S': '2026-05-06 10:50' },
    },
    {
      name: 'a make-up working Saturday (春节调休上班 2026-02-14) counts',
      steps: [{ t: '2026-02-13 17:00', status: 'new' }],
      metric: 'resolution',
      now: '2026-02-14 09:00',
      state: 'running',
      elapsed: 2 * HOUR,
      dueAt: '2026-02-14 11:00',
      thresholds: { 'warning:50%': '2026-02-14 09:00', 'warning:PT600S': '2026-02-14 10:50' },
      segments: [
        ['2026-02-13 17:00', '2026-02-13 18:00', 'counted'],
        ['2026-02-13 18:00', '2026-02-14 08:00', 'off_hours'],
        ['2026-02-14 08:00', '2026-02-14 09:00', 'counted'],
      ],
    },
    {
      name: 'a hold, lunch and the evening in one explanation',
      steps: [
        { t: '2026-03-02 09:00', status: 'new' },
        { t: '2026-03-02 11:00', status: 'pending', reason: 'customer' },
        { t: '2026-03-02 15:00', status: 'in_progress' },
      ],
      metric: 'resolution',
      now: '2026-03-02 19:00',
      state: 'breached',
      elapsed: 5 * HOUR,
      dueAt: '2026-03-02 17:00',
      thresholds: { 'warning:50%': '2026-03-02 11:00', 'warning:PT600S': '2026-03-02 16:50' },
      segments: [
        ['2026-03-02 09:00', '2026-03-02 11:00', 'counted'],
        ['2026-03-02 11:00', '2026-03-02 15:00', 'paused', 'pending:customer'],
        ['2026-03-02 15:00', '2026-03-02 18:00', 'counted'],
        ['2026-03-02 18:00', '2026-03-02 19:00', 'off_hours'],
      ],
    },
    {
      name: 'reported on a Saturday, answered on Monday morning',
      steps: [{ t: '2026-03-07 10:00', status: 'new' }],
      ack: '2026-03-09 08:20',
      metric: 'response',
      now: '2026-03-09 12:00',
      state: 'met',
      elapsed: 20 * MIN,
      dueAt: null,
      thresholds: { 'warning:50%': '2026-03-09 08:15', 'warning:PT600S': '2026-03-09 08:20' },
      segments: [
        ['2026-03-07 10:00', '2026-03-09 08:00', 'off_hours'],
        ['2026-03-09 08:00', '2026-03-09 08:20', 'counted'],
      ],
    },
    {
      name: 'reported on a Saturday, not answered yet: running although nothing counts',
      steps: [{ t: '2026-03-07 10:00', status: 'new' }],
      metric: 'response',
      now: '2026-03-07 12:00',
      state: 'running',
      elapsed: 0,
      dueAt: '2026-03-09 08:30',
      thresholds: { 'warning:50%': '2026-03-09 08:15', 'warning:PT600S': '2026-03-09 08:20' },
      segments: [['2026-03-07 10:00', '2026-03-07 12:00', 'off_hours']],
    },
  ];

  it.each(cases)('$name', (c) => {
    const h = history(c.steps, c.ack ?? null);
    const r = computeClock(BUSINESS, SH_5X8, h, c.metric, 1, sh(c.now))!;
    expect(r.state).toBe(c.state);
    expect(r.elapsedMs).toBe(c.elapsed);
    expect(r.dueAt).toBe(c.dueAt === null ? null : sh(c.dueAt));
    for (const [key, at] of Object.entries(c.thresholds)) {
      const t = r.thresholds.find((x) => x.key === key)!;
      expect(t.at, key).toBe(at === null ? null : sh(at));
    }
    const unpaused = c.steps.every((s) => s.status !== 'pending');
    for (const t of r.thresholds) {
      if (t.at === null) continue;
      // The exact instant: elapsed reaches the threshold there, and not one ms earlier.
      if (unpaused) {
        expect(businessElapsed(SH_5X8, r.startedAt, t.at), t.key).toBe(t.elapsedMs);
        expect(businessElapsed(SH_5X8, r.startedAt, t.at - 1), t.key).toBe(t.elapsedMs - 1);
      }
      expect(t.reached).toBe(t.at <= sh(c.now));
    }
    if (r.dueAt !== null && unpaused) expect(businessElapsed(SH_5X8, r.startedAt, r.dueAt)).toBe(r.targetMs);
    if (c.segments) {
      expect(r.segments).toEqual(
        c.segments.map(([from, to, kind, reason]) => seg(sh(from), sh(to), kind, reason)),
      );
      const countedSum = r.segments
        .filter((s) => s.kind === 'counted')
        .reduce((n, s) => n + businessElapsed(SH_5X8, s.from, s.to), 0);
      expect(countedSum).toBe(r.elapsedMs);
      // On a calendar the counted segments are working time only, so their length is the elapsed time.
      expect(r.segments.filter((s) => s.kind === 'counted').reduce((n, s) => n + s.to - s.from, 0)).toBe(
        r.elapsedMs,
      );
    }
  });

  it('a breach on business time, counted through the overrun until the resolve', () => {
    const h = history([
      { t: '2026-04-03 16:00', status: 'new' },
      { t: '2026-04-07 15:00', status: 'resolved' },
    ]);
    const r = computeClock(BUSINESS, SH_5X8, h, 'resolution', 1, sh('2026-04-08 09:00'))!;
    expect(r).toMatchObject({
      state: 'breached',
      breachedAt: sh('2026-04-07 10:00'),
      metAt: sh('2026-04-07 15:00'),
      // Fri 16–18, Tue 08–12 and 14–15.
      elapsedMs: 7 * HOUR,
      remainingMs: 0,
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Invariants over generated histories

describe('invariants', () => {
  /** Deterministic PRNG (mulberry32). */
  function rng(seed: number) {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const STATUSES = ['assigned', 'in_progress', 'pending', 'resolved', 'in_progress', 'closed', 'cancelled'];
  function randomHistory(rand: () => number, start: number, step: number): TicketHistory {
    const states: TicketHistory['states'] = [
      { at: start, status: 'new', pendingReason: null, priority: 'P2', groupId: 'g1' },
    ];
    let at = start;
    const n = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < n; i++) {
      const last = states[states.length - 1]!;
      if (last.status === 'closed' || last.status === 'cancelled') break;
      at += Math.floor(rand() * step);
      const status = STATUSES[Math.floor(rand() * STATUSES.length)]!;
      states.push({
        at,
        status,
        pendingReason: status === 'pending' ? (rand() < 0.5 ? 'customer' : 'supplier') : null,
        priority: rand() < 0.2 ? (['P1', 'P2', 'P3'][Math.floor(rand() * 3)] as string) : last.priority,
        groupId: rand() < 0.3 ? (['g1', 'g2'][Math.floor(rand() * 2)] as string) : last.groupId,
      });
    }
    const ack = rand() < 0.6 ? start + Math.floor(rand() * step * 3) : null;
    return { reportedAt: start, acknowledgedAt: ack, states };
  }

  /** Name, terms, calendar, report instant, largest step between states, how many histories. */
  const variants: [string, Terms, CalendarSpec, number, number, number][] = [
    ['24x7 sla retain resume', terms(), ALWAYS, m(0), 25 * MIN, 150],
    [
      '24x7 sla restart new_cycle',
      terms({ priorityChangePolicy: 'restart', reopenPolicy: 'new_cycle' }),
      ALWAYS,
      m(0),
      25 * MIN,
      150,
    ],
    ['24x7 ola', terms({ kind: 'ola', groupId: 'g2' }), ALWAYS, m(0), 25 * MIN, 150],
    ['24x7 uc', terms({ kind: 'uc' }), ALWAYS, m(0), 25 * MIN, 150],
    ['5x8 sla retain resume', BUSINESS, SH_5X8, sh('2026-04-02 10:00'), 20 * HOUR, 50],
    [
      '5x8 sla restart',
      { ...BUSINESS, priorityChangePolicy: 'restart' },
      SH_5X8,
      sh('2026-04-02 10:00'),
      20 * HOUR,
      50,
    ],
  ];

  it.each(variants)('%s', (_name, t, cal, start, step, count) => {
    const rand = rng(0x5eed);
    let clocks = 0;
    let projections = 0;
    for (let k = 0; k < count; k++) {
      const h = randomHistory(rand, start, step);
      const last = h.states[h.states.length - 1]!.at;
      const horizon = Math.max(last, h.acknowledgedAt ?? 0) + 2 * step;
      const nows = [start, ...h.states.map((s) => s.at), last + 1, horizon];
      for (const metric of ['response', 'resolution'] as const) {
        for (let cycle = 1; cycle <= cyclesOf(t, metric, h); cycle++) {
          let previous: ClockResult | null = null;
          for (const now of nows.sort((a, b) => a - b)) {
            const r = computeClock(t, cal, h, metric, cycle, now);
            if (!r) continue;
            clocks++;
            const where = `${metric} ${cycle} @${now} ${JSON.stringify(h)}`;
            // Segments cover [startedAt, end) and the counted ones are the elapsed time.
            const end = r.segments.length ? r.segments[r.segments.length - 1]!.to : r.startedAt;
            expect(end, where).toBeLessThanOrEqual(now);
            if (r.state === 'running') expect(end, where).toBe(now);
            if (r.segments.length) expect(r.segments[0]!.from, where).toBe(r.startedAt);
            for (let i = 1; i < r.segments.length; i++)
              expect(r.segments[i]!.from, where).toBe(r.segments[i - 1]!.to);
            const sum = r.segments
              .filter((s) => s.kind === 'counted' && s.reason === undefined)
              .reduce((n, s) => n + s.to - s.from, 0);
            expect(sum, where).toBe(r.elapsedMs);
            // Paused and stopped clocks have no projected instants.
            if (r.state !== 'running') {
              for (const th of r.thresholds) if (!th.reached) expect(th.at, where).toBeNull();
            }
            if (r.state === 'paused') expect(r.dueAt, where).toBeNull();
            // A reached threshold stays reached, at the same instant, when computed later.
            if (previous) {
              for (const th of previous.thresholds) {
                if (!th.reached) continue;
                const again = r.thresholds.find((x) => x.key === th.key);
                expect(again?.reached, where).toBe(true);
                expect(again?.at, where).toBe(th.at);
              }
            }
            // A running clock computed at its projected instants finds them reached there.
            if (r.state === 'running' && r.next?.at != null) {
              const changes = [...h.states.map((s) => s.at), h.acknowledgedAt ?? -1];
              const quiet = changes.every((c) => c <= now || c > r.next!.at!);
              if (quiet) {
                projections++;
                const later = computeClock(t, cal, h, metric, cycle, r.next.at)!;
                const th = later.thresholds.find((x) => x.key === r.next!.key)!;
                expect(th.reached, where).toBe(true);
                expect(th.at, where).toBe(r.next.at);
                if (r.next.at > now) {
                  const before = computeClock(t, cal, h, metric, cycle, r.next.at - 1)!;
                  expect(before.thresholds.find((x) => x.key === r.next!.key)!.reached, where).toBe(false);
                }
              }
            }
            previous = r;
          }
        }
      }
    }
    // The generated histories do exercise the checks.
    expect(clocks).toBeGreaterThan(count);
    expect(projections).toBeGreaterThan(10);
  });
});
