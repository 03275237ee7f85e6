import type { TesseraModule } from '../../platform/module.ts';
import { createIncidentService } from '../incident/index.ts';
import { createServiceDeskService } from '../service-desk/index.ts';
import { createClockEngine } from './sla.clocks.ts';
import { expireJob, fireJob, recomputeJob, slaSchedules, sweepJob } from './sla.jobs.ts';
import { slaRoutes } from './sla.routes.ts';
import { createSlaService } from './sla.service.ts';

export { createClockEngine } from './sla.clocks.ts';
export { seedDefaults, serviceByCode, serviceExists } from './sla.service.ts';

/** Service catalogue, business calendars, SLA/OLA/UC agreements, SLA clocks, timers and escalations. */
export const slaModule: TesseraModule = {
  name: 'sla',
  routes(app, { db, queues }) {
    slaRoutes(
      app,
      createSlaService({ db }),
      createClockEngine({ db, queues, log: app.log }),
      createIncidentService({ db }),
      createServiceDeskService({ db }),
    );
  },
  jobs: [recomputeJob, fireJob, sweepJob, expireJob],
  schedules: slaSchedules,
  eventRoutes: [
    { events: 'incident.*', job: recomputeJob.name },
    { events: 'service_request.*', job: recomputeJob.name },
  ],
  enums: {
    agreementKind: {
      sla: { en: 'Service level agreement', 'zh-CN': '服务级别协议 (SLA)' },
      ola: { en: 'Operational level agreement', 'zh-CN': '运营级别协议 (OLA)' },
      uc: { en: 'Underpinning contract', 'zh-CN': '支持合同 (UC)' },
    },
    agreementStatus: {
      draft: { en: 'Draft', 'zh-CN': '草稿' },
      active: { en: 'Active', 'zh-CN': '生效' },
      expired: { en: 'Expired', 'zh-CN': '已到期' },
      terminated: { en: 'Terminated', 'zh-CN': '已终止' },
    },
    clockState: {
      running: { en: 'Running', 'zh-CN': '计时中' },
      paused: { en: 'Paused', 'zh-CN': '暂停' },
      met: { en: 'Met', 'zh-CN': '达成' },
      breached: { en: 'Breached', 'zh-CN': '超时' },
      cancelled: { en: 'Cancelled', 'zh-CN': '已取消' },
    },
    metric: {
      response: { en: 'Response', 'zh-CN': '响应' },
      resolution: { en: 'Resolution', 'zh-CN': '解决' },
    },
    serviceStatus: {
      pipeline: { en: 'Pipeline', 'zh-CN': '规划中' },
      live: { en: 'Live', 'zh-CN': '运行中' },
      retired: { en: 'Retired', 'zh-CN': '已退役' },
    },
  },
};
