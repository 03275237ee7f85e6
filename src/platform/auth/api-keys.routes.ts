import { Type } from 'typebox';
import type { App } from '../module.ts';
import { listQuery, pageOf, sortQuery } from '../paging.ts';
import { IdParamsSchema } from '../schemas.ts';
import {
  ApiKeyCreatedSchema,
  ApiKeyCreateSchema,
  ApiKeyListQuerySchema,
  ApiKeySchema,
} from './api-keys.schemas.ts';
import type { ApiKeyService } from './api-keys.service.ts';
import { contextOf } from './auth.plugin.ts';

const admin = { roles: ['admin'] } as const;
const tags = ['api-keys'];

export function apiKeyRoutes(app: App, service: ApiKeyService): void {
  app.post(
    '/api-keys',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'createApiKey',
        summary: 'Create an API key (the token is shown only in this response)',
        body: ApiKeyCreateSchema,
        response: { 201: ApiKeyCreatedSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await service.create(contextOf(request), request.body)),
  );

  app.get(
    '/api-keys',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'listApiKeys',
        summary: 'List API keys (never their tokens)',
        querystring: listQuery({
          ...ApiKeyListQuerySchema.properties,
          sort: sortQuery(['createdAt', 'name'], 'createdAt'),
        }),
        response: { 200: pageOf(ApiKeySchema) },
      },
    },
    async (request) => {
      const { limit, cursor, sort, ...filter } = request.query;
      return service.list(filter, { limit, cursor, sort });
    },
  );

  app.get(
    '/api-keys/:id',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'getApiKey',
        summary: 'Get an API key',
        params: IdParamsSchema,
        response: { 200: ApiKeySchema },
      },
    },
    async (request) => service.get(request.params.id),
  );

  app.delete(
    '/api-keys/:id',
    {
      config: admin,
      schema: {
        tags,
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key',
        params: IdParamsSchema,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.revoke(contextOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
