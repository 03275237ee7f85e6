import { type Kysely, sql } from 'kysely';

/**
 * Service level management: the service catalogue, business calendars, agreements (SLA/OLA/UC) and
 * their history, SLA clocks with the events that fired on them, and escalations done.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE SEQUENCE services_ref_seq;
    CREATE TABLE services (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('SVC', nextval('services_ref_seq')),
      code text NOT NULL,
      name text NOT NULL,
      description text,
      owner_group_id uuid REFERENCES assignment_groups (id),
      status text NOT NULL DEFAULT 'live' CHECK (status IN ('pipeline', 'live', 'retired')),
      customer_visible boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX services_code_key ON services (lower(code));
    CREATE INDEX services_created_idx ON services (created_at, id);

    -- Incidents may name a catalogue service now that there is one.
    ALTER TABLE incidents ADD CONSTRAINT incidents_service_fk FOREIGN KEY (service_id) REFERENCES services (id) NOT VALID;

    CREATE TABLE calendars (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      time_zone text NOT NULL,
      always_open boolean NOT NULL DEFAULT false,
      working_hours jsonb NOT NULL DEFAULT '[]',
      exceptions jsonb NOT NULL DEFAULT '[]',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE INDEX calendars_created_idx ON calendars (created_at, id);

    CREATE SEQUENCE agreements_ref_seq;
    CREATE TABLE agreements (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('SLA', nextval('agreements_ref_seq')),
      name text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('sla', 'ola', 'uc')),
      customer_id uuid REFERENCES customers (id),
      group_id uuid REFERENCES assignment_groups (id),
      supplier_id uuid,
      supplier_name text,
      valid_from date NOT NULL,
      valid_to date,
      calendar_id uuid NOT NULL REFERENCES calendars (id),
      targets jsonb NOT NULL,
      warnings jsonb NOT NULL,
      pause_on jsonb NOT NULL,
      priority_change_policy text NOT NULL DEFAULT 'retain_elapsed' CHECK (priority_change_policy IN ('retain_elapsed', 'restart')),
      reopen_policy text NOT NULL DEFAULT 'resume' CHECK (reopen_policy IN ('resume', 'new_cycle')),
      escalation_rules jsonb NOT NULL DEFAULT '[]',
      next_review_at date,
      report jsonb,
      status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'expired', 'terminated')),
      template boolean NOT NULL DEFAULT false,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      CONSTRAINT agreements_parties CHECK (
        (kind = 'sla' AND (customer_id IS NOT NULL OR template)) OR
        (kind = 'ola' AND group_id IS NOT NULL) OR
        (kind = 'uc' AND (supplier_id IS NOT NULL OR supplier_name IS NOT NULL)))
    );
    CREATE INDEX agreements_customer_idx ON agreements (customer_id) WHERE kind = 'sla';
    CREATE INDEX agreements_group_idx ON agreements (group_id) WHERE kind = 'ola';
    CREATE INDEX agreements_created_idx ON agreements (created_at, id);

    CREATE TABLE agreement_services (
      agreement_id uuid NOT NULL REFERENCES agreements (id) ON DELETE CASCADE,
      service_id uuid NOT NULL REFERENCES services (id),
      PRIMARY KEY (agreement_id, service_id)
    );
    CREATE INDEX agreement_services_service_idx ON agreement_services (service_id);

    CREATE TABLE agreement_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      agreement_id uuid NOT NULL REFERENCES agreements (id) ON DELETE CASCADE,
      at timestamptz(3) NOT NULL DEFAULT now(),
      type text NOT NULL,
      actor_name text NOT NULL,
      actor_key_id uuid,
      reason text,
      data jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX agreement_events_agreement_idx ON agreement_events (agreement_id, id);

    -- One clock per ticket, agreement, metric and cycle. terms and calendar are snapshots taken when
    -- the clock starts (refreshed only by POST /slas/{id}/recompute for clocks still running).
    CREATE TABLE sla_clocks (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ticket_type text NOT NULL CHECK (ticket_type IN ('incident', 'service_request')),
      ticket_id uuid NOT NULL,
      customer_id uuid,
      agreement_id uuid NOT NULL REFERENCES agreements (id),
      metric text NOT NULL CHECK (metric IN ('response', 'resolution')),
      cycle integer NOT NULL DEFAULT 1,
      terms jsonb NOT NULL,
      calendar jsonb NOT NULL,
      state text NOT NULL CHECK (state IN ('running', 'paused', 'met', 'breached', 'cancelled')),
      priority text,
      target_seconds integer NOT NULL,
      elapsed_ms bigint NOT NULL DEFAULT 0,
      computed_at timestamptz(3) NOT NULL DEFAULT now(),
      started_at timestamptz(3) NOT NULL,
      due_at timestamptz(3),
      met_at timestamptz(3),
      breached_at timestamptz(3),
      warnings_reached jsonb NOT NULL DEFAULT '[]',
      next_threshold text,
      next_due_at timestamptz(3),
      planned_job_id text,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      UNIQUE (ticket_type, ticket_id, agreement_id, metric, cycle)
    );
    CREATE INDEX sla_clocks_ticket_idx ON sla_clocks (ticket_type, ticket_id);
    CREATE INDEX sla_clocks_due_idx ON sla_clocks (next_due_at) WHERE next_due_at IS NOT NULL;
    CREATE INDEX sla_clocks_agreement_idx ON sla_clocks (agreement_id, started_at);

    -- Each warning and breach fires once per clock and threshold: the primary key says so.
    CREATE TABLE sla_clock_events (
      clock_id uuid NOT NULL REFERENCES sla_clocks (id) ON DELETE CASCADE,
      threshold text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('warning', 'breach')),
      due_at timestamptz(3) NOT NULL,
      fired_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
      fired_by text NOT NULL,
      PRIMARY KEY (clock_id, threshold)
    );

    CREATE TABLE sla_escalations (
      clock_id uuid NOT NULL REFERENCES sla_clocks (id) ON DELETE CASCADE,
      rule_id text NOT NULL,
      threshold text NOT NULL,
      action text NOT NULL,
      done_at timestamptz(3) NOT NULL DEFAULT now(),
      result jsonb NOT NULL DEFAULT '{}',
      PRIMARY KEY (clock_id, rule_id, threshold, action)
    );

    -- The read interface other modules use (the incident list's slaState filter).
    CREATE VIEW ticket_sla_states AS
      SELECT ticket_type, ticket_id,
             bool_or(state = 'breached') AS breached,
             bool_or(state IN ('running', 'paused') AND jsonb_array_length(warnings_reached) > 0) AS at_risk
      FROM sla_clocks
      GROUP BY ticket_type, ticket_id;
  `.execute(db);
}
