import { type Static, Type } from 'typebox';
import { round2 } from '../render/format.ts';
import { agreementsById, breaches, pendingReasons, securityIncidents } from '../reports.sources.ts';
import type { ReportLocale, ReportSection } from '../section.ts';
import { enumLabel, metricLabel, t } from './labels.ts';

/** At most this many breaches and security incidents are listed (the counts stay exact). */
export const NONCONFORMITY_LIMIT = 1000;

const Int = Type.Integer({ minimum: 0 });
const Str = Type.String();
const NullableStr = Type.Union([Type.String(), Type.Null()]);

const BreachSchema = Type.Object({
  ticketType: Type.Union([Type.Literal('incident'), Type.Literal('service_request')]),
  ticketId: Type.String({ format: 'uuid' }),
  ref: NullableStr,
  title: NullableStr,
  agreementId: Type.String({ format: 'uuid' }),
  agreementRef: Str,
  agreementName: Str,
  metric: Type.Union([Type.Literal('response'), Type.Literal('resolution')]),
  priority: NullableStr,
  targetSeconds: Type.Number(),
  elapsedSeconds: Type.Number({ description: 'Business time counted when last computed' }),
  overrunSeconds: Type.Number({ description: 'elapsed − target' }),
  breachedAt: Type.String({ format: 'date-time' }),
  group: NullableStr,
  assignee: NullableStr,
  pauses: Type.Array(Type.Object({ reason: NullableStr, count: Int }), {
    description: 'Times the ticket waited in pending, by reason',
  }),
  escalations: Int,
  reassignments: Int,
});

export const NonconformitiesSchema = Type.Object(
  {
    total: Int,
    byMetric: Type.Object({ response: Int, resolution: Int }),
    truncated: Type.Boolean({ description: `true when more than ${NONCONFORMITY_LIMIT} breaches happened` }),
    breaches: Type.Array(BreachSchema),
    security: Type.Array(
      Type.Object({
        id: Type.String({ format: 'uuid' }),
        ref: Str,
        title: Str,
        priority: Str,
        category: Str,
        status: Str,
        reportedAt: Type.String({ format: 'date-time' }),
        resolvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      }),
      {
        description:
          'Information-security incidents (category `security` or `security.*`) reported in the period',
      },
    ),
  },
  {
    description:
      'Every SLA breach that happened in the period (oldest first), with its causes; security incidents.',
  },
);
export type Nonconformities = Static<typeof NonconformitiesSchema>;

export function causeText(b: Nonconformities['breaches'][number], locale: ReportLocale): string {
  const zh = locale === 'zh-CN';
  const parts: string[] = [];
  for (const p of b.pauses) {
    const reason = p.reason ? enumLabel('pendingReason', p.reason, locale) : zh ? '未注明' : 'no reason';
    parts.push(zh ? `挂起（${reason}）${p.count}次` : `pending (${reason}) ×${p.count}`);
  }
  if (b.escalations > 0) parts.push(zh ? `升级${b.escalations}次` : `escalated ×${b.escalations}`);
  if (b.reassignments > 0) parts.push(zh ? `转派${b.reassignments}次` : `reassigned ×${b.reassignments}`);
  return parts.join(zh ? '；' : '; ');
}

