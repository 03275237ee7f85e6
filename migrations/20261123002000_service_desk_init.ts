import { type Kysely, sql } from 'kysely';

/**
 * Service desk: routing rules (ticket -> assignment group), the request catalogue, service requests
 * with their timeline, and the knowledge base (articles, links to incidents, trigram search).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Routing: the first active rule (lowest position) whose set fields all match picks the group.
    CREATE SEQUENCE routing_rules_ref_seq;
    CREATE TABLE routing_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('RTR', nextval('routing_rules_ref_seq')),
      position integer NOT NULL CHECK (position >= 0),
      description text,
      customer_id uuid REFERENCES customers (id),
      category text,
      service_id uuid,
      channel text,
      group_id uuid NOT NULL REFERENCES assignment_groups (id),
      active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX routing_rules_position_key ON routing_rules (position);
    CREATE INDEX routing_rules_created_idx ON routing_rules (created_at, id);
    CREATE INDEX routing_rules_group_idx ON routing_rules (group_id);

    -- The request catalogue: what customers may ask for, with a JSON Schema for the form.
    CREATE SEQUENCE request_items_ref_seq;
    CREATE TABLE request_items (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('ITM', nextval('request_items_ref_seq')),
      code text NOT NULL,
      name text NOT NULL,
      description text,
      category text,
      form_schema jsonb NOT NULL DEFAULT '{"type":"object"}',
      approval_required boolean NOT NULL DEFAULT false,
      approver_ids uuid[] NOT NULL DEFAULT '{}',
      active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX request_items_code_key ON request_items (upper(code));
    CREATE INDEX request_items_created_idx ON request_items (created_at, id);
    CREATE INDEX request_items_name_idx ON request_items (name, id);

    CREATE SEQUENCE service_requests_ref_seq;
    CREATE TABLE service_requests (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('REQ', nextval('service_requests_ref_seq')),
      item_id uuid NOT NULL REFERENCES request_items (id),
      customer_id uuid NOT NULL REFERENCES customers (id),
      requester_id uuid,
      title text NOT NULL,
      answers jsonb NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'submitted' CHECK (status IN
        ('submitted', 'approved', 'rejected', 'in_fulfilment', 'fulfilled', 'closed', 'cancelled')),
      approval_required boolean NOT NULL,
      decided_by_key_id uuid,
      decided_by_name text,
      decided_at timestamptz(3),
      decision_comment text,
      fulfilment_notes text,
      fulfilled_at timestamptz(3),
      closed_at timestamptz(3),
      cancel_reason text,
      cancelled_at timestamptz(3),
      created_by_key_id uuid,
      created_by_name text NOT NULL,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE INDEX service_requests_created_idx ON service_requests (created_at, id);
    CREATE INDEX service_requests_customer_idx ON service_requests (customer_id, created_at, id);
    CREATE INDEX service_requests_status_idx ON service_requests (status, created_at, id);
    CREATE INDEX service_requests_item_idx ON service_requests (item_id);
    CREATE INDEX service_requests_requester_idx ON service_requests (requester_id) WHERE requester_id IS NOT NULL;

    CREATE TABLE service_request_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      request_id uuid NOT NULL REFERENCES service_requests (id) ON DELETE CASCADE,
      at timestamptz(3) NOT NULL DEFAULT now(),
      type text NOT NULL,
      from_status text,
      to_status text,
      actor_key_id uuid,
      actor_name text NOT NULL,
      actor_role text NOT NULL,
      comment text,
      data jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX service_request_events_request_idx ON service_request_events (request_id, id);

    -- Knowledge base. The search text (title, keywords, body) is indexed with trigrams; that needs a
    -- UTF-8 LC_CTYPE for Chinese. array_to_string is only STABLE in general (any element type), but
    -- for text[] it is immutable, which a generated column requires.
    CREATE FUNCTION tessera_kb_search_text(title text, keywords text[], body text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT title || ' ' || array_to_string(keywords, ' ') || ' ' || body $$;

    CREATE SEQUENCE knowledge_articles_ref_seq;
    CREATE TABLE knowledge_articles (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('KB', nextval('knowledge_articles_ref_seq')),
      title text NOT NULL,
      body text NOT NULL DEFAULT '',
      category text,
      keywords text[] NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'retired')),
      published_at timestamptz(3),
      retired_at timestamptz(3),
      created_by_name text NOT NULL,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      search_text text GENERATED ALWAYS AS (tessera_kb_search_text(title, keywords, body)) STORED
    );
    CREATE INDEX knowledge_articles_search_idx ON knowledge_articles USING gin (search_text gin_trgm_ops);
    CREATE INDEX knowledge_articles_created_idx ON knowledge_articles (created_at, id);
    CREATE INDEX knowledge_articles_status_idx ON knowledge_articles (status, created_at, id);

    -- Links to incidents: no foreign key on purpose (the incident module owns its table).
    CREATE TABLE knowledge_article_links (
      article_id uuid NOT NULL REFERENCES knowledge_articles (id) ON DELETE CASCADE,
      incident_id uuid NOT NULL,
      linked_at timestamptz(3) NOT NULL DEFAULT now(),
      linked_by text NOT NULL,
      PRIMARY KEY (article_id, incident_id)
    );
    CREATE INDEX knowledge_article_links_incident_idx ON knowledge_article_links (incident_id);
  `.execute(db);
}
