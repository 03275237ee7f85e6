import { incidentModule } from '../../incident/index.ts';
import type { Localized, ReportLocale } from '../section.ts';

/** Labels the built-in sections share. Enumeration labels come from their modules' `enums`. */
export const L = {
  agreement: { en: 'Agreement', 'zh-CN': '协议' },
  metric: { en: 'Metric', 'zh-CN': '指标' },
  priority: { en: 'Priority', 'zh-CN': '优先级' },
  target: { en: 'Target', 'zh-CN': '目标时限' },
  measured: { en: 'Measured', 'zh-CN': '统计数' },
  met: { en: 'Met', 'zh-CN': '达成' },
  breached: { en: 'Breached', 'zh-CN': '违约' },
  percentMet: { en: '% met', 'zh-CN': '达成率' },
  agreedLevel: { en: 'Agreed level', 'zh-CN': '约定达成率' },
  verdict: { en: 'Verdict', 'zh-CN': '结论' },
  mean: { en: 'Mean', 'zh-CN': '平均' },
  p90: { en: 'P90', 'zh-CN': 'P90' },
  period: { en: 'Period', 'zh-CN': '周期' },
  ticket: { en: 'Ticket', 'zh-CN': '工单' },
  title: { en: 'Title', 'zh-CN': '标题' },
  elapsed: { en: 'Elapsed', 'zh-CN': '实际用时' },
  overrun: { en: 'Overrun', 'zh-CN': '超时' },
  breachedAt: { en: 'Breached at', 'zh-CN': '违约时间' },
  group: { en: 'Group', 'zh-CN': '处理组' },
  assignee: { en: 'Assignee', 'zh-CN': '处理人' },
  cause: { en: 'Cause', 'zh-CN': '原因' },
  status: { en: 'Status', 'zh-CN': '状态' },
  category: { en: 'Category', 'zh-CN': '分类' },
  reportedAt: { en: 'Reported', 'zh-CN': '报告时间' },
  resolvedAt: { en: 'Resolved', 'zh-CN': '解决时间' },
  none: { en: '(none)', 'zh-CN': '（未指定）' },
  yes: { en: 'meets', 'zh-CN': '达标' },
  no: { en: 'below', 'zh-CN': '未达标' },
  total: { en: 'Total', 'zh-CN': '合计' },
  incident: { en: 'Incident', 'zh-CN': '事件' },
  serviceRequest: { en: 'Service request', 'zh-CN': '服务请求' },
} satisfies Record<string, Localized>;

export const t = (key: keyof typeof L, locale: ReportLocale) => L[key][locale];

const METRIC: Record<string, Localized> = {
  response: { en: 'Response', 'zh-CN': '响应' },
  resolution: { en: 'Resolution', 'zh-CN': '解决' },
};
export const metricLabel = (metric: string, locale: ReportLocale) => METRIC[metric]?.[locale] ?? metric;

type Enum = Record<string, Record<ReportLocale, string>>;
const incidentEnums = (incidentModule.enums ?? {}) as Record<string, Enum>;

/** A label of one of the incident module's enumerations (channel, level, incidentStatus, pendingReason, ...). */
export function enumLabel(name: string, code: string | null, locale: ReportLocale): string {
  if (code === null) return t('none', locale);
  return incidentEnums[name]?.[code]?.[locale] ?? code;
}
