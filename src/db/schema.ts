import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/**
 * The database as Kysely sees it: one hand-written source, kept in step with `migrations/`
 * (test/db/schema.test.ts compares it with the migrated catalogue).
 */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string | undefined, string>;

export interface CustomersTable {
  id: Generated<string>;
  ref: Generated<string>;
  code: string;
  name: string;
  status: Generated<'active' | 'inactive'>;
  email: string | null;
  phone: string | null;
  notes: string | null;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PeopleTable {
  id: Generated<string>;
  ref: Generated<string>;
  name: string;
  email: string;
  phone: string | null;
  kind: 'agent' | 'contact';
  customer_id: string | null;
  department: string | null;
  active: Generated<boolean>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AssignmentGroupsTable {
  id: Generated<string>;
  ref: Generated<string>;
  name: string;
  tier: number;
  description: string | null;
  email: string | null;
  active: Generated<boolean>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface GroupMembersTable {
  group_id: string;
  person_id: string;
  added_at: Generated<Date>;
}

export interface ApiKeysTable {
  id: Generated<string>;
  name: string;
  role: 'admin' | 'manager' | 'agent' | 'requester' | 'integration';
  customer_id: string | null;
  token_hash: string;
  token_prefix: string;
  bootstrap: Generated<boolean>;
  created_by: string | null;
  created_at: Generated<Date>;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Generated<Date>;
  actor_key_id: string | null;
  actor_name: string;
  actor_role: string;
  action: string;
  record_type: string;
  record_id: string;
  customer_id: string | null;
  before: Json | null;
  after: Json | null;
  request_id: string | null;
}

export interface OutboxTable {
  id: Generated<number>;
  event_id: Generated<string>;
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  customer_id: string | null;
  payload: JSONColumnType<Record<string, unknown>>;
  occurred_at: Generated<Date>;
  sent_at: Timestamp | null;
  attempts: Generated<number>;
  last_error: string | null;
}

export interface IdempotencyKeysTable {
  actor: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response_headers: JSONColumnType<Record<string, string>> | null;
  response_body: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface DB {
  customers: CustomersTable;
  people: PeopleTable;
  assignment_groups: AssignmentGroupsTable;
  group_members: GroupMembersTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  idempotency_keys: IdempotencyKeysTable;
  incident_settings: IncidentSettingsTable;
  categories: CategoriesTable;
  incidents: IncidentsTable;
  incident_events: IncidentEventsTable;
  incident_attachments: IncidentAttachmentsTable;
  incident_confirmations: IncidentConfirmationsTable;
  services: ServicesTable;
  calendars: CalendarsTable;
  agreements: AgreementsTable;
  agreement_services: AgreementServicesTable;
  agreement_events: AgreementEventsTable;
  sla_clocks: SlaClocksTable;
  sla_clock_events: SlaClockEventsTable;
  sla_escalations: SlaEscalationsTable;
  ticket_sla_states: TicketSlaStatesView;
  integrations: IntegrationsTable;
  alerts: AlertsTable;
  integration_deliveries: IntegrationDeliveriesTable;
  routing_rules: RoutingRulesTable;
  request_items: RequestItemsTable;
  service_requests: ServiceRequestsTable;
  service_request_events: ServiceRequestEventsTable;
  knowledge_articles: KnowledgeArticlesTable;
  knowledge_article_links: KnowledgeArticleLinksTable;
}

// ---- incident module ----
export interface IncidentSettingsTable {
  id: Generated<number>;
  priority_matrix: JSONColumnType<Record<string, Record<string, string>>>;
  resolution_codes: JSONColumnType<{ code: string; en: string; 'zh-CN': string }[]>;
  reopen_window_days: Generated<number>;
  auto_close_days: Generated<number>;
  version: Generated<number>;
  updated_at: Generated<Date>;
}

export interface CategoriesTable {
  id: Generated<string>;
  code: string;
  name: string;
  name_zh: string | null;
  parent_id: string | null;
  active: Generated<boolean>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type IncidentStatus =
  | 'new'
  | 'assigned'
  | 'in_progress'
  | 'pending'
  | 'resolved'
  | 'closed'
  | 'cancelled';
export type Level = 'high' | 'medium' | 'low';
export type Priority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';

export interface IncidentsTable {
  id: Generated<string>;
  ref: Generated<string>;
  title: string;
  description: Generated<string>;
  customer_id: string;
  requester_id: string | null;
  channel: string;
  category: string | null;
  service_id: string | null;
  impact: Level;
  urgency: Level;
  priority: Priority;
  priority_overridden: Generated<boolean>;
  priority_reason: string | null;
  status: Generated<IncidentStatus>;
  pending_reason: string | null;
  group_id: string | null;
  assignee_id: string | null;
  tier: number | null;
  major: Generated<boolean>;
  major_reason: string | null;
  parent_id: string | null;
  resolution_code: string | null;
  resolution_notes: string | null;
  resolved_tier: number | null;
  group_assignments: Generated<number>;
  escalation_count: Generated<number>;
  reopen_count: Generated<number>;
  close_reason: string | null;
  source: ColumnType<string | null, string | null | undefined, string | null>;
  reported_at: Generated<Date>;
  acknowledged_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
  cancelled_at: Date | null;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  search_text: ColumnType<string, never, never>;
  search_bigrams: ColumnType<string[], never, never>;
}

export interface IncidentEventsTable {
  id: Generated<number>;
  incident_id: string;
  at: Generated<Date>;
  type: string;
  visibility: Generated<'public' | 'internal'>;
  actor_key_id: string | null;
  actor_name: string;
  actor_role: string;
  data: JSONColumnType<Record<string, unknown>>;
}

export interface IncidentAttachmentsTable {
  id: Generated<string>;
  incident_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  content: Buffer;
  uploaded_by: string;
  created_at: Generated<Date>;
}

export interface IncidentConfirmationsTable {
  id: Generated<string>;
  incident_id: string;
  token: string;
  created_at: Generated<Date>;
  expires_at: Date;
  answered_at: Date | null;
  outcome: 'confirmed' | 'rejected' | 'auto_closed' | 'superseded' | null;
  rating: number | null;
  comment: string | null;
}

// ---- service-desk module ----
export interface RoutingRulesTable {
  id: Generated<string>;
  ref: Generated<string>;
  position: number;
  description: string | null;
  customer_id: string | null;
  category: string | null;
  service_id: string | null;
  channel: string | null;
  group_id: string;
  active: Generated<boolean>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface RequestItemsTable {
  id: Generated<string>;
  ref: Generated<string>;
  code: string;
  name: string;
  description: string | null;
  category: string | null;
  form_schema: JSONColumnType<Record<string, unknown>>;
  approval_required: Generated<boolean>;
  approver_ids: Generated<string[]>;
  active: Generated<boolean>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type ServiceRequestStatus =
  | 'submitted'
  | 'approved'
  | 'rejected'
  | 'in_fulfilment'
  | 'fulfilled'
  | 'closed'
  | 'cancelled';

export interface ServiceRequestsTable {
  id: Generated<string>;
  ref: Generated<string>;
  item_id: string;
  customer_id: string;
  requester_id: string | null;
  title: string;
  answers: JSONColumnType<Record<string, unknown>>;
  status: Generated<ServiceRequestStatus>;
  approval_required: boolean;
  decided_by_key_id: string | null;
  decided_by_name: string | null;
  decided_at: Timestamp | null;
  decision_comment: string | null;
  fulfilment_notes: string | null;
  fulfilled_at: Timestamp | null;
  closed_at: Timestamp | null;
  cancel_reason: string | null;
  cancelled_at: Timestamp | null;
  created_by_key_id: string | null;
  created_by_name: string;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ServiceRequestEventsTable {
  id: Generated<number>;
  request_id: string;
  at: Generated<Date>;
  type: string;
  from_status: ServiceRequestStatus | null;
  to_status: ServiceRequestStatus | null;
  actor_key_id: string | null;
  actor_name: string;
  actor_role: string;
  comment: string | null;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface KnowledgeArticlesTable {
  id: Generated<string>;
  ref: Generated<string>;
  title: string;
  body: Generated<string>;
  category: string | null;
  keywords: Generated<string[]>;
  status: Generated<'draft' | 'published' | 'retired'>;
  published_at: Timestamp | null;
  retired_at: Timestamp | null;
  created_by_name: string;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  search_text: ColumnType<string, never, never>;
}

export interface KnowledgeArticleLinksTable {
  article_id: string;
  incident_id: string;
  linked_at: Generated<Date>;
  linked_by: string;
}

// ---- sla module ----
export interface ServicesTable {
  id: Generated<string>;
  ref: Generated<string>;
  code: string;
  name: string;
  description: string | null;
  owner_group_id: string | null;
  status: Generated<'pipeline' | 'live' | 'retired'>;
  customer_visible: Generated<boolean>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CalendarsTable {
  id: Generated<string>;
  name: string;
  time_zone: string;
  always_open: Generated<boolean>;
  working_hours: JSONColumnType<{ day: string; from: string; to: string }[]>;
  exceptions: JSONColumnType<
    { date: string; kind: 'holiday' | 'workday'; hours?: { from: string; to: string }[]; name?: string }[]
  >;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AgreementsTable {
  id: Generated<string>;
  ref: Generated<string>;
  name: string;
  kind: 'sla' | 'ola' | 'uc';
  customer_id: string | null;
  group_id: string | null;
  supplier_id: string | null;
  supplier_name: string | null;
  valid_from: ColumnType<string, string, string>;
  valid_to: ColumnType<string | null, string | null, string | null>;
  calendar_id: string;
  targets: JSONColumnType<
    { priority: string; metric: 'response' | 'resolution'; duration: string; seconds: number }[]
  >;
  warnings: JSONColumnType<({ percent: number } | { before: string; beforeSeconds: number })[]>;
  pause_on: JSONColumnType<{ status: string; reason?: string | null }[]>;
  priority_change_policy: Generated<'retain_elapsed' | 'restart'>;
  reopen_policy: Generated<'resume' | 'new_cycle'>;
  escalation_rules: JSONColumnType<unknown[]>;
  next_review_at: ColumnType<string | null, string | null, string | null>;
  report: JSONColumnType<Record<string, unknown>> | null;
  status: Generated<'draft' | 'active' | 'expired' | 'terminated'>;
  template: Generated<boolean>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AgreementServicesTable {
  agreement_id: string;
  service_id: string;
}

export interface AgreementEventsTable {
  id: Generated<number>;
  agreement_id: string;
  at: Generated<Date>;
  type: string;
  actor_name: string;
  actor_key_id: string | null;
  reason: string | null;
  data: JSONColumnType<Record<string, unknown>>;
}

export interface SlaClocksTable {
  id: Generated<string>;
  ticket_type: 'incident' | 'service_request';
  ticket_id: string;
  customer_id: string | null;
  agreement_id: string;
  metric: 'response' | 'resolution';
  cycle: Generated<number>;
  terms: JSONColumnType<Record<string, unknown>>;
  calendar: JSONColumnType<Record<string, unknown>>;
  state: 'running' | 'paused' | 'met' | 'breached' | 'cancelled';
  priority: string | null;
  target_seconds: number;
  elapsed_ms: Generated<number>;
  computed_at: Generated<Date>;
  started_at: Date;
  due_at: Date | null;
  met_at: Date | null;
  breached_at: Date | null;
  warnings_reached: JSONColumnType<string[]>;
  next_threshold: string | null;
  next_due_at: Date | null;
  planned_job_id: string | null;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SlaClockEventsTable {
  clock_id: string;
  threshold: string;
  kind: 'warning' | 'breach';
  due_at: Date;
  fired_at: Generated<Date>;
  fired_by: string;
}

export interface SlaEscalationsTable {
  clock_id: string;
  rule_id: string;
  threshold: string;
  action: string;
  done_at: Generated<Date>;
  result: JSONColumnType<Record<string, unknown>>;
}

export interface TicketSlaStatesView {
  ticket_type: string;
  ticket_id: string;
  breached: boolean;
  at_risk: boolean;
}

// ---- integrations: outbound webhooks ----
export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  ref: Generated<string>;
  url: string;
  description: string | null;
  event_types: string[];
  customer_id: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Timestamp | null;
  active: Generated<boolean>;
  disabled_reason: string | null;
  disabled_at: Timestamp | null;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  subscription_id: string;
  event_id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  customer_id: string | null;
  payload: JSONColumnType<Record<string, unknown>>;
  occurred_at: Timestamp;
  status: Generated<'pending' | 'delivered' | 'failed' | 'cancelled'>;
  redelivery: Generated<number>;
  max_attempts: number;
  attempt_count: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  last_attempt_at: Timestamp | null;
  next_attempt_at: Timestamp | null;
  delivered_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WebhookDeliveryAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  redelivery: number;
  attempt: number;
  at: Generated<Date>;
  outcome: 'delivered' | 'failed' | 'gone' | 'refused';
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  response_excerpt: string | null;
}

// Declaration merging: the webhook tables join the one DB interface above.
export interface DB {
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
}

// ---- integrations module (inbound) ----
export type IntegrationType = 'alertmanager' | 'grafana' | 'zabbix' | 'pagerduty' | 'cloudevents';

export interface IntegrationsTable {
  id: Generated<string>;
  ref: Generated<string>;
  type: IntegrationType;
  name: string;
  customer_id: string;
  service_id: string | null;
  group_id: string | null;
  key_hash: string;
  key_prefix: string;
  signing_secret: string | null;
  severity_map: JSONColumnType<Record<string, { impact: Level; urgency: Level }>>;
  rules: JSONColumnType<unknown[]>;
  auto_resolve: Generated<boolean>;
  flap_window_seconds: Generated<number>;
  grouping: Generated<'alert' | 'group'>;
  rate_limit_per_minute: Generated<number>;
  active: Generated<boolean>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AlertsTable {
  id: Generated<string>;
  integration_id: string;
  dedup_key: string;
  occurrence: string;
  group_key: string | null;
  incident_id: string;
  status: 'firing' | 'resolved' | 'acknowledged';
  severity: string;
  summary: string;
  description: string | null;
  labels: JSONColumnType<Record<string, string>>;
  ci_hint: string | null;
  service_hint: string | null;
  links: JSONColumnType<{ href: string; text: string | null }[]>;
  starts_at: Date | null;
  ends_at: Date | null;
  first_seen_at: Generated<Date>;
  last_seen_at: Generated<Date>;
  resolved_at: Date | null;
  repeat_count: Generated<number>;
  raw: JSONColumnType<Record<string, unknown> | unknown[]> | null;
}

export interface IntegrationDeliveriesTable {
  id: Generated<number>;
  integration_id: string;
  received_at: Generated<Date>;
  outcome: 'accepted' | 'rejected' | 'rate_limited';
  http_status: number;
  alerts: Generated<number>;
  opened: Generated<number>;
  reason: string | null;
  errors: JSONColumnType<unknown[]> | null;
  payload: string | null;
  request_id: string | null;
}

// ---- reports module ----
export interface ReportDefinitionsTable {
  id: Generated<string>;
  ref: Generated<string>;
  name: string;
  description: string | null;
  customer_id: string;
  service_ids: Generated<string[]>;
  agreement_ids: Generated<string[]>;
  period: 'monthly' | 'quarterly' | 'yearly' | 'weekly';
  cron: string | null;
  time_zone: string;
  locale: 'zh-CN' | 'en';
  sections: string[] | null;
  recipients: JSONColumnType<{ emails: string[]; webhookSubscriptionIds: string[] }>;
  agreed_level: Generated<number>;
  trend_periods: Generated<number>;
  active: Generated<boolean>;
  schedule_synced_version: number | null;
  schedule_error: string | null;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Timestamp | null;
}

export interface ReportRunsTable {
  id: Generated<string>;
  definition_id: string;
  customer_id: string;
  period: string;
  revision: number;
  current: Generated<boolean>;
  status: Generated<'queued' | 'running' | 'completed' | 'failed'>;
  trigger: 'manual' | 'schedule';
  requested_by: string;
  period_start: Timestamp;
  period_end: Timestamp;
  definition: JSONColumnType<Record<string, unknown>>;
  sections: JSONColumnType<Record<string, unknown>> | null;
  error: string | null;
  attempts: Generated<number>;
  queued_at: Generated<Date>;
  started_at: Timestamp | null;
  generated_at: Timestamp | null;
  duration_ms: number | null;
  email_sent_at: Timestamp | null;
  email_error: string | null;
}

export interface DB {
  report_definitions: ReportDefinitionsTable;
  report_runs: ReportRunsTable;
}
