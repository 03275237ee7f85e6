import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { contextOf } from '../../platform/auth/auth.plugin.ts';
import { tokenFromHeader } from '../../platform/auth/tokens.ts';
import type { App } from '../../platform/module.ts';
import { mayHoldNul, withoutNulEscapes } from '../../platform/nul.ts';
import { PageQuerySchema, pageOf } from '../../platform/paging.ts';
import { sendProblem } from '../../platform/problems.ts';
import { IdParamsSchema, IfMatchHeaders } from '../../platform/schemas.ts';
import { expectedVersion, setEtag } from '../../platform/versioning.ts';
import type { IntegrationRow } from './integrations.repository.ts';
import {
  AlertSchema,
  DeliverySchema,
  IntegrationCreatedSchema,
  IntegrationCreateSchema,
  IntegrationListQuerySchema,
  IntegrationPatchSchema,
  IntegrationSchema,
} from './integrations.schemas.ts';
import type { IntakeLimiter, IntegrationKeys, IntegrationService } from './integrations.service.ts';
import {
  type AlertSource,
  normalize,
  normalizeCloudEventsBatch,
  PAGERDUTY_ROUTING_KEY_LENGTH,
  verifyGrafanaSignature,
  ZABBIX_MEDIA_PARAMETERS,
  ZABBIX_MEDIA_SCRIPT,
} from './normalize/index.ts';

const MANAGERS = ['admin', 'manager'] as const;
const BODY_LIMIT = 1024 * 1024;

export function integrationRoutes(app: App, service: IntegrationService): void {
  app.post(
    '/integrations',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['integrations'],
        operationId: 'createIntegration',
        summary: 'Create a monitoring integration (the key is shown only here)',
        body: IntegrationCreateSchema,
        response: { 201: IntegrationCreatedSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await service.create(contextOf(request), request.body)),
  );
  app.get(
    '/integrations',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['integrations'],
        operationId: 'listIntegrations',
        summary: 'List integrations',
        querystring: IntegrationListQuerySchema,
        response: { 200: pageOf(IntegrationSchema) },
      },
    },
    async (request) => service.list(contextOf(request), request.query),
  );
  app.get(
    '/integrations/:id',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['integrations'],
        operationId: 'getIntegration',
        summary: 'Get an integration',
        params: IdParamsSchema,
        response: { 200: IntegrationSchema },
      },
    },
    async (request, reply) => {
      const integration = await service.get(contextOf(request), request.params.id);
      setEtag(reply, integration.version);
      return integration;
    },
  );
  app.patch(
    '/integrations/:id',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['integrations'],
        operationId: 'updateIntegration',
        summary: 'Change an integration',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: IntegrationPatchSchema,
        response: { 200: IntegrationSchema },
      },
    },
    async (request, reply) => {
      const integration = await service.update(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, integration.version);
      return integration;
    },
  );
  app.post(
    '/integrations/:id/rotate-key',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['integrations'],
        operationId: 'rotateIntegrationKey',
        summary: 'Replace the key (the old one stops working; the new one is shown once)',
        params: IdParamsSchema,
        response: { 200: IntegrationCreatedSchema },
      },
    },
    async (request) => service.rotateKey(contextOf(request), request.params.id),
  );
  app.get(
    '/integrations/:id/deliveries',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['integrations'],
        operationId: 'listIntegrationDeliveries',
        summary: 'Every post received, accepted or rejected with its reason, newest first',
        params: IdParamsSchema,
        querystring: PageQuerySchema,
        response: { 200: pageOf(DeliverySchema) },
      },
    },
    async (request) => service.deliveries(contextOf(request), request.params.id, request.query),
  );
  app.get(
    '/integrations/zabbix/media-type',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['integrations'],
        operationId: 'getZabbixMediaType',
        summary: 'The Zabbix webhook media type to install: its script and parameters',
        response: {
          200: Type.Object({
            name: Type.String(),
            script: Type.String({ description: 'Paste into Alerts > Media types > Webhook > Script' }),
            parameters: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
            macros: Type.Array(Type.Object({ name: Type.String(), description: Type.String() })),
          }),
        },
      },
    },
    async () => ({
      name: 'Tessera',
      script: ZABBIX_MEDIA_SCRIPT,
      parameters: [...ZABBIX_MEDIA_PARAMETERS],
      macros: [
        { name: '{$ITSM.URL}', description: 'https://<tessera>/api/v1/inbound/zabbix' },
        { name: '{$ITSM.TOKEN}', description: 'The zabbix integration key (a secret macro)' },
      ],
    }),
  );
  app.get(
    '/incidents/:id/alerts',
    {
      config: { roles: ['admin', 'manager', 'agent', 'requester'] },
      schema: {
        tags: ['incidents', 'integrations'],
        operationId: 'listIncidentAlerts',
        summary: 'The monitoring alerts linked to an incident',
        params: IdParamsSchema,
        response: { 200: Type.Object({ items: Type.Array(AlertSchema) }) },
      },
    },
    async (request) => service.alertsOfIncident(contextOf(request), request.params.id),
  );
}

