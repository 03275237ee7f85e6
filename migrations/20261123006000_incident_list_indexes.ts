import { type Kysely, sql } from 'kysely';

/** The incident list filtered by status and priority, newest first, walks one index (bench/incidents). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX incidents_status_priority_created_idx ON incidents (status, priority, created_at, id)`.execute(
    db,
  );
}
