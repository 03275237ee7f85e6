import { type Static, type TSchema, Type } from 'typebox';
import { listQuery, sortQuery } from '../../platform/paging.ts';
import { Nullable, StringEnum, Timestamp } from '../../platform/schemas.ts';
import { PERIOD_KINDS } from './period.ts';
import { REPORT_LOCALES, reportSections } from './section.ts';

const Uuid = Type.String({ format: 'uuid' });
export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export const FORMATS = ['json', 'html', 'xlsx', 'csv'] as const;

const Cron = Type.String({
  minLength: 9,
  maxLength: 120,
  description: 'Cron pattern (5 fields, or 6 with seconds first), e.g. `0 8 1 * *` = 08:00 on the 1st',
});
const TimeZone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone, e.g. `Asia/Shanghai`',
});

const ScheduleInput = Type.Object(
  {
    cron: Type.Optional(Nullable(Cron)),
    timeZone: TimeZone,
  },
  {
    additionalProperties: false,
    description:
      'When runs happen (BullMQ job scheduler) and the time zone of the period boundaries. A scheduled run reports ' +
      'the last complete period before the firing instant. `cron` null or absent = on demand only.',
  },
);

const Recipients = Type.Object(
  {
    emails: Type.Optional(
      Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 50, uniqueItems: true }),
    ),
    webhookSubscriptionIds: Type.Optional(
      Type.Array(Uuid, {
        maxItems: 20,
        uniqueItems: true,
        description:
          'Outbound webhook subscriptions meant to receive `report.generated` (they get it when they subscribe to ' +
          'that event type or family)',
      }),
    ),
  },
  { additionalProperties: false },
);

