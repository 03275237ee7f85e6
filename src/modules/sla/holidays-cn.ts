/**
 * Mainland China public holidays (法定节假日) and make-up working days (调休上班) as calendar exceptions.
 *
 * Source: the State Council General Office (国务院办公厅) notices on the holiday arrangements —
 * 《国务院办公厅关于2025年部分节假日安排的通知》 (published November 2024) and
 * 《国务院办公厅关于2026年部分节假日安排的通知》 (published November 2025). The arrangement changes every
 * year and is only known once the notice is published: check these dates against the published
 * notice each year before relying on them, and add the next year when its notice appears.
 *
 * One entry per date. Holidays list every day off of the arrangement, including the weekend days
 * inside it. Make-up days are kind 'workday' without `hours`, so the calendar's standard ('mon')
 * day applies.
 */
import type { CalendarException } from './calendar.ts';

function holidays(name: string, ...dates: string[]): CalendarException[] {
  return dates.map((date) => ({ date, kind: 'holiday', name }));
}

function workdays(name: string, ...dates: string[]): CalendarException[] {
  return dates.map((date) => ({ date, kind: 'workday', name }));
}

/** 'YYYY-MM-DD' for each day from `first` to `last` inclusive (same year). */
function days(first: string, last: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= end; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

function byDate(list: CalendarException[]): CalendarException[] {
  return list.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

export const CHINA_HOLIDAYS: Record<'2025' | '2026', CalendarException[]> = {
  '2025': byDate([
    ...holidays('元旦', '2025-01-01'),
    ...holidays('春节', ...days('2025-01-28', '2025-02-04')),
    ...workdays('春节调休上班', '2025-01-26', '2025-02-08'),
    ...holidays('清明节', ...days('2025-04-04', '2025-04-06')),
    ...holidays('劳动节', ...days('2025-05-01', '2025-05-05')),
    ...workdays('劳动节调休上班', '2025-04-27'),
    ...holidays('端午节', ...days('2025-05-31', '2025-06-02')),
    // 国庆节 and 中秋节 (Oct 6) form one 8-day arrangement in 2025.
    ...holidays('国庆节、中秋节', ...days('2025-10-01', '2025-10-08')),
    ...workdays('国庆节、中秋节调休上班', '2025-09-28', '2025-10-11'),
  ]),
  '2026': byDate([
    ...holidays('元旦', ...days('2026-01-01', '2026-01-03')),
    ...workdays('元旦调休上班', '2026-01-04'),
    ...holidays('春节', ...days('2026-02-15', '2026-02-23')),
    ...workdays('春节调休上班', '2026-02-14', '2026-02-28'),
    ...holidays('清明节', ...days('2026-04-04', '2026-04-06')),
    ...holidays('劳动节', ...days('2026-05-01', '2026-05-05')),
    ...workdays('劳动节调休上班', '2026-05-09'),
    ...holidays('端午节', ...days('2026-06-19', '2026-06-21')),
    ...holidays('中秋节', ...days('2026-09-25', '2026-09-27')),
    ...holidays('国庆节', ...days('2026-10-01', '2026-10-07')),
    ...workdays('国庆节调休上班', '2026-09-20', '2026-10-10'),
  ]),
};
