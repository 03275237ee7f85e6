import { type Static, Type } from 'typebox';
import { listQuery, sortQuery } from '../../platform/paging.ts';
import { Nullable, StringEnum, Timestamp } from '../../platform/schemas.ts';
import {
  ARTICLE_ACTIONS,
  ARTICLE_STATUSES,
  REQUEST_ACTIONS,
  REQUEST_STATUSES,
} from './service-desk.workflow.ts';

const Uuid = Type.String({ format: 'uuid' });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Comment = Type.String({ minLength: 1, maxLength: 4000 });
const CategoryCode = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'Category code (e.g. `software.email`); compared case-insensitively',
});
const Channel = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$',
  description: 'Intake channel code (e.g. `email`, `phone`, `portal`, `monitoring`); case-insensitive',
});
/** A JSON object whose fields the schema does not fix (answers, form schemas, event data). */
const FreeObject = (description: string) =>
  Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description });

// ---- routing rules ---------------------------------------------------------------------------
export const RoutingRuleSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `RTR-000001`' }),
  position: Type.Integer({ description: 'Evaluation order: the lowest matching active rule wins' }),
  description: Nullable(Type.String()),
  customerId: Nullable(Uuid),
  category: Nullable(Type.String()),
  serviceId: Nullable(Uuid),
  channel: Nullable(Type.String()),
  groupId: Uuid,
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type RoutingRule = Static<typeof RoutingRuleSchema>;

const Position = Type.Integer({
  minimum: 0,
  maximum: 1_000_000,
  description: 'Unique; lower positions are tried first',
});
const ruleMatchFields = {
  customerId: Type.Optional(Nullable(Uuid)),
  category: Type.Optional(Nullable(CategoryCode)),
  serviceId: Type.Optional(Nullable(Uuid)),
  channel: Type.Optional(Nullable(Channel)),
};

export const RoutingRuleCreateSchema = Type.Object(
  {
    position: Position,
    description: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    ...ruleMatchFields,
    groupId: Uuid,
    active: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    description: 'Match fields left unset (or null) match anything',
  },
);
export type RoutingRuleCreate = Static<typeof RoutingRuleCreateSchema>;

export const RoutingRulePatchSchema = Type.Object(
  {
    position: Type.Optional(Position),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    ...ruleMatchFields,
    groupId: Type.Optional(Uuid),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type RoutingRulePatch = Static<typeof RoutingRulePatchSchema>;

export const RoutingRuleListQuerySchema = listQuery({
  active: Type.Optional(Type.Boolean()),
  groupId: Type.Optional(Uuid),
  customerId: Type.Optional(Uuid),
  sort: sortQuery(['position', 'createdAt'], 'position'),
});
export type RoutingRuleListQuery = Static<typeof RoutingRuleListQuerySchema>;

// ---- request catalogue -----------------------------------------------------------------------
export const RequestItemSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `ITM-000001`' }),
  code: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  category: Nullable(Type.String()),
  formSchema: FreeObject('JSON Schema (draft-07) of the answers; unknown keywords and formats are rejected'),
  approvalRequired: Type.Boolean(),
  approverIds: Type.Array(Uuid, { description: 'Agents who approve requests for this item' }),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type RequestItem = Static<typeof RequestItemSchema>;

const itemFields = {
  code: Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
    description: 'Short unique code (case-insensitive)',
  }),
  name: Name,
  description: Nullable(Type.String({ maxLength: 4000 })),
  category: Nullable(CategoryCode),
  formSchema: FreeObject(
    'A JSON Schema with `"type": "object"` at its root; checked (compiled) when the item is saved',
  ),
  approvalRequired: Type.Boolean(),
  approverIds: Type.Array(Uuid, { maxItems: 50, uniqueItems: true }),
  active: Type.Boolean(),
};

export const RequestItemCreateSchema = Type.Object(
  {
    code: itemFields.code,
    name: itemFields.name,
    description: Type.Optional(itemFields.description),
    category: Type.Optional(itemFields.category),
    formSchema: Type.Optional(itemFields.formSchema),
    approvalRequired: Type.Optional(itemFields.approvalRequired),
    approverIds: Type.Optional(itemFields.approverIds),
    active: Type.Optional(itemFields.active),
  },
  { additionalProperties: false },
);
export type RequestItemCreate = Static<typeof RequestItemCreateSchema>;

