import { Type } from 'typebox';
import { auditRoutes } from './audit.routes.ts';
import { apiKeyRoutes } from './auth/api-keys.routes.ts';
import { createApiKeyService } from './auth/api-keys.service.ts';
import type { EnumRegistry } from './i18n.ts';
import { negotiateLocale } from './i18n.ts';
import type { JobDefinition } from './jobs.ts';
import type { App, ModuleDeps, TesseraModule } from './module.ts';

const NoPayload = Type.Object({});

const purgeIdempotencyKeys: JobDefinition = {
  queue: 'platform',
  name: 'platform.purge-idempotency-keys',
  payload: NoPayload,
  async process(_data, { db }) {
    const result = await db
      .deleteFrom('idempotency_keys')
      .where('expires_at', '<', new Date())
      .executeTakeFirst();
    return { deleted: Number(result.numDeletedRows) };
  },
};

const purgeOutbox: JobDefinition = {
  queue: 'platform',
  name: 'platform.purge-outbox',
  payload: NoPayload,
  async process(_data, { db }) {
    const cutoff = new Date(Date.now() - 7 * 86_400_000);
    const result = await db.deleteFrom('outbox').where('sent_at', '<', cutoff).executeTakeFirst();
    return { deleted: Number(result.numDeletedRows) };
  },
};

/** Cross-cutting endpoints (API keys, audit, enumerations) and housekeeping jobs. */
export function platformModule(enums: EnumRegistry): TesseraModule {
  return {
    name: 'platform',
    routes(app: App, deps: ModuleDeps) {
      apiKeyRoutes(app, createApiKeyService({ db: deps.db, keys: deps.keys }));
      auditRoutes(app, deps.db);
      app.get(
        '/enumerations',
        {
          config: { roles: ['admin', 'manager', 'agent', 'requester', 'integration'] },
          schema: {
            tags: ['enumerations'],
            operationId: 'listEnumerations',
            summary: 'Codes of every enumeration with labels in the Accept-Language locale (en, zh-CN)',
            response: {
              200: Type.Record(
                Type.String(),
                Type.Array(Type.Object({ code: Type.String(), label: Type.String() })),
              ),
            },
          },
        },
        async (request, reply) => {
          const locale = negotiateLocale(request.headers['accept-language']);
          reply.header('content-language', locale).header('vary', 'Accept-Language');
          return enums.localized(locale);
        },
      );
    },
    jobs: [purgeIdempotencyKeys, purgeOutbox],
    schedules: [
      {
        id: 'platform.purge-idempotency-keys',
        job: purgeIdempotencyKeys.name,
        cron: '0 17 * * * *',
        timeZone: 'UTC',
      },
      { id: 'platform.purge-outbox', job: purgeOutbox.name, cron: '0 40 3 * * *', timeZone: 'UTC' },
    ],
    enums: {
      role: {
        admin: { en: 'Administrator', 'zh-CN': '管理员' },
        manager: { en: 'Manager', 'zh-CN': '经理' },
        agent: { en: 'Agent', 'zh-CN': '服务人员' },
        requester: { en: 'Requester', 'zh-CN': '申请人' },
        integration: { en: 'Integration', 'zh-CN': '集成' },
      },
    },
  };
}
