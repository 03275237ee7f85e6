import type { TesseraModule } from '../../platform/module.ts';
import { autoCloseJob, incidentSchedules } from './incident.jobs.ts';
import { incidentRoutes } from './incident.routes.ts';
import { createIncidentConfigService, createIncidentService } from './incident.service.ts';
import { incidentConfigRoutes } from './incident-config.routes.ts';

export type { HistoryState, IncidentHistory } from './history.ts';
export type { Incident, IncidentCreate } from './incident.schemas.ts';
export { categoryExists, createIncidentService, type IncidentService } from './incident.service.ts';

/** Incidents: lifecycle, timeline, attachments, major incidents, statistics, call-back confirmations. */
export const incidentModule: TesseraModule = {
  name: 'incident',
  async routes(app, { db, config }) {
    await incidentRoutes(app, createIncidentService({ db }), config.ATTACHMENT_MAX_BYTES);
    incidentConfigRoutes(app, createIncidentConfigService({ db }));
  },
  jobs: [autoCloseJob],
  schedules: incidentSchedules,
  enums: {
    incidentStatus: {
      new: { en: 'New', 'zh-CN': '新建' },
      assigned: { en: 'Assigned', 'zh-CN': '已派单' },
      in_progress: { en: 'In progress', 'zh-CN': '处理中' },
      pending: { en: 'Pending', 'zh-CN': '挂起' },
      resolved: { en: 'Resolved', 'zh-CN': '已解决' },
      closed: { en: 'Closed', 'zh-CN': '已关闭' },
      cancelled: { en: 'Cancelled', 'zh-CN': '已取消' },
    },
    channel: {
      phone: { en: 'Phone', 'zh-CN': '电话' },
      email: { en: 'E-mail', 'zh-CN': '邮件' },
      wechat: { en: 'WeChat', 'zh-CN': '微信' },
      oa: { en: 'OA system', 'zh-CN': 'OA系统' },
      im: { en: 'Instant messaging', 'zh-CN': '即时通讯' },
      portal: { en: 'Portal', 'zh-CN': '门户' },
      paper: { en: 'Paper form', 'zh-CN': '纸质单' },
      monitoring: { en: 'Monitoring', 'zh-CN': '监控告警' },
      api: { en: 'API', 'zh-CN': '接口' },
    },
    level: {
      high: { en: 'High', 'zh-CN': '高' },
      medium: { en: 'Medium', 'zh-CN': '中' },
      low: { en: 'Low', 'zh-CN': '低' },
    },
    priority: {
      P1: { en: 'P1 Critical', 'zh-CN': 'P1 紧急' },
      P2: { en: 'P2 High', 'zh-CN': 'P2 高' },
      P3: { en: 'P3 Medium', 'zh-CN': 'P3 中' },
      P4: { en: 'P4 Low', 'zh-CN': 'P4 低' },
      P5: { en: 'P5 Planning', 'zh-CN': 'P5 计划' },
    },
    pendingReason: {
      customer: { en: 'Awaiting customer', 'zh-CN': '等待用户' },
      supplier: { en: 'Awaiting supplier', 'zh-CN': '等待厂商' },
      change: { en: 'Awaiting change', 'zh-CN': '等待变更' },
    },
  },
};