export const RequestItemPatchSchema = Type.Partial(Type.Object(itemFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type RequestItemPatch = Static<typeof RequestItemPatchSchema>;

export const RequestItemListQuerySchema = listQuery({
  active: Type.Optional(Type.Boolean()),
  category: Type.Optional(Type.String({ maxLength: 64 })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Matches name or code' })),
  sort: sortQuery(['createdAt', 'name', 'code'], 'createdAt'),
});
export type RequestItemListQuery = Static<typeof RequestItemListQuerySchema>;

// ---- service requests ------------------------------------------------------------------------
export const ServiceRequestSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `REQ-000001`' }),
  itemId: Uuid,
  customerId: Uuid,
  requesterId: Nullable(Uuid),
  title: Type.String(),
  answers: FreeObject("The answers to the item's form"),
  status: StringEnum(REQUEST_STATUSES),
  allowedActions: Type.Array(StringEnum(REQUEST_ACTIONS), {
    description: 'Actions the current status allows (POST /service-requests/{id}/<action>)',
  }),
  approvalRequired: Type.Boolean({ description: 'Copied from the item when the request was made' }),
  decidedBy: Nullable(Type.String({ description: 'Name of the API key that approved or rejected' })),
  decidedAt: Nullable(Timestamp()),
  decisionComment: Nullable(Type.String()),
  fulfilmentNotes: Nullable(Type.String()),
  fulfilledAt: Nullable(Timestamp()),
  closedAt: Nullable(Timestamp()),
  cancelReason: Nullable(Type.String()),
  cancelledAt: Nullable(Timestamp()),
  createdBy: Type.String({ description: 'Name of the API key that submitted the request' }),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type ServiceRequest = Static<typeof ServiceRequestSchema>;

export const ServiceRequestCreateSchema = Type.Object(
  {
    itemId: Uuid,
    customerId: Type.Optional(
      Type.String({ format: 'uuid', description: 'Required unless the key is bound to a customer' }),
    ),
    requesterId: Type.Optional(Nullable(Uuid)),
    title: Type.Optional(
      Type.String({ minLength: 1, maxLength: 300, description: "Defaults to the item's name" }),
    ),
    answers: Type.Optional(FreeObject("Answers to the item's form, validated against its JSON Schema")),
  },
  { additionalProperties: false },
);
export type ServiceRequestCreate = Static<typeof ServiceRequestCreateSchema>;

export const ServiceRequestPatchSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    requesterId: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ServiceRequestPatch = Static<typeof ServiceRequestPatchSchema>;

export const ApproveBodySchema = Type.Object(
  { comment: Type.Optional(Nullable(Comment)) },
  { additionalProperties: false },
);
export const RejectBodySchema = Type.Object(
  { comment: Type.String({ minLength: 1, maxLength: 4000, description: 'Why (required)' }) },
  { additionalProperties: false },
);
export const EmptyBodySchema = Type.Object({}, { additionalProperties: false });
export const FulfilBodySchema = Type.Object(
  { notes: Type.Optional(Nullable(Type.String({ maxLength: 10_000 }))) },
  { additionalProperties: false },
);
export const CancelBodySchema = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 4000, description: 'Why (required)' }) },
  { additionalProperties: false },
);
export type ApproveBody = Static<typeof ApproveBodySchema>;
export type RejectBody = Static<typeof RejectBodySchema>;
export type FulfilBody = Static<typeof FulfilBodySchema>;
export type CancelBody = Static<typeof CancelBodySchema>;

export const ServiceRequestListQuerySchema = listQuery({
  status: Type.Optional(StringEnum(REQUEST_STATUSES)),
  customerId: Type.Optional(Uuid),
  itemId: Type.Optional(Uuid),
  requesterId: Type.Optional(Uuid),
  sort: sortQuery(['createdAt', 'updatedAt'], 'createdAt'),
});
export type ServiceRequestListQuery = Static<typeof ServiceRequestListQuerySchema>;

