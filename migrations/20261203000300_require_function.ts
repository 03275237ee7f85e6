import { type Kysely, sql } from 'kysely';

/**
 * `tessera_require(ok, message)`: true when `ok`, else an error with SQLSTATE TS001. A statement
 * that writes several tables at once selects it to undo all of its writes when a condition it can
 * only check at the end does not hold (monitoring intake's one-statement batch, when an alert needs
 * the per-alert way).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION tessera_require(ok boolean, message text) RETURNS boolean
      LANGUAGE plpgsql VOLATILE
      AS $$ BEGIN
        IF ok IS NOT TRUE THEN RAISE EXCEPTION '%', message USING ERRCODE = 'TS001'; END IF;
        RETURN true;
      END $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION tessera_require(boolean, text)`.execute(db);
}
