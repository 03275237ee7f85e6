import type { EChartsOption } from 'echarts';
import { type Static, Type } from 'typebox';
import { labelOfKey } from '../period.ts';
import { percentOf, round2 } from '../render/format.ts';
import { agreementsById, slaTargets, slaTrend } from '../reports.sources.ts';
import type { ReportSection } from '../section.ts';
import { metricLabel, t } from './labels.ts';

const N = Type.Number();
const Int = Type.Integer({ minimum: 0 });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

const TargetSchema = Type.Object({
  agreementId: Type.String({ format: 'uuid' }),
  agreementRef: Type.String(),
  agreementName: Type.String(),
  metric: Type.Union([Type.Literal('response'), Type.Literal('resolution')]),
  priority: Type.Union([Type.String(), Type.Null()]),
  targetSeconds: N,
  measured: Int,
  met: Int,
  breached: Int,
  percentMet: Type.Union([N, Type.Null()], {
    description: 'met ÷ measured × 100, two decimals; null when nothing was measured',
  }),
  agreedLevel: Type.Number({ description: 'Agreed compliance level (%)' }),
  meetsAgreedLevel: Type.Union([Type.Boolean(), Type.Null()]),
  meanSeconds: Type.Union([N, Type.Null()], { description: 'Mean business time of measured clocks' }),
  p90Seconds: Type.Union([N, Type.Null()]),
});

export const SlaPerformanceSchema = Type.Object(
  {
    agreedLevel: Type.Number({ description: 'The default agreed level (%) of the definition' }),
    targets: Type.Array(TargetSchema),
    totals: Type.Object({ measured: Int, met: Int, breached: Int, percentMet: NullableNumber }),
    periods: Type.Array(Type.String(), {
      description: 'Trend periods, oldest first; the last is the reported one',
    }),
    trend: Type.Array(
      Type.Object({
        period: Type.String(),
        agreementId: Type.String({ format: 'uuid' }),
        agreementRef: Type.String(),
        agreementName: Type.String(),
        measured: Int,
        met: Int,
        breached: Int,
        percentMet: NullableNumber,
      }),
    ),
  },
  {
    description:
      'Per SLA, metric and priority: SLA clocks that started in the period; measured = met or breached. Times are business time.',
  },
);
export type SlaPerformance = Static<typeof SlaPerformanceSchema>;

/** An agreement target may state its own level (`level` or `compliancePercent`); else the definition's. */
function levelOf(targets: unknown[], metric: string, priority: string | null, fallback: number): number {
  for (const entry of targets as Record<string, unknown>[]) {
    if (entry.metric !== metric) continue;
    if (entry.priority !== priority && entry.priority !== '*') continue;
    const level = entry.level ?? entry.compliancePercent;
    if (typeof level === 'number' && level > 0 && level <= 100) return level;
  }
  return fallback;
}

