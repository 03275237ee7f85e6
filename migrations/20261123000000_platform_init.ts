import { type Kysely, sql } from 'kysely';

/** Platform tables: audit trail, outbox, idempotency keys, and the human-reference helper. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    -- INC-000123: at least six digits, more when the sequence outgrows them.
    CREATE FUNCTION tessera_ref(prefix text, n bigint) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT prefix || '-' || lpad(n::text, greatest(6, length(n::text)), '0') $$;

    CREATE TABLE audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz(3) NOT NULL DEFAULT now(),
      actor_key_id uuid,
      actor_name text NOT NULL,
      actor_role text NOT NULL,
      action text NOT NULL,
      record_type text NOT NULL,
      record_id text NOT NULL,
      customer_id uuid,
      before jsonb,
      after jsonb,
      request_id text
    );
    CREATE INDEX audit_log_record_idx ON audit_log (record_type, record_id, id);
    CREATE INDEX audit_log_actor_idx ON audit_log (actor_key_id, id);
    CREATE INDEX audit_log_at_idx ON audit_log (at);

    CREATE TABLE outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
      type text NOT NULL,
      aggregate_type text NOT NULL,
      aggregate_id text NOT NULL,
      customer_id uuid,
      payload jsonb NOT NULL,
      occurred_at timestamptz(3) NOT NULL DEFAULT now(),
      sent_at timestamptz(3),
      attempts integer NOT NULL DEFAULT 0,
      last_error text
    );
    CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
    CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

    CREATE TABLE idempotency_keys (
      actor text NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      status_code integer,
      response_headers jsonb,
      response_body text,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      expires_at timestamptz(3) NOT NULL,
      PRIMARY KEY (actor, key)
    );
    CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
  `.execute(db);
}
