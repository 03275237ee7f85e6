import { type Static, Type } from 'typebox';
import { majorIncidents, majorTimelines } from '../reports.sources.ts';
import type { ReportLocale, ReportSection } from '../section.ts';
import { enumLabel, t } from './labels.ts';

export const MAJOR_LIMIT = 200;
const TIMELINE_LIMIT = 40;

const Str = Type.String();
const NullableStr = Type.Union([Type.String(), Type.Null()]);
const NullableDate = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const MajorIncidentsSchema = Type.Object(
  {
    total: Type.Integer({ minimum: 0 }),
    items: Type.Array(
      Type.Object({
        id: Type.String({ format: 'uuid' }),
        ref: Str,
        title: Str,
        priority: Str,
        impact: Str,
        urgency: Str,
        status: Str,
        service: NullableStr,
        group: NullableStr,
        majorReason: NullableStr,
        reportedAt: Type.String({ format: 'date-time' }),
        resolvedAt: NullableDate,
        closedAt: NullableDate,
        durationSeconds: Type.Number({ description: 'Reported to resolved (or to period end while open)' }),
        ongoing: Type.Boolean({ description: 'Not resolved by the end of the period' }),
        linkedIncidents: Type.Integer({
          minimum: 0,
          description: 'Incidents linked as children (affected reports)',
        }),
        timeline: Type.Array(
          Type.Object({ at: Type.String({ format: 'date-time' }), type: Str, summary: Str }),
        ),
      }),
    ),
  },
  {
    description:
      'Major incidents open at any time in the period, with a timeline summary, duration and impact.',
  },
);
export type MajorIncidents = Static<typeof MajorIncidentsSchema>;

function summary(type: string, data: Record<string, unknown>, locale: ReportLocale): string {
  const zh = locale === 'zh-CN';
  const s = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  switch (type) {
    case 'created':
      return zh
        ? `创建（${enumLabel('channel', s(data.channel) || null, locale)}，${s(data.priority)}）`
        : `created (${enumLabel('channel', s(data.channel) || null, locale)}, ${s(data.priority)})`;
    case 'major_declared':
      return zh ? `宣布为重大事件：${s(data.reason)}` : `declared major: ${s(data.reason)}`;
    case 'assigned':
      return zh ? `派单至${s(data.tier)}线处理组` : `assigned to a tier ${s(data.tier)} group`;
    case 'escalated':
      return zh
        ? `升级：${s(data.fromTier)}线 → ${s(data.tier)}线（${s(data.reason)}）`
        : `escalated: tier ${s(data.fromTier)} → ${s(data.tier)} (${s(data.reason)})`;
    case 'status_changed': {
      const from = enumLabel('incidentStatus', s(data.from) || null, locale);
      const to = enumLabel('incidentStatus', s(data.to) || null, locale);
      const why = data.reason ? `（${s(data.reason)}）` : '';
      return zh
        ? `状态：${from} → ${to}${why}`
        : `status: ${from} → ${to}${data.reason ? ` (${s(data.reason)})` : ''}`;
    }
    case 'communication':
      return zh ? `通报：${s(data.message)}` : `communication: ${s(data.message)}`;
    case 'child_linked':
      return zh ? `关联事件 ${s(data.childRef)}` : `linked ${s(data.childRef)}`;
    case 'priority_changed':
      return zh ? `优先级：${s(data.from)} → ${s(data.to)}` : `priority: ${s(data.from)} → ${s(data.to)}`;
    default:
      return type;
  }
}

export const majorIncidentsSection: ReportSection<MajorIncidents> = {
  key: 'majorIncidents',
  title: { en: 'Major incidents', 'zh-CN': '重大事件' },
  schema: MajorIncidentsSchema,

  async compute(ctx) {
    const rows = await majorIncidents(ctx.db, ctx.scope, ctx.from, ctx.to, MAJOR_LIMIT);
    const events = await majorTimelines(
      ctx.db,
      rows.map((r) => r.id),
      TIMELINE_LIMIT,
    );
    return {
      total: rows.length,
      items: rows.map((r) => {
        const end = r.resolved_at && r.resolved_at < ctx.asOf ? r.resolved_at : null;
        const until = end ?? r.cancelled_at ?? ctx.asOf;
        return {
          id: r.id,
          ref: r.ref,
          title: r.title,
          priority: r.priority,
          impact: r.impact,
          urgency: r.urgency,
          status: r.status,
          service: r.service_name,
          group: r.group_name,
          majorReason: r.major_reason,
          reportedAt: r.reported_at.toISOString(),
          resolvedAt: r.resolved_at?.toISOString() ?? null,
          closedAt: r.closed_at?.toISOString() ?? null,
          durationSeconds: Math.max(0, Math.round((until.getTime() - r.reported_at.getTime()) / 1000)),
          ongoing: end === null && r.cancelled_at === null,
          linkedIncidents: r.children,
          timeline: events
            .filter((e) => e.incident_id === r.id)
            .map((e) => ({
              at: e.at.toISOString(),
              type: e.type,
              summary: summary(e.type, e.data, ctx.locale),
            })),
        };
      }),
    };
  },

  tables(data, locale) {
    const zh = locale === 'zh-CN';
    return [
      {
        name: 'majorIncidents',
        title: zh ? '重大事件' : 'Major incidents',
        columns: [
          { key: 'ref', label: t('ticket', locale), type: 'string' },
          { key: 'title', label: t('title', locale), type: 'string' },
          { key: 'priority', label: t('priority', locale), type: 'string' },
          { key: 'impact', label: zh ? '影响' : 'Impact', type: 'string' },
          { key: 'service', label: zh ? '服务' : 'Service', type: 'string' },
          { key: 'linkedIncidents', label: zh ? '关联事件数' : 'Linked incidents', type: 'number' },
          { key: 'status', label: t('status', locale), type: 'string' },
          { key: 'reportedAt', label: t('reportedAt', locale), type: 'date' },
          { key: 'resolvedAt', label: t('resolvedAt', locale), type: 'date' },
          { key: 'durationSeconds', label: zh ? '持续时间' : 'Duration', type: 'duration' },
          { key: 'majorReason', label: zh ? '重大原因' : 'Why major', type: 'string' },
        ],
        rows: data.items.map((i) => ({
          ...i,
          impact: enumLabel('level', i.impact, locale),
          status:
            enumLabel('incidentStatus', i.status, locale) +
            (i.ongoing ? (zh ? '（未解决）' : ' (ongoing)') : ''),
        })),
      },
      {
        name: 'timeline',
        title: zh ? '时间线摘要' : 'Timeline summary',
        columns: [
          { key: 'ref', label: t('ticket', locale), type: 'string' },
          { key: 'at', label: zh ? '时间' : 'At', type: 'date' },
          { key: 'summary', label: zh ? '事件' : 'Event', type: 'string' },
        ],
        rows: data.items.flatMap((i) =>
          i.timeline.map((e) => ({ ref: i.ref, at: e.at, summary: e.summary })),
        ),
      },
    ];
  },

  notes(data, locale) {
    return locale === 'zh-CN'
      ? [
          `本期处于未解决状态的重大事件共 ${data.total} 个。持续时间 = 解决时间 − 报告时间（期末仍未解决的计至期末）。`,
        ]
      : [
          `${data.total} major incidents were open during the period. Duration = resolved − reported (to period end while unresolved).`,
        ];
  },
};
