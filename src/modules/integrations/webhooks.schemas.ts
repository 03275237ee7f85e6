import { type Static, Type } from 'typebox';
import { listQuery, sortQuery } from '../../platform/paging.ts';
import { Nullable, StringEnum, Timestamp } from '../../platform/schemas.ts';
import { EVENT_FAMILIES, EVENT_TYPE_PATTERN } from './webhooks.events.ts';

const Uuid = Type.String({ format: 'uuid' });

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
export const ATTEMPT_OUTCOMES = ['delivered', 'failed', 'gone', 'refused'] as const;

const EventPattern = Type.String({
  maxLength: 100,
  pattern: EVENT_TYPE_PATTERN,
  description: `An event type (\`incident.resolved\`), a family (\`incident.*\`) or \`*\`. Families: ${Object.keys(
    EVENT_FAMILIES,
  )
    .map((f) => `\`${f}\``)
    .join(', ')}`,
});
const EventTypes = Type.Array(EventPattern, { minItems: 1, maxItems: 50, uniqueItems: true });
const Url = Type.String({
  minLength: 8,
  maxLength: 2000,
  description:
    'http(s) URL the events are POSTed to. Loopback, private, link-local and other internal targets are refused unless WEBHOOK_ALLOWED_HOSTS admits them',
});
const Description = Type.String({ maxLength: 1000 });

// ---- subscriptions ---------------------------------------------------------------------------
export const SubscriptionSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `WHK-000001`' }),
  url: Type.String(),
  description: Nullable(Type.String()),
  eventTypes: Type.Array(Type.String()),
  customerId: Nullable(Uuid),
  active: Type.Boolean({
    description: 'Inactive subscriptions receive nothing; pending deliveries are cancelled',
  }),
  disabledReason: Type.Union([Type.String(), Type.Null()], {
    description:
      '`gone` when a receiver answered 410 Gone (the subscription then turned inactive), `manual` when set inactive',
  }),
  disabledAt: Nullable(Timestamp()),
  secretHint: Type.String({ description: 'The first characters of the signing secret' }),
  previousSecretExpiresAt: Nullable(
    Timestamp('Until then deliveries are signed with the previous secret too (after a rotation)'),
  ),
  version: Type.Integer({ description: 'Increases with every change; send it back in If-Match' }),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Subscription = Static<typeof SubscriptionSchema>;

export const SubscriptionWithSecretSchema = Type.Object({
  ...SubscriptionSchema.properties,
  secret: Type.String({
    description: 'The signing secret, `whsec_<base64>`: shown only now (at creation and rotation); store it',
  }),
});
export type SubscriptionWithSecret = Static<typeof SubscriptionWithSecretSchema>;

export const SubscriptionCreateSchema = Type.Object(
  {
    url: Url,
    eventTypes: EventTypes,
    description: Type.Optional(Nullable(Description)),
    customerId: Type.Optional(
      Type.Union([Uuid, Type.Null()], {
        description:
          "Only this customer's events are delivered. A key bound to a customer always creates subscriptions of its own customer",
      }),
    ),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SubscriptionCreate = Static<typeof SubscriptionCreateSchema>;

export const SubscriptionPatchSchema = Type.Object(
  {
    url: Type.Optional(Url),
    eventTypes: Type.Optional(EventTypes),
    description: Type.Optional(Nullable(Description)),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type SubscriptionPatch = Static<typeof SubscriptionPatchSchema>;

export const RotateSecretSchema = Type.Object(
  {
    keepPreviousSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 7 * 86_400,
        default: 86_400,
        description:
          'How long deliveries stay signed with the old secret as well (two signatures), so receivers can switch over; 0 = at once',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RotateSecret = Static<typeof RotateSecretSchema>;

export const SubscriptionListQuerySchema = listQuery({
  active: Type.Optional(Type.Boolean()),
  customerId: Type.Optional(Uuid),
  eventType: Type.Optional(
    Type.String({ maxLength: 100, description: 'Only subscriptions that receive events of this exact type' }),
  ),
  sort: sortQuery(['createdAt'], 'createdAt'),
});
export type SubscriptionListQuery = Static<typeof SubscriptionListQuerySchema>;

// ---- deliveries ------------------------------------------------------------------------------
export const DeliverySchema = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Also the `webhook-id` header of every attempt' }),
  subscriptionId: Uuid,
  eventId: Uuid,
  eventType: Type.String(),
  aggregateType: Type.String(),
  aggregateId: Type.String(),
  customerId: Nullable(Uuid),
  status: StringEnum(DELIVERY_STATUSES, {
    description:
      '`pending` (being tried or waiting for a retry), `delivered` (a 2xx answer), `failed` (attempts exhausted, refused target or 410 Gone), `cancelled` (subscription inactive)',
  }),
  attemptCount: Type.Integer({ description: 'HTTP attempts made, over all redeliveries' }),
  maxAttempts: Type.Integer({ description: 'Attempts of the current series' }),
  redeliveries: Type.Integer({ description: 'Manual redeliveries requested' }),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  lastDurationMs: Nullable(Type.Integer()),
  lastAttemptAt: Nullable(Timestamp()),
  nextAttemptAt: Nullable(Timestamp('When the next retry is due (pending deliveries)')),
  deliveredAt: Nullable(Timestamp()),
  occurredAt: Timestamp('When the event happened'),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Delivery = Static<typeof DeliverySchema>;

export const AttemptSchema = Type.Object({
  attempt: Type.Integer({ description: 'Attempt number within its series, from 1' }),
  redelivery: Type.Integer({ description: '0 for the automatic series, n for the n-th manual redelivery' }),
  at: Timestamp(),
  outcome: StringEnum(ATTEMPT_OUTCOMES, {
    description:
      '`delivered` (2xx), `failed` (other status, network error or timeout: retried), `gone` (410: subscription disabled), `refused` (internal target)',
  }),
  statusCode: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  durationMs: Type.Integer(),
  responseExcerpt: Nullable(Type.String({ description: "The first 1 KB of the receiver's answer" })),
});
export type Attempt = Static<typeof AttemptSchema>;

export const DeliveryDetailSchema = Type.Object({
  ...DeliverySchema.properties,
  payload: Type.Record(Type.String(), Type.Unknown(), { description: 'The JSON body sent' }),
  attempts: Type.Array(AttemptSchema),
});
export type DeliveryDetail = Static<typeof DeliveryDetailSchema>;

export const DeliveryListQuerySchema = listQuery({
  status: Type.Optional(StringEnum(DELIVERY_STATUSES)),
  eventType: Type.Optional(Type.String({ maxLength: 100 })),
  sort: sortQuery(['createdAt'], '-createdAt'),
});
export type DeliveryListQuery = Static<typeof DeliveryListQuerySchema>;
