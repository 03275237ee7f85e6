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
}