const SectionKeys = Type.Array(Type.String({ maxLength: 40 }), {
  minItems: 1,
  maxItems: 50,
  uniqueItems: true,
  description:
    'Section keys, in report order (`GET /report-sections` lists them); omitted or null = every registered section, ' +
    'including ones added later',
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Nullable(Type.String({ maxLength: 4000 })),
  customerId: Uuid,
  serviceIds: Type.Array(Uuid, {
    maxItems: 100,
    uniqueItems: true,
    description: 'Limit to these services (incidents with one of them; service requests are then left out)',
  }),
  agreementIds: Type.Array(Uuid, {
    maxItems: 50,
    uniqueItems: true,
    description: 'Limit SLA figures to these agreements',
  }),
  period: StringEnum(PERIOD_KINDS, {
    description:
      'monthly (`2026-10`), quarterly (`2026-Q4`), yearly (`2026`) or weekly (ISO week, `2026-W43`)',
  }),
  locale: StringEnum(REPORT_LOCALES),
  agreedLevel: Type.Number({
    exclusiveMinimum: 0,
    maximum: 100,
    description: 'Agreed SLA compliance level (%) for targets that state none; default 95',
  }),
  trendPeriods: Type.Integer({
    minimum: 0,
    maximum: 24,
    description: 'Earlier periods shown in trends; default 5',
  }),
  active: Type.Boolean({ description: 'false = the schedule is paused (on-demand runs still work)' }),
};

export const ReportDefinitionCreateSchema = Type.Object(
  {
    name: fields.name,
    description: Type.Optional(fields.description),
    customerId: fields.customerId,
    serviceIds: Type.Optional(fields.serviceIds),
    agreementIds: Type.Optional(fields.agreementIds),
    period: fields.period,
    schedule: Type.Optional(ScheduleInput),
    locale: Type.Optional(StringEnum(REPORT_LOCALES, { default: 'zh-CN' })),
    sections: Type.Optional(SectionKeys),
    recipients: Type.Optional(Recipients),
    agreedLevel: Type.Optional(fields.agreedLevel),
    trendPeriods: Type.Optional(fields.trendPeriods),
    active: Type.Optional(fields.active),
  },
  { additionalProperties: false },
);
export type ReportDefinitionCreate = Static<typeof ReportDefinitionCreateSchema>;

export const ReportDefinitionPatchSchema = Type.Object(
  {
    name: Type.Optional(fields.name),
    description: Type.Optional(fields.description),
    serviceIds: Type.Optional(fields.serviceIds),
    agreementIds: Type.Optional(fields.agreementIds),
    period: Type.Optional(fields.period),
    schedule: Type.Optional(ScheduleInput),
    locale: Type.Optional(fields.locale),
    sections: Type.Optional(Nullable(SectionKeys)),
    recipients: Type.Optional(Recipients),
    agreedLevel: Type.Optional(fields.agreedLevel),
    trendPeriods: Type.Optional(fields.trendPeriods),
    active: Type.Optional(fields.active),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ReportDefinitionPatch = Static<typeof ReportDefinitionPatchSchema>;

export const ReportDefinitionSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: '`RPT-000001`' }),
  name: Type.String(),
  description: Nullable(Type.String()),
  customerId: Uuid,
  serviceIds: Type.Array(Uuid),
  agreementIds: Type.Array(Uuid),
  period: StringEnum(PERIOD_KINDS),
  schedule: Type.Object({
    cron: Nullable(Type.String()),
    timeZone: Type.String(),
    nextRunAt: Nullable(Timestamp('Next scheduled firing (null: on demand only, or inactive)')),
    synced: Type.Boolean({ description: 'The job scheduler in Redis matches this version' }),
    error: Nullable(Type.String({ description: 'Why the last scheduler update failed (it is retried)' })),
  }),
  locale: StringEnum(REPORT_LOCALES),
  sections: Type.Array(Type.String(), { description: 'The sections a run includes now' }),
  allSections: Type.Boolean({ description: 'true = no explicit list: every registered section' }),
  recipients: Type.Object({ emails: Type.Array(Type.String()), webhookSubscriptionIds: Type.Array(Uuid) }),
  agreedLevel: Type.Number(),
  trendPeriods: Type.Integer(),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type ReportDefinition = Static<typeof ReportDefinitionSchema>;

export const ReportDefinitionListQuerySchema = listQuery({
  customerId: Type.Optional(Uuid),
  period: Type.Optional(StringEnum(PERIOD_KINDS)),
  active: Type.Optional(Type.Boolean()),
  sort: sortQuery(['createdAt', 'name'], 'createdAt'),
});
export type ReportDefinitionListQuery = Static<typeof ReportDefinitionListQuerySchema>;

export const RunRequestSchema = Type.Object(
  {
    period: Type.String({
      minLength: 4,
      maxLength: 10,
      description: 'The period in the definition’s kind: `2026-10`, `2026-Q4`, `2026` or `2026-W43`',
    }),
  },
  { additionalProperties: false },
);

export const RunAcceptedSchema = Type.Object({
  runId: Uuid,
  definitionId: Uuid,
  period: Type.String(),
  revision: Type.Integer({ description: '1 for the first run of a period; a re-run adds one' }),
  status: StringEnum(RUN_STATUSES),
  location: Type.String({ description: 'Where the report will be: `/api/v1/reports/{runId}`' }),
});

const runFields = {
  id: Uuid,
  definitionId: Uuid,
  definitionRef: Type.String(),
  name: Type.String(),
  customerId: Uuid,
  period: Type.String(),
  periodStart: Timestamp('Inclusive start of the period (local midnight in timeZone)'),
  periodEnd: Timestamp('Exclusive end of the period'),
  timeZone: Type.String(),
  locale: StringEnum(REPORT_LOCALES),
  revision: Type.Integer(),
  current: Type.Boolean({ description: 'The latest revision of this period' }),
  status: StringEnum(RUN_STATUSES),
  trigger: StringEnum(['manual', 'schedule'] as const),
  requestedBy: Type.String(),
  queuedAt: Timestamp(),
  startedAt: Nullable(Timestamp()),
  generatedAt: Nullable(Timestamp()),
  durationMs: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  email: Type.Object({
    recipients: Type.Array(Type.String()),
    sentAt: Nullable(Timestamp()),
    error: Nullable(Type.String()),
  }),
  links: Type.Object({
    json: Type.String(),
    html: Type.String(),
    xlsx: Type.String(),
    csv: Type.Record(Type.String(), Type.String(), { description: 'Per section key' }),
  }),
};

export const ReportRunSummarySchema = Type.Object(runFields);
export type ReportRunSummary = Static<typeof ReportRunSummarySchema>;

/** The run with its sections; each registered section documents its own shape. */
export function reportRunSchema(): TSchema {
  const sections = Object.fromEntries(reportSections.list().map((s) => [s.key, Type.Optional(s.schema)]));
  return Type.Object({
    ...runFields,
    sections: Type.Object(sections, {
      additionalProperties: true,
      description: 'Structured data per section key; empty until the run has completed',
    }),
  });
}
export type ReportRun = ReportRunSummary & { sections: Record<string, unknown> };

export const RunListQuerySchema = listQuery({
  period: Type.Optional(Type.String({ maxLength: 10 })),
  current: Type.Optional(Type.Boolean({ description: 'true = only the current revision of each period' })),
  status: Type.Optional(StringEnum(RUN_STATUSES)),
  sort: sortQuery(['queuedAt', 'period'], '-queuedAt'),
});
export type RunListQuery = Static<typeof RunListQuerySchema>;

export const ReportQuerySchema = Type.Object({
  format: Type.Optional(
    StringEnum(FORMATS, { default: 'json', description: 'json (default), html, xlsx or csv' }),
  ),
  section: Type.Optional(Type.String({ maxLength: 40, description: 'csv: the section (its key)' })),
  table: Type.Optional(
    Type.String({ maxLength: 40, description: 'csv: a table of the section other than its main one' }),
  ),
});
export type ReportQuery = Static<typeof ReportQuerySchema>;

export const SectionInfoSchema = Type.Object({
  key: Type.String(),
  title: Type.Object({ en: Type.String(), 'zh-CN': Type.String() }),
  schema: Type.Unknown({ description: 'JSON Schema of the section data' }),
});
