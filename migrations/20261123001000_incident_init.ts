import { type Kysely, sql } from 'kysely';

/**
 * Incidents: the record, its timeline, attachments, call-back confirmations, the category tree and
 * the module's settings (priority matrix, resolution codes, reopen and auto-close windows).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Pairs of adjacent CJK characters: lets 2-character Chinese queries use an index
    -- (trigram indexes need 3+ characters).
    CREATE FUNCTION tessera_cjk_bigrams(t text) RETURNS text[]
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$
        SELECT coalesce(array_agg(DISTINCT g), '{}'::text[])
        FROM (SELECT substr(t, i, 2) AS g FROM generate_series(1, length(t) - 1) AS i) pairs
        WHERE g ~ '^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2}$'
      $$;

    CREATE TABLE incident_settings (
      id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
      priority_matrix jsonb NOT NULL,
      resolution_codes jsonb NOT NULL,
      reopen_window_days integer NOT NULL DEFAULT 7 CHECK (reopen_window_days >= 0),
      auto_close_days integer NOT NULL DEFAULT 3 CHECK (auto_close_days >= 1),
      version integer NOT NULL DEFAULT 1,
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    INSERT INTO incident_settings (priority_matrix, resolution_codes) VALUES (
      '{"high":{"high":"P1","medium":"P2","low":"P3"},"medium":{"high":"P2","medium":"P3","low":"P4"},"low":{"high":"P3","medium":"P4","low":"P5"}}',
      '[{"code":"fixed","en":"Fixed","zh-CN":"已修复"},
        {"code":"workaround","en":"Workaround applied","zh-CN":"临时解决"},
        {"code":"no_fault_found","en":"No fault found","zh-CN":"未发现故障"},
        {"code":"duplicate","en":"Duplicate","zh-CN":"重复"},
        {"code":"auto_resolved","en":"Resolved automatically","zh-CN":"自动恢复"},
        {"code":"user_error","en":"User error","zh-CN":"用户操作问题"},
        {"code":"change_applied","en":"Resolved by a change","zh-CN":"通过变更解决"}]'
    );

    CREATE TABLE categories (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      code text NOT NULL UNIQUE,
      name text NOT NULL,
      name_zh text,
      parent_id uuid REFERENCES categories (id),
      active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    INSERT INTO categories (code, name, name_zh) VALUES
      ('network', 'Network', '网络'), ('software', 'Software', '软件'),
      ('hardware', 'Hardware', '硬件'), ('account', 'Account and access', '账号与权限');
    INSERT INTO categories (code, name, name_zh, parent_id)
      SELECT c.code, c.name, c.name_zh, p.id FROM (VALUES
        ('network.wifi', 'Wi-Fi', '无线网络', 'network'), ('network.vpn', 'VPN', 'VPN', 'network'),
        ('software.email', 'E-mail', '邮件', 'software'), ('software.office', 'Office applications', '办公软件', 'software'),
        ('hardware.pc', 'Desktop and laptop', '台式机与笔记本', 'hardware'), ('hardware.printer', 'Printer', '打印机', 'hardware'),
        ('account.password', 'Password reset', '密码重置', 'account')
      ) AS c(code, name, name_zh, parent) JOIN categories p ON p.code = c.parent;

    CREATE SEQUENCE incidents_ref_seq;
    CREATE TABLE incidents (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('INC', nextval('incidents_ref_seq')),
      title text NOT NULL,
      description text NOT NULL DEFAULT '',
      customer_id uuid NOT NULL REFERENCES customers (id),
      requester_id uuid REFERENCES people (id),
      channel text NOT NULL,
      category text,
      service_id uuid,
      impact text NOT NULL CHECK (impact IN ('high', 'medium', 'low')),
      urgency text NOT NULL CHECK (urgency IN ('high', 'medium', 'low')),
      priority text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
      priority_overridden boolean NOT NULL DEFAULT false,
      priority_reason text,
      status text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'assigned', 'in_progress', 'pending', 'resolved', 'closed', 'cancelled')),
      pending_reason text,
      group_id uuid REFERENCES assignment_groups (id),
      assignee_id uuid REFERENCES people (id),
      tier smallint,
      major boolean NOT NULL DEFAULT false,
      major_reason text,
      parent_id uuid REFERENCES incidents (id),
      resolution_code text,
      resolution_notes text,
      resolved_tier smallint,
      group_assignments integer NOT NULL DEFAULT 0,
      escalation_count integer NOT NULL DEFAULT 0,
      reopen_count integer NOT NULL DEFAULT 0,
      close_reason text,
      reported_at timestamptz(3) NOT NULL DEFAULT now(),
      acknowledged_at timestamptz(3),
      resolved_at timestamptz(3),
      closed_at timestamptz(3),
      cancelled_at timestamptz(3),
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      search_text text GENERATED ALWAYS AS (lower(title || ' ' || description)) STORED,
      search_bigrams text[] GENERATED ALWAYS AS (tessera_cjk_bigrams(title || ' ' || description)) STORED
    );
    CREATE INDEX incidents_created_idx ON incidents (created_at, id);
    CREATE INDEX incidents_status_created_idx ON incidents (status, created_at, id);
    CREATE INDEX incidents_customer_created_idx ON incidents (customer_id, created_at, id);
    CREATE INDEX incidents_group_status_idx ON incidents (group_id, status);
    CREATE INDEX incidents_assignee_idx ON incidents (assignee_id) WHERE assignee_id IS NOT NULL;
    CREATE INDEX incidents_priority_created_idx ON incidents (priority, created_at, id);
    CREATE INDEX incidents_updated_idx ON incidents (updated_at, id);
    CREATE INDEX incidents_parent_idx ON incidents (parent_id) WHERE parent_id IS NOT NULL;
    CREATE INDEX incidents_search_trgm_idx ON incidents USING gin (search_text gin_trgm_ops);
    CREATE INDEX incidents_search_bigrams_idx ON incidents USING gin (search_bigrams);

    CREATE TABLE incident_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      incident_id uuid NOT NULL REFERENCES incidents (id),
      at timestamptz(3) NOT NULL DEFAULT now(),
      type text NOT NULL,
      visibility text NOT NULL DEFAULT 'internal' CHECK (visibility IN ('public', 'internal')),
      actor_key_id uuid,
      actor_name text NOT NULL,
      actor_role text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, id);

    CREATE TABLE incident_attachments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      incident_id uuid NOT NULL REFERENCES incidents (id),
      filename text NOT NULL,
      content_type text NOT NULL,
      size_bytes integer NOT NULL,
      sha256 text NOT NULL,
      content bytea NOT NULL,
      uploaded_by text NOT NULL,
      created_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE INDEX incident_attachments_incident_idx ON incident_attachments (incident_id, created_at);

    CREATE TABLE incident_confirmations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      incident_id uuid NOT NULL REFERENCES incidents (id),
      token text NOT NULL UNIQUE,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      expires_at timestamptz(3) NOT NULL,
      answered_at timestamptz(3),
      outcome text CHECK (outcome IN ('confirmed', 'rejected', 'auto_closed', 'superseded')),
      rating smallint CHECK (rating BETWEEN 1 AND 5),
      comment text
    );
    CREATE INDEX incident_confirmations_open_idx ON incident_confirmations (expires_at) WHERE answered_at IS NULL;
    CREATE INDEX incident_confirmations_incident_idx ON incident_confirmations (incident_id, created_at);
  `.execute(db);
}
