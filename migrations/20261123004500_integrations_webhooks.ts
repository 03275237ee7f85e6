import { type Kysely, sql } from 'kysely';

/**
 * Outbound webhooks: subscriptions (URL, event-type patterns, signing secret, optional customer),
 * one delivery per (subscription, event), and every HTTP attempt of a delivery.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE SEQUENCE webhook_subscriptions_ref_seq;
    CREATE TABLE webhook_subscriptions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('WHK', nextval('webhook_subscriptions_ref_seq')),
      url text NOT NULL,
      description text,
      event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
      customer_id uuid REFERENCES customers (id),
      secret text NOT NULL,
      previous_secret text,
      previous_secret_expires_at timestamptz(3),
      active boolean NOT NULL DEFAULT true,
      disabled_reason text,
      disabled_at timestamptz(3),
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_subscriptions_created_idx ON webhook_subscriptions (created_at, id);
    CREATE INDEX webhook_subscriptions_customer_idx ON webhook_subscriptions (customer_id, created_at, id);
    CREATE INDEX webhook_subscriptions_active_idx ON webhook_subscriptions (customer_id) WHERE active;

    CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      aggregate_type text NOT NULL,
      aggregate_id text NOT NULL,
      customer_id uuid,
      payload jsonb NOT NULL,
      occurred_at timestamptz(3) NOT NULL,
      status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
      redelivery integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL,
      attempt_count integer NOT NULL DEFAULT 0,
      last_status_code integer,
      last_error text,
      last_duration_ms integer,
      last_attempt_at timestamptz(3),
      next_attempt_at timestamptz(3),
      delivered_at timestamptz(3),
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      CONSTRAINT webhook_deliveries_event_key UNIQUE (subscription_id, event_id)
    );
    CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, created_at, id);
    CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
    CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);

    CREATE TABLE webhook_delivery_attempts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
      redelivery integer NOT NULL,
      attempt integer NOT NULL,
      at timestamptz(3) NOT NULL DEFAULT now(),
      outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'gone', 'refused')),
      status_code integer,
      error text,
      duration_ms integer NOT NULL,
      response_excerpt text
    );
    CREATE INDEX webhook_delivery_attempts_delivery_idx ON webhook_delivery_attempts (delivery_id, id);
  `.execute(db);
}
