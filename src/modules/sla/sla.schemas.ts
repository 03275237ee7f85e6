import { type Static, Type } from 'typebox';
import { listQuery, sortQuery } from '../../platform/paging.ts';
import { Nullable, StringEnum, Timestamp } from '../../platform/schemas.ts';

const Uuid = Type.String({ format: 'uuid' });
const DateOnly = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
const Hhmm = Type.String({ pattern: '^([01][0-9]|2[0-4]):[0-5][0-9]$', description: 'HH:MM, 24 h' });
const IsoDuration = Type.String({
  pattern: '^P(\\d+W)?(\\d+D)?(T(\\d+H)?(\\d+M)?(\\d+S)?)?$',
  description: 'ISO 8601 duration, e.g. PT2H, PT30S, P1DT4H',
  maxLength: 40,
});
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const SERVICE_STATUSES = ['pipeline', 'live', 'retired'] as const;
export const AGREEMENT_KINDS = ['sla', 'ola', 'uc'] as const;
export const AGREEMENT_STATUSES = ['draft', 'active', 'expired', 'terminated'] as const;
export const METRICS = ['response', 'resolution'] as const;
export const CLOCK_STATES = ['running', 'paused', 'met', 'breached', 'cancelled'] as const;

// ---- service catalogue ----
export const ServiceSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: '`SVC-000001`' }),
  code: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  ownerGroupId: Nullable(Uuid),
  status: StringEnum(SERVICE_STATUSES),
  customerVisible: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Service = Static<typeof ServiceSchema>;
const serviceFields = {
  code: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Nullable(Type.String({ maxLength: 4000 })),
  ownerGroupId: Nullable(Uuid),
  status: StringEnum(SERVICE_STATUSES),
  customerVisible: Type.Boolean(),
};
export const ServiceCreateSchema = Type.Object(
  {
    code: serviceFields.code,
    name: serviceFields.name,
    description: Type.Optional(serviceFields.description),
    ownerGroupId: Type.Optional(serviceFields.ownerGroupId),
    status: Type.Optional(serviceFields.status),
    customerVisible: Type.Optional(serviceFields.customerVisible),
  },
  { additionalProperties: false },
);
export type ServiceCreate = Static<typeof ServiceCreateSchema>;
export const ServicePatchSchema = Type.Partial(Type.Object(serviceFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type ServicePatch = Static<typeof ServicePatchSchema>;
export const ServiceListQuerySchema = listQuery({
  status: Type.Optional(StringEnum(SERVICE_STATUSES)),
  code: Type.Optional(Type.String({ maxLength: 64 })),
  sort: sortQuery(['createdAt', 'code', 'name'], 'createdAt'),
});
export type ServiceListQuery = Static<typeof ServiceListQuerySchema>;

// ---- calendars ----
const HoursRange = Type.Object({ from: Hhmm, to: Hhmm }, { additionalProperties: false });
const WorkingHours = Type.Object(
  { day: StringEnum(WEEKDAYS), from: Hhmm, to: Hhmm },
  { additionalProperties: false },
);
export const ExceptionSchema = Type.Object(
  {
    date: DateOnly,
    kind: StringEnum(['holiday', 'workday'] as const, {
      description: 'holiday: no working time; workday: a make-up working day (调休)',
    }),
    hours: Type.Optional(
      Type.Array(HoursRange, { maxItems: 10, description: 'For workday; default the Monday hours' }),
    ),
    name: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export const CalendarSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  timeZone: Type.String({ description: 'IANA time zone, e.g. Asia/Shanghai' }),
  alwaysOpen: Type.Boolean({ description: '24x7' }),
  workingHours: Type.Array(WorkingHours),
  exceptions: Type.Array(ExceptionSchema),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Calendar = Static<typeof CalendarSchema>;
export const CalendarCreateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    alwaysOpen: Type.Optional(Type.Boolean()),
    workingHours: Type.Optional(Type.Array(WorkingHours, { maxItems: 70 })),
    exceptions: Type.Optional(Type.Array(ExceptionSchema, { maxItems: 5000 })),
  },
  { additionalProperties: false },
);
export type CalendarCreate = Static<typeof CalendarCreateSchema>;
export const CalendarPatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    alwaysOpen: Type.Optional(Type.Boolean()),
    workingHours: Type.Optional(Type.Array(WorkingHours, { maxItems: 70 })),
    exceptions: Type.Optional(Type.Array(ExceptionSchema, { maxItems: 5000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type CalendarPatch = Static<typeof CalendarPatchSchema>;
export const ExceptionImportSchema = Type.Object(
  {
    exceptions: Type.Optional(Type.Array(ExceptionSchema, { maxItems: 5000 })),
    holidays: Type.Optional(
      Type.Object(
        { country: StringEnum(['CN'] as const), year: Type.Integer({ minimum: 2025, maximum: 2026 }) },
        {
          additionalProperties: false,
          description: 'Load the shipped mainland China holidays and make-up days',
        },
      ),
    ),
    replace: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Replace exceptions on the same dates (default: keep existing)',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

// ---- agreements ----
const Target = Type.Object(
  {
    priority: Type.String({ pattern: '^(P[1-5]|\\*)$', description: 'P1..P5, or * for any priority' }),
    metric: StringEnum(METRICS),
    duration: IsoDuration,
  },
  { additionalProperties: false },
);
const Warning = Type.Union([
  Type.Object({ percent: Type.Integer({ minimum: 1, maximum: 99 }) }, { additionalProperties: false }),
  Type.Object({ before: IsoDuration }, { additionalProperties: false }),
]);
const PauseRule = Type.Object(
  {
    status: Type.String({ maxLength: 50, description: 'Ticket status, e.g. pending' }),
    reason: Type.Optional(
      Nullable(Type.String({ maxLength: 50, description: 'Pending reason, e.g. customer' })),
    ),
  },
  { additionalProperties: false },
);
const EscalationAction = Type.Union([
  Type.Object({ type: Type.Literal('reassign'), groupId: Uuid }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('escalate') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('raise_priority') }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('notify'), personId: Type.Optional(Uuid), groupId: Type.Optional(Uuid) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('flag_major') }, { additionalProperties: false }),
]);
export const EscalationRuleSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 50, description: 'Stable id (generated when absent)' })),
    metric: StringEnum(METRICS),
    at: Type.Union([
      Type.Object({ percent: Type.Integer({ minimum: 1, maximum: 100 }) }, { additionalProperties: false }),
      Type.Object({ before: IsoDuration }, { additionalProperties: false }),
      Type.Object({ breach: Type.Literal(true) }, { additionalProperties: false }),
    ]),
    when: Type.Optional(
      Type.Object(
        {
          tier: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 3, description: 'Ticket still with a group of this tier' }),
          ),
          priorities: Type.Optional(Type.Array(Type.String({ pattern: '^P[1-5]$' }), { maxItems: 5 })),
          statuses: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 10 })),
        },
        { additionalProperties: false },
      ),
    ),
    actions: Type.Array(EscalationAction, { minItems: 1, maxItems: 5 }),
  },
  { additionalProperties: false },
);
const Report = Type.Object(
  {
    period: Type.Optional(StringEnum(['weekly', 'monthly', 'quarterly', 'yearly'] as const)),
    recipients: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);

const agreementFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  customerId: Nullable(Uuid),
  groupId: Nullable(Uuid),
  supplierId: Nullable(Uuid),
  supplierName: Nullable(Type.String({ maxLength: 200 })),
  serviceIds: Type.Array(Uuid, { maxItems: 200, uniqueItems: true }),
  calendarId: Uuid,
  validFrom: DateOnly,
  validTo: Nullable(DateOnly),
  targets: Type.Array(Target, { minItems: 1, maxItems: 20 }),
  warnings: Type.Array(Warning, { maxItems: 10 }),
  pauseOn: Type.Array(PauseRule, { maxItems: 10 }),
  priorityChangePolicy: StringEnum(['retain_elapsed', 'restart'] as const),
  reopenPolicy: StringEnum(['resume', 'new_cycle'] as const),
  escalationRules: Type.Array(EscalationRuleSchema, { maxItems: 20 }),
  nextReviewAt: Nullable(DateOnly),
  report: Nullable(Report),
};

