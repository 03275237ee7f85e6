import { type Static, Type } from 'typebox';
import { listQuery, sortQuery } from '../../platform/paging.ts';
import { Nullable, StringEnum, Timestamp } from '../../platform/schemas.ts';

const Uuid = Type.String({ format: 'uuid' });
export const INTEGRATION_TYPES = ['alertmanager', 'grafana', 'zabbix', 'pagerduty', 'cloudevents'] as const;
const Level = StringEnum(['high', 'medium', 'low'] as const);
const SeverityMapSchema = Type.Record(
  Type.String({ pattern: '^(critical|high|medium|low|info)$' }),
  Type.Object({ impact: Level, urgency: Level }, { additionalProperties: false }),
  { description: 'Normalised severity (critical, high, medium, low, info) -> impact and urgency' },
);
export const RuleSchema = Type.Object(
  {
    match: Type.Object(
      {
        label: Type.String({ minLength: 1, maxLength: 200 }),
        value: Type.Optional(Type.String({ maxLength: 1000 })),
      },
      {
        additionalProperties: false,
        description: 'A label (or tag) and, optionally, its value; without value any value matches',
      },
    ),
    set: Type.Object(
      {
        serviceCode: Type.Optional(
          Type.String({
            maxLength: 64,
            description: 'The catalogue service with this code; `$value` = the label value',
          }),
        ),
        category: Type.Optional(Type.String({ maxLength: 100 })),
        groupId: Type.Optional(Uuid),
        ci: Type.Optional(
          Type.String({ maxLength: 200, description: 'Configuration item name; `$value` = the label value' }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const IntegrationSchema = Type.Object({
  id: Uuid,
  ref: Type.String(),
  type: StringEnum(INTEGRATION_TYPES),
  name: Type.String(),
  customerId: Uuid,
  serviceId: Nullable(Uuid),
  groupId: Nullable(Uuid),
  keyPrefix: Type.String({ description: 'First characters of the key' }),
  signed: Type.Boolean({ description: 'Grafana posts are checked against signingSecret (HMAC)' }),
  severityMap: SeverityMapSchema,
  rules: Type.Array(RuleSchema),
  autoResolve: Type.Boolean(),
  flapWindowSeconds: Type.Integer(),
  grouping: StringEnum(['alert', 'group'] as const, {
    description: 'One incident per alert, or per Alertmanager/Grafana group',
  }),
  rateLimitPerMinute: Type.Integer(),
  active: Type.Boolean(),
  endpoint: Type.String({ description: 'Where the sender posts' }),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Integration = Static<typeof IntegrationSchema>;
export const IntegrationCreatedSchema = Type.Object({
  ...IntegrationSchema.properties,
  key: Type.String({
    description: 'The secret key, shown only here (32 characters for pagerduty, as routing keys are)',
  }),
});

const editable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  serviceId: Nullable(Uuid),
  groupId: Nullable(Uuid),
  signingSecret: Nullable(
    Type.String({ minLength: 8, maxLength: 200, description: 'Grafana webhook HMAC secret' }),
  ),
  severityMap: SeverityMapSchema,
  rules: Type.Array(RuleSchema, { maxItems: 50 }),
  autoResolve: Type.Boolean(),
  flapWindowSeconds: Type.Integer({ minimum: 0, maximum: 7 * 86400 }),
  grouping: StringEnum(['alert', 'group'] as const),
  rateLimitPerMinute: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  active: Type.Boolean(),
};
export const IntegrationCreateSchema = Type.Object(
  {
    type: StringEnum(INTEGRATION_TYPES),
    name: editable.name,
    customerId: Uuid,
    serviceId: Type.Optional(editable.serviceId),
    groupId: Type.Optional(editable.groupId),
    signingSecret: Type.Optional(editable.signingSecret),
    severityMap: Type.Optional(editable.severityMap),
    rules: Type.Optional(editable.rules),
    autoResolve: Type.Optional(editable.autoResolve),
    flapWindowSeconds: Type.Optional(editable.flapWindowSeconds),
    grouping: Type.Optional(editable.grouping),
    rateLimitPerMinute: Type.Optional(editable.rateLimitPerMinute),
  },
  { additionalProperties: false },
);
export type IntegrationCreate = Static<typeof IntegrationCreateSchema>;
export const IntegrationPatchSchema = Type.Partial(Type.Object(editable), {
  additionalProperties: false,
  minProperties: 1,
});
export type IntegrationPatch = Static<typeof IntegrationPatchSchema>;
export const IntegrationListQuerySchema = listQuery({
  type: Type.Optional(StringEnum(INTEGRATION_TYPES)),
  customerId: Type.Optional(Uuid),
  sort: sortQuery(['createdAt', 'name'], 'createdAt'),
});

export const DeliverySchema = Type.Object({
  id: Type.Integer(),
  receivedAt: Timestamp(),
  outcome: StringEnum(['accepted', 'rejected', 'rate_limited'] as const),
  httpStatus: Type.Integer(),
  alerts: Type.Integer(),
  opened: Type.Integer({ description: 'Incidents opened by this delivery' }),
  reason: Nullable(Type.String()),
  errors: Type.Unknown(),
  payload: Nullable(
    Type.String({
      description:
        'The raw body (first 64 KiB) of a rejected post, or of an accepted one in which some alert matched nothing; ' +
        'otherwise null (an accepted body is kept with the alerts it opened or changed)',
    }),
  ),
  requestId: Nullable(Type.String()),
});

export const AlertSchema = Type.Object({
  id: Uuid,
  integrationId: Uuid,
  source: Type.String(),
  dedupKey: Type.String(),
  occurrence: Type.String(),
  status: StringEnum(['firing', 'resolved', 'acknowledged'] as const),
  severity: Type.String(),
  summary: Type.String(),
  description: Nullable(Type.String()),
  labels: Type.Record(Type.String(), Type.String()),
  ciHint: Nullable(Type.String()),
  serviceHint: Nullable(Type.String()),
  links: Type.Array(Type.Object({ href: Type.String(), text: Nullable(Type.String()) })),
  startsAt: Nullable(Timestamp()),
  endsAt: Nullable(Timestamp()),
  firstSeenAt: Timestamp(),
  lastSeenAt: Timestamp(),
  resolvedAt: Nullable(Timestamp()),
  repeatCount: Type.Integer(),
  raw: Type.Unknown({
    description:
      'The payload (bounded) of the post that last opened, reopened, resolved or acknowledged the alert; ' +
      'plain repeats do not rewrite it',
  }),
});
