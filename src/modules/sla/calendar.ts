/**
 * Business calendars: exact business-time arithmetic for SLA clocks.
 *
 * Pure code: no I/O, no clock. Every instant is an integer of epoch milliseconds, every interval is
 * half-open `[start, end)`. Results are exact integers; the functions throw a `RangeError` for
 * non-integer or non-finite instants/durations and for a calendar that `calendarProblems` rejects.
 *
 * Semantics (the contract the SLA clocks rely on):
 *
 * - **Wall-clock hours.** `workingHours` are local wall-clock times in `timeZone` (IANA). A range on the
 *   local date D, 'HH:MM' to 'HH:MM', becomes the instants of those wall times on D. `to` may be '24:00'
 *   (midnight ending D). A range whose `to` <= `from` (e.g. fri 22:00–06:00, or 08:00–08:00 = 24 h) runs
 *   from D `from` to D+1 `to`: an overnight shift. It *belongs to* D (the day it starts on).
 * - **DST.** A wall time that does not exist (spring-forward gap) maps to the first valid instant after
 *   it, i.e. the transition instant itself (02:30 on 2026-03-08 in America/New_York -> 03:00 EDT). A wall
 *   time that exists twice (fall-back) takes the earlier offset, i.e. the first occurrence (01:30 on
 *   2026-11-01 in New York -> 01:30 EDT). So a 00:00–06:00 range is 5 real hours on the spring-forward
 *   night and 7 on the fall-back night. NB: these rules are stated here and implemented directly on
 *   the zone's offset data; luxon's `DateTime.fromObject` defaults differ (it shifts a gap time by the gap
 *   length, 02:30 -> 03:30, and takes the *later* offset for an ambiguous time), so it is not used for the
 *   conversion. Offsets are read from `Intl` (the same tz data luxon uses) and memoised per zone; the
 *   memo does not change any result. Assumes a zone changes its offset at most once per 24 h, true of
 *   every zone in the tz database since 1970.
 * - **alwaysOpen** (the `24x7` shortcut): all time is working time; `workingHours` are ignored. A
 *   `holiday` exception still removes its whole local day [D 00:00, D+1 00:00); a `workday` exception
 *   changes nothing (24x7 calendars with holidays are rare but allowed).
 * - **Exceptions.** A `holiday` exception on D removes every range that *belongs to* D, including D's own
 *   overnight range running into D+1; an overnight range that started on D-1 and runs into D still
 *   counts (it belongs to D-1). A `workday` exception on D (调休 make-up working day, usually a Saturday
 *   or Sunday) replaces D's ranges with its `hours`, or, when `hours` is absent, with the calendar's 'mon'
 *   ranges. Two exceptions on one date are rejected by `calendarProblems` (the functions below refuse
 *   such a calendar).
 * - **Overlaps.** Ranges of the same day must not overlap, nor may an overnight range overlap the next
 *   day's ranges (`calendarProblems`). Whatever the input, time is counted once: working time is the
 *   union of all ranges.
 * - **addBusinessTime** returns the *earliest* instant t >= from with businessElapsed(from, t) === ms.
 *   For ms = 0 that is `from` itself, working time or not. For ms > 0 it is never the start of a
 *   non-working stretch: on a 08:00–12:00 / 14:00–18:00 day, adding exactly the rest of the morning lands
 *   at 12:00, not 14:00. It searches at most 10 years (3660 local days) ahead, then throws.
 * - **classify** labels non-working time 'holiday' (with the exception's `name`) when its local date is
 *   a holiday exception date, else 'off_hours'.
 */
import { IANAZone } from 'luxon';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
/** 'HH:MM', 24 h; `to` may be '24:00'; `to` <= `from` means the range crosses midnight into the next day. */
export interface HoursRange {
  from: string;
  to: string;
}
export interface WorkingHours extends HoursRange {
  day: Weekday;
}
export interface CalendarException {
  /** YYYY-MM-DD, local date in the calendar's zone. */
  date: string;
  kind: 'holiday' | 'workday';
  /** Only for 'workday': the day's ranges; absent = the calendar's 'mon' ranges. */
  hours?: HoursRange[];
  name?: string;
}
export interface CalendarSpec {
  /** IANA zone, e.g. 'Asia/Shanghai'. */
  timeZone: string;
  alwaysOpen: boolean;
  workingHours: WorkingHours[];
  exceptions: CalendarException[];
}
export type SegmentKind = 'working' | 'off_hours' | 'holiday';
/** Epoch ms, [start, end). */
export interface Segment {
  start: number;
  end: number;
  kind: SegmentKind;
  /** The holiday exception's name, on 'holiday' segments whose exception has one. */
  holiday?: string;
}
export interface Interval {
  start: number;
  end: number;
}
export interface CalendarProblem {
  /** JSON pointer into the spec, e.g. '/workingHours/2/to'. */
  pointer: string;
  detail: string;
}