export const AgreementSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: '`SLA-000001` (also for OLAs and UCs)' }),
  kind: StringEnum(AGREEMENT_KINDS),
  status: StringEnum(AGREEMENT_STATUSES),
  isDefault: Type.Boolean({
    description: 'The seeded template SLA that applies to customers without their own',
  }),
  ...agreementFields,
  targets: Type.Array(
    Type.Object({
      priority: Type.String(),
      metric: StringEnum(METRICS),
      duration: Type.String(),
      seconds: Type.Integer(),
    }),
  ),
  warnings: Type.Array(
    Type.Object({ percent: Type.Optional(Type.Integer()), before: Type.Optional(Type.String()) }),
  ),
  escalationRules: Type.Array(Type.Object({ id: Type.String() }, { additionalProperties: true })),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Agreement = Static<typeof AgreementSchema>;

export const AgreementCreateSchema = Type.Object(
  {
    name: agreementFields.name,
    kind: StringEnum(AGREEMENT_KINDS),
    customerId: Type.Optional(agreementFields.customerId),
    groupId: Type.Optional(agreementFields.groupId),
    supplierId: Type.Optional(agreementFields.supplierId),
    supplierName: Type.Optional(agreementFields.supplierName),
    serviceIds: Type.Optional(agreementFields.serviceIds),
    calendarId: agreementFields.calendarId,
    validFrom: agreementFields.validFrom,
    validTo: Type.Optional(agreementFields.validTo),
    targets: agreementFields.targets,
    warnings: Type.Optional(agreementFields.warnings),
    pauseOn: Type.Optional(agreementFields.pauseOn),
    priorityChangePolicy: Type.Optional(agreementFields.priorityChangePolicy),
    reopenPolicy: Type.Optional(agreementFields.reopenPolicy),
    escalationRules: Type.Optional(agreementFields.escalationRules),
    nextReviewAt: Type.Optional(agreementFields.nextReviewAt),
    report: Type.Optional(agreementFields.report),
  },
  { additionalProperties: false },
);
export type AgreementCreate = Static<typeof AgreementCreateSchema>;

