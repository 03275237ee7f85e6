import { type Kysely, sql } from 'kysely';

/**
 * Every repeat of an alert writes a new version of its row (repeat count, last seen, content), but
 * never its `raw` payload. With the body of a small post (about 1.3 kB) kept inline, each version
 * carried it again: WAL, heap pages and page images grew with it. Rows over 1 kB now move `raw` out
 * of line (uncompressed: it is read rarely), and a repeat copies only its 18-byte pointer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE alerts ALTER COLUMN raw SET STORAGE EXTERNAL`.execute(db);
  await sql`ALTER TABLE alerts SET (toast_tuple_target = 1024)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE alerts RESET (toast_tuple_target)`.execute(db);
  await sql`ALTER TABLE alerts ALTER COLUMN raw SET STORAGE EXTENDED`.execute(db);
}
