import type { SectionTable } from '../section.ts';

function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One table as RFC 4180 CSV: CRLF line ends, a header row of the locale's labels, raw values
 * (percentages 0-100, durations in seconds, ISO 8601 timestamps). A UTF-8 BOM lets Excel read Chinese.
 */
export function renderCsv(table: SectionTable): string {
  const lines = [table.columns.map((c) => field(c.label)).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => field(row[c.key])).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
