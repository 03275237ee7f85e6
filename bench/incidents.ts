/**
 * Incident API benchmark against a seeded database, compared in the same run with a bare
 * Fastify + TypeBox + Kysely endpoint (bench/baseline.ts).
 *
 *   npx tsx bench/incidents.ts                       # ROWS=1000000 by default
 *   ROWS=100000 DURATION=10 CONNECTIONS=16 npx tsx bench/incidents.ts
 *
 * Env: ROWS (1000000), CUSTOMERS (300), DURATION s per scenario (12), WARMUP s (3), CONNECTIONS (16),
 * RESEED=1 (seed again even when the database holds ROWS seeded incidents), SCENARIOS (comma list of
 * names to run), PG_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_DB (tessera_bench),
 * REDIS_URL (redis://127.0.0.1:6379), BATCH (rows per seeding statement, 50000), EXPLAIN=0 to skip plans
 * (EXPLAIN=full prints every plan), SEED_ONLY=1 to prepare the database and stop.
 * Prints a table and writes bench/results/incidents-<date>.json (git-ignored).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createPool } from '../src/db/db.ts';
import type { DB } from '../src/db/schema.ts';
import { prepareDatabase, type SeedInfo } from './seed.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const env = process.env;
const ROWS = Number(env.ROWS ?? 1_000_000);
const CUSTOMERS = Number(env.CUSTOMERS ?? 300);
const DURATION = Number(env.DURATION ?? 12);
const WARMUP = Number(env.WARMUP ?? 3);
const CONNECTIONS = Number(env.CONNECTIONS ?? 16);
const BATCH = Number(env.BATCH ?? 50_000);
const PG_URL = env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = env.BENCH_DB ?? 'tessera_bench';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const API_PORT = 18081;
const BASELINE_PORT = 18082;
const TOKEN = 'bench-admin-token-0123456789abcdef0123456789abcdef';
const ONLY = env.SCENARIOS ? new Set(env.SCENARIOS.split(',').map((s) => s.trim())) : null;
const P99_GOAL_MS = 50;
/** Wait up to this many seconds before each scenario for other work on the machine to drop below QUIET_PCT. */
const WAIT_QUIET = Number(env.WAIT_QUIET ?? 120);
const QUIET_PCT = Number(env.QUIET_PCT ?? 30);
const PROFILE = env.PROFILE === '1';
/** Fixed arrival rate (req/s, all connections together) for the latency-below-saturation runs; 0 skips them. */
const RATE = Number(env.RATE ?? 25);
const RATE_DURATION = Number(env.RATE_DURATION ?? 20);
const DRAIN_MS = Number(env.DRAIN_MS ?? 1500);
/** Extra `q` terms only EXPLAINed (common words: many matches). */
const EXTRA_Q = (env.EXTRA_Q ?? '网络,邮箱,密码,printer,vpn,password reset')
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean);

