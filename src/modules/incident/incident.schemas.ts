import { type Static, Type } from 'typebox';
import { listQuery, sortQuery } from '../../platform/paging.ts';
import { Nullable, StringEnum, Timestamp } from '../../platform/schemas.ts';
import { ACTIONS } from './lifecycle.ts';
import { LEVELS, PRIORITIES } from './priority.ts';

const Uuid = Type.String({ format: 'uuid' });
export const CHANNELS = [
  'phone',
  'email',
  'wechat',
  'oa',
  'im',
  'portal',
  'paper',
  'monitoring',
  'api',
] as const;
export const STATUSES = [
  'new',
  'assigned',
  'in_progress',
  'pending',
  'resolved',
  'closed',
  'cancelled',
] as const;
export const PENDING_REASONS = ['customer', 'supplier', 'change'] as const;
export const VISIBILITIES = ['public', 'internal'] as const;

const Level = StringEnum(LEVELS);
const PriorityCode = StringEnum(PRIORITIES);
const Reason = Type.String({ minLength: 1, maxLength: 2000 });
const CategoryCode = Type.String({ pattern: '^[a-z0-9_]+(\\.[a-z0-9_]+)*$', maxLength: 100 });

export const IncidentSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `INC-000123`' }),
  title: Type.String(),
  description: Type.String(),
  customerId: Uuid,
  requesterId: Nullable(Uuid),
  channel: StringEnum(CHANNELS),
  category: Nullable(Type.String()),
  serviceId: Nullable(Uuid),
  impact: Level,
  urgency: Level,
  priority: PriorityCode,
  priorityOverridden: Type.Boolean({ description: 'Priority set by hand instead of the matrix' }),
  priorityReason: Nullable(Type.String()),
  status: StringEnum(STATUSES),
  pendingReason: Nullable(StringEnum(PENDING_REASONS)),
  groupId: Nullable(Uuid),
  assigneeId: Nullable(Uuid),
  tier: Nullable(Type.Integer({ description: 'Support line of the current group (1, 2, 3)' })),
  major: Type.Boolean(),
  majorReason: Nullable(Type.String()),
  parentId: Nullable(Uuid),
  resolutionCode: Nullable(Type.String()),
  resolutionNotes: Nullable(Type.String()),
  reopenCount: Type.Integer(),
  escalationCount: Type.Integer(),
  closeReason: Nullable(Type.String({ description: 'confirmed, auto_closed, or closed (by an agent)' })),
  source: Nullable(
    Type.String({
      description: 'The monitoring integration type that opened it (alertmanager, grafana, ...)',
    }),
  ),
  reportedAt: Timestamp(),
  acknowledgedAt: Nullable(Timestamp('First response: first public agent reply or start of work')),
  resolvedAt: Nullable(Timestamp()),
  closedAt: Nullable(Timestamp()),
  cancelledAt: Nullable(Timestamp()),
  allowedActions: Type.Array(StringEnum(Object.keys(ACTIONS) as (keyof typeof ACTIONS)[])),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Incident = Static<typeof IncidentSchema>;

export const IncidentCreateSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 300 }),
    description: Type.Optional(Type.String({ maxLength: 20000 })),
    customerId: Uuid,
    requesterId: Type.Optional(Nullable(Uuid)),
    channel: Type.Optional(StringEnum(CHANNELS, { default: 'api' })),
    category: Type.Optional(Nullable(CategoryCode)),
    serviceId: Type.Optional(Nullable(Uuid)),
    impact: Type.Optional(StringEnum(LEVELS, { default: 'medium' })),
    urgency: Type.Optional(StringEnum(LEVELS, { default: 'medium' })),
    priority: Type.Optional(PriorityCode),
    priorityReason: Type.Optional(Reason),
    groupId: Type.Optional(Nullable(Uuid)),
    reportedAt: Type.Optional(Timestamp('When the user reported it, if earlier than now (phone, paper)')),
  },
  { additionalProperties: false },
);
export type IncidentCreate = Static<typeof IncidentCreateSchema>;

