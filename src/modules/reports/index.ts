import type { TesseraModule } from '../../platform/module.ts';
import './sections/index.ts';
import { reportJobs, reportSchedules } from './reports.jobs.ts';
import { reportRoutes } from './reports.routes.ts';
import { createReportService } from './reports.service.ts';

export { periodContaining, previousCompletePeriod } from './period.ts';
export { createReportService, type ReportService } from './reports.service.ts';
export {
  type ColumnType,
  type ReportLocale,
  type ReportScope,
  type ReportSection,
  registerReportSection,
  reportSections,
  type SectionContext,
  type SectionTable,
} from './section.ts';

/**
 * Service reports (ISO/IEC 20000 9.4, 服务月报): definitions with a customer scope, period, schedule,
 * locale, sections and recipients; runs computed by the worker, unique per period with revisions;
 * JSON, HTML (inline SVG charts), XLSX and CSV renderings; `report.generated` events and e-mail.
 * Other modules add sections with `registerReportSection` (see section.ts).
 */
export const reportsModule: TesseraModule = {
  name: 'reports',
  routes(app, { db, config, queues }) {
    reportRoutes(app, createReportService({ db, config, queues, log: app.log }));
  },
  jobs: reportJobs,
  schedules: reportSchedules,
  enums: {
    reportPeriod: {
      monthly: { en: 'Monthly', 'zh-CN': '月度' },
      quarterly: { en: 'Quarterly', 'zh-CN': '季度' },
      yearly: { en: 'Yearly', 'zh-CN': '年度' },
      weekly: { en: 'Weekly', 'zh-CN': '每周' },
    },
    reportRunStatus: {
      queued: { en: 'Queued', 'zh-CN': '排队中' },
      running: { en: 'Running', 'zh-CN': '生成中' },
      completed: { en: 'Completed', 'zh-CN': '已生成' },
      failed: { en: 'Failed', 'zh-CN': '失败' },
    },
  },
};
