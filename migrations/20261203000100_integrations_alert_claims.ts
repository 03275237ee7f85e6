import { type Kysely, sql } from 'kysely';

/**
 * Monitoring intake claims a new alert identity by inserting its row (`INSERT ... ON CONFLICT DO
 * NOTHING`) before it opens the incident the row points at, in the same transaction: the alert's
 * incident foreign key is checked at commit.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE alerts ALTER CONSTRAINT alerts_incident_id_fkey DEFERRABLE INITIALLY DEFERRED;
  `.execute(db);
}
