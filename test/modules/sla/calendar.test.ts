import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addBusinessTime,
  businessElapsed,
  type CalendarSpec,
  calendarProblems,
  classify,
  type Segment,
  type Weekday,
  type WorkingHours,
  workingIntervals,
} from '../../../src/modules/sla/calendar.ts';
import { CHINA_HOLIDAYS } from '../../../src/modules/sla/holidays-cn.ts';

// ---------------------------------------------------------------------------------------------------
// Calendars

const WEEK: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MON_FRI: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const hours = (days: Weekday[], ...ranges: [string, string][]): WorkingHours[] =>
  days.flatMap((day) => ranges.map(([from, to]) => ({ day, from, to })));

/** 5x8 with a lunch break, as in a Chinese O&M contract. */
const SH_5X8: CalendarSpec = {
  timeZone: 'Asia/Shanghai',
  alwaysOpen: false,
  workingHours: hours(MON_FRI, ['08:00', '12:00'], ['14:00', '18:00']),
  exceptions: [],
};
const SH_5X8_CN2026: CalendarSpec = { ...SH_5X8, exceptions: CHINA_HOLIDAYS['2026'] };
const NY_9TO5: CalendarSpec = {
  timeZone: 'America/New_York',
  alwaysOpen: false,
  workingHours: hours(MON_FRI, ['09:00', '17:00']),
  exceptions: [],
};
/** A night shift every day, 22:00 to 06:00 the next morning. */
const NY_NIGHTS: CalendarSpec = {
  timeZone: 'America/New_York',
  alwaysOpen: false,
  workingHours: hours(WEEK, ['22:00', '06:00']),
  exceptions: [],
};
/** A Sunday range starting in the repeated fall-back hour (and before the spring-forward gap). */
const NY_DST_EDGES: CalendarSpec = {
  timeZone: 'America/New_York',
  alwaysOpen: false,
  workingHours: [{ day: 'sun', from: '01:30', to: '03:00' }],
  exceptions: [],
};
/** A Sunday range starting inside the spring-forward gap (02:30 does not exist on 2026-03-08). */
const NY_GAP: CalendarSpec = {
  timeZone: 'America/New_York',
  alwaysOpen: false,
  workingHours: [{ day: 'sun', from: '02:30', to: '04:00' }],
  exceptions: [],
};
/** Friday night shift only; a holiday on a Friday removes that shift, a holiday on a Saturday does not. */
const SH_FRI_NIGHT: CalendarSpec = {
  timeZone: 'Asia/Shanghai',
  alwaysOpen: false,
  workingHours: [{ day: 'fri', from: '22:00', to: '06:00' }],
  exceptions: [
    { date: '2026-03-13', kind: 'holiday', name: 'Friday off' },
    { date: '2026-03-21', kind: 'holiday', name: 'Saturday off' },
  ],
};
const SH_24X7: CalendarSpec = {
  timeZone: 'Asia/Shanghai',
  alwaysOpen: true,
  workingHours: [],
  exceptions: [{ date: '2026-10-01', kind: 'holiday', name: '国庆节' }],
};
const NY_24X7: CalendarSpec = {
  timeZone: 'America/New_York',
  alwaysOpen: true,
  workingHours: [],
  exceptions: [],
};

const CALENDARS: Record<string, CalendarSpec> = {
  SH_5X8,
  SH_5X8_CN2026,
  NY_9TO5,
  NY_NIGHTS,
  NY_DST_EDGES,
  NY_GAP,
  SH_FRI_NIGHT,
  SH_24X7,
  NY_24X7,
};

// ---------------------------------------------------------------------------------------------------
// Helpers

