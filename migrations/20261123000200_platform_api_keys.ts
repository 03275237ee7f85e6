import { type Kysely, sql } from 'kysely';

/** API keys, stored as SHA-256 hashes of high-entropy tokens; optionally bound to one customer. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE api_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin', 'manager', 'agent', 'requester', 'integration')),
      customer_id uuid REFERENCES customers (id),
      token_hash text NOT NULL UNIQUE,
      token_prefix text NOT NULL,
      bootstrap boolean NOT NULL DEFAULT false,
      created_by uuid,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      last_used_at timestamptz(3),
      revoked_at timestamptz(3)
    );
    CREATE INDEX api_keys_created_idx ON api_keys (created_at, id);
  `.execute(db);
}
