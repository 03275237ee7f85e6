import { type Kysely, sql } from 'kysely';

/**
 * The incident search indexes (GIN) take new entries into a pending list that the inserting
 * transaction merges into the index once it outgrows `gin_pending_list_limit` (4 MB by default):
 * about every 1,500 incidents, one insert then stalls for a few hundred milliseconds, holding its
 * locks (under monitoring intake, a whole batch of posts and those queued behind it). A 256 kB list
 * is merged sixteen times as often in a sixteenth of the time, for the same total work; VACUUM
 * (autovacuum) empties it in the background as before. (`fastupdate = off`, no pending list at all,
 * was measured too: about four times the WAL per post and lower throughput.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER INDEX incidents_search_trgm_idx SET (gin_pending_list_limit = 256)`.execute(db);
  await sql`ALTER INDEX incidents_search_bigrams_idx SET (gin_pending_list_limit = 256)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER INDEX incidents_search_trgm_idx RESET (gin_pending_list_limit)`.execute(db);
  await sql`ALTER INDEX incidents_search_bigrams_idx RESET (gin_pending_list_limit)`.execute(db);
}
