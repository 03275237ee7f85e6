import type { EChartsOption } from 'echarts';
import { type Static, Type } from 'typebox';
import { StringEnum } from '../../../platform/schemas.ts';
import { labelOfKey } from '../period.ts';
import { percentOf, round2 } from '../render/format.ts';
import { reportedKpis, resolvedKpis } from '../reports.sources.ts';
import type { Localized, ReportLocale, ReportSection } from '../section.ts';

export const KPI_KEYS = [
  'mtta',
  'mttr',
  'firstContactResolution',
  'reopenRate',
  'firstDispatchSuccess',
  'escalationRate',
] as const;
export type KpiKey = (typeof KPI_KEYS)[number];

/** Names (iso20000-map §3.1/§3.2) and formulas as the report prints them. */
export const KPI_TEXT: Record<KpiKey, { unit: 'duration' | 'percent'; name: Localized; formula: Localized }> =
  {
    mtta: {
      unit: 'duration',
      name: { en: 'Mean time to acknowledge (MTTA)', 'zh-CN': '平均响应时间 (MTTA)' },
      formula: {
        en: 'Σ(first response − reported) ÷ n, over incidents reported in the period and acknowledged (wall-clock time)',
        'zh-CN': 'Σ(首次响应时间 − 报告时间) ÷ n；对象为本期报告且已响应的事件（自然时间）',
      },
    },
    mttr: {
      unit: 'duration',
      name: { en: 'Mean time to resolve (MTTR)', 'zh-CN': '平均解决时间 (MTTR)' },
      formula: {
        en: 'Σ(resolved − reported) ÷ n, over incidents resolved in the period (wall-clock time including hold; business time without pauses is in SLA performance)',
        'zh-CN':
          'Σ(解决时间 − 报告时间) ÷ n；对象为本期解决的事件（自然时间，含挂起；扣除暂停的业务时间见 SLA 达成情况）',
      },
    },
    firstContactResolution: {
      unit: 'percent',
      name: { en: 'First-contact resolution rate', 'zh-CN': '一次解决率' },
      formula: {
        en: 'incidents resolved by tier 1 without reassignment or escalation ÷ incidents resolved in the period × 100 %',
        'zh-CN': '一线解决且未转派、未升级的事件数 ÷ 本期解决的事件数 × 100%',
      },
    },
    reopenRate: {
      unit: 'percent',
      name: { en: 'Reopen rate', 'zh-CN': '重开率' },
      formula: {
        en: 'incidents resolved in the period that had been reopened ÷ incidents resolved in the period × 100 %',
        'zh-CN': '本期解决的事件中曾被重开的数量 ÷ 本期解决的事件数 × 100%',
      },
    },
    firstDispatchSuccess: {
      unit: 'percent',
      name: { en: 'First-dispatch success rate', 'zh-CN': '一次派单成功率' },
      formula: {
        en: '(1 − returned dispatches ÷ all dispatches) × 100 %; a dispatch is an incident reported in the period that was assigned to a group; it was returned when it was reassigned away from a group to another group other than by a functional escalation before resolution',
        'zh-CN':
          '(1 − 退回派单数 ÷ 派单总数) × 100%；派单 = 本期报告且已分派处理组的事件；退回派单 = 解决前被改派到其他处理组（职能升级不算）的事件',
      },
    },
    escalationRate: {
      unit: 'percent',
      name: { en: 'Escalation rate', 'zh-CN': '升级率' },
      formula: {
        en: 'incidents escalated to a higher tier ÷ incidents reported in the period × 100 %',
        'zh-CN': '升级到更高线别的事件数 ÷ 本期报告的事件数 × 100%',
      },
    },
  };

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
export const KpisSchema = Type.Object(
  {
    periods: Type.Array(Type.String(), {
      description: 'Trend periods, oldest first; the last is the reported one',
    }),
    kpis: Type.Array(
      Type.Object({
        key: StringEnum(KPI_KEYS),
        name: Type.String(),
        formula: Type.String(),
        unit: Type.Union([Type.Literal('duration'), Type.Literal('percent')], {
          description: 'duration: seconds; percent: 0-100 with two decimals',
        }),
        value: NullableNumber,
        numerator: Type.Number({ description: 'Seconds summed (durations) or tickets counted (rates)' }),
        denominator: Type.Integer({ minimum: 0 }),
        trend: Type.Array(NullableNumber, { description: 'Value per trend period' }),
      }),
    ),
  },
  {
    description:
      'Service desk KPIs of incidents (cancelled incidents left out) with their formulas, and their trend.',
  },
);
export type Kpis = Static<typeof KpisSchema>;

