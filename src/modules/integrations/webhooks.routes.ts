import { Type } from 'typebox';
import { contextOf } from '../../platform/auth/auth.plugin.ts';
import type { App } from '../../platform/module.ts';
import { pageOf } from '../../platform/paging.ts';
import { IdParamsSchema, IfMatchHeaders } from '../../platform/schemas.ts';
import { expectedVersion, setEtag } from '../../platform/versioning.ts';
import {
  DeliveryDetailSchema,
  DeliveryListQuerySchema,
  DeliverySchema,
  RotateSecretSchema,
  SubscriptionCreateSchema,
  SubscriptionListQuerySchema,
  SubscriptionPatchSchema,
  SubscriptionSchema,
  SubscriptionWithSecretSchema,
} from './webhooks.schemas.ts';
import type { WebhookService } from './webhooks.service.ts';

const managers = { roles: ['admin', 'manager'] } as const;
const tags = ['webhooks'];

export function webhookRoutes(app: App, service: WebhookService): void {
  app.post(
    '/webhook-subscriptions',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'createWebhookSubscription',
        summary: 'Subscribe a URL to domain events (the signing secret is in this answer only)',
        description:
          'Events are POSTed as `{ type, timestamp, data }` and signed by the Standard Webhooks scheme ' +
          '(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). A 2xx answer ' +
          'delivers; 410 Gone turns the subscription inactive; anything else (or no answer within the ' +
          'timeout) is retried with exponential backoff for about 23 hours.',
        body: SubscriptionCreateSchema,
        response: { 201: SubscriptionWithSecretSchema },
      },
    },
    async (request, reply) => {
      const subscription = await service.create(contextOf(request), request.body);
      setEtag(reply, subscription.version);
      return reply.code(201).header('location', `${request.url}/${subscription.id}`).send(subscription);
    },
  );
  app.get(
    '/webhook-subscriptions',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'listWebhookSubscriptions',
        summary: 'List webhook subscriptions (a customer-bound key sees only its own)',
        querystring: SubscriptionListQuerySchema,
        response: { 200: pageOf(SubscriptionSchema) },
      },
    },
    async (request) => service.list(contextOf(request), request.query),
  );
  app.get(
    '/webhook-subscriptions/:id',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'getWebhookSubscription',
        summary: 'Get a webhook subscription',
        params: IdParamsSchema,
        response: { 200: SubscriptionSchema },
      },
    },
    async (request, reply) => {
      const subscription = await service.get(contextOf(request), request.params.id);
      setEtag(reply, subscription.version);
      return subscription;
    },
  );
  app.patch(
    '/webhook-subscriptions/:id',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'updateWebhookSubscription',
        summary: 'Change a webhook subscription (If-Match: its ETag, else 412 when stale)',
        description: 'Setting `active: false` cancels its pending deliveries.',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: SubscriptionPatchSchema,
        response: { 200: SubscriptionSchema },
      },
    },
    async (request, reply) => {
      const subscription = await service.update(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, subscription.version);
      return subscription;
    },
  );
  app.delete(
    '/webhook-subscriptions/:id',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'deleteWebhookSubscription',
        summary: 'Delete a webhook subscription with its delivery log',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.remove(contextOf(request), request.params.id, expectedVersion(request));
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/webhook-subscriptions/:id/rotate-secret',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret (the new one is in this answer only)',
        description:
          'Until `previousSecretExpiresAt` deliveries carry two signatures, one per secret, so receivers can switch over.',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: RotateSecretSchema,
        response: { 200: SubscriptionWithSecretSchema },
      },
    },
    async (request, reply) => {
      const subscription = await service.rotateSecret(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, subscription.version);
      return subscription;
    },
  );
  app.get(
    '/webhook-subscriptions/:id/deliveries',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'listWebhookDeliveries',
        summary: "A subscription's deliveries, newest first: status, attempts, last answer, next retry",
        params: IdParamsSchema,
        querystring: DeliveryListQuerySchema,
        response: { 200: pageOf(DeliverySchema) },
      },
    },
    async (request) => service.listDeliveries(contextOf(request), request.params.id, request.query),
  );
  app.get(
    '/webhook-deliveries/:id',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'getWebhookDelivery',
        summary: 'A delivery with the body sent and every attempt (status code or error, duration)',
        params: IdParamsSchema,
        response: { 200: DeliveryDetailSchema },
      },
    },
    async (request) => service.getDelivery(contextOf(request), request.params.id),
  );
  app.post(
    '/webhook-deliveries/:id/redeliver',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'redeliverWebhook',
        summary: 'Send a delivery again: a new series of attempts with the same webhook-id and body',
        params: IdParamsSchema,
        response: { 202: DeliverySchema },
      },
    },
    async (request, reply) => {
      const delivery = await service.redeliver(contextOf(request), request.params.id);
      return reply.code(202).send(delivery);
    },
  );
}
