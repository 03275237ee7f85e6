import { type Kysely, sql } from 'kysely';

/**
 * Service reports: definitions (customer scope, period kind, schedule, locale, sections, recipients)
 * and their runs. A run is unique per definition, period and revision; exactly one revision of a
 * period is current (a re-run adds revision + 1 and makes it current, older ones stay readable).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE SEQUENCE report_definitions_ref_seq;
    CREATE TABLE report_definitions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('RPT', nextval('report_definitions_ref_seq')),
      name text NOT NULL,
      description text,
      customer_id uuid NOT NULL REFERENCES customers (id),
      service_ids uuid[] NOT NULL DEFAULT '{}',
      agreement_ids uuid[] NOT NULL DEFAULT '{}',
      period text NOT NULL CHECK (period IN ('monthly', 'quarterly', 'yearly', 'weekly')),
      cron text,
      time_zone text NOT NULL,
      locale text NOT NULL CHECK (locale IN ('zh-CN', 'en')),
      -- NULL: every registered section (including ones later modules add).
      sections text[],
      recipients jsonb NOT NULL DEFAULT '{"emails": [], "webhookSubscriptionIds": []}',
      agreed_level double precision NOT NULL DEFAULT 95 CHECK (agreed_level > 0 AND agreed_level <= 100),
      trend_periods smallint NOT NULL DEFAULT 5 CHECK (trend_periods BETWEEN 0 AND 24),
      active boolean NOT NULL DEFAULT true,
      -- The version whose job scheduler Redis holds; NULL or older = the reconcile job redoes it.
      schedule_synced_version integer,
      schedule_error text,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      deleted_at timestamptz(3)
    );
    CREATE INDEX report_definitions_created_idx ON report_definitions (created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX report_definitions_customer_idx ON report_definitions (customer_id, created_at, id);

    CREATE TABLE report_runs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      definition_id uuid NOT NULL REFERENCES report_definitions (id),
      customer_id uuid NOT NULL,
      period text NOT NULL,
      revision integer NOT NULL CHECK (revision >= 1),
      current boolean NOT NULL DEFAULT true,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
      trigger text NOT NULL CHECK (trigger IN ('manual', 'schedule')),
      requested_by text NOT NULL,
      period_start timestamptz(3) NOT NULL,
      period_end timestamptz(3) NOT NULL,
      -- The definition as it was when the run was requested (scope, locale, sections, recipients).
      definition jsonb NOT NULL,
      -- json, not jsonb: keeps the sections in report order and their keys as computed.
      sections json,
      error text,
      attempts integer NOT NULL DEFAULT 0,
      queued_at timestamptz(3) NOT NULL DEFAULT now(),
      started_at timestamptz(3),
      generated_at timestamptz(3),
      duration_ms integer,
      email_sent_at timestamptz(3),
      email_error text,
      UNIQUE (definition_id, period, revision)
    );
    CREATE UNIQUE INDEX report_runs_current_key ON report_runs (definition_id, period) WHERE current;
    CREATE INDEX report_runs_definition_idx ON report_runs (definition_id, queued_at, id);
    CREATE INDEX report_runs_pending_idx ON report_runs (queued_at) WHERE status IN ('queued', 'running');
  `.execute(db);
}