export const ServiceRequestEventSchema = Type.Object({
  id: Type.Integer(),
  at: Timestamp(),
  type: Type.String({ description: '`created`, `updated` or the action taken (`approved`, ...)' }),
  fromStatus: Nullable(StringEnum(REQUEST_STATUSES)),
  toStatus: Nullable(StringEnum(REQUEST_STATUSES)),
  actor: Type.Object({ keyId: Nullable(Uuid), name: Type.String(), role: Type.String() }),
  comment: Nullable(Type.String()),
  data: FreeObject('Details of the event'),
});
export type ServiceRequestEvent = Static<typeof ServiceRequestEventSchema>;

export const TimelineQuerySchema = listQuery({});
export type TimelineQuery = Static<typeof TimelineQuerySchema>;

// ---- knowledge base --------------------------------------------------------------------------
export const ArticleLinkSchema = Type.Object({
  incidentId: Uuid,
  linkedAt: Timestamp(),
  linkedBy: Type.String(),
});
export type ArticleLink = Static<typeof ArticleLinkSchema>;

export const ArticleSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `KB-000001`' }),
  title: Type.String(),
  body: Type.String({ description: 'Markdown' }),
  category: Nullable(Type.String()),
  keywords: Type.Array(Type.String()),
  status: StringEnum(ARTICLE_STATUSES),
  allowedActions: Type.Array(StringEnum(ARTICLE_ACTIONS)),
  publishedAt: Nullable(Timestamp()),
  retiredAt: Nullable(Timestamp()),
  links: Type.Array(ArticleLinkSchema, {
    description: 'Incidents this article helped with (empty for requester keys)',
  }),
  score: Type.Optional(Type.Number({ description: 'Relevance to `q` (search results only)' })),
  createdBy: Type.String(),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Article = Static<typeof ArticleSchema>;

const Keywords = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 });
const articleFields = {
  title: Type.String({ minLength: 1, maxLength: 300 }),
  body: Type.String({ maxLength: 200_000, description: 'Markdown' }),
  category: Nullable(CategoryCode),
  keywords: Keywords,
};

export const ArticleCreateSchema = Type.Object(
  {
    title: articleFields.title,
    body: Type.Optional(articleFields.body),
    category: Type.Optional(articleFields.category),
    keywords: Type.Optional(articleFields.keywords),
  },
  { additionalProperties: false },
);
export type ArticleCreate = Static<typeof ArticleCreateSchema>;

export const ArticlePatchSchema = Type.Partial(Type.Object(articleFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type ArticlePatch = Static<typeof ArticlePatchSchema>;

export const ARTICLE_SORTS = ['createdAt', 'updatedAt', 'title', 'relevance'] as const;
export const ArticleListQuerySchema = listQuery({
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        'Search title, keywords and body (Chinese or English). Every whitespace-separated term must ' +
        'occur; 3+ character queries also match approximately (trigrams)',
    }),
  ),
  status: Type.Optional(StringEnum(ARTICLE_STATUSES)),
  category: Type.Optional(Type.String({ maxLength: 64 })),
  incidentId: Type.Optional(Type.String({ format: 'uuid', description: 'Articles linked to this incident' })),
  sort: Type.Optional(
    Type.String({
      pattern: `^-?(${ARTICLE_SORTS.join('|')})$`,
      description: 'Default `-relevance` with `q`, else `createdAt`; `relevance` needs `q`',
    }),
  ),
});
export type ArticleListQuery = Static<typeof ArticleListQuerySchema>;

export const ArticleLinkCreateSchema = Type.Object({ incidentId: Uuid }, { additionalProperties: false });
export type ArticleLinkCreate = Static<typeof ArticleLinkCreateSchema>;

export const ArticleLinkParamsSchema = Type.Object({ id: Uuid, incidentId: Uuid });

// ---- for other modules -----------------------------------------------------------------------
/** What routing looks at on a new ticket; null fields match only rules that leave them unset. */
export interface RoutingCriteria {
  customerId: string | null;
  category: string | null;
  serviceId: string | null;
  channel: string | null;
}

export interface ArticleSuggestion {
  id: string;
  ref: string;
  title: string;
  category: string | null;
  score: number;
}
