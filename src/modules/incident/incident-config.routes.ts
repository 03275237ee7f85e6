import { Type } from 'typebox';
import { contextOf } from '../../platform/auth/auth.plugin.ts';
import type { App } from '../../platform/module.ts';
import { IfMatchHeaders } from '../../platform/schemas.ts';
import { expectedVersion, setEtag } from '../../platform/versioning.ts';
import {
  CategoryCreateSchema,
  CategoryPatchSchema,
  CategorySchema,
  SettingsPatchSchema,
  SettingsSchema,
} from './incident.schemas.ts';
import type { IncidentConfigService } from './incident.service.ts';

const MANAGERS = ['admin', 'manager'] as const;
const READERS = ['admin', 'manager', 'agent', 'requester'] as const;

/** `/incident-settings` (matrix, resolution codes, windows) and `/categories` (the category tree). */
export function incidentConfigRoutes(app: App, service: IncidentConfigService): void {
  app.get(
    '/incident-settings',
    {
      config: { roles: ['admin', 'manager', 'agent'] },
      schema: {
        tags: ['incident settings'],
        operationId: 'getIncidentSettings',
        summary: 'Priority matrix, resolution codes, reopen and auto-close windows',
        response: { 200: SettingsSchema },
      },
    },
    async (_request, reply) => {
      const settings = await service.getSettings();
      setEtag(reply, settings.version);
      return settings;
    },
  );
  app.patch(
    '/incident-settings',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['incident settings'],
        operationId: 'updateIncidentSettings',
        summary: 'Change the incident settings (new incidents use them; existing priorities stay)',
        headers: IfMatchHeaders,
        body: SettingsPatchSchema,
        response: { 200: SettingsSchema },
      },
    },
    async (request, reply) => {
      const settings = await service.updateSettings(
        contextOf(request),
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, settings.version);
      return settings;
    },
  );

  app.get(
    '/categories',
    {
      config: { roles: READERS },
      schema: {
        tags: ['categories'],
        operationId: 'listCategories',
        summary: 'The category tree (codes like `network.wifi`; children name their parentCode)',
        response: { 200: Type.Object({ items: Type.Array(CategorySchema) }) },
      },
    },
    async () => service.listCategories(),
  );
  app.post(
    '/categories',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['categories'],
        operationId: 'createCategory',
        summary: 'Add a category',
        body: CategoryCreateSchema,
        response: { 201: CategorySchema },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await service.createCategory(contextOf(request), request.body)),
  );
  app.patch(
    '/categories/:code',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['categories'],
        operationId: 'updateCategory',
        summary: 'Rename or deactivate a category',
        params: Type.Object({ code: Type.String({ maxLength: 100 }) }),
        headers: IfMatchHeaders,
        body: CategoryPatchSchema,
        response: { 200: CategorySchema },
      },
    },
    async (request) =>
      service.updateCategory(contextOf(request), request.params.code, request.body, expectedVersion(request)),
  );
}