export const AgreementPatchSchema = Type.Object(
  {
    name: Type.Optional(agreementFields.name),
    serviceIds: Type.Optional(agreementFields.serviceIds),
    calendarId: Type.Optional(agreementFields.calendarId),
    validFrom: Type.Optional(agreementFields.validFrom),
    validTo: Type.Optional(agreementFields.validTo),
    targets: Type.Optional(agreementFields.targets),
    warnings: Type.Optional(agreementFields.warnings),
    pauseOn: Type.Optional(agreementFields.pauseOn),
    priorityChangePolicy: Type.Optional(agreementFields.priorityChangePolicy),
    reopenPolicy: Type.Optional(agreementFields.reopenPolicy),
    escalationRules: Type.Optional(agreementFields.escalationRules),
    nextReviewAt: Type.Optional(agreementFields.nextReviewAt),
    report: Type.Optional(agreementFields.report),
    changeReason: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2000, description: 'Required to change an active agreement' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type AgreementPatch = Static<typeof AgreementPatchSchema>;

export const AgreementListQuerySchema = listQuery({
  kind: Type.Optional(StringEnum(AGREEMENT_KINDS)),
  status: Type.Optional(StringEnum(AGREEMENT_STATUSES)),
  customerId: Type.Optional(Uuid),
  serviceId: Type.Optional(Uuid),
  sort: sortQuery(['createdAt', 'name'], 'createdAt'),
});
export type AgreementListQuery = Static<typeof AgreementListQuerySchema>;

export const TerminateSchema = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
export const ReviewSchema = Type.Object(
  {
    notes: Type.String({ minLength: 1, maxLength: 20000 }),
    nextReviewAt: Type.Optional(DateOnly),
  },
  { additionalProperties: false },
);
export const AgreementEventSchema = Type.Object({
  id: Type.Integer(),
  at: Timestamp(),
  type: Type.String({
    description: 'created, changed, activated, reviewed, terminated, expired, recomputed',
  }),
  actor: Type.String(),
  reason: Nullable(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
});

export const ComplianceQuerySchema = Type.Object({
  from: Type.Optional(Timestamp('Clocks started at or after (default 30 days ago)')),
  to: Type.Optional(Timestamp('Clocks started before (default now)')),
});
export const ComplianceSchema = Type.Object({
  agreementId: Uuid,
  from: Timestamp(),
  to: Timestamp(),
  targets: Type.Array(
    Type.Object({
      priority: Type.String(),
      metric: StringEnum(METRICS),
      target: Type.String(),
      measured: Type.Integer({ description: 'Clocks met or breached' }),
      met: Type.Integer(),
      breached: Type.Integer(),
      percentMet: Nullable(Type.Number()),
      meanSeconds: Nullable(Type.Number()),
      p90Seconds: Nullable(Type.Number()),
    }),
  ),
});

// ---- clocks ----
export const ClockSchema = Type.Object({
  id: Nullable(Uuid),
  agreementId: Uuid,
  agreementRef: Type.String(),
  agreementName: Type.String(),
  kind: StringEnum(AGREEMENT_KINDS),
  metric: StringEnum(METRICS),
  cycle: Type.Integer(),
  priority: Type.String(),
  target: Type.String({ description: 'ISO 8601 duration' }),
  targetSeconds: Type.Integer(),
  state: StringEnum(CLOCK_STATES),
  elapsedSeconds: Type.Integer({
    description: 'Business seconds counted (past the target: the overrun too)',
  }),
  remainingSeconds: Type.Integer(),
  startedAt: Timestamp(),
  dueAt: Nullable(Timestamp('Breach instant if counting goes on (null while paused)')),
  metAt: Nullable(Timestamp()),
  breachedAt: Nullable(Timestamp()),
  warningsReached: Type.Array(Type.String({ description: 'warning:50%, warning:PT600S' })),
  nextThreshold: Nullable(Type.Object({ key: Type.String(), at: Nullable(Timestamp()) })),
});
export const ClocksSchema = Type.Object({ clocks: Type.Array(ClockSchema) });
export const ExplainSchema = Type.Object({
  clocks: Type.Array(
    Type.Object({
      agreementId: Uuid,
      metric: StringEnum(METRICS),
      cycle: Type.Integer(),
      state: StringEnum(CLOCK_STATES),
      elapsedSeconds: Type.Integer(),
      targetSeconds: Type.Integer(),
      segments: Type.Array(
        Type.Object({
          from: Timestamp(),
          to: Timestamp(),
          seconds: Type.Integer({ description: 'Length of the segment (business seconds for counted)' }),
          kind: StringEnum(['counted', 'paused', 'off_hours', 'holiday'] as const),
          reason: Type.Optional(Type.String()),
        }),
      ),
    }),
  ),
});
export const RecomputeResultSchema = Type.Object({
  agreementId: Uuid,
  tickets: Type.Integer(),
  clocks: Type.Integer(),
});
