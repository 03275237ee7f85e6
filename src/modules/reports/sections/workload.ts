import type { EChartsOption } from 'echarts';
import { DateTime } from 'luxon';
import { type Static, Type } from 'typebox';
import { StringEnum } from '../../../platform/schemas.ts';
import { round2 } from '../render/format.ts';
import {
  type Dimension,
  incidentVolumes,
  labelsOf,
  minutesSpent,
  requestVolumes,
  type VolumeRow,
} from '../reports.sources.ts';
import type { Localized, ReportLocale, ReportSection } from '../section.ts';
import { enumLabel, t } from './labels.ts';

export const DIMENSIONS = [
  'category',
  'channel',
  'priority',
  'service',
  'group',
  'agent',
] as const satisfies readonly Dimension[];
export const AGE_BUCKETS = ['0-1d', '1-5d', '5-10d', '10-30d', '30d+'] as const;

const Int = Type.Integer({ minimum: 0 });
const Counts = Type.Object({
  opened: Int,
  resolved: Int,
  backlog: Int,
  backlogMeanAgeSeconds: Type.Union([Type.Number(), Type.Null()]),
});

export const WorkloadSchema = Type.Object(
  {
    totals: Type.Object({ incidents: Counts, requests: Counts }),
    breakdown: Type.Array(
      Type.Object({
        dimension: StringEnum(DIMENSIONS),
        key: Type.Union([Type.String(), Type.Null()], { description: 'Code or id; null = not set' }),
        label: Type.String(),
        incidentsOpened: Int,
        incidentsResolved: Int,
        incidentsBacklog: Int,
        requestsOpened: Int,
        requestsResolved: Int,
        requestsBacklog: Int,
        minutesSpent: Type.Union([Type.Number(), Type.Null()], {
          description: 'Work-note minutes recorded in the period (group and agent rows)',
        }),
      }),
    ),
    ageing: Type.Array(Type.Object({ bucket: StringEnum(AGE_BUCKETS), incidents: Int, requests: Int })),
    daily: Type.Array(
      Type.Object({
        date: Type.String({ description: 'Local date in the report time zone' }),
        incidentsOpened: Int,
        incidentsResolved: Int,
        requestsOpened: Int,
        requestsResolved: Int,
      }),
    ),
  },
  {
    description:
      'Incidents and service requests opened, resolved and open at period end (backlog), by dimension; backlog ageing; daily volume.',
  },
);
export type Workload = Static<typeof WorkloadSchema>;

/** The local dates of `[from, to)` in the time zone (at most 366). */
function daysOf(from: Date, to: Date, timeZone: string): string[] {
  const out: string[] = [];
  let day = DateTime.fromJSDate(from, { zone: timeZone }).startOf('day');
  const end = DateTime.fromJSDate(to, { zone: timeZone });
  for (; day < end && out.length < 400; day = day.plus({ days: 1 })) out.push(day.toFormat('yyyy-MM-dd'));
  return out;
}

const DIMENSION_LABEL: Record<Dimension, Localized> = {
  category: { en: 'Category', 'zh-CN': '分类' },
  channel: { en: 'Channel', 'zh-CN': '渠道' },
  priority: { en: 'Priority', 'zh-CN': '优先级' },
  service: { en: 'Service', 'zh-CN': '服务' },
  group: { en: 'Assignment group', 'zh-CN': '处理组' },
  agent: { en: 'Agent', 'zh-CN': '处理人' },
};

const BUCKET_LABEL: Record<(typeof AGE_BUCKETS)[number], Localized> = {
  '0-1d': { en: '< 1 day', 'zh-CN': '1天内' },
  '1-5d': { en: '1-5 days', 'zh-CN': '1-5天' },
  '5-10d': { en: '5-10 days', 'zh-CN': '5-10天' },
  '10-30d': { en: '10-30 days', 'zh-CN': '10-30天' },
  '30d+': { en: '> 30 days', 'zh-CN': '30天以上' },
};

const COL: Record<string, Localized> = {
  dimension: { en: 'Dimension', 'zh-CN': '维度' },
  item: { en: 'Item', 'zh-CN': '项目' },
  incidentsOpened: { en: 'Incidents opened', 'zh-CN': '事件新增' },
  incidentsResolved: { en: 'Incidents resolved', 'zh-CN': '事件解决' },
  incidentsBacklog: { en: 'Incident backlog', 'zh-CN': '事件积压' },
  requestsOpened: { en: 'Requests opened', 'zh-CN': '请求新增' },
  requestsResolved: { en: 'Requests fulfilled', 'zh-CN': '请求完成' },
  requestsBacklog: { en: 'Request backlog', 'zh-CN': '请求积压' },
  minutesSpent: { en: 'Minutes spent', 'zh-CN': '投入工时（分钟）' },
  bucket: { en: 'Age', 'zh-CN': '积压时长' },
  incidents: { en: 'Incidents', 'zh-CN': '事件' },
  requests: { en: 'Requests', 'zh-CN': '服务请求' },
  date: { en: 'Date', 'zh-CN': '日期' },
};
const c = (key: string, locale: ReportLocale) => COL[key]![locale];

