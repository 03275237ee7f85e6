import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Database } from '../../src/db/db.ts';
import { createTestDatabase, withAdmin } from '../helpers/databases.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, 2);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('connection pool', () => {
  it('survives the server killing an idle connection, and reconnects on the next query', async () => {
    const errors: unknown[] = [];
    const onUncaught = (err: unknown) => errors.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
      const pid = rows[0]!.pid;
      await withAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
      expect(again.rows[0]!.pid).not.toBe(pid);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(errors.map(String), 'no uncaught pool error').toEqual([]);
  });

  it('stores timestamps with millisecond precision and reads bigint counts as numbers', async () => {
    const { rows } = await sql<{
      n: number;
      at: Date;
    }>`SELECT count(*) AS n, '2026-01-02T03:04:05.678Z'::timestamptz(3) AS at FROM pg_class`.execute(db);
    expect(typeof rows[0]!.n).toBe('number');
    expect(rows[0]!.at.toISOString()).toBe('2026-01-02T03:04:05.678Z');
  });
});
