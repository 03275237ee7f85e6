import type ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import type { ColumnType } from '../section.ts';
import { type ReportDocument, TEXT } from './document.ts';
import { formatDate } from './format.ts';

const NUM_FMT: Partial<Record<ColumnType, string>> = {
  percent: '0.00%',
  duration: '[h]:mm:ss',
  number: '#,##0.##',
};

/** Excel has no time zones: timestamps are written as wall-clock time of the report's zone. */
function excelDate(value: string, timeZone: string): Date | string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T00:00:00Z`);
  const dt = DateTime.fromISO(value, { zone: timeZone });
  if (!dt.isValid) return value;
  return new Date(Date.UTC(dt.year, dt.month - 1, dt.day, dt.hour, dt.minute, dt.second));
}

function cellValue(value: unknown, type: ColumnType, timeZone: string): ExcelJS.CellValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'percent':
      return typeof value === 'number' ? value / 100 : String(value);
    case 'duration':
      return typeof value === 'number' ? value / 86400 : String(value);
    case 'number':
      return typeof value === 'number' ? value : String(value);
    case 'date':
      return excelDate(String(value), timeZone);
    default:
      return String(value);
  }
}

const sheetName = (name: string) =>
  name
    .replace(/[[\]:*?/\\]/g, ' ')
    .slice(0, 31)
    .trim() || 'Sheet';

/**
 * The run as a workbook: a summary sheet, then one sheet per section table (the section's title for
 * its main table), with typed cells (numbers, percentages, durations, dates), a frozen, filterable
 * header row and sensible column widths.
 */
export async function renderXlsx(doc: ReportDocument): Promise<Buffer> {
  const { locale, timeZone } = doc;
  // Loaded on first use: processes that never render a workbook do not carry ExcelJS.
  const { default: Excel } = await import('exceljs');
  const wb = new Excel.Workbook();
  wb.creator = 'Tessera';
  wb.created = doc.generatedAt ?? new Date();
  wb.title = `${doc.name} ${doc.periodLabel}`;
  const used = new Set<string>();
  const unique = (name: string) => {
    let candidate = sheetName(name);
    for (let i = 2; used.has(candidate.toLowerCase()); i++)
      candidate = sheetName(`${name.slice(0, 27)} (${i})`);
    used.add(candidate.toLowerCase());
    return candidate;
  };

  const summary = wb.addWorksheet(unique(TEXT.summary[locale]), { views: [{ state: 'frozen', ySplit: 1 }] });
  summary.columns = [
    { header: locale === 'zh-CN' ? '项目' : 'Item', width: 18 },
    { header: locale === 'zh-CN' ? '内容' : 'Value', width: 60 },
  ];
  summary.getRow(1).font = { bold: true };
  const fmt = (d: Date) => formatDate(d.toISOString(), timeZone, locale);
  summary.addRows([
    [TEXT.definition[locale], `${doc.definitionRef} ${doc.name}`],
    [TEXT.customer[locale], doc.customerName],
    [TEXT.period[locale], `${doc.periodLabel} (${doc.periodKey})`],
    [locale === 'zh-CN' ? '起' : 'From', fmt(doc.from)],
    [locale === 'zh-CN' ? '止' : 'To', fmt(doc.to)],
    [TEXT.timeZone[locale], timeZone],
    [TEXT.generated[locale], doc.generatedAt ? fmt(doc.generatedAt) : ''],
    [TEXT.revision[locale], doc.revision],
    ...(doc.scopeNote ? [[TEXT.scope[locale], doc.scopeNote]] : []),
    ['Run', doc.runId],
  ]);

  for (const { section, data } of doc.sections) {
    const tables = section.tables(data, locale);
    tables.forEach((table, index) => {
      const title = index === 0 ? section.title[locale] : `${section.title[locale]}-${table.title}`;
      const sheet = wb.addWorksheet(unique(title), { views: [{ state: 'frozen', ySplit: 1 }] });
      sheet.columns = table.columns.map((col) => ({
        header: col.label,
        key: col.key,
        width: Math.min(60, Math.max(10, col.label.length * (locale === 'zh-CN' ? 2.2 : 1.2) + 2)),
        style: NUM_FMT[col.type]
          ? { numFmt: NUM_FMT[col.type] }
          : col.type === 'date'
            ? { numFmt: 'yyyy-mm-dd hh:mm' }
            : {},
      }));
      const header = sheet.getRow(1);
      header.font = { bold: true };
      header.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE9EFF5' } };
      for (const row of table.rows) {
        const added = sheet.addRow(table.columns.map((col) => cellValue(row[col.key], col.type, timeZone)));
        table.columns.forEach((col, i) => {
          if (col.type === 'date' && /^\d{4}-\d{2}-\d{2}$/.test(String(row[col.key] ?? '')))
            added.getCell(i + 1).numFmt = 'yyyy-mm-dd';
        });
      }
      table.columns.forEach((col, i) => {
        if (col.type !== 'string') return;
        const longest = table.rows.reduce((n, r) => Math.max(n, String(r[col.key] ?? '').length), 0);
        const column = sheet.getColumn(i + 1);
        column.width = Math.min(60, Math.max(column.width ?? 10, longest * (locale === 'zh-CN' ? 1.8 : 1.1)));
      });
      if (table.columns.length > 0)
        sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: table.columns.length } };
    });
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