export const kpisSection: ReportSection<Kpis> = {
  key: 'kpis',
  title: { en: 'Service desk KPIs', 'zh-CN': '服务台关键指标' },
  schema: KpisSchema,

  async compute(ctx) {
    const periods = [...ctx.previousPeriods, ctx.period];
    const [reported, resolved] = await Promise.all([
      reportedKpis(ctx.db, ctx.scope, periods),
      resolvedKpis(ctx.db, ctx.scope, periods),
    ]);
    const at = (idx: number) => ({
      rep: reported.find((r) => r.idx === idx) ?? {
        reported: 0,
        ack_n: 0,
        ack_sum: 0,
        escalated: 0,
        dispatched: 0,
        returned: 0,
      },
      res: resolved.find((r) => r.idx === idx) ?? { resolved: 0, res_sum: 0, fcr: 0, reopened: 0 },
    });
    const figures = (idx: number): Record<KpiKey, { n: number; d: number; value: number | null }> => {
      const { rep, res } = at(idx);
      const mean = (sum: number, n: number) => (n > 0 ? round2(sum / n) : null);
      return {
        mtta: { n: round2(rep.ack_sum), d: rep.ack_n, value: mean(rep.ack_sum, rep.ack_n) },
        mttr: { n: round2(res.res_sum), d: res.resolved, value: mean(res.res_sum, res.resolved) },
        firstContactResolution: { n: res.fcr, d: res.resolved, value: percentOf(res.fcr, res.resolved) },
        reopenRate: { n: res.reopened, d: res.resolved, value: percentOf(res.reopened, res.resolved) },
        firstDispatchSuccess: {
          n: rep.dispatched - rep.returned,
          d: rep.dispatched,
          value: percentOf(rep.dispatched - rep.returned, rep.dispatched),
        },
        escalationRate: { n: rep.escalated, d: rep.reported, value: percentOf(rep.escalated, rep.reported) },
      };
    };
    const all = periods.map((_, idx) => figures(idx));
    const current = all[all.length - 1]!;
    return {
      periods: periods.map((p) => p.key),
      kpis: KPI_KEYS.map((key) => ({
        key,
        name: KPI_TEXT[key].name[ctx.locale],
        formula: KPI_TEXT[key].formula[ctx.locale],
        unit: KPI_TEXT[key].unit,
        value: current[key].value,
        numerator: current[key].n,
        denominator: current[key].d,
        trend: all.map((f) => f[key].value),
      })),
    };
  },

  tables(data, locale) {
    const zh = locale === 'zh-CN';
    const of = (unit: 'duration' | 'percent') => data.kpis.filter((k) => k.unit === unit);
    const nameCol = { key: 'name', label: zh ? '指标' : 'KPI', type: 'string' as const };
    const formulaCol = { key: 'formula', label: zh ? '计算公式' : 'Formula', type: 'string' as const };
    return [
      {
        name: 'rates',
        title: zh ? '比率指标' : 'Rates',
        columns: [
          nameCol,
          { key: 'value', label: zh ? '本期值' : 'Value', type: 'percent' },
          { key: 'numerator', label: zh ? '分子' : 'Numerator', type: 'number' },
          { key: 'denominator', label: zh ? '分母' : 'Denominator', type: 'number' },
          formulaCol,
        ],
        rows: of('percent'),
      },
      {
        name: 'times',
        title: zh ? '时间指标' : 'Times',
        columns: [
          nameCol,
          { key: 'value', label: zh ? '本期值' : 'Value', type: 'duration' },
          { key: 'denominator', label: zh ? '工单数' : 'Tickets', type: 'number' },
          formulaCol,
        ],
        rows: of('duration'),
      },
      {
        name: 'trend',
        title: zh ? '指标趋势' : 'Trend',
        columns: [
          { key: 'period', label: zh ? '周期' : 'Period', type: 'string' },
          ...data.kpis.map((k) => ({ key: k.key, label: KPI_TEXT[k.key].name[locale], type: k.unit })),
        ],
        rows: data.periods.map((period, i) => ({
          period,
          ...Object.fromEntries(data.kpis.map((k) => [k.key, k.trend[i] ?? null])),
        })),
      },
    ];
  },

  charts(data, locale) {
    const x = data.periods.map((p) => labelOfKey(p, locale));
    const line = (unit: 'duration' | 'percent', title: string, scale: number): EChartsOption => ({
      title: { text: title },
      tooltip: {},
      legend: { bottom: 0 },
      grid: { left: 50, right: 20, top: 52, bottom: 60 },
      xAxis: { type: 'category', data: x },
      yAxis: { type: 'value', ...(unit === 'percent' ? { min: 0, max: 100 } : { min: 0 }) },
      series: data.kpis
        .filter((k) => k.unit === unit)
        .map((k) => ({
          type: 'line' as const,
          name: KPI_TEXT[k.key].name[locale],
          connectNulls: true,
          data: k.trend.map((v) => (v === null ? null : round2(v / scale))),
        })),
    });
    return [
      line('percent', locale === 'zh-CN' ? '比率指标趋势 (%)' : 'Rates trend (%)', 1),
      line('duration', locale === 'zh-CN' ? '时间指标趋势（小时）' : 'Times trend (hours)', 3600),
    ];
  },

  notes(data, locale: ReportLocale) {
    return data.kpis.map((k) => `${KPI_TEXT[k.key].name[locale]} = ${KPI_TEXT[k.key].formula[locale]}`);
  },
};
