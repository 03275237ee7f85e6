import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { databaseUrl, templateName, withAdmin } from './databases.ts';

/**
 * Once per `npm test`: build the template database from the migrations (unless one for exactly these
 * migrations exists), and drop databases that earlier, interrupted runs left behind.
 */
export default async function setup(): Promise<void> {
  const template = templateName();
  const exists = await withAdmin(async (c) => {
    const stale = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE (datname LIKE 'tessera_test_%' OR (datname LIKE 'tessera_tpl_%' AND datname <> $1))`,
      [template],
    );
    for (const { datname } of stale.rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    const found = await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [template]);
    return found.rowCount === 1;
  });
  if (exists) return;
  const building = `${template}_build`;
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    await c.query(
      `CREATE DATABASE ${building} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`,
    );
  });
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl(building), max: 1 }) }),
  });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  await withAdmin((c) => c.query(`ALTER DATABASE ${building} RENAME TO ${template}`));
}
