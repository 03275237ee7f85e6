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

describe('tessera_cjk_bigrams (incidents.search_bigrams)', () => {
  /** The definition: every distinct pair of adjacent characters that are both CJK, sorted. */
  const CJK = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]$/u;
  const reference = (t: string) => {
    const chars = [...t];
    const pairs = new Set<string>();
    for (let i = 0; i + 1 < chars.length; i++)
      if (CJK.test(chars[i]!) && CJK.test(chars[i + 1]!)) pairs.add(chars[i]! + chars[i + 1]!);
    return [...pairs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  };

  it('gives the CJK pairs of a text, as the definition says, for ASCII, Chinese, mixed and edge cases', async () => {
    // Characters at and just past the edges of the three CJK blocks, ASCII, and a character
    // outside the Basic Multilingual Plane.
    const alphabet = [
      ...'磁盘空间不足数据库 a-9',
      '\u3400',
      '\u4dbf',
      '\u33ff',
      '\u4dc0',
      '\u4e00',
      '\u9fff',
    ];
    alphabet.push('\ua000', '\uf900', '\ufaff', '\ufb00', '\u{20000}');
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const texts = [
      '',
      'a',
      '磁',
      'InstanceDown on db-01: disk full',
      '磁盘空间不足 on 数据库服务器 db-01 告 警',
      ...Array.from({ length: 300 }, () =>
        Array.from(
          { length: 1 + Math.floor(random() * 30) },
          () => alphabet[Math.floor(random() * alphabet.length)],
        ).join(''),
      ),
    ];
    const { rows } = await sql<{ t: string; bigrams: string[] }>`
      SELECT t, tessera_cjk_bigrams(t) AS bigrams FROM unnest(${texts}::text[]) AS t`.execute(db);
    expect(rows).toHaveLength(texts.length);
    for (const row of rows) expect(row.bigrams, JSON.stringify(row.t)).toEqual(reference(row.t));
    const none = await sql<{ bigrams: string[] }>`SELECT tessera_cjk_bigrams(NULL) AS bigrams`.execute(db);
    expect(none.rows[0]!.bigrams).toEqual([]);
  });
});
