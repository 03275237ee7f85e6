import type { TesseraModule } from '../../platform/module.ts';
import { webhookEventRoutes, webhookJobs, webhookSchedules } from './webhooks.jobs.ts';
import { webhookRoutes } from './webhooks.routes.ts';
import { createWebhookService } from './webhooks.service.ts';

/**
 * Outbound webhooks: subscriptions, the fan-out of domain events to them, signed deliveries with
 * retries, the delivery log and manual redelivery. (To be merged into the integrations module.)
 */
export const webhooksModule: TesseraModule = {
  name: 'webhooks',
  routes(app, { db, config }) {
    webhookRoutes(app, createWebhookService({ db, config }));
  },
  jobs: webhookJobs,
  schedules: webhookSchedules,
  eventRoutes: webhookEventRoutes,
  enums: {
    webhookDeliveryStatus: {
      pending: { en: 'Pending', 'zh-CN': '待投递' },
      delivered: { en: 'Delivered', 'zh-CN': '已投递' },
      failed: { en: 'Failed', 'zh-CN': '失败' },
      cancelled: { en: 'Cancelled', 'zh-CN': '已取消' },
    },
    webhookAttemptOutcome: {
      delivered: { en: 'Delivered', 'zh-CN': '已投递' },
      failed: { en: 'Failed (will retry)', 'zh-CN': '失败（将重试）' },
      gone: { en: 'Gone (subscription disabled)', 'zh-CN': '已失效（订阅已停用）' },
      refused: { en: 'Refused (internal address)', 'zh-CN': '已拒绝（内部地址）' },
    },
  },
};
