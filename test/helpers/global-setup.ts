import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { ADMIN_DATABASE_URL, databaseUrl, templateName, withAdmin } from './databases.ts';

/** Whether a process of this machine is still running (test databases carry their creator's pid). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const SETUP_LOCK = `SELECT pg_advisory_lock(hashtext('tessera-test-setup'))`;
const SETUP_UNLOCK = `SELECT pg_advisory_unlock(hashtext('tessera-test-setup'))`;

/**
 * Once per `npm test`: build the template database from the migrations (unless one for exactly these
 * migrations exists), and drop databases that earlier, interrupted runs left behind.
 *
 * Several runs may share one PostgreSQL (several people, agents or CI checkouts on one machine, with
 * different migrations): an advisory lock serialises this setup; each run holds a shared advisory
 * lock on its template until it ends, so another run drops only templates nobody holds; and test
 * databases whose creating process still runs are left alone.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const template = templateName();
  project.provide('tesseraTemplate', template);
  await withAdmin(async (c) => {
    await c.query(SETUP_LOCK);
    try {
      const stale = await c.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE (datname LIKE 'tessera_test_%' OR (datname LIKE 'tessera_tpl_%' AND datname <> $1))`,
        [template],
      );
      for (const { datname } of stale.rows) {
        const pid = /^tessera_test_(\d+)_/.exec(datname)?.[1];
        if (pid && alive(Number(pid))) continue;
        if (datname.startsWith('tessera_tpl_')) {
          const base = datname.replace(/_build$/, '');
          const free = await c.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS ok`, [
            base,
          ]);
          if (!free.rows[0]?.ok) continue; // another run is using it
          try {
            await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
          } finally {
            await c.query(`SELECT pg_advisory_unlock(hashtext($1))`, [base]);
          }
          continue;
        }
        await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      }
      const found = await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [template]);
      if (found.rowCount !== 1) await buildTemplate(template);
    } finally {
      await c.query(SETUP_UNLOCK);
    }
  });

  // Hold the template for the whole run; the lock goes with this connection, even on a crash.
  const holder = new pg.Client({
    connectionString: ADMIN_DATABASE_URL,
    application_name: 'tessera-test-run',
  });
  holder.on('error', () => {});
  await holder.connect();
  await holder.query(`SELECT pg_advisory_lock_shared(hashtext($1))`, [template]);
  return async () => {
    await holder.end().catch(() => {});
  };
}

async function buildTemplate(template: string): Promise<void> {
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