export const IncidentPatchSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    description: Type.Optional(Type.String({ maxLength: 20000 })),
    requesterId: Type.Optional(Nullable(Uuid)),
    category: Type.Optional(Nullable(CategoryCode)),
    serviceId: Type.Optional(Nullable(Uuid)),
    impact: Type.Optional(Level),
    urgency: Type.Optional(Level),
    priority: Type.Optional(Nullable(PriorityCode)),
    priorityReason: Type.Optional(Reason),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type IncidentPatch = Static<typeof IncidentPatchSchema>;

export const IncidentListQuerySchema = listQuery({
  status: Type.Optional(
    Type.Array(StringEnum(STATUSES), { maxItems: 7, description: 'One or more (repeat the parameter)' }),
  ),
  priority: Type.Optional(Type.Array(PriorityCode, { maxItems: 5 })),
  customerId: Type.Optional(Uuid),
  groupId: Type.Optional(Uuid),
  assigneeId: Type.Optional(Uuid),
  requesterId: Type.Optional(Uuid),
  channel: Type.Optional(StringEnum(CHANNELS)),
  source: Type.Optional(
    Type.String({ maxLength: 50, description: 'Monitoring integration type that opened it' }),
  ),
  category: Type.Optional(
    Type.String({ maxLength: 100, description: 'A category code; includes its sub-categories' }),
  ),
  major: Type.Optional(Type.Boolean()),
  parentId: Type.Optional(Uuid),
  slaState: Type.Optional(
    StringEnum(['breached', 'at_risk'] as const, {
      description: 'breached: a clock breached; at_risk: a running clock passed a warning threshold',
    }),
  ),
  createdFrom: Type.Optional(Timestamp()),
  createdTo: Type.Optional(Timestamp()),
  updatedFrom: Type.Optional(Timestamp()),
  updatedTo: Type.Optional(Timestamp()),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Words that title or description contain (Chinese or English)',
    }),
  ),
  sort: sortQuery(['createdAt', 'updatedAt', 'reportedAt', 'priority'], '-createdAt'),
});
export type IncidentListQuery = Static<typeof IncidentListQuerySchema>;

// ---- actions ----
export const AssignSchema = Type.Object(
  { groupId: Uuid, assigneeId: Type.Optional(Nullable(Uuid)), note: Type.Optional(Reason) },
  { additionalProperties: false },
);
export const EmptySchema = Type.Object({}, { additionalProperties: false });
export const PendSchema = Type.Object(
  { reason: StringEnum(PENDING_REASONS), note: Type.Optional(Reason) },
  { additionalProperties: false },
);
export const ResolveSchema = Type.Object(
  {
    resolutionCode: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'From the configured resolution codes',
    }),
    resolutionNotes: Type.String({ minLength: 1, maxLength: 20000 }),
  },
  { additionalProperties: false },
);
export const ReasonSchema = Type.Object({ reason: Reason }, { additionalProperties: false });
export const EscalateSchema = Type.Object(
  {
    reason: Reason,
    groupId: Type.Optional(Uuid),
  },
  {
    additionalProperties: false,
    description: 'Without groupId the next-tier group comes from the routing rules',
  },
);
export const CloseSchema = Type.Object({ note: Type.Optional(Reason) }, { additionalProperties: false });
export const MajorSchema = Type.Object({ reason: Reason }, { additionalProperties: false });
export const LinkChildSchema = Type.Object({ childId: Uuid }, { additionalProperties: false });
export const CommunicationSchema = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 20000 }),
    audience: Type.Optional(
      Type.String({ maxLength: 200, description: 'Who was told: customers, management, ...' }),
    ),
    channel: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const CommentCreateSchema = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: 20000 }),
    visibility: Type.Optional(StringEnum(VISIBILITIES, { default: 'public' })),
  },
  { additionalProperties: false },
);
export const WorkNoteCreateSchema = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: 20000 }),
    minutesSpent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
  },
  { additionalProperties: false },
);

export const TimelineItemSchema = Type.Object(
  {
    id: Type.Integer(),
    type: Type.String({
      description: 'comment, work_note, created, status_changed, assigned, escalated, ...',
    }),
    at: Timestamp(),
    actor: Type.Object({ name: Type.String(), role: Type.String(), keyId: Nullable(Type.String()) }),
    visibility: StringEnum(VISIBILITIES),
  },
  { additionalProperties: true },
);
export const TimelineSchema = Type.Object({ items: Type.Array(TimelineItemSchema) });