export const nonconformitiesSection: ReportSection<Nonconformities> = {
  key: 'nonconformities',
  title: { en: 'Nonconformities', 'zh-CN': '不符合项' },
  schema: NonconformitiesSchema,

  async compute(ctx) {
    const [found, security] = await Promise.all([
      breaches(ctx.db, ctx.scope, ctx.from, ctx.to, NONCONFORMITY_LIMIT),
      securityIncidents(ctx.db, ctx.scope, ctx.from, ctx.to, NONCONFORMITY_LIMIT),
    ]);
    const incidentIds = [
      ...new Set(found.rows.filter((r) => r.ticket_type === 'incident').map((r) => r.ticket_id)),
    ];
    const [pauses, agreements] = await Promise.all([
      pendingReasons(ctx.db, incidentIds),
      agreementsById(ctx.db, [...new Set(found.rows.map((r) => r.agreement_id))]),
    ]);
    const byMetric = { response: 0, resolution: 0 };
    for (const m of found.byMetric) byMetric[m.metric as keyof typeof byMetric] = m.n;
    const total = byMetric.response + byMetric.resolution;
    return {
      total,
      byMetric,
      truncated: total > found.rows.length,
      breaches: found.rows.map((r) => {
        const elapsed = round2(r.elapsed_seconds);
        return {
          ticketType: r.ticket_type,
          ticketId: r.ticket_id,
          ref: r.ref,
          title: r.title,
          agreementId: r.agreement_id,
          agreementRef: agreements.get(r.agreement_id)?.ref ?? '',
          agreementName: agreements.get(r.agreement_id)?.name ?? '',
          metric: r.metric,
          priority: r.priority,
          targetSeconds: r.target_seconds,
          elapsedSeconds: elapsed,
          overrunSeconds: round2(Math.max(0, elapsed - r.target_seconds)),
          breachedAt: r.breached_at.toISOString(),
          group: r.group_name,
          assignee: r.assignee_name,
          pauses: pauses
            .filter((p) => p.incident_id === r.ticket_id)
            .map((p) => ({ reason: p.reason, count: p.n }))
            .sort((a, b) => String(a.reason).localeCompare(String(b.reason))),
          escalations: r.escalations,
          reassignments: r.reassignments,
        };
      }),
      security: security.map((s) => ({
        id: s.id,
        ref: s.ref,
        title: s.title,
        priority: s.priority,
        category: s.category,
        status: s.status,
        reportedAt: s.reported_at.toISOString(),
        resolvedAt: s.resolved_at?.toISOString() ?? null,
      })),
    };
  },

  tables(data, locale) {
    return [
      {
        name: 'breaches',
        title: locale === 'zh-CN' ? 'SLA 违约明细' : 'SLA breaches',
        columns: [
          { key: 'ref', label: t('ticket', locale), type: 'string' },
          { key: 'title', label: t('title', locale), type: 'string' },
          { key: 'agreement', label: t('agreement', locale), type: 'string' },
          { key: 'metric', label: t('metric', locale), type: 'string' },
          { key: 'priority', label: t('priority', locale), type: 'string' },
          { key: 'targetSeconds', label: t('target', locale), type: 'duration' },
          { key: 'elapsedSeconds', label: t('elapsed', locale), type: 'duration' },
          { key: 'overrunSeconds', label: t('overrun', locale), type: 'duration' },
          { key: 'breachedAt', label: t('breachedAt', locale), type: 'date' },
          { key: 'group', label: t('group', locale), type: 'string' },
          { key: 'assignee', label: t('assignee', locale), type: 'string' },
          { key: 'cause', label: t('cause', locale), type: 'string' },
        ],
        rows: data.breaches.map((b) => ({
          ...b,
          agreement: `${b.agreementRef} ${b.agreementName}`,
          metric: metricLabel(b.metric, locale),
          cause: causeText(b, locale),
        })),
      },
      {
        name: 'security',
        title: locale === 'zh-CN' ? '信息安全事件' : 'Information-security incidents',
        columns: [
          { key: 'ref', label: t('ticket', locale), type: 'string' },
          { key: 'title', label: t('title', locale), type: 'string' },
          { key: 'priority', label: t('priority', locale), type: 'string' },
          { key: 'category', label: t('category', locale), type: 'string' },
          { key: 'status', label: t('status', locale), type: 'string' },
          { key: 'reportedAt', label: t('reportedAt', locale), type: 'date' },
          { key: 'resolvedAt', label: t('resolvedAt', locale), type: 'date' },
        ],
        rows: data.security.map((s) => ({ ...s, status: enumLabel('incidentStatus', s.status, locale) })),
      },
    ];
  },

  notes(data, locale) {
    const zh = locale === 'zh-CN';
    const lines = [
      zh
        ? `本期共 ${data.total} 次 SLA 违约（响应 ${data.byMetric.response} 次，解决 ${data.byMetric.resolution} 次），按违约时间排序，供服务质量会议逐条评审。原因列出挂起（按原因）、升级和转派次数；处理组和处理人为工单当前的。`
        : `${data.total} SLA breaches in the period (response ${data.byMetric.response}, resolution ${data.byMetric.resolution}), oldest first, for the service review to go through. Causes list waits in pending (by reason), escalations and reassignments; group and assignee are the ticket's current ones.`,
    ];
    if (data.truncated)
      lines.push(
        zh ? `仅列出前 ${data.breaches.length} 条。` : `Only the first ${data.breaches.length} are listed.`,
      );
    return lines;
  },
};