export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far addBusinessTime searches, in local days (10 years). */
const MAX_SEARCH_DAYS = 3660;

// ---------------------------------------------------------------------------------------------------
// Zone offsets

const CHUNK_DAYS = 400;
const CHUNK = CHUNK_DAYS * DAY;
const MAX_CHUNKS_PER_ZONE = 256;

interface OffsetChunk {
  /** Offset (ms, local - UTC) at the chunk's start. */
  first: number;
  /** Transition instants in the chunk, ascending: the first ms at which `off[i]` applies. */
  at: number[];
  off: number[];
}

interface Transition {
  at: number;
  before: number;
  after: number;
}

class ZoneOffsets {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly chunks = new Map<number, OffsetChunk>();

  constructor(zone: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  }

  /** Offset in ms straight from Intl (slow; only used to build chunks). */
  private raw(ts: number): number {
    const m = /GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$/.exec(this.fmt.format(ts));
    if (!m) throw new RangeError(`cannot read the zone offset at ${ts}`);
    if (!m[1]) return 0;
    const abs = Number(m[2]) * 3_600_000 + Number(m[3] ?? 0) * MINUTE + Number(m[4] ?? 0) * 1000;
    return m[1] === '-' ? -abs : abs;
  }

  private chunk(k: number): OffsetChunk {
    const cached = this.chunks.get(k);
    if (cached) return cached;
    const start = k * CHUNK;
    const end = start + CHUNK;
    const first = this.raw(start);
    const at: number[] = [];
    const off: number[] = [];
    let prev = first;
    for (let i = 1; i <= CHUNK_DAYS; i++) {
      const s = start + i * DAY;
      const o = this.raw(s);
      if (o === prev) continue;
      let lo = s - DAY;
      let hi = s;
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (this.raw(mid) === prev) lo = mid;
        else hi = mid;
      }
      if (hi < end) {
        at.push(hi);
        off.push(o);
      }
      prev = o;
    }
    if (this.chunks.size >= MAX_CHUNKS_PER_ZONE) this.chunks.clear();
    const made = { first, at, off };
    this.chunks.set(k, made);
    return made;
  }

  offsetAt(ts: number): number {
    const c = this.chunk(Math.floor(ts / CHUNK));
    let o = c.first;
    for (let i = 0; i < c.at.length && (c.at[i] as number) <= ts; i++) o = c.off[i] as number;
    return o;
  }

  /** Transitions with a < at <= b, ascending. */
  transitions(a: number, b: number): Transition[] {
    const out: Transition[] = [];
    for (let k = Math.floor(a / CHUNK); k <= Math.floor(b / CHUNK); k++) {
      const c = this.chunk(k);
      let before = c.first;
      for (let i = 0; i < c.at.length; i++) {
        const at = c.at[i] as number;
        const after = c.off[i] as number;
        if (at > a && at <= b) out.push({ at, before, after });
        before = after;
      }
    }
    return out;
  }

  /** Local date (days since 1970-01-01) of an instant. */
  localDay(ts: number): number {
    return Math.floor((ts + this.offsetAt(ts)) / DAY);
  }

  /**
   * The instant of a local wall time given as "local epoch ms" (wall time read as if UTC).
   * Gap -> the transition instant (first valid instant); ambiguous -> earlier offset (earlier instant).
   */
  toInstant(wall: number): number {
    const a = wall - DAY;
    const b = wall + DAY;
    const o0 = this.offsetAt(a);
    const trs = this.transitions(a, b);
    if (trs.length === 0) return wall - o0;
    let best = Number.NaN;
    for (const o of [o0, ...trs.map((t) => t.after)]) {
      const t = wall - o;
      if (this.offsetAt(t) === o && !(t >= best)) best = t;
    }
    if (!Number.isNaN(best)) return best;
    for (const tr of trs) {
      if (wall >= tr.at + tr.before && wall < tr.at + tr.after) return tr.at;
    }
    throw new RangeError(`cannot map local time ${new Date(wall).toISOString()} to an instant`);
  }
}

