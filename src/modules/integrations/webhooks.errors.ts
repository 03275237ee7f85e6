import { DomainError, invalidField, notFound } from '../../platform/errors.ts';

/** Stable codes of outbound webhooks. */
export const WebhookErrors = {
  subscriptionNotFound: (id: string) =>
    notFound('WEBHOOK_SUBSCRIPTION_NOT_FOUND', 'Webhook subscription', id),
  deliveryNotFound: (id: string) => notFound('WEBHOOK_DELIVERY_NOT_FOUND', 'Webhook delivery', id),
  badUrl: (detail: string) => invalidField('WEBHOOK_URL_REFUSED', 'url', `url ${detail}`),
  badEventTypes: (problems: { index: number; detail: string }[]) =>
    new DomainError(
      'WEBHOOK_EVENT_TYPE_UNKNOWN',
      'invalid',
      `eventTypes: ${problems.map((p) => p.detail).join('; ')}`,
      {},
      problems.map((p) => ({ in: 'body' as const, pointer: `/eventTypes/${p.index}`, detail: p.detail })),
    ),
  unknownCustomer: (id: string) =>
    invalidField('WEBHOOK_UNKNOWN_CUSTOMER', 'customerId', `no customer ${id}`),
  boundKeyOtherCustomer: () =>
    invalidField(
      'WEBHOOK_UNKNOWN_CUSTOMER',
      'customerId',
      'a key bound to a customer creates subscriptions for that customer only',
    ),
  subscriptionInactive: (id: string) =>
    new DomainError(
      'WEBHOOK_SUBSCRIPTION_INACTIVE',
      'conflict',
      `Webhook subscription ${id} is inactive; activate it before redelivering`,
      { subscriptionId: id },
    ),
};
