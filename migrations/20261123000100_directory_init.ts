import { type Kysely, sql } from 'kysely';

/** Directory: customers, people (agents and customer contacts), assignment groups with tiers. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE SEQUENCE customers_ref_seq;
    CREATE TABLE customers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('CUS', nextval('customers_ref_seq')),
      code text NOT NULL,
      name text NOT NULL,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
      email text,
      phone text,
      notes text,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX customers_code_key ON customers (upper(code));
    CREATE INDEX customers_created_idx ON customers (created_at, id);
    CREATE INDEX customers_name_idx ON customers (name, id);

    CREATE SEQUENCE people_ref_seq;
    CREATE TABLE people (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('PER', nextval('people_ref_seq')),
      name text NOT NULL,
      email text NOT NULL,
      phone text,
      kind text NOT NULL CHECK (kind IN ('agent', 'contact')),
      customer_id uuid REFERENCES customers (id),
      department text,
      active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now(),
      CONSTRAINT people_contact_has_customer CHECK (kind = 'agent' OR customer_id IS NOT NULL)
    );
    CREATE UNIQUE INDEX people_email_key ON people (lower(email));
    CREATE INDEX people_customer_idx ON people (customer_id, created_at, id);
    CREATE INDEX people_created_idx ON people (created_at, id);

    CREATE SEQUENCE assignment_groups_ref_seq;
    CREATE TABLE assignment_groups (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ref text NOT NULL UNIQUE DEFAULT tessera_ref('GRP', nextval('assignment_groups_ref_seq')),
      name text NOT NULL,
      tier smallint NOT NULL CHECK (tier BETWEEN 1 AND 3),
      description text,
      email text,
      active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz(3) NOT NULL DEFAULT now(),
      updated_at timestamptz(3) NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX assignment_groups_name_key ON assignment_groups (lower(name));
    CREATE INDEX assignment_groups_tier_idx ON assignment_groups (tier, created_at, id);

    CREATE TABLE group_members (
      group_id uuid NOT NULL REFERENCES assignment_groups (id) ON DELETE CASCADE,
      person_id uuid NOT NULL REFERENCES people (id),
      added_at timestamptz(3) NOT NULL DEFAULT now(),
      PRIMARY KEY (group_id, person_id)
    );
    CREATE INDEX group_members_person_idx ON group_members (person_id);
  `.execute(db);
}