export const slaPerformanceSection: ReportSection<SlaPerformance> = {
  key: 'slaPerformance',
  title: { en: 'SLA performance', 'zh-CN': 'SLA 达成情况' },
  schema: SlaPerformanceSchema,

  async compute(ctx) {
    const periods = [...ctx.previousPeriods, ctx.period];
    const [targets, trend] = await Promise.all([
      slaTargets(ctx.db, ctx.scope, ctx.from, ctx.to),
      slaTrend(ctx.db, ctx.scope, periods),
    ]);
    const ids = [...new Set([...targets.map((r) => r.agreement_id), ...trend.map((r) => r.agreement_id)])];
    const agreements = await agreementsById(ctx.db, ids);
    const info = (id: string) => agreements.get(id) ?? { ref: id, name: id, targets: [] };
    const rows = targets.map((r) => {
      const a = info(r.agreement_id);
      const percentMet = percentOf(r.met, r.measured);
      const agreedLevel = levelOf(a.targets, r.metric, r.priority, ctx.agreedLevel);
      return {
        agreementId: r.agreement_id,
        agreementRef: a.ref,
        agreementName: a.name,
        metric: r.metric,
        priority: r.priority,
        targetSeconds: r.target_seconds,
        measured: r.measured,
        met: r.met,
        breached: r.breached,
        percentMet,
        agreedLevel,
        meetsAgreedLevel: percentMet === null ? null : percentMet >= agreedLevel,
        meanSeconds: r.mean_seconds === null ? null : round2(r.mean_seconds),
        p90Seconds: r.p90_seconds === null ? null : round2(r.p90_seconds),
      };
    });
    const sum = (k: 'measured' | 'met' | 'breached') => rows.reduce((n, r) => n + r[k], 0);
    const totals = {
      measured: sum('measured'),
      met: sum('met'),
      breached: sum('breached'),
      percentMet: null as number | null,
    };
    totals.percentMet = percentOf(totals.met, totals.measured);
    const found = new Map(trend.map((r) => [`${r.agreement_id}|${r.idx}`, r]));
    const trendRows = ids
      .sort((x, y) => info(x).ref.localeCompare(info(y).ref))
      .flatMap((id) =>
        periods.map((p, idx) => {
          const r = found.get(`${id}|${idx}`);
          const measured = r?.measured ?? 0;
          const met = r?.met ?? 0;
          return {
            period: p.key,
            agreementId: id,
            agreementRef: info(id).ref,
            agreementName: info(id).name,
            measured,
            met,
            breached: r?.breached ?? 0,
            percentMet: percentOf(met, measured),
          };
        }),
      );
    return {
      agreedLevel: ctx.agreedLevel,
      targets: rows,
      totals,
      periods: periods.map((p) => p.key),
      trend: trendRows,
    };
  },

  tables(data, locale) {
    return [
      {
        name: 'targets',
        title: locale === 'zh-CN' ? '各协议目标达成' : 'Targets by agreement',
        columns: [
          { key: 'agreement', label: t('agreement', locale), type: 'string' },
          { key: 'metric', label: t('metric', locale), type: 'string' },
          { key: 'priority', label: t('priority', locale), type: 'string' },
          { key: 'targetSeconds', label: t('target', locale), type: 'duration' },
          { key: 'measured', label: t('measured', locale), type: 'number' },
          { key: 'met', label: t('met', locale), type: 'number' },
          { key: 'breached', label: t('breached', locale), type: 'number' },
          { key: 'percentMet', label: t('percentMet', locale), type: 'percent' },
          { key: 'agreedLevel', label: t('agreedLevel', locale), type: 'percent' },
          { key: 'verdict', label: t('verdict', locale), type: 'string' },
          { key: 'meanSeconds', label: t('mean', locale), type: 'duration' },
          { key: 'p90Seconds', label: t('p90', locale), type: 'duration' },
        ],
        rows: data.targets.map((r) => ({
          ...r,
          agreement: `${r.agreementRef} ${r.agreementName}`,
          metric: metricLabel(r.metric, locale),
          priority: r.priority ?? '*',
          verdict: r.meetsAgreedLevel === null ? '' : t(r.meetsAgreedLevel ? 'yes' : 'no', locale),
        })),
      },
      {
        name: 'trend',
        title: locale === 'zh-CN' ? '达成率趋势' : 'Compliance trend',
        columns: [
          { key: 'period', label: t('period', locale), type: 'string' },
          { key: 'agreement', label: t('agreement', locale), type: 'string' },
          { key: 'measured', label: t('measured', locale), type: 'number' },
          { key: 'met', label: t('met', locale), type: 'number' },
          { key: 'breached', label: t('breached', locale), type: 'number' },
          { key: 'percentMet', label: t('percentMet', locale), type: 'percent' },
        ],
        rows: data.trend.map((r) => ({ ...r, agreement: `${r.agreementRef} ${r.agreementName}` })),
      },
    ];
  },

  charts(data, locale) {
    const agreements = [...new Map(data.trend.map((r) => [r.agreementId, r])).values()];
    const option: EChartsOption = {
      title: { text: locale === 'zh-CN' ? 'SLA 达成率趋势 (%)' : 'SLA compliance trend (%)' },
      tooltip: {},
      legend: { bottom: 0 },
      grid: { left: 50, right: 20, top: 52, bottom: 50 },
      xAxis: { type: 'category', data: data.periods.map((key) => labelOfKey(key, locale)) },
      yAxis: { type: 'value', min: 0, max: 100 },
      series: agreements.map((a, i) => ({
        type: 'line',
        name: `${a.agreementRef} ${a.agreementName}`,
        connectNulls: true,
        data: data.periods.map(
          (p) =>
            data.trend.find((r) => r.agreementId === a.agreementId && r.period === p)?.percentMet ?? null,
        ),
        ...(i === 0
          ? {
              markLine: {
                symbol: 'none',
                label: {
                  formatter: `${t('agreedLevel', locale)} ${data.agreedLevel}%`,
                  position: 'insideEndTop',
                },
                lineStyle: { type: 'dashed', color: '#c0392b' },
                data: [{ yAxis: data.agreedLevel }],
              },
            }
          : {}),
      })),
    };
    return [option];
  },

  notes(data, locale) {
    return locale === 'zh-CN'
      ? [
          `统计口径：本期开始计时的 SLA 时钟；“统计数”为已达成或已违约的时钟（计时中、暂停、取消的不计）。达成率 = 达成数 ÷ 统计数 × 100%。时间为协议工作日历下的业务时间（不含暂停）。未单独约定达成率的目标按 ${data.agreedLevel}% 判断。`,
        ]
      : [
          `Basis: SLA clocks that started in the period; "measured" are clocks met or breached (running, paused and cancelled ones are not). % met = met ÷ measured × 100 %. Times are business time on the agreement's calendar, pauses excluded. Targets without their own agreed level are judged against ${data.agreedLevel} %.`,
        ];
  },
};