function totalsOf(rows: VolumeRow[]) {
  const total = rows.find((r) => r.dimension === 'total');
  const backlog = total?.backlog ?? 0;
  return {
    opened: total?.opened ?? 0,
    resolved: total?.resolved ?? 0,
    backlog,
    backlogMeanAgeSeconds: backlog > 0 ? round2((total?.backlog_age_sum ?? 0) / backlog) : null,
  };
}

export const workloadSection: ReportSection<Workload> = {
  key: 'workload',
  title: { en: 'Workload', 'zh-CN': '工作量' },
  schema: WorkloadSchema,

  async compute(ctx) {
    const [incidents, requests, minutes] = await Promise.all([
      incidentVolumes(ctx.db, ctx.scope, ctx.from, ctx.to, ctx.asOf, ctx.timeZone),
      requestVolumes(ctx.db, ctx.scope, ctx.from, ctx.to, ctx.asOf, ctx.timeZone),
      minutesSpent(ctx.db, ctx.scope, ctx.from, ctx.to),
    ]);
    const rows = new Map<string, Workload['breakdown'][number]>();
    const keyOf = (d: string, k: string | null) => `${d}|${k ?? ''}`;
    const entry = (dimension: Dimension, key: string | null) => {
      let row = rows.get(keyOf(dimension, key));
      if (!row) {
        row = {
          dimension,
          key,
          label: '',
          incidentsOpened: 0,
          incidentsResolved: 0,
          incidentsBacklog: 0,
          requestsOpened: 0,
          requestsResolved: 0,
          requestsBacklog: 0,
          minutesSpent: dimension === 'group' || dimension === 'agent' ? 0 : null,
        };
        rows.set(keyOf(dimension, key), row);
      }
      return row;
    };
    for (const r of incidents) {
      if (!DIMENSIONS.includes(r.dimension as Dimension)) continue;
      const row = entry(r.dimension as Dimension, r.key);
      row.incidentsOpened = r.opened;
      row.incidentsResolved = r.resolved;
      row.incidentsBacklog = r.backlog;
    }
    for (const r of requests) {
      if (r.dimension !== 'category') continue;
      const row = entry('category', r.key);
      row.requestsOpened = r.opened;
      row.requestsResolved = r.resolved;
      row.requestsBacklog = r.backlog;
    }
    for (const m of minutes) entry(m.dimension, m.key).minutesSpent = round2(m.minutes);

    const keysOf = (d: Dimension) =>
      [...rows.values()].filter((r) => r.dimension === d && r.key !== null).map((r) => r.key!);
    const [categories, services, groups, agents] = await Promise.all([
      labelsOf(ctx.db, 'category', keysOf('category'), ctx.locale),
      labelsOf(ctx.db, 'service', keysOf('service'), ctx.locale),
      labelsOf(ctx.db, 'group', keysOf('group'), ctx.locale),
      labelsOf(ctx.db, 'agent', keysOf('agent'), ctx.locale),
    ]);
    const lookup: Partial<Record<Dimension, Map<string, string>>> = {
      category: categories,
      service: services,
      group: groups,
      agent: agents,
    };
    for (const row of rows.values()) {
      if (row.key === null) row.label = t('none', ctx.locale);
      else if (row.dimension === 'channel') row.label = enumLabel('channel', row.key, ctx.locale);
      else if (row.dimension === 'priority') row.label = enumLabel('priority', row.key, ctx.locale);
      else row.label = lookup[row.dimension]?.get(row.key) ?? row.key;
    }
    const breakdown = [...rows.values()].sort(
      (a, b) =>
        DIMENSIONS.indexOf(a.dimension) - DIMENSIONS.indexOf(b.dimension) ||
        (a.dimension === 'priority'
          ? String(a.key).localeCompare(String(b.key))
          : b.incidentsOpened + b.requestsOpened - (a.incidentsOpened + a.requestsOpened) ||
            a.label.localeCompare(b.label)),
    );
    const ageing = AGE_BUCKETS.map((bucket) => ({
      bucket,
      incidents: incidents.find((r) => r.dimension === 'ageing' && r.key === bucket)?.backlog ?? 0,
      requests: requests.find((r) => r.dimension === 'ageing' && r.key === bucket)?.backlog ?? 0,
    }));
    return {
      totals: { incidents: totalsOf(incidents), requests: totalsOf(requests) },
      breakdown,
      ageing,
      daily: daysOf(ctx.from, ctx.to, ctx.timeZone).map((date) => {
        const count = (rows: VolumeRow[], dimension: 'openedOn' | 'resolvedOn') => {
          const found = rows.find((r) => r.dimension === dimension && r.key === date);
          return (dimension === 'openedOn' ? found?.opened : found?.resolved) ?? 0;
        };
        return {
          date,
          incidentsOpened: count(incidents, 'openedOn'),
          incidentsResolved: count(incidents, 'resolvedOn'),
          requestsOpened: count(requests, 'openedOn'),
          requestsResolved: count(requests, 'resolvedOn'),
        };
      }),
    };
  },

  tables(data, locale) {
    const counts = [
      'incidentsOpened',
      'incidentsResolved',
      'incidentsBacklog',
      'requestsOpened',
      'requestsResolved',
      'requestsBacklog',
    ];
    const total = {
      dimension: t('total', locale),
      item: '',
      incidentsOpened: data.totals.incidents.opened,
      incidentsResolved: data.totals.incidents.resolved,
      incidentsBacklog: data.totals.incidents.backlog,
      requestsOpened: data.totals.requests.opened,
      requestsResolved: data.totals.requests.resolved,
      requestsBacklog: data.totals.requests.backlog,
      minutesSpent: null,
    };
    return [
      {
        name: 'breakdown',
        title: locale === 'zh-CN' ? '工作量分布' : 'Volumes by dimension',
        columns: [
          { key: 'dimension', label: c('dimension', locale), type: 'string' },
          { key: 'item', label: c('item', locale), type: 'string' },
          ...counts.map((key) => ({ key, label: c(key, locale), type: 'number' as const })),
          { key: 'minutesSpent', label: c('minutesSpent', locale), type: 'number' },
        ],
        rows: [
          total,
          ...data.breakdown.map((r) => ({
            ...r,
            dimension: DIMENSION_LABEL[r.dimension][locale],
            item: r.label,
          })),
        ],
      },
      {
        name: 'ageing',
        title: locale === 'zh-CN' ? '期末积压时长分布' : 'Backlog ageing at period end',
        columns: [
          { key: 'bucket', label: c('bucket', locale), type: 'string' },
          { key: 'incidents', label: c('incidents', locale), type: 'number' },
          { key: 'requests', label: c('requests', locale), type: 'number' },
        ],
        rows: data.ageing.map((a) => ({ ...a, bucket: BUCKET_LABEL[a.bucket][locale] })),
      },
      {
        name: 'daily',
        title: locale === 'zh-CN' ? '每日工单量' : 'Daily volume',
        columns: [
          { key: 'date', label: c('date', locale), type: 'date' },
          { key: 'incidentsOpened', label: c('incidentsOpened', locale), type: 'number' },
          { key: 'incidentsResolved', label: c('incidentsResolved', locale), type: 'number' },
          { key: 'requestsOpened', label: c('requestsOpened', locale), type: 'number' },
          { key: 'requestsResolved', label: c('requestsResolved', locale), type: 'number' },
        ],
        rows: data.daily,
      },
    ];
  },

  charts(data, locale) {
    const daily: EChartsOption = {
      title: { text: locale === 'zh-CN' ? '每日工单量' : 'Daily volume' },
      tooltip: {},
      legend: { bottom: 0 },
      grid: { left: 45, right: 20, top: 52, bottom: 60 },
      xAxis: { type: 'category', data: data.daily.map((d) => d.date.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          type: 'bar',
          name: c('incidentsOpened', locale),
          stack: 'opened',
          data: data.daily.map((d) => d.incidentsOpened),
        },
        {
          type: 'bar',
          name: c('requestsOpened', locale),
          stack: 'opened',
          data: data.daily.map((d) => d.requestsOpened),
        },
        {
          type: 'line',
          name: c('incidentsResolved', locale),
          data: data.daily.map((d) => d.incidentsResolved),
        },
        {
          type: 'line',
          name: c('requestsResolved', locale),
          data: data.daily.map((d) => d.requestsResolved),
        },
      ],
    };
    const ageing: EChartsOption = {
      title: { text: locale === 'zh-CN' ? '期末积压时长分布' : 'Backlog ageing' },
      tooltip: {},
      legend: { bottom: 0 },
      grid: { left: 45, right: 20, top: 52, bottom: 50 },
      xAxis: { type: 'category', data: data.ageing.map((a) => BUCKET_LABEL[a.bucket][locale]) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { type: 'bar', name: c('incidents', locale), data: data.ageing.map((a) => a.incidents) },
        { type: 'bar', name: c('requests', locale), data: data.ageing.map((a) => a.requests) },
      ],
    };
    return [daily, ageing];
  },

  notes(_data, locale) {
    return locale === 'zh-CN'
      ? [
          '新增 = 本期报告的事件 / 提交的服务请求；解决 = 本期解决的事件 / 完成的服务请求；积压 = 期末（本期未结束时为生成时）仍未解决、未取消的工单。处理组、处理人按工单当前的归属统计；投入工时来自本期的工作记录。服务请求没有渠道、优先级、服务和处理组，只按目录项的分类统计。',
        ]
      : [
          'Opened = incidents reported / requests submitted in the period; resolved = incidents resolved / requests fulfilled in it; backlog = tickets neither resolved nor cancelled at period end (at generation time while the period runs). Group and agent are the ticket’s current ones; minutes come from work notes of the period. Service requests carry no channel, priority, service or group: they count under their catalogue item’s category only.',
        ];
  },
};
