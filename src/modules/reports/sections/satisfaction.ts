import type { EChartsOption } from 'echarts';
import { type Static, Type } from 'typebox';
import { percentOf, round2 } from '../render/format.ts';
import { callbackList, callbackSummary, closedCoverage } from '../reports.sources.ts';
import type { ReportSection } from '../section.ts';
import { t } from './labels.ts';

export const SATISFACTION_LIST_LIMIT = 200;

const Int = Type.Integer({ minimum: 0 });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const Entry = Type.Object({
  incidentId: Type.String({ format: 'uuid' }),
  ref: Type.String(),
  title: Type.String(),
  outcome: Type.String(),
  rating: Type.Union([Type.Integer(), Type.Null()]),
  comment: Type.Union([Type.String(), Type.Null()]),
  answeredAt: Type.String({ format: 'date-time' }),
});

export const SatisfactionSchema = Type.Object(
  {
    responses: Type.Integer({
      minimum: 0,
      description: 'Call-backs answered by the requester (confirmed + rejected)',
    }),
    confirmed: Int,
    rejected: Int,
    unconfirmedClosures: Type.Integer({ minimum: 0, description: 'Closed automatically without an answer' }),
    rated: Int,
    averageRating: Type.Union([Type.Number(), Type.Null()], {
      description: 'Mean of ratings 1-5, two decimals',
    }),
    satisfiedPercent: Type.Union([Type.Number(), Type.Null()], {
      description: 'ratings ≥ 4 ÷ ratings × 100 (工单满意度)',
    }),
    ratings: Type.Array(Type.Object({ rating: Type.Integer({ minimum: 1, maximum: 5 }), count: Int })),
    closedIncidents: Int,
    closedWithCallback: Int,
    callbackCoveragePercent: NullableNumber,
    comments: Type.Array(Entry),
    unconfirmed: Type.Array(Entry),
  },
  {
    description:
      'Call-back (回访) results answered in the period: outcomes, rating distribution and mean, comments, closures without confirmation.',
  },
);
export type Satisfaction = Static<typeof SatisfactionSchema>;

const toEntry = (r: Awaited<ReturnType<typeof callbackList>>[number]) => ({
  incidentId: r.incident_id,
  ref: r.ref,
  title: r.title,
  outcome: r.outcome,
  rating: r.rating,
  comment: r.comment,
  answeredAt: r.answered_at.toISOString(),
});

const OUTCOME = {
  confirmed: { en: 'Confirmed', 'zh-CN': '确认解决' },
  rejected: { en: 'Rejected (reopened)', 'zh-CN': '不认可（已重开）' },
  auto_closed: { en: 'Closed without answer', 'zh-CN': '超时自动关闭' },
} as const;