export const AttachmentSchema = Type.Object({
  id: Uuid,
  filename: Type.String(),
  contentType: Type.String(),
  sizeBytes: Type.Integer(),
  sha256: Type.String(),
  uploadedBy: Type.String(),
  createdAt: Timestamp(),
});

export const StatsQuerySchema = Type.Object({
  from: Type.Optional(Timestamp('Incidents reported at or after (default: 30 days ago)')),
  to: Type.Optional(Timestamp('Incidents reported before (default: now)')),
  customerId: Type.Optional(Uuid),
});
const Counts = Type.Record(Type.String(), Type.Integer());
const Duration = Type.Object({
  count: Type.Integer(),
  meanSeconds: Nullable(Type.Number()),
  p90Seconds: Nullable(Type.Number()),
});
export const StatsSchema = Type.Object({
  from: Timestamp(),
  to: Timestamp(),
  total: Type.Integer(),
  byStatus: Counts,
  byPriority: Counts,
  byCategory: Counts,
  byChannel: Counts,
  timeToAcknowledge: Duration,
  timeToResolve: Duration,
  firstContactResolutionRate: Nullable(
    Type.Number({ description: 'Resolved by tier 1 without reassignment / resolved' }),
  ),
  reopenRate: Nullable(Type.Number({ description: 'Reopened at least once / resolved' })),
  escalationRate: Nullable(Type.Number({ description: 'Escalated at least once / all' })),
});

// ---- settings and categories ----
const MatrixRow = Type.Object(
  { high: PriorityCode, medium: PriorityCode, low: PriorityCode },
  { additionalProperties: false },
);
export const ResolutionCodeSchema = Type.Object(
  {
    code: Type.String({ pattern: '^[a-z0-9_]{1,50}$' }),
    en: Type.String({ minLength: 1, maxLength: 200 }),
    'zh-CN': Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export const SettingsSchema = Type.Object({
  priorityMatrix: Type.Object(
    { high: MatrixRow, medium: MatrixRow, low: MatrixRow },
    { additionalProperties: false },
  ),
  resolutionCodes: Type.Array(ResolutionCodeSchema, { minItems: 1, maxItems: 100 }),
  reopenWindowDays: Type.Integer({ minimum: 0, maximum: 365 }),
  autoCloseDays: Type.Integer({ minimum: 1, maximum: 365 }),
  version: Type.Integer(),
});
export const SettingsPatchSchema = Type.Object(
  {
    priorityMatrix: Type.Optional(SettingsSchema.properties.priorityMatrix),
    resolutionCodes: Type.Optional(SettingsSchema.properties.resolutionCodes),
    reopenWindowDays: Type.Optional(SettingsSchema.properties.reopenWindowDays),
    autoCloseDays: Type.Optional(SettingsSchema.properties.autoCloseDays),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type Settings = Static<typeof SettingsSchema>;

export const CategorySchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  nameZh: Nullable(Type.String()),
  parentCode: Nullable(Type.String()),
  active: Type.Boolean(),
  version: Type.Integer(),
});
export const CategoryCreateSchema = Type.Object(
  {
    code: CategoryCode,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    nameZh: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    parentCode: Type.Optional(Nullable(CategoryCode)),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const CategoryPatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    nameZh: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

// ---- confirmations (call-back) ----
export const ConfirmationSchema = Type.Object({
  incidentId: Uuid,
  incidentRef: Type.String(),
  title: Type.String(),
  resolutionCode: Nullable(Type.String()),
  resolutionNotes: Nullable(Type.String()),
  token: Type.String({ description: 'Capability for POST /confirmations/{token} (no API key needed)' }),
  createdAt: Timestamp(),
  expiresAt: Timestamp(),
  answeredAt: Nullable(Timestamp()),
  outcome: Nullable(Type.String()),
  rating: Nullable(Type.Integer()),
  comment: Nullable(Type.String()),
});
export const ConfirmationAnswerSchema = Type.Object(
  {
    outcome: StringEnum(['confirmed', 'rejected'] as const),
    rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    comment: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export const TokenParamsSchema = Type.Object({ token: Type.String({ minLength: 10, maxLength: 100 }) });
