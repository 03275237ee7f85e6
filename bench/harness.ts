/**
 * Small helpers shared by benchmarks: a fresh migrated database, Node child processes (run through
 * tsx) with their log lines, /proc CPU sampling, waiting for a quiet machine, pg_stat_activity
 * sampling, percentiles and a text table. The same code as bench/incidents.ts, made importable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/migrator.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const log = (message: string) => process.stdout.write(`${message}\n`);
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------- database

export function databaseUrl(serverUrl: string, dbName: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-setup' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops and creates `dbName` (UTF8, C.UTF-8, from template0) and applies every migration. Returns its URL. */
export async function createFreshDatabase(serverUrl: string, dbName: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) throw new Error(`unsafe database name ${dbName}`);
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.query(
      `CREATE DATABASE ${dbName} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0`,
    );
  });
  const dbUrl = databaseUrl(serverUrl, dbName);
  const kysely = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: dbUrl, max: 2 }) }),
  });
  try {
    await migrateToLatest(kysely);
  } finally {
    await kysely.destroy();
  }
  return dbUrl;
}

// ---------------------------------------------------------------- child processes

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  output: string[];
  warnings: { level: number; msg: string; time: number | null; sample: string }[];
  /** When stopChild sent SIGTERM (epoch ms). */
  stopSentAt?: number;
  exited: Promise<number | null>;
}

/** `node [nodeArgs] --import tsx ...args` in the repository root, its output collected line by line. */
export function startChild(
  name: string,
  args: string[],
  childEnv: Record<string, string>,
  nodeArgs: string[] = [],
): Child {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...childEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const record: Child = {
    name,
    process: child,
    pid: child.pid!,
    output: [],
    warnings: [],
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      if (record.output.length < 2000) record.output.push(line);
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; time?: number };
        if (typeof entry.level === 'number' && entry.level >= 40 && record.warnings.length < 5000)
          record.warnings.push({
            level: entry.level,
            msg: entry.msg ?? '',
            time: typeof entry.time === 'number' ? entry.time : null,
            sample: line.slice(0, 600),
          });
      } catch {
        // not a log line
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return record;
}

export async function waitReady(child: Child, url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void child.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(
        `${child.name} exited (${exitCode}) before it was ready:\n${child.output.slice(-30).join('\n')}`,
      );
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.output.slice(-30).join('\n')}`);
}

export async function stopChild(child: Child, timeoutMs = 15_000): Promise<number | null> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.process.exitCode;
  child.stopSentAt = Date.now();
  child.process.kill('SIGTERM');
  const code = await Promise.race([child.exited, sleep(timeoutMs).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    log(`${child.name} did not stop within ${timeoutMs / 1000} s of SIGTERM; killing`);
    child.process.kill('SIGKILL');
    return child.exited;
  }
  return code;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- /proc sampling

export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'),
    );
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** utime + stime of a process, in ms. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at 100 Hz
  } catch {
    return 0;
  }
}

/** Whole-machine busy and total jiffies (for a busy % over an interval). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = values[3]! + values[4]!;
  return { busy: total - idle, total };
}

export function busyPct(before: { busy: number; total: number }, after: { busy: number; total: number }) {
  const total = after.total - before.total;
  return total > 0 ? Math.round((100 * (after.busy - before.busy)) / total) : 0;
}

export async function busyPctOver(ms: number): Promise<number> {
  const before = machineCpu();
  await sleep(ms);
  return busyPct(before, machineCpu());
}

/** The machine's busy % (our servers idle), after waiting up to waitS seconds for it to drop below pct. */
export async function quietEnough(name: string, waitS: number, pct: number): Promise<number> {
  const deadline = Date.now() + waitS * 1000;
  let busy = await busyPctOver(2000);
  if (busy >= pct && waitS > 0)
    log(`  machine ${busy}% busy before ${name}; waiting up to ${waitS}s for < ${pct}%`);
  while (busy >= pct && Date.now() < deadline) busy = await busyPctOver(2000);
  return busy;
}

/**
 * Samples pg_stat_activity of one application's connections every 100 ms until stopped:
 * `active <wait event or CPU>`, `idle in transaction <...>`, `idle` -> samples.
 */
export function sampleDbActivity(
  dbUrl: string,
  applicationName: string,
): { stop: () => Promise<Record<string, number>> } {
  const counts: Record<string, number> = {};
  let running = true;
  const done = (async () => {
    const client = new pg.Client({ connectionString: dbUrl, application_name: 'bench-sampler' });
    await client.connect();
    try {
      while (running) {
        const r = await client.query(
          `SELECT state, coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait
           FROM pg_stat_activity
           WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()`,
          [applicationName],
        );
        for (const row of r.rows as { state: string; wait: string }[]) {
          const key =
            row.state === 'active'
              ? `active ${row.wait}`
              : row.state === 'idle'
                ? 'idle'
                : `${row.state} ${row.wait}`;
          counts[key] = (counts[key] ?? 0) + 1;
        }
        await sleep(100);
      }
    } finally {
      await client.end();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done.catch(() => {});
      return counts;
    },
  };
}

/** The `n` most frequent entries of a sampleDbActivity result, as shares of all samples. */
export function topActivity(counts: Record<string, number>, n = 5): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, c]) => `${k} ${Math.round((100 * c) / (total || 1))}%`)
    .join(', ');
}

// ---------------------------------------------------------------- figures and output

/** Nearest-rank percentiles of a list of numbers (ms), rounded to 0.1. */
export function percentiles(values: number[]): {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
} {
  if (values.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(mean, 2),
  };
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.map((r) => [...(r[i] ?? '')].length + cjkExtra(r[i] ?? ''))),
  );
  const line = (r: string[]) =>
    r.map((cell, i) => cell + ' '.repeat(widths[i]! - [...cell].length - cjkExtra(cell))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
/** CJK characters take two columns in a terminal. */
const cjkExtra = (s: string) => (s.match(/[\u3000-\u9fff\uff00-\uffef]/g) ?? []).length;