export const satisfactionSection: ReportSection<Satisfaction> = {
  key: 'satisfaction',
  title: { en: 'Customer satisfaction', 'zh-CN': '客户满意度' },
  schema: SatisfactionSchema,

  async compute(ctx) {
    const [s, coverage, comments, unconfirmed] = await Promise.all([
      callbackSummary(ctx.db, ctx.scope, ctx.from, ctx.to),
      closedCoverage(ctx.db, ctx.scope, ctx.from, ctx.to),
      callbackList(ctx.db, ctx.scope, ctx.from, ctx.to, 'comments', SATISFACTION_LIST_LIMIT),
      callbackList(ctx.db, ctx.scope, ctx.from, ctx.to, 'unconfirmed', SATISFACTION_LIST_LIMIT),
    ]);
    return {
      responses: s.confirmed + s.rejected,
      confirmed: s.confirmed,
      rejected: s.rejected,
      unconfirmedClosures: s.auto_closed,
      rated: s.rated,
      averageRating: s.rated > 0 ? round2(s.rating_sum / s.rated) : null,
      satisfiedPercent: percentOf(s.satisfied, s.rated),
      ratings: [s.r1, s.r2, s.r3, s.r4, s.r5].map((count, i) => ({ rating: i + 1, count })),
      closedIncidents: coverage.closed,
      closedWithCallback: coverage.answered,
      callbackCoveragePercent: percentOf(coverage.answered, coverage.closed),
      comments: comments.map(toEntry),
      unconfirmed: unconfirmed.map(toEntry),
    };
  },

  tables(data, locale) {
    const zh = locale === 'zh-CN';
    const entryColumns = [
      { key: 'ref', label: t('ticket', locale), type: 'string' as const },
      { key: 'title', label: t('title', locale), type: 'string' as const },
      { key: 'outcome', label: zh ? '回访结果' : 'Outcome', type: 'string' as const },
      { key: 'rating', label: zh ? '评分' : 'Rating', type: 'number' as const },
      { key: 'comment', label: zh ? '意见' : 'Comment', type: 'string' as const },
      { key: 'answeredAt', label: zh ? '时间' : 'At', type: 'date' as const },
    ];
    const entries = (list: Satisfaction['comments']) =>
      list.map((e) => ({ ...e, outcome: OUTCOME[e.outcome as keyof typeof OUTCOME]?.[locale] ?? e.outcome }));
    return [
      {
        name: 'summary',
        title: zh ? '回访汇总' : 'Call-back summary',
        columns: [
          { key: 'measure', label: zh ? '项目' : 'Measure', type: 'string' },
          { key: 'value', label: zh ? '数值' : 'Value', type: 'number' },
        ],
        rows: [
          { measure: zh ? '回访应答数' : 'Answered call-backs', value: data.responses },
          { measure: zh ? '确认解决' : 'Confirmed', value: data.confirmed },
          { measure: zh ? '不认可（已重开）' : 'Rejected (reopened)', value: data.rejected },
          {
            measure: zh ? '未确认关闭（超时）' : 'Closed without confirmation',
            value: data.unconfirmedClosures,
          },
          { measure: zh ? '平均评分（1-5）' : 'Average rating (1-5)', value: data.averageRating },
          { measure: zh ? '工单满意度 %（4-5分）' : 'Satisfied % (rated 4-5)', value: data.satisfiedPercent },
          { measure: zh ? '本期关闭事件数' : 'Incidents closed', value: data.closedIncidents },
          { measure: zh ? '回访率 %' : 'Call-back coverage %', value: data.callbackCoveragePercent },
        ],
      },
      {
        name: 'ratings',
        title: zh ? '评分分布' : 'Rating distribution',
        columns: [
          { key: 'rating', label: zh ? '评分' : 'Rating', type: 'number' },
          { key: 'count', label: zh ? '数量' : 'Count', type: 'number' },
          { key: 'share', label: zh ? '占比' : 'Share', type: 'percent' },
        ],
        rows: data.ratings.map((r) => ({ ...r, share: percentOf(r.count, data.rated) })),
      },
      {
        name: 'comments',
        title: zh ? '用户意见' : 'Comments',
        columns: entryColumns,
        rows: entries(data.comments),
      },
      {
        name: 'unconfirmed',
        title: zh ? '未确认关闭' : 'Closed without confirmation',
        columns: entryColumns,
        rows: entries(data.unconfirmed),
      },
    ];
  },

  charts(data, locale): EChartsOption[] {
    return [
      {
        title: { text: locale === 'zh-CN' ? '回访评分分布' : 'Call-back ratings' },
        tooltip: {},
        grid: { left: 45, right: 20, top: 52, bottom: 30 },
        xAxis: { type: 'category', data: data.ratings.map((r) => `${r.rating}★`) },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          {
            type: 'bar',
            name: locale === 'zh-CN' ? '数量' : 'Count',
            data: data.ratings.map((r) => r.count),
          },
        ],
      },
    ];
  },

  notes(_data, locale) {
    return locale === 'zh-CN'
      ? [
          '统计本期内作出回应的回访：平均评分 = 评分之和 ÷ 评分数；工单满意度 = 4-5 分的数量 ÷ 评分数 × 100%；回访率 = 本期关闭且回访有应答的事件 ÷ 本期关闭的事件 × 100%；未确认关闭 = 确认期限内无应答而自动关闭。',
        ]
      : [
          'Call-backs answered in the period. Average rating = Σ ratings ÷ ratings; satisfied = ratings of 4-5 ÷ ratings × 100 %; coverage = incidents closed in the period with an answered call-back ÷ incidents closed in the period × 100 %; unconfirmed closures closed automatically when the confirmation time ran out.',
        ];
  },
};
