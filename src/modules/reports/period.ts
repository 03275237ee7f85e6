import { DateTime } from 'luxon';

/**
 * Reporting periods, pure: `2026-10` (monthly), `2026-Q4` (quarterly), `2026` (yearly), `2026-W43`
 * (ISO week, Monday to Monday). Boundaries are local midnights in the definition's time zone, so a
 * Shanghai month runs from 16:00 UTC on the last day of the previous month.
 */
export const PERIOD_KINDS = ['monthly', 'quarterly', 'yearly', 'weekly'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export interface Period {
  kind: PeriodKind;
  key: string;
  /** Inclusive start. */
  from: Date;
  /** Exclusive end. */
  to: Date;
}

export const PERIOD_PATTERNS: Record<PeriodKind, RegExp> = {
  monthly: /^(\d{4})-(0[1-9]|1[0-2])$/,
  quarterly: /^(\d{4})-Q([1-4])$/,
  yearly: /^(\d{4})$/,
  weekly: /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/,
};

export const PERIOD_EXAMPLES: Record<PeriodKind, string> = {
  monthly: '2026-10',
  quarterly: '2026-Q4',
  yearly: '2026',
  weekly: '2026-W43',
};

const UNIT: Record<PeriodKind, 'month' | 'quarter' | 'year' | 'week'> = {
  monthly: 'month',
  quarterly: 'quarter',
  yearly: 'year',
  weekly: 'week',
};

function keyOf(kind: PeriodKind, start: DateTime): string {
  switch (kind) {
    case 'monthly':
      return start.toFormat('yyyy-MM');
    case 'quarterly':
      return `${start.toFormat('yyyy')}-Q${start.quarter}`;
    case 'yearly':
      return start.toFormat('yyyy');
    case 'weekly':
      return `${start.toFormat('kkkk')}-W${start.toFormat('WW')}`;
  }
}

function fromStart(kind: PeriodKind, start: DateTime): Period {
  const end = start.plus({ [`${UNIT[kind]}s`]: 1 });
  return { kind, key: keyOf(kind, start), from: start.toJSDate(), to: end.toJSDate() };
}

/** The period `key` names, or null when it is not a period of this kind (or not a real ISO week). */
export function parsePeriod(kind: PeriodKind, key: string, timeZone: string): Period | null {
  const m = PERIOD_PATTERNS[kind].exec(key);
  if (!m) return null;
  const year = Number(m[1]);
  if (year < 1970 || year > 9998) return null;
  const zone = { zone: timeZone };
  let start: DateTime;
  switch (kind) {
    case 'monthly':
      start = DateTime.fromObject({ year, month: Number(m[2]), day: 1 }, zone);
      break;
    case 'quarterly':
      start = DateTime.fromObject({ year, month: (Number(m[2]) - 1) * 3 + 1, day: 1 }, zone);
      break;
    case 'yearly':
      start = DateTime.fromObject({ year, month: 1, day: 1 }, zone);
      break;
    case 'weekly': {
      const weekNumber = Number(m[2]);
      start = DateTime.fromObject({ weekYear: year, weekNumber, weekday: 1 }, zone);
      if (!start.isValid || weekNumber > start.weeksInWeekYear) return null;
      break;
    }
  }
  if (!start.isValid) return null;
  return fromStart(kind, start);
}

/** The period of `kind` that contains `instant` (local time in `timeZone`). */
export function periodContaining(kind: PeriodKind, instant: Date, timeZone: string): Period {
  const local = DateTime.fromJSDate(instant, { zone: timeZone });
  return fromStart(kind, local.startOf(UNIT[kind]));
}

/** The period `n` periods after (`n` > 0) or before (`n` < 0) `period`. */
export function shiftPeriod(period: Period, n: number, timeZone: string): Period {
  const start = DateTime.fromJSDate(period.from, { zone: timeZone }).plus({ [`${UNIT[period.kind]}s`]: n });
  return fromStart(period.kind, start.startOf(UNIT[period.kind]));
}

/** The `count` periods before `period`, oldest first. */
export function previousPeriods(period: Period, count: number, timeZone: string): Period[] {
  const out: Period[] = [];
  for (let i = count; i >= 1; i--) out.push(shiftPeriod(period, -i, timeZone));
  return out;
}

/**
 * What a scheduled firing at `firedAt` reports on: the last complete period, i.e. the one before the
 * period that contains the firing instant (08:00 on 1 November in Shanghai reports October).
 */
export function previousCompletePeriod(kind: PeriodKind, firedAt: Date, timeZone: string): Period {
  return shiftPeriod(periodContaining(kind, firedAt, timeZone), -1, timeZone);
}

/** A human label: `2026年10月` / `October 2026`, `2026年第4季度` / `Q4 2026`, `2026年第43周` / `Week 43, 2026`. */
export function periodLabel(period: Pick<Period, 'kind' | 'key'>, locale: 'en' | 'zh-CN'): string {
  const m = PERIOD_PATTERNS[period.kind].exec(period.key);
  if (!m) return period.key;
  const year = m[1];
  const n = Number(m[2]);
  const zh = locale === 'zh-CN';
  switch (period.kind) {
    case 'monthly':
      return zh
        ? `${year}年${n}月`
        : `${DateTime.fromObject({ year: Number(year), month: n })
            .setLocale('en')
            .toFormat('LLLL')} ${year}`;
    case 'quarterly':
      return zh ? `${year}年第${n}季度` : `Q${n} ${year}`;
    case 'yearly':
      return zh ? `${year}年` : year!;
    case 'weekly':
      return zh ? `${year}年第${n}周` : `Week ${n}, ${year}`;
  }
}

/** The kind of a period key, or null. */
export function kindOfKey(key: string): PeriodKind | null {
  return PERIOD_KINDS.find((kind) => PERIOD_PATTERNS[kind].test(key)) ?? null;
}

/** The label of a period key of any kind (the key itself when it is none). */
export function labelOfKey(key: string, locale: 'en' | 'zh-CN'): string {
  const kind = kindOfKey(key);
  return kind ? periodLabel({ kind, key }, locale) : key;
}
