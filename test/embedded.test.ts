import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedService, startEmbeddedPostgres, startEmbeddedRedis } from '../src/embedded.ts';
import type { Logger } from '../src/platform/logger.ts';

const log = pino({ level: 'silent' }) as Logger;
const EMBEDDED = fileURLToPath(new URL('../src/embedded.ts', import.meta.url));

/** Whether a process runs (a zombie counts as gone: on Linux its command line is empty). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
  } catch {
    return false;
  }
}

async function pids(dir: string): Promise<{ postgres: number; redis: number }> {
  const postmaster = await readFile(path.join(dir, 'postgres', 'postmaster.pid'), 'utf8');
  const redisState = JSON.parse(await readFile(path.join(dir, 'redis', 'tessera-embedded.json'), 'utf8'));
  return { postgres: Number.parseInt(postmaster.split('\n')[0]!, 10), redis: redisState.pid as number };
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

async function withRedis<T>(url: string, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

describe('embedded PostgreSQL and Redis', () => {
  let dir: string;
  const running: EmbeddedService[] = [];
  const start = async () => {
    const postgres = await startEmbeddedPostgres(path.join(dir, 'postgres'), log);
    running.push(postgres);
    const redis = await startEmbeddedRedis(path.join(dir, 'redis'), log);
    running.push(redis);
    return { postgres, redis };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-embedded-'));
  });
  afterAll(async () => {
    for (const service of running) await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, serves, stops without leftovers, and keeps its data across a restart', {
    timeout: 60_000,
  }, async () => {
    const first = await start();
    expect(first.postgres.url).toMatch(/^postgres:\/\/[^:]+:[^@]+@127\.0\.0\.1:\d+\/tessera$/);
    expect(first.redis.url).toMatch(/^redis:\/\/:[^@]+@127\.0\.0\.1:\d+$/);

    // A UTF-8 ctype, so pg_trgm sees Chinese text.
    const [db] = await query<{ datctype: string; encoding: string }>(
      first.postgres.url,
      `SELECT datctype, pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = current_database()`,
    );
    expect(db).toEqual({ datctype: 'C.UTF-8', encoding: 'UTF8' });
    await query(first.postgres.url, 'CREATE EXTENSION IF NOT EXISTS pg_trgm');
    const [trgm] = await query<{ n: number }>(
      first.postgres.url,
      `SELECT cardinality(show_trgm('磁盘空间不足')) AS n`,
    );
    expect(trgm!.n).toBe(7);
    await query(first.postgres.url, `CREATE TABLE kept (name text); INSERT INTO kept VALUES ('甲方')`);
    await withRedis(first.redis.url, async (redis) => {
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      await redis.set('kept', '乙方');
    });

    const before = await pids(dir);
    expect(alive(before.postgres)).toBe(true);
    expect(alive(before.redis)).toBe(true);
    await first.redis.stop();
    await first.postgres.stop();
    await first.redis.stop(); // idempotent
    expect(alive(before.postgres)).toBe(false);
    expect(alive(before.redis)).toBe(false);
    await expect(query(first.postgres.url, 'SELECT 1')).rejects.toThrow();

    const second = await start();
    const rows = await query<{ name: string }>(second.postgres.url, 'SELECT name FROM kept');
    expect(rows).toEqual([{ name: '甲方' }]);
    expect(await withRedis(second.redis.url, (redis) => redis.get('kept'))).toBe('乙方');
    await second.redis.stop();
    await second.postgres.stop();
  });

  it('leaves nothing running when its process exits, and stops what a killed process left behind', {
    timeout: 60_000,
  }, async () => {
    // A child process runs `setup`, starts both, says so, then on a line from the test runs `then`.
    const script = (setup: string, then: string) => `
      import { pino } from 'pino';
      const { startEmbeddedPostgres, startEmbeddedRedis } = await import(${JSON.stringify(EMBEDDED)});
      const log = pino({ level: 'silent' });
      let postgres, redis;
      ${setup}
      postgres = await startEmbeddedPostgres(${JSON.stringify(path.join(dir, 'postgres'))}, log);
      redis = await startEmbeddedRedis(${JSON.stringify(path.join(dir, 'redis'))}, log);
      process.stdout.write('ready\\n');
      process.stdin.once('data', () => { ${then} });
    `;
    const run = async (setup: string, then = '') => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script(setup, then)],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let output = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('ready')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited with ${code} before it was ready`)));
      });
      return { child, exited, output: () => output, started: await pids(dir) };
    };

    // Exits without stop(): the 'exit' hook stops both.
    const exiting = await run('', 'process.exit(0);');
    expect(alive(exiting.started.postgres)).toBe(true);
    exiting.child.stdin.write('go\n');
    await exiting.exited;
    expect(await waitGone(exiting.started.postgres)).toBe(true);
    expect(await waitGone(exiting.started.redis)).toBe(true);

    // A host that handles SIGINT itself (as server.ts does, with process.once registered before the
    // services start) shuts down in its own order: the embedded services do not cut it short.
    const graceful = await run(`process.once('SIGINT', async () => {
        await new Promise((r) => setTimeout(r, 300));
        await redis.stop();
        await postgres.stop();
        process.stdout.write('graceful\\n');
        process.exit(0);
      });`);
    graceful.child.kill('SIGINT');
    expect(await graceful.exited).toBe(0);
    expect(graceful.output()).toContain('graceful');
    expect(alive(graceful.started.postgres)).toBe(false);
    expect(alive(graceful.started.redis)).toBe(false);

    // SIGKILL gives no chance to clean up: the next start stops the orphans, then starts afresh.
    const killed = await run('');
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(alive(killed.started.postgres)).toBe(true);
    expect(alive(killed.started.redis)).toBe(true);
    const next = await start();
    expect(alive(killed.started.postgres)).toBe(false);
    expect(alive(killed.started.redis)).toBe(false);
    const rows = await query<{ name: string }>(next.postgres.url, 'SELECT name FROM kept');
    expect(rows).toEqual([{ name: '甲方' }]);
    await next.redis.stop();
    await next.postgres.stop();
  });
});