const InboundReply = Type.Object({
  status: Type.String(),
  alerts: Type.Integer(),
  opened: Type.Integer(),
  incidentIds: Type.Array(Type.String()),
});
const PagerDutyReply = Type.Object({
  status: Type.String(),
  message: Type.String(),
  dedup_key: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.String())),
});

/**
 * The inbound endpoints: `/api/v1/inbound/{type}` (Bearer key or HTTP Basic with the key as
 * password) and the PagerDuty Events API v2 at `/v2/enqueue` (`routing_key`). Bodies are read raw
 * (for Grafana's HMAC and to keep rejected payloads) and parsed here.
 */
export async function inboundRoutes(
  app: App,
  service: IntegrationService,
  keys: IntegrationKeys,
  limiter: IntakeLimiter,
  prefix: string,
): Promise<void> {
  await app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser(
      [
        'application/json',
        'application/cloudevents+json',
        'application/cloudevents-batch+json',
        'text/plain',
      ],
      { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );

    const pdFail = (reply: FastifyReply, status: number, message: string, errors: string[]) =>
      reply.code(status).send({ status: status === 400 ? 'invalid event' : 'error', message, errors });

    async function handle(
      request: FastifyRequest,
      reply: FastifyReply,
      type: AlertSource,
      pagerdutyWire: boolean,
    ) {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let text = raw.toString('utf8');
      let payload: unknown;
      let parseError: string | null = null;
      try {
        payload = JSON.parse(text);
      } catch (err) {
        parseError = (err as Error).message;
      }
      if (parseError === null && mayHoldNul(text)) {
        // PostgreSQL stores no NUL, and a monitor cannot change what it sends: U+FFFD stands in.
        text = withoutNulEscapes(text);
        payload = JSON.parse(text);
      }

      // Who is posting: the key in Authorization, or PagerDuty's routing_key in the body.
      const headerKey = tokenFromHeader(request.headers.authorization);
      const bodyKey =
        pagerdutyWire && payload && typeof payload === 'object' && !Array.isArray(payload)
          ? (payload as { routing_key?: unknown }).routing_key
          : undefined;
      const key = pagerdutyWire ? (typeof bodyKey === 'string' ? bodyKey : headerKey) : headerKey;
      if (pagerdutyWire && parseError)
        return pdFail(reply, 400, 'Event object is invalid', [`JSON parse error: ${parseError}`]);
      if (pagerdutyWire && typeof bodyKey === 'string' && bodyKey.length !== PAGERDUTY_ROUTING_KEY_LENGTH) {
        return pdFail(reply, 400, 'Event object is invalid', [
          "Length of 'routing_key' is incorrect (should be 32 characters)",
        ]);
      }
      if (!key) {
        if (pagerdutyWire) return pdFail(reply, 400, 'Event object is invalid', ["'routing_key' is missing"]);
        reply.header('www-authenticate', 'Bearer realm="tessera-inbound"');
        return sendProblem(
          request,
          reply,
          401,
          'INTEGRATION_KEY_REQUIRED',
          'Send the integration key as a Bearer token or as the Basic auth password',
        );
      }
      const integration = await keys.resolve(key);
      if (!integration) {
        if (pagerdutyWire)
          return reply.code(401).send({
            status: 'unauthorized',
            message: 'Unknown routing key',
            errors: ['Invalid routing key'],
          });
        return sendProblem(
          request,
          reply,
          401,
          'INTEGRATION_KEY_INVALID',
          'The integration key is unknown or inactive',
        );
      }
      if (integration.type !== type) {
        return sendProblem(
          request,
          reply,
          403,
          'INTEGRATION_TYPE_MISMATCH',
          `This key belongs to a ${integration.type} integration, not ${type}`,
        );
      }
      const wait = limiter.take(integration.id, integration.rate_limit_per_minute);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        // Alertmanager and Grafana drop a 429 but retry a 5xx; PagerDuty clients retry 429.
        if (pagerdutyWire || type === 'pagerduty')
          return reply.code(429).send({ status: 'throttled', message: 'Request Limit Exceeded', errors: [] });
        return sendProblem(
          request,
          reply,
          503,
          'INTEGRATION_RATE_LIMITED',
          `Over ${integration.rate_limit_per_minute} posts per minute; retry later`,
          {
            retryAfterSeconds: wait,
          },
        );
      }
      const requestId = String(request.id);
      if (parseError !== null) {
        await service.reject(integration, 400, `malformed JSON: ${parseError}`, [], text, requestId);
        return sendProblem(
          request,
          reply,
          400,
          'MALFORMED_JSON',
          `The body is not valid JSON: ${parseError}`,
        );
      }
      if (
        type === 'grafana' &&
        integration.signing_secret &&
        !verifyGrafanaSignature(integration.signing_secret, raw, request.headers)
      ) {
        await service.reject(integration, 401, 'bad or missing signature', [], text, requestId);
        return sendProblem(
          request,
          reply,
          401,
          'INTEGRATION_BAD_SIGNATURE',
          'The Grafana webhook signature does not match the signing secret',
        );
      }
      const result =
        type === 'cloudevents' && Array.isArray(payload)
          ? normalizeCloudEventsBatch(payload)
          : normalize(type, payload);
      if (!result.ok) {
        await service.reject(integration, 400, 'invalid payload', result.errors, text, requestId);
        if (pagerdutyWire)
          return pdFail(
            reply,
            400,
            'Event object is invalid',
            result.errors.map((e) => `${e.pointer}: ${e.detail}`),
          );
        return sendProblem(
          request,
          reply,
          400,
          'INTEGRATION_INVALID_PAYLOAD',
          `Invalid ${type} payload: ${result.errors.map((e) => e.pointer).join(', ')}`,
          {},
          result.errors,
        );
      }
      const outcome = await service.ingest(integration, result.alerts, text, requestId);
      if (type === 'pagerduty') {
        const dedupKey = String(result.meta.dedupKey ?? result.alerts[0]?.key ?? '');
        return reply.code(202).send({ status: 'success', message: 'Event processed', dedup_key: dedupKey });
      }
      return reply.code(200).send({
        status: 'ok',
        alerts: outcome.alerts,
        opened: outcome.opened,
        incidentIds: outcome.incidentIds,
      });
    }

    for (const type of ['alertmanager', 'grafana', 'zabbix', 'pagerduty', 'cloudevents'] as const) {
      scoped.post(
        `${prefix}/inbound/${type}`,
        {
          config: { public: true },
          schema: {
            tags: ['inbound'],
            operationId: `receive${type[0]!.toUpperCase()}${type.slice(1)}Alert`,
            summary: `Receive a ${type} notification (Bearer key, or HTTP Basic with the key as password)`,
            security: [{ bearerAuth: [] }],
            response: { 200: InboundReply, 202: PagerDutyReply },
          },
        },
        (request, reply) => handle(request, reply, type, false),
      );
    }
    scoped.post(
      '/v2/enqueue',
      {
        config: { public: true },
        schema: {
          tags: ['inbound'],
          operationId: 'enqueuePagerDutyEvent',
          summary:
            'PagerDuty Events API v2, compatible on the wire (routing_key = a pagerduty integration key)',
          response: { 202: PagerDutyReply, 400: PagerDutyReply, 401: PagerDutyReply, 429: PagerDutyReply },
        },
      },
      (request, reply) => handle(request, reply, 'pagerduty', true),
    );
  });
}

export type { IntegrationRow };