const dbUrl = (() => {
  const url = new URL(PG_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
})();
const log = (message: string) => process.stdout.write(`${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------- child processes

interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  output: string[];
  warnings: { level: number; msg: string; time: number | null; sample: string }[];
  /** When stopChild sent SIGTERM (epoch ms). */
  stopSentAt?: number;
  /** Waiters for the next `{"benchQueryCount": n}` line (bench/count-queries.ts). */
  countWaiters: ((n: number) => void)[];
  exited: Promise<number | null>;
}

function startChild(
  name: string,
  args: string[],
  childEnv: Record<string, string>,
  nodeArgs: string[] = [],
): Child {
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', '--import', './bench/count-queries.ts', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...childEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const record: Child = {
    name,
    process: child,
    pid: child.pid!,
    output: [],
    warnings: [],
    countWaiters: [],
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      if (record.output.length < 2000 && !line.includes('benchQueryCount')) record.output.push(line);
      try {
        const entry = JSON.parse(line) as {
          level?: number;
          msg?: string;
          time?: number;
          benchQueryCount?: number;
        };
        if (typeof entry.benchQueryCount === 'number') {
          for (const waiter of record.countWaiters.splice(0)) waiter(entry.benchQueryCount);
          continue;
        }
        if (typeof entry.level === 'number' && entry.level >= 40)
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

/** Queries the child has sent to PostgreSQL so far (null if it does not answer within 2 s). */
async function queryCount(child: Child): Promise<number | null> {
  const answer = new Promise<number>((resolve) => child.countWaiters.push(resolve));
  child.process.kill('SIGUSR2');
  return Promise.race([answer, sleep(2000).then(() => null)]);
}

async function waitReady(child: Child, url: string, timeoutMs = 90_000): Promise<void> {
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

async function stopChild(child: Child): Promise<number | null> {
  if (child.process.exitCode !== null) return child.process.exitCode;
  child.stopSentAt = Date.now();
  child.process.kill('SIGTERM');
  const code = await Promise.race([child.exited, sleep(15_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    log(`${child.name} did not stop within 15 s of SIGTERM; killing`);
    child.process.kill('SIGKILL');
    return child.exited;
  }
  return code;
}

// ---------------------------------------------------------------- /proc sampling

function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
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
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks at 100 Hz
  } catch {
    return 0;
  }
}

/** Whole-machine busy and total jiffies (for a busy % over an interval). */
function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = values[3]! + values[4]!;
  return { busy: total - idle, total };
}

async function busyPctOver(ms: number): Promise<number> {
  const before = machineCpu();
  await sleep(ms);
  const after = machineCpu();
  const total = after.total - before.total;
  return total > 0 ? Math.round((100 * (after.busy - before.busy)) / total) : 0;
}

/** The machine's busy % (our servers idle), after waiting up to WAIT_QUIET s for it to drop below QUIET_PCT. */
async function quietEnough(name: string): Promise<number> {
  const deadline = Date.now() + WAIT_QUIET * 1000;
  let busy = await busyPctOver(2000);
  if (busy >= QUIET_PCT && WAIT_QUIET > 0)
    log(`  machine ${busy}% busy before ${name}; waiting up to ${WAIT_QUIET}s for < ${QUIET_PCT}%`);
  while (busy >= QUIET_PCT && Date.now() < deadline) busy = await busyPctOver(2000);
  return busy;
}

/** Samples pg_stat_activity of one application's connections every 100 ms until stopped. */
function sampleDbActivity(applicationName: string): { stop: () => Promise<Record<string, number>> } {
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

class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  peakKb: Record<string, number> = {};
  windowPeakKb: Record<string, number> = {};
  constructor(private readonly children: Child[]) {}
  start(intervalMs = 250) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }
  sample() {
    for (const child of this.children) {
      const kb = procStatusKb(child.pid, 'VmRSS');
      if (kb === null) continue;
      this.peakKb[child.name] = Math.max(this.peakKb[child.name] ?? 0, kb);
      this.windowPeakKb[child.name] = Math.max(this.windowPeakKb[child.name] ?? 0, kb);
    }
  }
  resetWindow() {
    this.windowPeakKb = {};
  }
  stop() {
    clearInterval(this.timer);
  }
}

// ---------------------------------------------------------------- scenarios

interface Scenario {
  name: string;
  target: 'api' | 'baseline';
  method: 'GET' | 'POST';
  /** A fresh path (and body) per request. */
  next: () => { path: string; body?: string };
  goal?: string;
  /** For list scenarios: the query the repository receives, to EXPLAIN it. */
  listQuery?: Record<string, unknown>;
  /** Also measure at a fixed arrival rate of RATE req/s. */
  atRate?: boolean;
}

interface Measured {
  name: string;
  target: string;
  method: string;
  examplePath: string;
  check: { status: number; bytes: number; items?: number; detail?: string };
  /** Queries the server sent to PostgreSQL per response during the measured run. */
  queriesPerRequest: number | null;
  requests: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  serverCpuMsPerRequest: number;
  machineBusyPct: number;
  /** Machine CPU busy % over 2 s just before the scenario, our servers idle: other work on the box. */
  backgroundBusyPct: number;
  loadavg1: number;
  rssPeakMb: number | null;
  /** pg_stat_activity of the server's connections, sampled every 100 ms: state / wait event -> samples. */
  dbActivity: Record<string, number>;
  /** The same requests at a fixed arrival rate (RATE req/s) below saturation: latency without queueing. */
  atRate?: {
    rate: number;
    rps: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    non2xx: number;
    errors: number;
  };
  goal?: string;
}

const pickOne = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

const POST_TITLES = [
  '邮箱无法登录',
  '打印机卡纸，无法打印',
  'VPN connection drops every 10 minutes',
  '财务系统报错 500',
  'Outlook 无法同步',
  'ERP login failed for warehouse users',
  '会议室投影仪无画面',
  'Wi-Fi weak on floor 3',
];
const POST_DETAILS = [
  '用户反映邮箱无法登录，提示密码错误',
  'Restarted twice, still failing',
  '影响部门约20人办公',
  'Customer asks for a fix before end of day',
  '上午九点开始出现，偶发',
  'Error code 0x80070005 shown',
];

/**
 * Open-loop latency: one request every 1/rate s whatever the answers (autocannon's own rate limit sends
 * each second's quota in a burst on every connection, which measures queueing again). Latency is from
 * the scheduled send time, so a stalled client is counted, not hidden.
 */
async function openLoop(
  scenario: Scenario,
  baseUrl: string,
  headers: Record<string, string>,
  rate: number,
  seconds: number,
): Promise<NonNullable<Measured['atRate']>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(baseUrl);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const send = (scheduled: number) =>
    new Promise<void>((resolve) => {
      const next = scenario.next();
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: next.path,
          method: scenario.method,
          headers: { ...headers, ...(next.body ? { 'content-type': 'application/json' } : {}) },
          timeout: 10_000,
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            latencies.push(performance.now() - scheduled);
            if ((response.statusCode ?? 0) >= 300) non2xx++;
            resolve();
          });
        },
      );
      request.on('error', () => {
        errors++;
        resolve();
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.end(next.body);
    });
  const interval = 1000 / rate;
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = started + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(send(scheduled));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0, 1);
  return {
    rate,
    rps: round(latencies.length / elapsed, 0),
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: round(latencies[latencies.length - 1] ?? 0, 1),
    non2xx,
    errors,
  };
}

async function measure(
  scenario: Scenario,
  baseUrl: string,
  headers: Record<string, string>,
  server: Child,
  sampler: RssSampler,
): Promise<Measured> {
  const serverPid = server.pid;
  const serverName = server.name;
  const example = scenario.next();
  const response = await fetch(`${baseUrl}${example.path}`, {
    method: scenario.method,
    headers: { ...headers, ...(example.body ? { 'content-type': 'application/json' } : {}) },
    ...(example.body ? { body: example.body } : {}),
  });
  const text = await response.text();
  const check: Measured['check'] = { status: response.status, bytes: Buffer.byteLength(text) };
  try {
    const json = JSON.parse(text) as { items?: unknown[] };
    if (Array.isArray(json.items)) check.items = json.items.length;
  } catch {
    // not JSON
  }
  if (response.status >= 300) check.detail = text.slice(0, 300);

  // autocannon stops with requests in flight; the server finishes them after their client left.
  // A pause lets them drain so one scenario's leftovers do not load the next.
  const run = async (duration: number) => {
    const result = await start(duration);
    await sleep(DRAIN_MS);
    return result;
  };
  const start = (duration: number) =>
    autocannon({
      url: baseUrl,
      connections: CONNECTIONS,
      duration,
      timeout: 10,
      headers: { ...headers, ...(scenario.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      requests: [
        {
          method: scenario.method,
          setupRequest: (request) => {
            const next = scenario.next();
            return { ...request, path: next.path, ...(next.body ? { body: next.body } : {}) };
          },
        },
      ],
    });

  const backgroundBusyPct = await quietEnough(scenario.name);
  if (WARMUP > 0) await run(WARMUP);
  sampler.resetWindow();
  const queriesBefore = await queryCount(server);
  const cpuBefore = procCpuMs(serverPid);
  const machineBefore = machineCpu();
  const activity = sampleDbActivity(scenario.target === 'api' ? 'tessera' : 'bench-baseline');
  const result: Result = await run(DURATION);
  const dbActivity = await activity.stop();
  const cpuAfter = procCpuMs(serverPid);
  const machineAfter = machineCpu();
  const queriesAfter = await queryCount(server);
  sampler.sample();
  let atRate: Measured['atRate'];
  if (scenario.atRate && RATE > 0) {
    atRate = await openLoop(scenario, baseUrl, headers, RATE, RATE_DURATION);
    await sleep(DRAIN_MS);
  }

  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, Number(stat.count)]),
  );
  const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const busy = machineAfter.busy - machineBefore.busy;
  const total = machineAfter.total - machineBefore.total;
  return {
    name: scenario.name,
    target: scenario.target,
    method: scenario.method,
    examplePath: decodeURIComponent(example.path),
    check,
    requests: completed,
    rps: round(completed / result.duration, 0),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: round(result.latency.mean, 2),
    },
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    queriesPerRequest:
      queriesBefore !== null && queriesAfter !== null && completed > 0
        ? round((queriesAfter - queriesBefore) / completed, 2)
        : null,
    serverCpuMsPerRequest: completed > 0 ? round((cpuAfter - cpuBefore) / completed, 3) : 0,
    machineBusyPct: total > 0 ? round((100 * busy) / total, 0) : 0,
    backgroundBusyPct,
    loadavg1: round(os.loadavg()[0]!, 2),
    rssPeakMb: sampler.windowPeakKb[serverName] ? round(sampler.windowPeakKb[serverName]! / 1024, 0) : null,
    dbActivity,
    ...(atRate ? { atRate } : {}),
    ...(scenario.goal ? { goal: scenario.goal } : {}),
  };
}

// ---------------------------------------------------------------- EXPLAIN of the repository's queries

interface Explained {
  scenario: string;
  matches: number;
  sql: string;
  params: unknown[];
  plan: string;
  /** Median of five EXPLAIN ANALYZE runs (the plan shown is that run's). */
  executionMs: number | null;
  executionMsRuns: number[];
}

/** Runs the incident repository's listIncidents with a logging Kysely to get its exact SQL, then EXPLAINs it. */
async function explainLists(scenarios: Pick<Scenario, 'name' | 'listQuery'>[]): Promise<Explained[]> {
  const repo = await import('../src/modules/incident/incident.repository.ts');
  const captured: { sql: string; params: unknown[] }[] = [];
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: createPool(dbUrl, 1) }),
    log: (event) => {
      if (event.level === 'query')
        captured.push({ sql: event.query.sql, params: [...event.query.parameters] });
    },
  });
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  const out: Explained[] = [];
  try {
    for (const scenario of scenarios) {
      if (!scenario.listQuery) continue;
      captured.length = 0;
      await repo.listIncidents(db, { customerId: null }, scenario.listQuery as never);
      const query = captured[captured.length - 1];
      if (!query) continue;
      await client.query(`EXPLAIN (ANALYZE) ${query.sql}`, query.params); // warm once
      // Five runs, the median one kept: single runs on a shared 2-core box jump when preempted.
      const runs: { plan: string; ms: number }[] = [];
      for (let i = 0; i < 5; i++) {
        const result = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${query.sql}`, query.params);
        const plan = result.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        runs.push({ plan, ms: Number(plan.match(/Execution Time: ([\d.]+) ms/)?.[1] ?? Number.NaN) });
      }
      runs.sort((a, b) => a.ms - b.ms);
      const { plan } = runs[2]!;
      const all = [...query.params.slice(0, -1), 1_000_000_000];
      const count = await client.query(`SELECT count(*)::int AS n FROM (${query.sql}) AS matches`, all);
      out.push({
        scenario: scenario.name,
        matches: count.rows[0].n as number,
        sql: query.sql,
        params: query.params,
        plan,
        executionMs: runs[2]!.ms,
        executionMsRuns: runs.map((r) => r.ms),
      });
    }
  } finally {
    await client.end();
    await db.destroy();
  }
  return out;
}