const zones = new Map<string, ZoneOffsets>();
function zoneOffsets(zone: string): ZoneOffsets {
  let z = zones.get(zone);
  if (!z) {
    z = new ZoneOffsets(zone);
    if (zones.size >= 1000) zones.clear();
    zones.set(zone, z);
  }
  return z;
}

const zoneValidity = new Map<string, boolean>();
function isValidZone(zone: string): boolean {
  let ok = zoneValidity.get(zone);
  if (ok === undefined) {
    ok = IANAZone.isValidZone(zone);
    if (zoneValidity.size >= 1000) zoneValidity.clear();
    zoneValidity.set(zone, ok);
  }
  return ok;
}

// ---------------------------------------------------------------------------------------------------
// Parsing and validation

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes after midnight; '24:00' only when `allow24`; undefined when malformed. */
function parseHHMM(v: unknown, allow24: boolean): number | undefined {
  if (typeof v !== 'string') return undefined;
  if (allow24 && v === '24:00') return 1440;
  const m = HHMM.exec(v);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** Days since 1970-01-01 of a real calendar date 'YYYY-MM-DD'; undefined when malformed. */
function parseDate(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = DATE.exec(v);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return ms / DAY;
}

/** A range in minutes after the start of the day it belongs to; `to` > 1440 for an overnight range. */
interface MinuteRange {
  from: number;
  to: number;
}

function toMinuteRange(from: number, to: number): MinuteRange {
  return { from, to: to <= from ? to + 1440 : to };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fmtRange(r: MinuteRange): string {
  const f = (m: number) => {
    if (m === 1440) return '24:00';
    const x = m % 1440;
    return `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
  };
  return `${f(r.from)}–${f(r.to)}`;
}

/**
 * Validate ranges given as an array at `base` (e.g. '/exceptions/3/hours'); returns the parsed ranges
 * (undefined for malformed items) and pushes problems. With `withDay`, items carry a `day` too.
 */
function checkRanges(
  items: unknown[],
  base: string,
  withDay: boolean,
  problems: CalendarProblem[],
): ({ day: number; range: MinuteRange } | undefined)[] {
  return items.map((item, i) => {
    const p = `${base}/${i}`;
    if (!isObject(item)) {
      problems.push({ pointer: p, detail: 'must be an object { from, to' + (withDay ? ', day }' : ' }') });
      return undefined;
    }
    let day = 0;
    let ok = true;
    if (withDay) {
      day = WEEKDAYS.indexOf(item['day'] as Weekday);
      if (day < 0) {
        problems.push({ pointer: `${p}/day`, detail: `must be one of ${WEEKDAYS.join(', ')}` });
        ok = false;
      }
    }
    const from = parseHHMM(item['from'], false);
    if (from === undefined) {
      problems.push({ pointer: `${p}/from`, detail: `must be a time 'HH:MM' from 00:00 to 23:59` });
      ok = false;
    }
    const to = parseHHMM(item['to'], true);
    if (to === undefined) {
      problems.push({ pointer: `${p}/to`, detail: `must be a time 'HH:MM' from 00:00 to 24:00` });
      ok = false;
    }
    if (!ok || from === undefined || to === undefined) return undefined;
    return { day, range: toMinuteRange(from, to) };
  });
}

function overlaps(a: MinuteRange, b: MinuteRange): boolean {
  return a.from < b.to && b.from < a.to;
}

/** Same-day overlaps among parsed ranges of one day; reports on the later item. */
function checkOverlaps(
  parsed: ({ day: number; range: MinuteRange } | undefined)[],
  base: string,
  problems: CalendarProblem[],
): void {
  for (let j = 0; j < parsed.length; j++) {
    const b = parsed[j];
    if (!b) continue;
    for (let i = 0; i < j; i++) {
      const a = parsed[i];
      if (!a || a.day !== b.day || !overlaps(a.range, b.range)) continue;
      const same = a.range.from === b.range.from && a.range.to === b.range.to;
      problems.push({
        pointer: `${base}/${j}`,
        detail: `${same ? 'duplicates' : 'overlaps'} ${base}/${i} (${fmtRange(a.range)}) on the same day`,
      });
      break;
    }
  }
}

/**
 * Problems with a calendar given as API input (shape and meaning), as { pointer, detail } with JSON
 * pointers into the input; an empty array when the calendar is valid. Checks: zone known to the tz
 * database, 'HH:MM' times, real dates, no overlapping ranges on one day (nor an overnight range running
 * into the next day's ranges), at most one exception per date, `hours` only on workday exceptions and
 * not empty, a workday exception without `hours` only when the calendar has 'mon' hours, and some
 * working time at all.
 */
export function calendarProblems(spec: unknown): CalendarProblem[] {
  const problems: CalendarProblem[] = [];
  if (!isObject(spec)) return [{ pointer: '', detail: 'must be an object' }];

  const tz = spec['timeZone'];
  if (typeof tz !== 'string' || tz === '') {
    problems.push({ pointer: '/timeZone', detail: 'must be an IANA time zone name, e.g. Asia/Shanghai' });
  } else if (!isValidZone(tz)) {
    problems.push({ pointer: '/timeZone', detail: `unknown time zone '${tz}'` });
  }

  const alwaysOpen = spec['alwaysOpen'];
  if (typeof alwaysOpen !== 'boolean') problems.push({ pointer: '/alwaysOpen', detail: 'must be a boolean' });

  let hasMon = false;
  let hasHours = false;
  const wh = spec['workingHours'];
  if (!Array.isArray(wh)) {
    problems.push({ pointer: '/workingHours', detail: 'must be an array' });
  } else {
    const parsed = checkRanges(wh, '/workingHours', true, problems);
    checkOverlaps(parsed, '/workingHours', problems);
    // An overnight range of day d running into the ranges of day d+1.
    for (let j = 0; j < parsed.length; j++) {
      const b = parsed[j];
      if (!b) continue;
      for (let i = 0; i < parsed.length; i++) {
        const a = parsed[i];
        if (!a || a.range.to <= 1440 || (a.day + 1) % 7 !== b.day) continue;
        if (b.range.from < a.range.to - 1440) {
          problems.push({
            pointer: `/workingHours/${j}`,
            detail: `overlaps the overnight range /workingHours/${i} (${WEEKDAYS[a.day]} ${fmtRange(a.range)})`,
          });
          break;
        }
      }
    }
    hasMon = parsed.some((p) => p?.day === 0);
    hasHours = wh.length > 0;
  }

  const ex = spec['exceptions'];
  let hasWorkdayHours = false;
  if (!Array.isArray(ex)) {
    problems.push({ pointer: '/exceptions', detail: 'must be an array' });
  } else {
    const seen = new Map<number, number>();
    ex.forEach((e, i) => {
      const p = `/exceptions/${i}`;
      if (!isObject(e)) {
        problems.push({ pointer: p, detail: 'must be an object { date, kind, hours?, name? }' });
        return;
      }
      const day = parseDate(e['date']);
      if (day === undefined) {
        problems.push({ pointer: `${p}/date`, detail: `must be a real date 'YYYY-MM-DD'` });
      } else {
        const first = seen.get(day);
        if (first !== undefined) {
          problems.push({
            pointer: `${p}/date`,
            detail: `${String(e['date'])} already has an exception (/exceptions/${first}); one per date`,
          });
        } else {
          seen.set(day, i);
        }
      }
      const kind = e['kind'];
      if (kind !== 'holiday' && kind !== 'workday') {
        problems.push({ pointer: `${p}/kind`, detail: `must be 'holiday' or 'workday'` });
      }
      if (e['name'] !== undefined && typeof e['name'] !== 'string') {
        problems.push({ pointer: `${p}/name`, detail: 'must be a string' });
      }
      const hours = e['hours'];
      if (hours === undefined) {
        if (kind === 'workday' && !hasMon && alwaysOpen !== true) {
          problems.push({
            pointer: `${p}/hours`,
            detail: `a workday without hours takes the 'mon' hours, and this calendar has none`,
          });
        }
      } else if (kind === 'holiday') {
        problems.push({ pointer: `${p}/hours`, detail: 'only workday exceptions have hours' });
      } else if (!Array.isArray(hours)) {
        problems.push({ pointer: `${p}/hours`, detail: 'must be an array' });
      } else if (hours.length === 0) {
        problems.push({
          pointer: `${p}/hours`,
          detail: 'must not be empty (omit it for the standard day; use a holiday for no hours)',
        });
      } else {
        checkOverlaps(checkRanges(hours, `${p}/hours`, false, problems), `${p}/hours`, problems);
        if (kind === 'workday') hasWorkdayHours = true;
      }
    });
  }

  if (alwaysOpen === false && Array.isArray(wh) && !hasHours && !hasWorkdayHours) {
    problems.push({ pointer: '/workingHours', detail: 'the calendar has no working time at all' });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Compiled calendar

interface DayException {
  kind: 'holiday' | 'workday';
  ranges: MinuteRange[];
  name: string | undefined;
}

interface Compiled {
  z: ZoneOffsets;
  alwaysOpen: boolean;
  /** Ranges per weekday, index 0 = mon .. 6 = sun, sorted by start. */
  week: MinuteRange[][];
  exceptions: Map<number, DayException>;
}

function sortRanges(rs: MinuteRange[]): MinuteRange[] {
  return rs.sort((a, b) => a.from - b.from);
}

function compile(cal: CalendarSpec): Compiled {
  const problems = calendarProblems(cal);
  if (problems.length > 0) {
    const list = problems
      .slice(0, 3)
      .map((p) => `${p.pointer}: ${p.detail}`)
      .join('; ');
    throw new RangeError(`invalid calendar: ${list}${problems.length > 3 ? '; ...' : ''}`);
  }
  const range = (h: HoursRange) => toMinuteRange(parseHHMM(h.from, false)!, parseHHMM(h.to, true)!);
  const week: MinuteRange[][] = WEEKDAYS.map(() => []);
  for (const h of cal.workingHours) week[WEEKDAYS.indexOf(h.day)]!.push(range(h));
  for (const d of week) sortRanges(d);
  const exceptions = new Map<number, DayException>();
  for (const e of cal.exceptions) {
    const ranges = e.kind === 'workday' ? (e.hours ? sortRanges(e.hours.map(range)) : week[0]!) : [];
    exceptions.set(parseDate(e.date)!, { kind: e.kind, ranges, name: e.name });
  }
  return { z: zoneOffsets(cal.timeZone), alwaysOpen: cal.alwaysOpen, week, exceptions };
}

/** Weekday index (0 = mon) of a day number (days since 1970-01-01, a Thursday). */
function weekdayOf(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/**
 * The working intervals belonging to local day `day`, as a flat [start0, end0, start1, end1, ...],
 * ascending by start, empty ones dropped. Each lies within [day 00:00, day+2 00:00) local.
 */
function dayIntervals(c: Compiled, day: number, out: number[]): void {
  const e = c.exceptions.get(day);
  const base = day * DAY;
  if (c.alwaysOpen) {
    if (e?.kind === 'holiday') return;
    out.push(c.z.toInstant(base), c.z.toInstant(base + DAY));
    return;
  }
  const ranges = e ? e.ranges : (c.week[weekdayOf(day)] as MinuteRange[]);
  for (const r of ranges) {
    const s = c.z.toInstant(base + r.from * MINUTE);
    const t = c.z.toInstant(base + r.to * MINUTE);
    if (t > s) out.push(s, t);
  }
}

function checkInstant(name: string, v: number): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be an integer of epoch milliseconds`);
}

/**
 * Walk the union of working time from `from` on, in ascending order, calling `visit(start, end)` with
 * disjoint pieces clipped to start at or after `from`; stop when `visit` returns true or after
 * `maxDays` local days. Returns whether `visit` stopped the walk.
 */
function walk(c: Compiled, from: number, maxDays: number, visit: (s: number, e: number) => boolean): boolean {
  const first = c.z.localDay(from) - 1;
  const buf: number[] = [];
  let covered = from;
  for (let d = first; d <= first + maxDays; d++) {
    buf.length = 0;
    dayIntervals(c, d, buf);
    for (let i = 0; i < buf.length; i += 2) {
      const s = Math.max(buf[i] as number, covered);
      const e = buf[i + 1] as number;
      if (e <= s) continue;
      covered = e;
      if (visit(s, e)) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Public arithmetic

/** Working intervals overlapping [from, to), clipped to it, ascending, merged (adjacent/overlapping joined). */
export function workingIntervals(cal: CalendarSpec, from: number, to: number): Interval[] {
  checkInstant('from', from);
  checkInstant('to', to);
  if (to <= from) return [];
  const c = compile(cal);
  const out: Interval[] = [];
  const days = c.z.localDay(to) - c.z.localDay(from) + 2;
  walk(c, from, days, (s, e) => {
    if (s >= to) return true;
    const end = Math.min(e, to);
    const last = out[out.length - 1];
    if (last && last.end >= s) last.end = Math.max(last.end, end);
    else out.push({ start: s, end });
    return false;
  });
  return out;
}

/** Business milliseconds in [from, to); 0 when to <= from. */
export function businessElapsed(cal: CalendarSpec, from: number, to: number): number {
  checkInstant('from', from);
  checkInstant('to', to);
  if (to <= from) return 0;
  const c = compile(cal);
  let sum = 0;
  const days = c.z.localDay(to) - c.z.localDay(from) + 2;
  walk(c, from, days, (s, e) => {
    if (s >= to) return true;
    sum += Math.min(e, to) - s;
    return false;
  });
  return sum;
}

/**
 * The earliest instant t >= from with businessElapsed(cal, from, t) === ms: the exact inverse of
 * businessElapsed. ms = 0 returns `from` (whether or not it is working time). For ms > 0 the result is
 * inside working time or at the end of a working stretch (never the start of the next one: adding the
 * rest of the morning lands at 12:00, not 14:00). Throws a RangeError for a negative or non-integer ms,
 * and an Error when the time does not fit within 10 years (3660 local days) after `from`.
 */
export function addBusinessTime(cal: CalendarSpec, from: number, ms: number): number {
  checkInstant('from', from);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('ms must be a non-negative integer');
  const c = compile(cal);
  if (ms === 0) return from;
  let remaining = ms;
  let result = Number.NaN;
  const found = walk(c, from, MAX_SEARCH_DAYS, (s, e) => {
    if (remaining <= e - s) {
      result = s + remaining;
      return true;
    }
    remaining -= e - s;
    return false;
  });
  if (!found) {
    throw new Error(
      `addBusinessTime: ${ms} ms of business time do not fit within ${MAX_SEARCH_DAYS} days after ${new Date(from).toISOString()}`,
    );
  }
  return result;
}

/**
 * [from, to) cut into consecutive segments labelled 'working', 'off_hours' or 'holiday' (non-working
 * time whose local date is a holiday exception, with the exception's name), covering [from, to)
 * exactly, ascending, no gaps; neighbours with the same label are joined. Empty when to <= from.
 */
export function classify(cal: CalendarSpec, from: number, to: number): Segment[] {
  const working = workingIntervals(cal, from, to);
  if (to <= from) return [];
  const c = compile(cal);
  const out: Segment[] = [];
  const push = (start: number, end: number, kind: SegmentKind, holiday?: string) => {
    if (end <= start) return;
    const last = out[out.length - 1];
    if (last && last.end === start && last.kind === kind && last.holiday === holiday) {
      last.end = end;
      return;
    }
    out.push(holiday === undefined ? { start, end, kind } : { start, end, kind, holiday });
  };
  const gap = (a: number, b: number) => {
    while (a < b) {
      const day = c.z.localDay(a);
      let next = c.z.toInstant((day + 1) * DAY);
      if (next <= a) next = c.z.toInstant((day + 2) * DAY);
      const end = Math.min(b, next);
      const e = c.exceptions.get(day);
      if (e?.kind === 'holiday') push(a, end, 'holiday', e.name);
      else push(a, end, 'off_hours');
      a = end;
    }
  };
  let at = from;
  for (const w of working) {
    gap(at, w.start);
    push(w.start, w.end, 'working');
    at = w.end;
  }
  gap(at, to);
  return out;
}
