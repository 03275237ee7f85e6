import type { TesseraModule } from '../../platform/module.ts';
import { API_PREFIX } from '../../platform/module.ts';
import { inboundRoutes, integrationRoutes } from './integrations.routes.ts';
import { createIntegrationService, IntakeLimiter, IntegrationKeys } from './integrations.service.ts';

export { ZABBIX_MEDIA_PARAMETERS, ZABBIX_MEDIA_SCRIPT } from './normalize/index.ts';
export { webhooksModule } from './webhooks.module.ts';

/**
 * Monitoring intake: integrations with their keys, rules and options; the inbound endpoints of
 * Alertmanager, Grafana, Zabbix, CloudEvents and PagerDuty Events v2; alerts deduplicated into
 * incidents; the delivery log. (Outbound webhooks are `webhooksModule`, in this folder too.)
 */
export const integrationsModule: TesseraModule = {
  name: 'integrations',
  routes(app, { db }) {
    integrationRoutes(app, createIntegrationService({ db }));
  },
  async rootRoutes(app, { db }) {
    await inboundRoutes(
      app,
      createIntegrationService({ db }),
      new IntegrationKeys(db),
      new IntakeLimiter(),
      API_PREFIX,
    );
  },
  enums: {
    integrationType: {
      alertmanager: { en: 'Prometheus Alertmanager', 'zh-CN': 'Prometheus Alertmanager' },
      grafana: { en: 'Grafana', 'zh-CN': 'Grafana' },
      zabbix: { en: 'Zabbix', 'zh-CN': 'Zabbix' },
      pagerduty: { en: 'PagerDuty Events API v2', 'zh-CN': 'PagerDuty 事件 API v2' },
      cloudevents: { en: 'CloudEvents', 'zh-CN': 'CloudEvents' },
    },
    alertStatus: {
      firing: { en: 'Firing', 'zh-CN': '告警中' },
      resolved: { en: 'Resolved', 'zh-CN': '已恢复' },
      acknowledged: { en: 'Acknowledged', 'zh-CN': '已确认' },
    },
  },
};
