import { describe, expect, it } from 'vitest';
import {
  labelOfKey,
  parsePeriod,
  periodContaining,
  previousCompletePeriod,
  previousPeriods,
} from '../../../src/modules/reports/period.ts';

const SH = 'Asia/Shanghai';
const iso = (d: Date) => d.toISOString();

describe('period keys and boundaries (local midnights in the time zone)', () => {
  it.each([
    ['monthly', '2026-10', SH, '2026-09-30T16:00:00.000Z', '2026-10-31T16:00:00.000Z'],
    ['monthly', '2026-12', 'UTC', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['quarterly', '2026-Q4', SH, '2026-09-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['yearly', '2026', SH, '2025-12-31T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    // ISO week 43 of 2026: Monday 19 October to Monday 26 October.
    ['weekly', '2026-W43', SH, '2026-10-18T16:00:00.000Z', '2026-10-25T16:00:00.000Z'],
    ['weekly', '2026-W53', 'UTC', '2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z'],
    // New York changes to winter time on 1 November 2026: the month is an hour longer than 30 days.
    ['monthly', '2026-11', 'America/New_York', '2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z'],
  ] as const)('%s %s in %s', (kind, key, zone, from, to) => {
    const p = parsePeriod(kind, key, zone)!;
    expect([p.key, iso(p.from), iso(p.to)]).toEqual([key, from, to]);
  });

  it.each([
    ['monthly', '2026-13'],
    ['monthly', '2026-Q4'],
    ['monthly', '26-10'],
    ['quarterly', '2026-Q5'],
    ['quarterly', '2026-10'],
    ['yearly', '2026-10'],
    ['weekly', '2025-W53'], // 2025 has 52 ISO weeks
    ['weekly', '2026-W00'],
    ['weekly', '2026-43'],
  ] as const)('refuses %s %s', (kind, key) => {
    expect(parsePeriod(kind, key, SH)).toBeNull();
  });

  it('finds the containing period and the previous ones across years', () => {
    // 2026-01-01 02:00 in Shanghai is still 2025-12-31 in UTC.
    const p = periodContaining('monthly', new Date('2025-12-31T18:00:00Z'), SH);
    expect(p.key).toBe('2026-01');
    expect(previousPeriods(p, 3, SH).map((x) => x.key)).toEqual(['2025-10', '2025-11', '2025-12']);
    const w = periodContaining('weekly', new Date('2027-01-02T12:00:00Z'), 'UTC');
    expect(w.key).toBe('2026-W53');
    expect(previousPeriods(w, 1, 'UTC')[0]!.key).toBe('2026-W52');
  });

  it('a scheduled firing reports the last complete period before it, in the time zone', () => {
    // 08:00 on 1 November in Shanghai = 00:00 UTC: October.
    expect(previousCompletePeriod('monthly', new Date('2026-11-01T00:00:00Z'), SH).key).toBe('2026-10');
    // 23:59 on 31 October in Shanghai (15:59 UTC): still October, so September.
    expect(previousCompletePeriod('monthly', new Date('2026-10-31T15:59:00Z'), SH).key).toBe('2026-09');
    expect(previousCompletePeriod('quarterly', new Date('2027-01-01T00:30:00Z'), SH).key).toBe('2026-Q4');
    expect(previousCompletePeriod('yearly', new Date('2027-01-01T00:30:00Z'), SH).key).toBe('2026');
    // Monday 26 October 2026, 08:00 in Shanghai: week 43.
    expect(previousCompletePeriod('weekly', new Date('2026-10-26T00:00:00Z'), SH).key).toBe('2026-W43');
  });

  it('labels periods in both locales', () => {
    expect(labelOfKey('2026-10', 'zh-CN')).toBe('2026年10月');
    expect(labelOfKey('2026-10', 'en')).toBe('October 2026');
    expect(labelOfKey('2026-Q4', 'zh-CN')).toBe('2026年第4季度');
    expect(labelOfKey('2026-W43', 'en')).toBe('Week 43, 2026');
    expect(labelOfKey('2026', 'zh-CN')).toBe('2026年');
  });
});
