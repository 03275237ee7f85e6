import { type ReportDocument, TEXT } from './document.ts';
import { formatCell, formatDate } from './format.ts';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif;
  color: #1f2933; margin: 0 auto; max-width: 1080px; padding: 32px 40px; line-height: 1.5; font-size: 14px; }
header { border-bottom: 3px solid #2f6fb0; margin-bottom: 24px; padding-bottom: 12px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #cbd2d9; }
h3 { font-size: 15px; margin: 20px 0 6px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { color: #616e7c; } dl.meta dd { margin: 0; }
nav ol { columns: 2; margin: 8px 0 0; }
p.note { color: #3e4c59; background: #f5f7fa; border-left: 3px solid #9aa5b1; padding: 6px 10px; margin: 6px 0; }
figure.chart { margin: 12px 0; page-break-inside: avoid; break-inside: avoid; }
figure.chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 12.5px; }
th, td { border: 1px solid #d9e2ec; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #e9eff5; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
p.empty { color: #7b8794; font-style: italic; }
footer { margin-top: 40px; color: #7b8794; font-size: 12px; border-top: 1px solid #cbd2d9; padding-top: 8px; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  nav { display: none; }
  section.report-section { page-break-before: always; break-before: page; }
  section.report-section:first-of-type { page-break-before: auto; break-before: auto; }
  table { page-break-inside: auto; } tr { page-break-inside: avoid; break-inside: avoid; }
  thead { display: table-header-group; }
  th { background: #e9eff5 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@page { size: A4; margin: 14mm; }
`;

/**
 * The whole report as one self-contained page: inline CSS, inline SVG charts, no scripts, no external
 * resources. ECharts is loaded on first use, so processes that never render a page do not carry it.
 */
export async function renderHtml(doc: ReportDocument): Promise<string> {
  const { renderChartSvg } = await import('./charts.ts');
  const { locale } = doc;
  const tx = (key: keyof typeof TEXT) => TEXT[key][locale];
  const e = escapeHtml;
  const out: string[] = [];
  out.push(`<!DOCTYPE html>\n<html lang="${locale}">\n<head>\n<meta charset="utf-8">`);
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>${e(`${doc.name} — ${doc.periodLabel}`)}</title>\n<style>${CSS}</style>\n</head>\n<body>`);
  out.push(`<header><h1>${e(doc.name)}</h1><dl class="meta">`);
  const meta: [string, string][] = [
    [tx('customer'), doc.customerName],
    [
      tx('period'),
      `${doc.periodLabel} (${formatDate(doc.from.toISOString(), doc.timeZone, locale)} – ${formatDate(doc.to.toISOString(), doc.timeZone, locale)})`,
    ],
    [tx('timeZone'), doc.timeZone],
    [
      tx('generated'),
      doc.generatedAt ? formatDate(doc.generatedAt.toISOString(), doc.timeZone, locale) : '—',
    ],
    [tx('revision'), `${doc.definitionRef} · ${doc.revision}`],
  ];
  if (doc.scopeNote) meta.push([tx('scope'), doc.scopeNote]);
  for (const [k, v] of meta) out.push(`<dt>${e(k)}</dt><dd>${e(v)}</dd>`);
  out.push('</dl></header>');

  out.push(`<nav><strong>${e(tx('contents'))}</strong><ol>`);
  for (const { section } of doc.sections)
    out.push(`<li><a href="#${section.key}">${e(section.title[locale])}</a></li>`);
  out.push('</ol></nav>');

  doc.sections.forEach(({ section, data }, index) => {
    out.push(`<section class="report-section" id="${section.key}">`);
    out.push(`<h2>${index + 1}. ${e(section.title[locale])}</h2>`);
    for (const note of section.notes?.(data, locale) ?? []) out.push(`<p class="note">${e(note)}</p>`);
    for (const option of section.charts?.(data, locale) ?? []) {
      let svg: string;
      try {
        svg = renderChartSvg(option);
      } catch {
        svg = `<p class="empty">${e(tx('chartFailed'))}</p>`;
      }
      out.push(`<figure class="chart">${svg}</figure>`);
    }
    for (const table of section.tables(data, locale)) {
      out.push(`<h3>${e(table.title)}</h3>`);
      if (table.rows.length === 0) {
        out.push(`<p class="empty">${e(tx('noRows'))}</p>`);
        continue;
      }
      out.push('<table><thead><tr>');
      for (const col of table.columns) out.push(`<th>${e(col.label)}</th>`);
      out.push('</tr></thead><tbody>');
      for (const row of table.rows) {
        out.push('<tr>');
        for (const col of table.columns) {
          const numeric = col.type === 'number' || col.type === 'percent' || col.type === 'duration';
          out.push(
            `<td${numeric ? ' class="n"' : ''}>${e(formatCell(row[col.key], col.type, locale, doc.timeZone))}</td>`,
          );
        }
        out.push('</tr>');
      }
      out.push('</tbody></table>');
    }
    out.push('</section>');
  });
  out.push(`<footer>${e(tx('footer'))} · ${e(doc.runId)}</footer>\n</body>\n</html>\n`);
  return out.join('\n');
}