// ---------------------------------------------------------------- output

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.map((r) => [...(r[i] ?? '')].length + cjkExtra(r[i] ?? ''))),
  );
  const line = (r: string[]) =>
    r.map((cell, i) => cell + ' '.repeat(widths[i]! - [...cell].length - cjkExtra(cell))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
/** CJK characters take two columns in a terminal. */
const cjkExtra = (s: string) => (s.match(/[\u3000-\u9fff\uff00-\uffef]/g) ?? []).length;

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const startedAt = new Date();
  log(
    `Tessera incident benchmark: ROWS=${ROWS} DURATION=${DURATION}s WARMUP=${WARMUP}s CONNECTIONS=${CONNECTIONS}`,
  );
  log(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${round(os.totalmem() / 2 ** 30, 1)} GiB, load ${os
      .loadavg()
      .map((l) => round(l, 2))
      .join(' ')}`,
  );

  const seedStarted = performance.now();
  const seed: SeedInfo = await prepareDatabase({
    serverUrl: PG_URL,
    dbName: DB_NAME,
    rows: ROWS,
    customers: CUSTOMERS,
    reseed: env.RESEED === '1',
    batch: BATCH,
  });
  log(
    `database ready in ${round((performance.now() - seedStarted) / 1000, 1)} s; incidents table ${round(seed.tableBytes / 2 ** 20, 0)} MiB; matching rows: ${JSON.stringify(seed.counts)}`,
  );

  if (env.SEED_ONLY === '1') process.exit(0);
  const modules = await fs.readFile(path.join(ROOT, 'src/modules/index.ts'), 'utf8');
  if (!modules.includes('incidentModule')) {
    log(
      'src/modules/index.ts does not register incidentModule yet: /api/v1/incidents would answer 404. Stopping.',
    );
    process.exit(3);
  }

  // ids and customers to draw from
  const { incidentIds, itemIds, customerIds, pgVersion } = await (async () => {
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      const sample = Math.min(100, (30_000 / Math.max(ROWS, 1)) * 100);
      const incidents = await c.query(
        `SELECT id FROM incidents TABLESAMPLE BERNOULLI (${sample}) LIMIT 20000`,
      );
      const items = await c.query(`SELECT id FROM bench_items TABLESAMPLE BERNOULLI (${sample}) LIMIT 20000`);
      const customers = await c.query("SELECT id FROM customers WHERE code LIKE 'BENCH%'");
      const version = await c.query('SHOW server_version');
      return {
        incidentIds: incidents.rows.map((r) => r.id as string),
        itemIds: items.rows.map((r) => r.id as string),
        customerIds: customers.rows.map((r) => r.id as string),
        pgVersion: version.rows[0].server_version as string,
      };
    } finally {
      await c.end();
    }
  })();

  const profileDir = path.join(ROOT, 'bench/results/profiles');
  if (PROFILE) await fs.mkdir(profileDir, { recursive: true });
  const api = startChild(
    'api',
    ['src/server.ts'],
    {
      DATABASE_URL: dbUrl,
      REDIS_URL,
      QUEUE_PREFIX: 'bench',
      TESSERA_ROLE: 'api',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      BOOTSTRAP_ADMIN_TOKEN: TOKEN,
      MIGRATE_ON_START: 'false',
      PORT: String(API_PORT),
      HOST: '127.0.0.1',
    },
    PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  const baseline = startChild('baseline', ['bench/baseline.ts', String(BASELINE_PORT)], {
    DATABASE_URL: dbUrl,
  });
  const children = [api, baseline];
  const sampler = new RssSampler(children);
  sampler.start();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping the servers');
    void Promise.all(children.map(stopChild)).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const apiUrl = `http://127.0.0.1:${API_PORT}`;
  const baselineUrl = `http://127.0.0.1:${BASELINE_PORT}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const results: Measured[] = [];
  let explained: Explained[] = [];
  let stopCodes: (number | null)[] = [];
  let peak: Record<string, { hwmMb: number | null; sampledPeakRssMb: number | null }> = {};

  try {
    await Promise.all([waitReady(api, `${apiUrl}/readyz`), waitReady(baseline, `${baselineUrl}/readyz`)]);
    const probe = await fetch(`${apiUrl}/api/v1/incidents?limit=1`, { headers: auth });
    if (probe.status !== 200)
      throw new Error(`GET /api/v1/incidents answered ${probe.status}: ${await probe.text()}`);
    log(
      `servers ready (api pid ${api.pid}, baseline pid ${baseline.pid}); RSS after start: api ${round((procStatusKb(api.pid, 'VmRSS') ?? 0) / 1024, 0)} MB`,
    );

    const q = (term: string) => `/api/v1/incidents?q=${encodeURIComponent(term)}&limit=50`;
    const scenarios: Scenario[] = [
      {
        name: 'get-baseline',
        atRate: true,
        target: 'baseline',
        method: 'GET',
        next: () => ({ path: `/items/${pickOne(itemIds)}` }),
      },
      {
        name: 'get-incident',
        atRate: true,
        target: 'api',
        method: 'GET',
        next: () => ({ path: `/api/v1/incidents/${pickOne(incidentIds)}` }),
        goal: 'rps >= 0.7 x get-baseline',
      },
      {
        name: 'list-status-priority',
        atRate: true,
        target: 'api',
        method: 'GET',
        next: () => ({ path: '/api/v1/incidents?status=new&priority=P1&limit=50' }),
        listQuery: { status: ['new'], priority: ['P1'], limit: 50, sort: '-createdAt' },
        goal: `p99 < ${P99_GOAL_MS} ms`,
      },
      {
        name: 'list-customer',
        atRate: true,
        target: 'api',
        method: 'GET',
        next: () => ({ path: `/api/v1/incidents?customerId=${pickOne(customerIds)}&limit=50` }),
        listQuery: {
          customerId: customerIds[Math.floor(customerIds.length / 2)],
          limit: 50,
          sort: '-createdAt',
        },
        goal: `p99 < ${P99_GOAL_MS} ms`,
      },
      {
        name: 'search-zh-phrase',
        atRate: true,
        target: 'api',
        method: 'GET',
        next: () => ({ path: q('磁盘空间不足') }),
        listQuery: { q: '磁盘空间不足', limit: 50, sort: '-createdAt' },
        goal: `p99 < ${P99_GOAL_MS} ms`,
      },
      {
        name: 'search-zh-2char',
        atRate: true,
        target: 'api',
        method: 'GET',
        next: () => ({ path: q('磁盘') }),
        listQuery: { q: '磁盘', limit: 50, sort: '-createdAt' },
        goal: `p99 < ${P99_GOAL_MS} ms`,
      },
      {
        name: 'search-en',
        atRate: true,
        target: 'api',
        method: 'GET',
        next: () => ({ path: q('disk full') }),
        listQuery: { q: 'disk full', limit: 50, sort: '-createdAt' },
        goal: `p99 < ${P99_GOAL_MS} ms`,
      },
      {
        name: 'post-baseline',
        target: 'baseline',
        method: 'POST',
        next: () => ({
          path: '/items',
          body: JSON.stringify({
            title: pickOne(POST_TITLES),
            description: `${pickOne(POST_DETAILS)} #${Math.random().toString(36).slice(2, 10)}`,
          }),
        }),
      },
      {
        name: 'post-incident',
        target: 'api',
        method: 'POST',
        next: () => ({
          path: '/api/v1/incidents',
          body: JSON.stringify({
            title: pickOne(POST_TITLES),
            description: `${pickOne(POST_DETAILS)} #${Math.random().toString(36).slice(2, 10)}`,
            customerId: pickOne(customerIds),
            channel: 'wechat',
            impact: 'high',
            urgency: 'high',
          }),
        }),
        goal: 'rps >= 0.5 x post-baseline',
      },
    ];

    // Plans first, on the seeded data only (the POST scenarios add 'new' P1 incidents).
    if (env.EXPLAIN !== '0') {
      try {
        explained = await explainLists([
          ...scenarios.filter((s) => !ONLY || ONLY.has(s.name)),
          ...EXTRA_Q.map((term) => ({
            name: `explain-only q=${term}`,
            listQuery: { q: term, limit: 50, sort: '-createdAt' },
          })),
          {
            name: 'explain-only status=new&q=邮箱',
            listQuery: { status: ['new'], q: '邮箱', limit: 50, sort: '-createdAt' },
          },
        ]);
      } catch (err) {
        log(`EXPLAIN skipped: ${err instanceof Error ? err.message : String(err)}`);
      }
    }

    for (const scenario of scenarios) {
      if (ONLY && !ONLY.has(scenario.name)) continue;
      if (interrupted) break;
      const isApi = scenario.target === 'api';
      log(`running ${scenario.name} (${WARMUP}s warm-up + ${DURATION}s)...`);
      const measured = await measure(
        scenario,
        isApi ? apiUrl : baselineUrl,
        isApi ? auth : {},
        isApi ? api : baseline,
        sampler,
      );
      results.push(measured);
      log(
        `  ${measured.rps} req/s, p50 ${measured.latencyMs.p50} ms, p99 ${measured.latencyMs.p99} ms, ` +
          `non-2xx ${measured.non2xx}, errors ${measured.errors}, check ${measured.check.status}` +
          (measured.check.items !== undefined ? ` (${measured.check.items} items)` : '') +
          (measured.atRate
            ? `; at ${measured.atRate.rate} req/s: p50 ${measured.atRate.p50} ms, p99 ${measured.atRate.p99} ms`
            : ''),
      );
    }
  } finally {
    sampler.sample();
    sampler.stop();
    peak = Object.fromEntries(
      children.map((child) => {
        const hwm = procStatusKb(child.pid, 'VmHWM');
        const sampled = sampler.peakKb[child.name];
        return [
          child.name,
          {
            hwmMb: hwm === null ? null : round(hwm / 1024, 0),
            sampledPeakRssMb: sampled ? round(sampled / 1024, 0) : null,
          },
        ];
      }),
    );
    stopCodes = await Promise.all(children.map(stopChild));
  }

  // ---- report
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  const ratio = (a: string, b: string) =>
    byName[a] && byName[b] && byName[b]!.rps > 0 ? round(byName[a]!.rps / byName[b]!.rps, 2) : null;
  const ratios = {
    post: ratio('post-incident', 'post-baseline'),
    get: ratio('get-incident', 'get-baseline'),
  };
  const verdict = (r: Measured): string => {
    if (r.name === 'post-incident')
      return ratios.post === null
        ? ''
        : `ratio ${ratios.post} (goal >= 0.5) ${ratios.post >= 0.5 ? 'OK' : 'MISS'}`;
    if (r.name === 'get-incident')
      return ratios.get === null
        ? ''
        : `ratio ${ratios.get} (goal >= 0.7) ${ratios.get >= 0.7 ? 'OK' : 'MISS'}`;
    if (r.goal?.startsWith('p99'))
      return `${r.latencyMs.p99 < P99_GOAL_MS ? 'OK' : 'MISS'} (p99 < ${P99_GOAL_MS} ms)`;
    return '';
  };
  const rows = [
    [
      'scenario',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'non-2xx',
      'err/timeout',
      'queries/req',
      'srv CPU ms/req',
      'box busy',
      'bg busy',
      'RSS MB',
      'goal',
    ],
    ...results.map((r) => [
      r.name,
      String(r.rps),
      String(r.latencyMs.p50),
      String(r.latencyMs.p90),
      String(r.latencyMs.p99),
      String(r.latencyMs.max),
      String(r.non2xx),
      `${r.errors}/${r.timeouts}`,
      String(r.queriesPerRequest ?? '?'),
      String(r.serverCpuMsPerRequest),
      `${r.machineBusyPct}%`,
      `${r.backgroundBusyPct}%`,
      String(r.rssPeakMb ?? ''),
      verdict(r),
    ]),
  ];
  log('');
  log(
    `Results: ROWS=${ROWS}, ${CONNECTIONS} connections, ${DURATION}s per scenario after ${WARMUP}s warm-up, PostgreSQL ${pgVersion}, Node ${process.version}`,
  );
  log(table(rows));
  log(
    'srv CPU ms/req: user+sys CPU of the server process per response (PostgreSQL not included); box busy: whole machine ' +
      'during the scenario (server + PostgreSQL + load generator); bg busy: machine over 2 s before it, servers idle.',
  );
  log('');
  for (const r of results) {
    const codes = Object.entries(r.statusCodes)
      .map(([code, n]) => `${code}: ${n}`)
      .join(', ');
    log(
      `  ${r.name}: ${r.requests} responses (${codes}); sample ${r.method} ${r.examplePath} -> ${r.check.status} (${r.check.bytes} bytes)${r.check.items !== undefined ? `, ${r.check.items} items` : ''}${r.check.detail ? ` ${r.check.detail}` : ''}`,
    );
  }
  const rated = results.filter((r) => r.atRate);
  if (rated.length > 0) {
    log('');
    log(
      `Latency at a fixed arrival rate (open loop) of ${RATE} req/s for ${RATE_DURATION}s, below saturation: service time more than queueing:`,
    );
    log(
      table([
        ['scenario', 'achieved req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'goal'],
        ...rated.map((r) => [
          r.name,
          String(r.atRate!.rps),
          String(r.atRate!.p50),
          String(r.atRate!.p90),
          String(r.atRate!.p99),
          String(r.atRate!.max),
          String(r.atRate!.non2xx),
          String(r.atRate!.errors),
          r.goal?.startsWith('p99')
            ? `${r.atRate!.p99 < P99_GOAL_MS ? 'OK' : 'MISS'} (p99 < ${P99_GOAL_MS} ms)`
            : '',
        ]),
      ]),
    );
  }
  log('');
  log(
    'Server connections in PostgreSQL during each saturated run (pg_stat_activity every 100 ms; share of samples):',
  );
  for (const r of results) {
    const total = Object.values(r.dbActivity).reduce((a, b) => a + b, 0);
    const top = Object.entries(r.dbActivity)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([k, n]) => `${k} ${Math.round((100 * n) / (total || 1))}%`)
      .join(', ');
    log(`  ${r.name}: ${top}`);
  }
  log('');
  for (const [name, p] of Object.entries(peak))
    log(
      `memory ${name}: peak RSS (VmHWM) ${p.hwmMb ?? '?'} MB, highest sampled VmRSS ${p.sampledPeakRssMb ?? '?'} MB`,
    );
  const warnings = api.warnings.concat(baseline.warnings);
  log(`server log lines at warn or above: api ${api.warnings.length}, baseline ${baseline.warnings.length}`);
  const grouped = new Map<string, { n: number; sample: string }>();
  for (const w of warnings) {
    const child = api.warnings.includes(w) ? api : baseline;
    const when =
      child.stopSentAt && w.time !== null && w.time >= child.stopSentAt ? 'after SIGTERM' : 'under load';
    const key = `${child.name} ${when}: ${w.msg}`;
    const g = grouped.get(key) ?? { n: 0, sample: w.sample };
    g.n++;
    grouped.set(key, g);
  }
  for (const [msg, g] of grouped) log(`  ${g.n} x "${msg}": ${g.sample.slice(0, 300)}`);
  log(`server exit codes after SIGTERM: api ${stopCodes[0]}, baseline ${stopCodes[1]}`);

  if (explained.length > 0) {
    log('');
    log(
      'EXPLAIN (ANALYZE, BUFFERS) of the SQL listIncidents generates (warm; median of 5 runs, min-max in brackets):',
    );
    for (const e of explained) {
      const measured = byName[e.scenario];
      const slow = measured ? measured.latencyMs.p99 >= P99_GOAL_MS : false;
      const top = e.plan
        .split('\n')
        .slice(0, 3)
        .map((l) => l.trim())
        .join(' | ');
      log(
        `  ${e.scenario}: ${e.matches} matching rows, ${e.executionMs} ms [${e.executionMsRuns[0]}-${e.executionMsRuns[4]}]: ${top}`,
      );
      if (slow || env.EXPLAIN === 'full') {
        log(`    SQL: ${e.sql}`);
        log(`    params: ${JSON.stringify(e.params)}`);
        log(
          e.plan
            .split('\n')
            .map((l) => `    ${l}`)
            .join('\n'),
        );
      }
    }
  }

  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `ROWS=${ROWS} DURATION=${DURATION} WARMUP=${WARMUP} CONNECTIONS=${CONNECTIONS} npx tsx bench/incidents.ts`,
    settings: { ROWS, CUSTOMERS, DURATION, WARMUP, CONNECTIONS, apiPoolSize: 10, baselinePoolSize: 10 },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGiB: round(os.totalmem() / 2 ** 30, 1),
      loadavgAtEnd: os.loadavg(),
      node: process.version,
      postgres: pgVersion,
    },
    seed,
    results,
    ratios,
    memory: peak,
    serverWarnings: {
      api: api.warnings.slice(0, 50),
      baseline: baseline.warnings.slice(0, 50),
      apiTotal: api.warnings.length,
    },
    stopCodes: { api: stopCodes[0], baseline: stopCodes[1] },
    stopSentAt: { api: api.stopSentAt ?? null, baseline: baseline.stopSentAt ?? null },
    explain: explained,
  };
  const dir = path.join(ROOT, 'bench/results');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `incidents-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await fs.writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  log('');
  log(`wrote ${path.relative(ROOT, file)}`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(
    `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