const H = 3_600_000;
const M = 60_000;
/** ISO with offset -> epoch ms (exact). */
const t = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad ISO in test: ${iso}`);
  return ms;
};
/** Epoch ms -> ISO in the calendar's zone, for readable expectations. */
const local = (cal: CalendarSpec, ms: number): string =>
  DateTime.fromMillis(ms, { zone: cal.timeZone }).toISO({ includeOffset: true }) ?? 'invalid';
const seg = (cal: CalendarSpec, s: Segment) =>
  `${s.kind}${s.holiday ? `(${s.holiday})` : ''} ${local(cal, s.start)} .. ${local(cal, s.end)}`;

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------

describe('businessElapsed', () => {
  it.each<[string, CalendarSpec, string, string, number]>([
    // 5x8 with lunch, Asia/Shanghai (2026-03-02 is a Monday)
    ['5x8: inside the morning', SH_5X8, '2026-03-02T09:00:00+08:00', '2026-03-02T11:30:00+08:00', 2.5 * H],
    ['5x8: across lunch', SH_5X8, '2026-03-02T11:00:00+08:00', '2026-03-02T15:00:00+08:00', 2 * H],
    ['5x8: lunch only', SH_5X8, '2026-03-02T12:00:00+08:00', '2026-03-02T14:00:00+08:00', 0],
    ['5x8: from inside lunch', SH_5X8, '2026-03-02T12:30:00+08:00', '2026-03-02T14:30:00+08:00', 30 * M],
    ['5x8: across a night', SH_5X8, '2026-03-02T17:00:00+08:00', '2026-03-03T09:30:00+08:00', 2.5 * H],
    ['5x8: across a weekend', SH_5X8, '2026-03-06T16:00:00+08:00', '2026-03-09T10:00:00+08:00', 4 * H],
    ['5x8: weekend only', SH_5X8, '2026-03-07T00:00:00+08:00', '2026-03-09T00:00:00+08:00', 0],
    ['5x8: one week', SH_5X8, '2026-03-02T00:00:00+08:00', '2026-03-09T00:00:00+08:00', 40 * H],
    ['5x8: to before from', SH_5X8, '2026-03-03T10:00:00+08:00', '2026-03-02T10:00:00+08:00', 0],
    ['5x8: one millisecond', SH_5X8, '2026-03-02T11:59:59.999+08:00', '2026-03-02T14:00:00.001+08:00', 2],
    // 2026 National Day with make-up days (Sep 20 Sun and Oct 10 Sat work; Oct 1-7 off; 中秋 Sep 25-27)
    [
      'CN 2026: make-up Sunday Sep 20',
      SH_5X8_CN2026,
      '2026-09-19T00:00:00+08:00',
      '2026-09-21T00:00:00+08:00',
      8 * H,
    ],
    [
      'CN 2026: 中秋 Fri Sep 25',
      SH_5X8_CN2026,
      '2026-09-24T00:00:00+08:00',
      '2026-09-28T00:00:00+08:00',
      8 * H,
    ],
    ['CN 2026: Oct 1-7 off', SH_5X8_CN2026, '2026-10-01T00:00:00+08:00', '2026-10-08T00:00:00+08:00', 0],
    [
      'CN 2026: Sep 30 .. Oct 9',
      SH_5X8_CN2026,
      '2026-09-30T00:00:00+08:00',
      '2026-10-09T00:00:00+08:00',
      16 * H,
    ],
    [
      'CN 2026: make-up Saturday Oct 10',
      SH_5X8_CN2026,
      '2026-10-10T00:00:00+08:00',
      '2026-10-11T00:00:00+08:00',
      8 * H,
    ],
    // Sep 14 (Mon) .. Oct 19 (Mon): 25 weekdays - 6 holidays + 2 make-up days = 21 days
    [
      'CN 2026: five weeks',
      SH_5X8_CN2026,
      '2026-09-14T00:00:00+08:00',
      '2026-10-19T00:00:00+08:00',
      21 * 8 * H,
    ],
    [
      'CN 2026: whole year',
      SH_5X8_CN2026,
      '2026-01-01T00:00:00+08:00',
      '2027-01-01T00:00:00+08:00',
      248 * 8 * H,
    ],
    // America/New_York 09:00-17:00 across the 2026 DST transitions (Mar 8, Nov 1)
    ['NY 9-5: weekend of Mar 8', NY_9TO5, '2026-03-06T16:00:00-05:00', '2026-03-09T10:00:00-04:00', 2 * H],
    ['NY 9-5: week of Mar 8', NY_9TO5, '2026-03-02T00:00:00-05:00', '2026-03-09T00:00:00-04:00', 40 * H],
    ['NY 9-5: weekend of Nov 1', NY_9TO5, '2026-10-30T16:00:00-04:00', '2026-11-02T10:00:00-05:00', 2 * H],
    ['NY 9-5: Monday after Nov 1', NY_9TO5, '2026-11-02T00:00:00-05:00', '2026-11-03T00:00:00-05:00', 8 * H],
    // Overnight 22:00-06:00 every day, New York
    [
      'NY nights: spring-forward night is 7 h',
      NY_NIGHTS,
      '2026-03-07T20:00:00-05:00',
      '2026-03-08T08:00:00-04:00',
      7 * H,
    ],
    [
      'NY nights: fall-back night is 9 h',
      NY_NIGHTS,
      '2026-10-31T20:00:00-04:00',
      '2026-11-01T08:00:00-05:00',
      9 * H,
    ],
    [
      'NY nights: 00:00-06:00 on Mar 8 is 5 h',
      NY_NIGHTS,
      '2026-03-08T00:00:00-05:00',
      '2026-03-08T12:00:00-04:00',
      5 * H,
    ],
    [
      'NY nights: 00:00-06:00 on Nov 1 is 7 h',
      NY_NIGHTS,
      '2026-11-01T00:00:00-04:00',
      '2026-11-01T12:00:00-05:00',
      7 * H,
    ],
    [
      'NY nights: ordinary night is 8 h',
      NY_NIGHTS,
      '2026-03-09T20:00:00-04:00',
      '2026-03-10T08:00:00-04:00',
      8 * H,
    ],
    // Gap start moves to the first valid instant (03:00 EDT); ambiguous start takes the earlier offset (EDT)
    [
      'NY DST: 01:30 EST .. 03:00 EDT on Mar 8',
      NY_DST_EDGES,
      '2026-03-08T00:00:00-05:00',
      '2026-03-09T00:00:00-04:00',
      30 * M,
    ],
    [
      'NY DST: 01:30 EDT (earlier) .. 03:00 EST on Nov 1',
      NY_DST_EDGES,
      '2026-11-01T00:00:00-04:00',
      '2026-11-02T00:00:00-05:00',
      2.5 * H,
    ],
    [
      'NY DST: 02:30 (gap) -> 03:00 EDT .. 04:00 on Mar 8',
      NY_GAP,
      '2026-03-08T00:00:00-05:00',
      '2026-03-09T00:00:00-04:00',
      H,
    ],
    [
      'NY DST: 02:30 EST .. 04:00 on Nov 1',
      NY_GAP,
      '2026-11-01T00:00:00-04:00',
      '2026-11-02T00:00:00-05:00',
      1.5 * H,
    ],
    ['NY DST: an ordinary Sunday', NY_GAP, '2026-03-15T00:00:00-04:00', '2026-03-16T00:00:00-04:00', 1.5 * H],
    // Overnight Friday shift, Asia/Shanghai (2026-03-06, 13, 20 are Fridays)
    ['Fri night: ordinary', SH_FRI_NIGHT, '2026-03-06T20:00:00+08:00', '2026-03-07T08:00:00+08:00', 8 * H],
    [
      'Fri night: the Saturday part alone',
      SH_FRI_NIGHT,
      '2026-03-07T03:00:00+08:00',
      '2026-03-07T05:00:00+08:00',
      2 * H,
    ],
    [
      'Fri night: holiday on the Friday removes it',
      SH_FRI_NIGHT,
      '2026-03-13T20:00:00+08:00',
      '2026-03-14T08:00:00+08:00',
      0,
    ],
    [
      'Fri night: holiday on the Saturday keeps it',
      SH_FRI_NIGHT,
      '2026-03-20T20:00:00+08:00',
      '2026-03-21T08:00:00+08:00',
      8 * H,
    ],
    // 24x7
    ['24x7: one hour', SH_24X7, '2026-09-30T00:00:00+08:00', '2026-09-30T01:00:00+08:00', H],
    ['24x7: across the holiday', SH_24X7, '2026-09-30T12:00:00+08:00', '2026-10-02T12:00:00+08:00', 24 * H],
    ['24x7: inside the holiday', SH_24X7, '2026-10-01T05:00:00+08:00', '2026-10-01T06:00:00+08:00', 0],
    ['24x7 NY: Mar 8 has 23 h', NY_24X7, '2026-03-08T00:00:00-05:00', '2026-03-09T00:00:00-04:00', 23 * H],
    ['24x7 NY: Nov 1 has 25 h', NY_24X7, '2026-11-01T00:00:00-04:00', '2026-11-02T00:00:00-05:00', 25 * H],
  ])('%s', (_name, cal, from, to, expected) => {
    expect(businessElapsed(cal, t(from), t(to))).toBe(expected);
  });
});

describe('addBusinessTime', () => {
  it.each<[string, CalendarSpec, string, number, string]>([
    // Boundaries: adding exactly the rest of the morning lands at 12:00 (the earliest such instant), not 14:00
    [
      '5x8: rest of the morning -> 12:00',
      SH_5X8,
      '2026-03-02T10:00:00+08:00',
      2 * H,
      '2026-03-02T12:00:00.000+08:00',
    ],
    [
      '5x8: one ms more -> 14:00:00.001',
      SH_5X8,
      '2026-03-02T10:00:00+08:00',
      2 * H + 1,
      '2026-03-02T14:00:00.001+08:00',
    ],
    [
      '5x8: 0 inside working time -> from',
      SH_5X8,
      '2026-03-02T11:00:00+08:00',
      0,
      '2026-03-02T11:00:00.000+08:00',
    ],
    ['5x8: 0 at lunch -> from', SH_5X8, '2026-03-02T12:30:00+08:00', 0, '2026-03-02T12:30:00.000+08:00'],
    ['5x8: from lunch', SH_5X8, '2026-03-02T12:30:00+08:00', H, '2026-03-02T15:00:00.000+08:00'],
    ['5x8: across the night', SH_5X8, '2026-03-02T17:00:00+08:00', 2 * H, '2026-03-03T09:00:00.000+08:00'],
    ['5x8: across the weekend', SH_5X8, '2026-03-06T17:00:00+08:00', 2 * H, '2026-03-09T09:00:00.000+08:00'],
    ['5x8: end of Friday', SH_5X8, '2026-03-06T17:00:00+08:00', H, '2026-03-06T18:00:00.000+08:00'],
    ['5x8: from Saturday', SH_5X8, '2026-03-07T10:00:00+08:00', 4 * H, '2026-03-09T12:00:00.000+08:00'],
    ['5x8: a full week', SH_5X8, '2026-03-02T08:00:00+08:00', 40 * H, '2026-03-06T18:00:00.000+08:00'],
    // 2026 National Day
    [
      'CN 2026: over Oct 1-7',
      SH_5X8_CN2026,
      '2026-09-30T10:00:00+08:00',
      9 * H,
      '2026-10-08T11:00:00.000+08:00',
    ],
    [
      'CN 2026: end of Sep 30',
      SH_5X8_CN2026,
      '2026-09-30T17:00:00+08:00',
      H,
      '2026-09-30T18:00:00.000+08:00',
    ],
    [
      'CN 2026: Sep 30 -> Oct 8',
      SH_5X8_CN2026,
      '2026-09-30T17:00:00+08:00',
      2 * H,
      '2026-10-08T09:00:00.000+08:00',
    ],
    [
      'CN 2026: into make-up Sat Oct 10',
      SH_5X8_CN2026,
      '2026-10-09T17:00:00+08:00',
      2 * H,
      '2026-10-10T09:00:00.000+08:00',
    ],
    [
      'CN 2026: into make-up Sun Sep 20',
      SH_5X8_CN2026,
      '2026-09-18T17:00:00+08:00',
      2 * H,
      '2026-09-20T09:00:00.000+08:00',
    ],
    [
      'CN 2026: Thu before 中秋',
      SH_5X8_CN2026,
      '2026-09-24T17:00:00+08:00',
      2 * H,
      '2026-09-28T09:00:00.000+08:00',
    ],
    // New York across DST
    [
      'NY 9-5: over the Mar 8 weekend',
      NY_9TO5,
      '2026-03-06T16:00:00-05:00',
      2 * H,
      '2026-03-09T10:00:00.000-04:00',
    ],
    [
      'NY 9-5: over the Nov 1 weekend',
      NY_9TO5,
      '2026-10-30T16:00:00-04:00',
      2 * H,
      '2026-11-02T10:00:00.000-05:00',
    ],
    [
      'NY nights: the 7 h night',
      NY_NIGHTS,
      '2026-03-07T22:00:00-05:00',
      7 * H,
      '2026-03-08T06:00:00.000-04:00',
    ],
    [
      'NY nights: 7 h + 1 ms',
      NY_NIGHTS,
      '2026-03-07T22:00:00-05:00',
      7 * H + 1,
      '2026-03-08T22:00:00.001-04:00',
    ],
    [
      'NY nights: the 9 h night',
      NY_NIGHTS,
      '2026-10-31T22:00:00-04:00',
      9 * H,
      '2026-11-01T06:00:00.000-05:00',
    ],
    [
      'NY nights: 3 h into the fall-back night',
      NY_NIGHTS,
      '2026-10-31T22:00:00-04:00',
      3 * H,
      '2026-11-01T01:00:00.000-04:00',
    ],
    [
      'NY nights: 4 h into the fall-back night',
      NY_NIGHTS,
      '2026-10-31T22:00:00-04:00',
      4 * H,
      '2026-11-01T01:00:00.000-05:00',
    ],
    [
      'NY DST: gap start is 03:00 EDT',
      NY_GAP,
      '2026-03-08T00:00:00-05:00',
      1,
      '2026-03-08T03:00:00.001-04:00',
    ],
    [
      'NY DST: ambiguous start is the EDT one',
      NY_DST_EDGES,
      '2026-11-01T00:00:00-04:00',
      30 * M,
      '2026-11-01T01:00:00.000-05:00',
    ],
    // Overnight Friday shift with holidays
    [
      'Fri night: skips the Friday holiday',
      SH_FRI_NIGHT,
      '2026-03-13T21:00:00+08:00',
      H,
      '2026-03-20T23:00:00.000+08:00',
    ],
    [
      'Fri night: runs into the Saturday holiday',
      SH_FRI_NIGHT,
      '2026-03-20T22:00:00+08:00',
      8 * H,
      '2026-03-21T06:00:00.000+08:00',
    ],
    [
      'Fri night: from Saturday morning',
      SH_FRI_NIGHT,
      '2026-03-07T05:00:00+08:00',
      2 * H,
      '2026-03-20T23:00:00.000+08:00',
    ],
    // 24x7
    [
      '24x7: to the start of the holiday',
      SH_24X7,
      '2026-09-30T12:00:00+08:00',
      12 * H,
      '2026-10-01T00:00:00.000+08:00',
    ],
    [
      '24x7: over the holiday',
      SH_24X7,
      '2026-09-30T12:00:00+08:00',
      12 * H + 1,
      '2026-10-02T00:00:00.001+08:00',
    ],
    [
      '24x7: from inside the holiday',
      SH_24X7,
      '2026-10-01T09:00:00+08:00',
      30 * M,
      '2026-10-02T00:30:00.000+08:00',
    ],
    ['24x7 NY: over the gap', NY_24X7, '2026-03-08T01:00:00-05:00', 2 * H, '2026-03-08T04:00:00.000-04:00'],
  ])('%s', (_name, cal, from, ms, expected) => {
    const due = addBusinessTime(cal, t(from), ms);
    expect({ at: local(cal, due), ms: due }).toEqual({ at: expected, ms: t(expected) });
    expect(businessElapsed(cal, t(from), due)).toBe(ms);
  });

  it.each<[string, () => unknown, RegExp]>([
    ['negative ms', () => addBusinessTime(SH_5X8, 0, -1), /non-negative integer/],
    ['fractional ms', () => addBusinessTime(SH_5X8, 0, 0.5), /non-negative integer/],
    ['NaN from', () => addBusinessTime(SH_5X8, Number.NaN, 1), /from must be an integer/],
    [
      'more than 10 years of 24x7',
      () => addBusinessTime(NY_24X7, 0, 3661 * 24 * H),
      /do not fit within 3660 days/,
    ],
    [
      'an invalid calendar',
      () => businessElapsed({ ...SH_5X8, timeZone: 'Mars/Olympus' }, 0, 1),
      /invalid calendar: \/timeZone/,
    ],
  ])('throws: %s', (_name, call, message) => {
    expect(call).toThrow(message);
  });
});

describe('a paused clock', () => {
  // The clock runs over each [start, end) and is paused in between; the pause holds nights and holidays.
  it.each<[string, CalendarSpec, [string, string][], number]>([
    [
      'paused over National Day',
      SH_5X8_CN2026,
      [
        ['2026-09-29T10:00:00+08:00', '2026-09-30T11:00:00+08:00'], // 6 h + 3 h
        ['2026-10-08T15:00:00+08:00', '2026-10-09T09:00:00+08:00'], // 3 h + 1 h
      ],
      13 * H,
    ],
    [
      'paused over a night and the Friday holiday',
      SH_FRI_NIGHT,
      [
        ['2026-03-07T04:00:00+08:00', '2026-03-07T05:00:00+08:00'], // 1 h of the Mar 6 shift
        ['2026-03-14T00:00:00+08:00', '2026-03-21T01:00:00+08:00'], // Mar 13 shift is a holiday; Mar 20 shift 3 h
      ],
      4 * H,
    ],
    [
      'paused over the 24x7 holiday',
      SH_24X7,
      [
        ['2026-09-30T22:00:00+08:00', '2026-09-30T23:00:00+08:00'],
        ['2026-10-01T12:00:00+08:00', '2026-10-02T02:00:00+08:00'],
      ],
      3 * H,
    ],
  ])('%s', (_name, cal, running, expected) => {
    const total = running.reduce((sum, [a, b]) => sum + businessElapsed(cal, t(a), t(b)), 0);
    expect(total).toBe(expected);
    // The pause really contains non-working time, including a holiday.
    const [first, second] = running;
    const pause = classify(cal, t(first![1]), t(second![0]));
    expect(pause.some((s) => s.kind === 'holiday')).toBe(true);
    // Pausing never adds time: the unpaused clock counts at least as much.
    expect(businessElapsed(cal, t(first![0]), t(second![1]))).toBeGreaterThanOrEqual(total);
  });
});

describe('inverse property (seeded random)', () => {
  const from0 = t('2025-12-01T00:00:00Z');
  const span = t('2026-12-31T00:00:00Z') - from0;
  it.each(Object.keys(CALENDARS))(
    '%s: businessElapsed(from, addBusinessTime(from, ms)) === ms, minimal',
    (name) => {
      const cal = CALENDARS[name]!;
      const rnd = prng(0x5eed ^ (name.length * 7919));
      for (let i = 0; i < 300; i++) {
        // Half the cases on whole minutes (boundaries matter), half on arbitrary milliseconds.
        const round = i % 2 === 0 ? M : 1;
        const from = from0 + Math.floor((rnd() * span) / round) * round;
        const ms = i % 10 === 0 ? 0 : Math.floor((rnd() * 120 * H) / round) * round;
        const due = addBusinessTime(cal, from, ms);
        expect(due).toBeGreaterThanOrEqual(from);
        expect(businessElapsed(cal, from, due)).toBe(ms);
        if (ms === 0) {
          expect(due).toBe(from);
        } else {
          // Minimal: one ms earlier is one ms short, so `due` is inside working time or ends a working stretch.
          expect(businessElapsed(cal, from, due - 1)).toBe(ms - 1);
          expect(workingIntervals(cal, due - 1, due)).toEqual([{ start: due - 1, end: due }]);
        }
        // Additivity over a random split point.
        const mid = from + Math.floor(rnd() * (due - from + 3 * H));
        const end = mid + Math.floor(rnd() * 48 * H);
        expect(businessElapsed(cal, from, mid) + businessElapsed(cal, mid, end)).toBe(
          businessElapsed(cal, from, end),
        );
      }
    },
  );
});

describe('classify', () => {
  const windows: [string, string][] = [
    ['2026-03-01T00:00:00Z', '2026-03-16T00:00:00Z'],
    ['2026-09-15T03:17:00.123Z', '2026-10-14T00:00:00Z'],
    ['2026-10-28T00:00:00Z', '2026-11-04T00:00:00Z'],
  ];
  const cases = Object.keys(CALENDARS).flatMap((name) => windows.map(([a, b]) => [name, a, b] as const));

  it.each(cases)('%s: covers [%s, %s) exactly; working sums to businessElapsed', (name, a, b) => {
    const cal = CALENDARS[name]!;
    const from = t(a);
    const to = t(b);
    const segments = classify(cal, from, to);
    expect(segments[0]!.start).toBe(from);
    expect(segments[segments.length - 1]!.end).toBe(to);
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      expect(s.end).toBeGreaterThan(s.start);
      if (i > 0) {
        expect(s.start).toBe(segments[i - 1]!.end);
        expect(s.kind === segments[i - 1]!.kind && s.holiday === segments[i - 1]!.holiday).toBe(false);
      }
    }
    const working = segments.filter((s) => s.kind === 'working');
    expect(working.reduce((sum, s) => sum + s.end - s.start, 0)).toBe(businessElapsed(cal, from, to));
    expect(working.map(({ start, end }) => ({ start, end }))).toEqual(workingIntervals(cal, from, to));
  });

  it.each<[string, CalendarSpec, string, string, string[]]>([
    [
      '5x8 over lunch and a night',
      SH_5X8,
      '2026-03-02T11:00:00+08:00',
      '2026-03-03T09:00:00+08:00',
      [
        'working 2026-03-02T11:00:00.000+08:00 .. 2026-03-02T12:00:00.000+08:00',
        'off_hours 2026-03-02T12:00:00.000+08:00 .. 2026-03-02T14:00:00.000+08:00',
        'working 2026-03-02T14:00:00.000+08:00 .. 2026-03-02T18:00:00.000+08:00',
        'off_hours 2026-03-02T18:00:00.000+08:00 .. 2026-03-03T08:00:00.000+08:00',
        'working 2026-03-03T08:00:00.000+08:00 .. 2026-03-03T09:00:00.000+08:00',
      ],
    ],
    [
      'CN 2026: into National Day',
      SH_5X8_CN2026,
      '2026-09-30T17:00:00+08:00',
      '2026-10-08T09:00:00+08:00',
      [
        'working 2026-09-30T17:00:00.000+08:00 .. 2026-09-30T18:00:00.000+08:00',
        'off_hours 2026-09-30T18:00:00.000+08:00 .. 2026-10-01T00:00:00.000+08:00',
        'holiday(国庆节) 2026-10-01T00:00:00.000+08:00 .. 2026-10-08T00:00:00.000+08:00',
        'off_hours 2026-10-08T00:00:00.000+08:00 .. 2026-10-08T08:00:00.000+08:00',
        'working 2026-10-08T08:00:00.000+08:00 .. 2026-10-08T09:00:00.000+08:00',
      ],
    ],
    [
      'Friday shift running into a Saturday holiday',
      SH_FRI_NIGHT,
      '2026-03-20T21:00:00+08:00',
      '2026-03-21T08:00:00+08:00',
      [
        'off_hours 2026-03-20T21:00:00.000+08:00 .. 2026-03-20T22:00:00.000+08:00',
        'working 2026-03-20T22:00:00.000+08:00 .. 2026-03-21T06:00:00.000+08:00',
        'holiday(Saturday off) 2026-03-21T06:00:00.000+08:00 .. 2026-03-21T08:00:00.000+08:00',
      ],
    ],
    [
      'Friday shift on a Friday holiday',
      SH_FRI_NIGHT,
      '2026-03-13T21:00:00+08:00',
      '2026-03-14T08:00:00+08:00',
      [
        'holiday(Friday off) 2026-03-13T21:00:00.000+08:00 .. 2026-03-14T00:00:00.000+08:00',
        'off_hours 2026-03-14T00:00:00.000+08:00 .. 2026-03-14T08:00:00.000+08:00',
      ],
    ],
    [
      '24x7 with a holiday',
      SH_24X7,
      '2026-09-30T20:00:00+08:00',
      '2026-10-02T01:00:00+08:00',
      [
        'working 2026-09-30T20:00:00.000+08:00 .. 2026-10-01T00:00:00.000+08:00',
        'holiday(国庆节) 2026-10-01T00:00:00.000+08:00 .. 2026-10-02T00:00:00.000+08:00',
        'working 2026-10-02T00:00:00.000+08:00 .. 2026-10-02T01:00:00.000+08:00',
      ],
    ],
  ])('%s', (_name, cal, from, to, expected) => {
    expect(classify(cal, t(from), t(to)).map((s) => seg(cal, s))).toEqual(expected);
  });

  it('is empty when to <= from', () => {
    expect(classify(SH_5X8, 10, 10)).toEqual([]);
    expect(workingIntervals(SH_5X8, 10, 5)).toEqual([]);
  });
});

describe('calendarProblems', () => {
  const base = (over: Partial<CalendarSpec>): unknown => ({ ...SH_5X8, ...over });
  it.each<[string, unknown, string[]]>([
    ['valid 5x8', SH_5X8, []],
    ['valid with China 2025 holidays', base({ exceptions: CHINA_HOLIDAYS['2025'] }), []],
    ['valid with China 2026 holidays', SH_5X8_CN2026, []],
    ['valid nightly shifts', NY_NIGHTS, []],
    ['valid 24x7 with a holiday', SH_24X7, []],
    ['valid "to" 24:00', base({ workingHours: [{ day: 'mon', from: '00:00', to: '24:00' }] }), []],
    ['not an object', 'calendar', ['']],
    ['unknown zone', base({ timeZone: 'Mars/Olympus' }), ['/timeZone']],
    ['missing zone', { alwaysOpen: true, workingHours: [], exceptions: [] }, ['/timeZone']],
    ['alwaysOpen not a boolean', base({ alwaysOpen: 'yes' as never }), ['/alwaysOpen']],
    [
      'bad time 25:00',
      base({
        workingHours: [
          { day: 'mon', from: '08:00', to: '12:00' },
          { day: 'tue', from: '08:00', to: '12:00' },
          { day: 'wed', from: '08:00', to: '25:00' },
        ],
      }),
      ['/workingHours/2/to'],
    ],
    [
      'from 24:00',
      base({ workingHours: [{ day: 'mon', from: '24:00', to: '12:00' }] }),
      ['/workingHours/0/from'],
    ],
    [
      'time 8:00',
      base({ workingHours: [{ day: 'mon', from: '8:00', to: '12:00' }] }),
      ['/workingHours/0/from'],
    ],
    [
      'bad day',
      base({ workingHours: [{ day: 'monday' as Weekday, from: '08:00', to: '12:00' }] }),
      ['/workingHours/0/day'],
    ],
    [
      'overlapping ranges',
      base({
        workingHours: [
          { day: 'mon', from: '08:00', to: '12:00' },
          { day: 'mon', from: '11:00', to: '13:00' },
        ],
      }),
      ['/workingHours/1'],
    ],
    [
      'duplicate ranges',
      base({
        workingHours: [
          { day: 'tue', from: '08:00', to: '12:00' },
          { day: 'tue', from: '08:00', to: '12:00' },
        ],
      }),
      ['/workingHours/1'],
    ],
    [
      'overnight range into the same day range',
      base({
        workingHours: [
          { day: 'fri', from: '20:00', to: '02:00' },
          { day: 'fri', from: '21:00', to: '23:00' },
        ],
      }),
      ['/workingHours/1'],
    ],
    [
      'overnight range into the next day',
      base({
        workingHours: [
          { day: 'sun', from: '22:00', to: '06:00' },
          { day: 'mon', from: '05:00', to: '10:00' },
        ],
      }),
      ['/workingHours/1'],
    ],
    [
      'adjacent ranges are fine',
      base({
        workingHours: [
          { day: 'sun', from: '22:00', to: '06:00' },
          { day: 'mon', from: '06:00', to: '10:00' },
          { day: 'mon', from: '10:00', to: '12:00' },
        ],
      }),
      [],
    ],
    ['bad date', base({ exceptions: [{ date: '2026-02-30', kind: 'holiday' }] }), ['/exceptions/0/date']],
    [
      'bad date format',
      base({ exceptions: [{ date: '2026/10/01', kind: 'holiday' }] }),
      ['/exceptions/0/date'],
    ],
    [
      'bad kind',
      base({ exceptions: [{ date: '2026-10-01', kind: 'vacation' as never }] }),
      ['/exceptions/0/kind'],
    ],
    [
      'two exceptions on one date',
      base({
        exceptions: [
          { date: '2026-10-01', kind: 'holiday' },
          { date: '2026-10-01', kind: 'workday' },
        ],
      }),
      ['/exceptions/1/date'],
    ],
    [
      'workday without hours and no mon hours',
      base({
        workingHours: [{ day: 'tue', from: '08:00', to: '12:00' }],
        exceptions: [{ date: '2026-10-10', kind: 'workday' }],
      }),
      ['/exceptions/0/hours'],
    ],
    [
      'holiday with hours',
      base({
        exceptions: [{ date: '2026-10-01', kind: 'holiday', hours: [{ from: '08:00', to: '12:00' }] }],
      }),
      ['/exceptions/0/hours'],
    ],
    [
      'workday with empty hours',
      base({ exceptions: [{ date: '2026-10-10', kind: 'workday', hours: [] }] }),
      ['/exceptions/0/hours'],
    ],
    [
      'workday with bad and overlapping hours',
      base({
        exceptions: [
          {
            date: '2026-10-10',
            kind: 'workday',
            hours: [
              { from: '08:00', to: '12:00' },
              { from: '09:00', to: '10:00' },
              { from: '14:00', to: '18:60' },
            ],
          },
        ],
      }),
      ['/exceptions/0/hours/2/to', '/exceptions/0/hours/1'],
    ],
    ['no working time', base({ workingHours: [] }), ['/workingHours']],
    [
      'not arrays',
      { timeZone: 'UTC', alwaysOpen: false, workingHours: {}, exceptions: null },
      ['/workingHours', '/exceptions'],
    ],
  ])('%s', (_name, spec, pointers) => {
    const problems = calendarProblems(spec);
    expect(problems.map((p) => p.pointer)).toEqual(pointers);
    for (const p of problems) expect(p.detail).toMatch(/\S/);
  });
});

describe('CHINA_HOLIDAYS', () => {
  const weekday = (date: string) => WEEK[(new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7];
  it.each<['2025' | '2026', number, string[]]>([
    ['2025', 28, ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11']],
    ['2026', 33, ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']],
  ])('%s: %i holiday dates, make-up days on weekends, one entry per date', (year, holidayCount, makeUp) => {
    const list = CHINA_HOLIDAYS[year];
    expect(list.filter((e) => e.kind === 'holiday')).toHaveLength(holidayCount);
    const workdays = list.filter((e) => e.kind === 'workday');
    expect(workdays.map((e) => e.date)).toEqual(makeUp);
    for (const w of workdays) {
      expect(['sat', 'sun']).toContain(weekday(w.date));
      expect(w.hours).toBeUndefined();
      expect(w.name).toMatch(/调休上班$/);
    }
    expect(new Set(list.map((e) => e.date)).size).toBe(list.length);
    expect(list.every((e) => e.date.startsWith(`${year}-`) && e.name)).toBe(true);
    expect(list.map((e) => e.date)).toEqual([...list.map((e) => e.date)].sort());
  });

  it('2026 names', () => {
    const names = new Map(CHINA_HOLIDAYS['2026'].map((e) => [e.date, e.name]));
    expect(names.get('2026-01-02')).toBe('元旦');
    expect(names.get('2026-02-17')).toBe('春节');
    expect(names.get('2026-04-05')).toBe('清明节');
    expect(names.get('2026-05-01')).toBe('劳动节');
    expect(names.get('2026-06-19')).toBe('端午节');
    expect(names.get('2026-09-25')).toBe('中秋节');
    expect(names.get('2026-10-01')).toBe('国庆节');
    expect(names.get('2026-10-10')).toBe('国庆节调休上班');
  });
});
