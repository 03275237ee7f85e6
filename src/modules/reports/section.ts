import type { EChartsOption } from 'echarts';
import type { TSchema } from 'typebox';
import type { Executor } from '../../db/db.ts';

/**
 * The report pipeline's extension point. A section is a named piece of a service report: a query
 * that computes structured JSON for one period and scope, the JSON Schema of that data, and how to
 * show it (tables for HTML/XLSX/CSV, optional ECharts charts and notes for the HTML page).
 *
 * How to add a section (e.g. the change module's "changes" section):
 *  1. In your own folder write `change.report.ts` exporting a `ReportSection<ChangesData>`. Its
 *     `compute` queries your own tables (you own them; no other module's), over `[from, to)` for
 *     `scope.customerId` (and `scope.serviceIds` when not empty), aggregating in SQL.
 *  2. Call `registerReportSection(changesSection)` from your module's `index.ts` (import it from
 *     `../reports/index.ts`). Nothing in `src/modules/reports/` changes.
 *  3. The key (camelCase) becomes `sections.<key>` of every report run, a selectable entry of a
 *     definition's `sections`, a sheet (per table) of the XLSX and a `?format=csv&section=<key>`.
 *  Definitions that list no sections get every registered section, including ones added later.
 */
export const REPORT_LOCALES = ['zh-CN', 'en'] as const;
export type ReportLocale = (typeof REPORT_LOCALES)[number];
export type Localized = Record<ReportLocale, string>;

export interface PeriodRange {
  key: string;
  from: Date;
  to: Date;
}

/** What a report is about: one customer, optionally narrowed to services and agreements. */
export interface ReportScope {
  customerId: string;
  /** Empty = every service. Tickets without a service (service requests) are left out when set. */
  serviceIds: string[];
  /** Empty = every SLA of the customer (and the default SLA that measured its tickets). */
  agreementIds: string[];
}

export interface SectionContext {
  db: Executor;
  scope: ReportScope;
  /** The reported period: `[from, to)`. */
  period: PeriodRange;
  from: Date;
  to: Date;
  /** Point in time for "open at period end" figures: `to`, or the generation time in a period not yet over. */
  asOf: Date;
  /** Earlier periods for trends, oldest first (the reported period itself is not among them). */
  previousPeriods: PeriodRange[];
  locale: ReportLocale;
  timeZone: string;
  /** Agreed SLA compliance level (%) where an agreement's target does not state its own. */
  agreedLevel: number;
}

export type ColumnType = 'string' | 'number' | 'percent' | 'duration' | 'date';

export interface TableColumn {
  key: string;
  label: string;
  /** `percent`: a number 0-100; `duration`: seconds; `date`: an ISO 8601 string (or `YYYY-MM-DD`). */
  type: ColumnType;
}

export interface SectionTable {
  /** Stable, used by `?format=csv&section=...&table=<name>` and as the XLSX sheet suffix. */
  name: string;
  title: string;
  columns: TableColumn[];
  rows: Record<string, unknown>[];
}

export interface ReportSection<T = unknown> {
  /** camelCase, unique: `slaPerformance`. */
  key: string;
  title: Localized;
  /** JSON Schema (TypeBox) of what `compute` returns; documents `sections.<key>` in the OpenAPI. */
  schema: TSchema;
  compute(ctx: SectionContext): Promise<T>;
  /** The section's data as tables; the first is its main table (the default CSV). */
  tables(data: T, locale: ReportLocale): SectionTable[];
  /** Charts of the HTML page (rendered to inline SVG on the server); size and animation are set by the renderer. */
  charts?(data: T, locale: ReportLocale): EChartsOption[];
  /** Paragraphs printed under the section title: definitions, formulas, caveats. */
  notes?(data: T, locale: ReportLocale): string[];
}

const KEY = /^[a-z][A-Za-z0-9]{1,39}$/;

/** Every section a report can contain, in registration order (the order of a report's pages). */
export class SectionRegistry {
  private readonly sections = new Map<string, ReportSection>();

  register<T>(section: ReportSection<T>): void {
    if (!KEY.test(section.key)) throw new Error(`report section key "${section.key}" must be camelCase`);
    if (this.sections.has(section.key))
      throw new Error(`report section "${section.key}" is registered twice`);
    this.sections.set(section.key, section as ReportSection);
  }

  get(key: string): ReportSection | undefined {
    return this.sections.get(key);
  }

  keys(): string[] {
    return [...this.sections.keys()];
  }

  list(): ReportSection[] {
    return [...this.sections.values()];
  }
}

export const reportSections = new SectionRegistry();

/** For other modules: adds a section to every report that asks for it (or for all sections). */
export function registerReportSection<T>(section: ReportSection<T>): void {
  reportSections.register(section);
}
