import { type Kysely, sql } from 'kysely';

/**
 * Monitoring intake: integrations (one per sender and key), the alerts they posted (deduplicated per
 * integration), every delivery with its outcome, and the incidents' source.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE incidents ADD COLUMN source text;
    CREATE INDEX incidents_source_created_idx ON incidents (source, created_at, id) WHERE source IS NOT NULL;

    CREATE SEQUENCE integrations_ref_seq;
    CREATE TABLE integrations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('INT', nextval('integrations_ref_seq')),
      type text NOT NULL CHECK (type IN ('alertmanager', 'grafana', 'zabbix', 'pagerduty', 'cloudevents')),
      name text NOT NULL,
      customer_id uuid NOT NULL REFERENCES customers (id),
      service_id uuid REFERENCES services (id),
      group_id uuid REFERENCES assignment_groups (id),
      key_hash text NOT NULL UNIQUE,
      key_prefix text NOT NULL,
      signing_secret text,
      severity_map jsonb NOT NULL DEFAULT '{}',
      rules jsonb NOT NULL DEFAULT '[]',
      auto_resolve boolean NOT NULL DEFAULT true,
      flap_window_seconds integer NOT NULL DEFAULT 1800 CHECK (flap_window_seconds >= 0),
      grouping text NOT NULL DEFAULT 'alert' CHECK (grouping IN ('alert', 'group')),
      rate_limit_per_minute integer NOT NULL DEFAULT 1200 CHECK (rate_limit_per_minute > 0),
      active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE INDEX integrations_created_idx ON integrations (created_at, id);

    CREATE TABLE alerts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      integration_id uuid NOT NULL REFERENCES integrations (id),
      dedup_key text NOT NULL,
      occurrence text NOT NULL,
      group_key text,
      incident_id uuid NOT NULL REFERENCES incidents (id),
      status text NOT NULL CHECK (status IN ('firing', 'resolved', 'acknowledged')),
      severity text NOT NULL,
      summary text NOT NULL,
      description text,
      labels jsonb NOT NULL DEFAULT '{}',
      ci_hint text,
      service_hint text,
      links jsonb NOT NULL DEFAULT '[]',
      starts_at timestamptz(3),
      ends_at timestamptz(3),
      first_seen_at timestamptz(3) NOT NULL DEFAULT now(),
      last_seen_at timestamptz(3) NOT NULL DEFAULT now(),
      resolved_at timestamptz(3),
      repeat_count integer NOT NULL DEFAULT 1,
      raw jsonb,
      UNIQUE (integration_id, dedup_key)
    );
    CREATE INDEX alerts_incident_idx ON alerts (incident_id);
    CREATE INDEX alerts_group_idx ON alerts (integration_id, group_key) WHERE group_key IS NOT NULL;

    CREATE TABLE integration_deliveries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      integration_id uuid NOT NULL REFERENCES integrations (id),
      received_at timestamptz(3) NOT NULL DEFAULT now(),
      outcome text NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'rate_limited')),
      http_status integer NOT NULL,
      alerts integer NOT NULL DEFAULT 0,
      opened integer NOT NULL DEFAULT 0,
      reason text,
      errors jsonb,
      payload text,
      request_id text
    );
    CREATE INDEX integration_deliveries_idx ON integration_deliveries (integration_id, id);
  `.execute(db);
}
