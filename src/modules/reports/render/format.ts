import { DateTime } from 'luxon';
import type { ColumnType, ReportLocale } from '../section.ts';

/** Display formatting of table cells for the HTML page (CSV and XLSX keep raw, typed values). */

export const round2 = (n: number) => Math.round(n * 100) / 100;
export const percentOf = (n: number, d: number): number | null => (d > 0 ? round2((n / d) * 100) : null);

export function formatDuration(seconds: number, locale: ReportLocale): string {
  const s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? '-' : '';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const zh = locale === 'zh-CN';
  const parts: string[] = [];
  if (d) parts.push(zh ? `${d}天` : `${d}d`);
  if (h) parts.push(zh ? `${h}小时` : `${h}h`);
  if (m && d === 0) parts.push(zh ? `${m}分` : `${m}m`);
  if (sec && d === 0 && h === 0) parts.push(zh ? `${sec}秒` : `${sec}s`);
  if (parts.length === 0) return zh ? '0秒' : '0s';
  return sign + parts.join(zh ? '' : ' ');
}

export function formatDate(value: string, timeZone: string, locale: ReportLocale): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const dt = DateTime.fromISO(value, { zone: timeZone });
  if (!dt.isValid) return value;
  return dt.toFormat(locale === 'zh-CN' ? 'yyyy-MM-dd HH:mm' : 'd LLL yyyy HH:mm', { locale: 'en' });
}

export function formatCell(value: unknown, type: ColumnType, locale: ReportLocale, timeZone: string): string {
  if (value === null || value === undefined || value === '') return '—';
  switch (type) {
    case 'percent':
      return typeof value === 'number' ? `${value.toFixed(1)}%` : String(value);
    case 'duration':
      return typeof value === 'number' ? formatDuration(value, locale) : String(value);
    case 'date':
      return formatDate(String(value), timeZone, locale);
    case 'number':
      return typeof value === 'number'
        ? value.toLocaleString(locale === 'zh-CN' ? 'zh-CN' : 'en-US', { maximumFractionDigits: 2 })
        : String(value);
    default:
      return String(value);
  }
}
