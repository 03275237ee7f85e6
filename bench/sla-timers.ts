/**
 * SLA timer benchmark: CLOCKS running resolution clocks whose breach instants are spread uniformly
 * over SPREAD_S seconds, planned by the real recompute (BullMQ delayed jobs), fired by WORKERS real
 * worker processes (`src/server.ts`, TESSERA_ROLE=worker), measured from the database.
 *
 *   npx tsx bench/sla-timers.ts                                   # CLOCKS=10000 SPREAD_S=120 WORKERS=1
 *   CLOCKS=100000 SPREAD_S=600 WORKERS=2 npx tsx bench/sla-timers.ts
 *
 * Env: CLOCKS (10000), SPREAD_S (120), WORKERS (1), WORKER_CONCURRENCY (the worker's own default
 * when unset), WORKER_POOL (the worker's DATABASE_POOL_SIZE; its default when unset),
 * PLAN_CONCURRENCY (12 recomputes at once while planning, pg pool of the same size), WARMUP_S (30:
 * clocks due during the 30 s before the window at the window's rate, so that the workers meet the
 * window warm, as they would in service; they are left out of every figure; 0 measures a cold
 * start), TARGET_S
 * (900: the `*` resolution target), MARGIN_S (75: after the last due instant, wait at most this long
 * for stragglers; one sweep runs every minute), DRAIN_S (900: when a backlog is still draining at
 * MARGIN_S, keep waiting while fires progress, up to this long after the last due instant), PG_URL (postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_DB (tessera_bench_sla), REDIS_SERVER (redis-server), REDIS_HZ (100), PROFILE=1 (V8 CPU profiles of
 * the workers in bench/results/profiles/sla-<date>/; summarise the largest with
 * bench/profile-summary.ts).
 *
 * Setup: a fresh database (UTF8, C.UTF-8, template0) migrated by src/db/migrator.ts, and a private
 * redis-server on a free port (--hz 100, no persistence, noeviction) killed at the end. One customer,
 * one service, a 24x7 calendar and ONE active SLA for them with only a `*` resolution target and no
 * warnings, so each incident has exactly one clock and one threshold (breach): fires count 1:1.
 * Incidents are inserted by SQL (status in_progress, acknowledged, a `created` and a `status_changed`
 * timeline row) with reported_at = due - TARGET_S, due uniform over [start + 60 s, start + 60 s +
 * SPREAD_S], where start is the estimated end of planning (estimated from a calibration set of
 * incidents due a day later, which stay planned and are left out of every figure).
 *
 * Prints a table and writes bench/results/sla-timers-<date>.json (git-ignored).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { promises as fs, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { Kysely, type LogEvent, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createPool } from '../src/db/db.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import type { DB } from '../src/db/schema.ts';
import { createClockEngine } from '../src/modules/sla/index.ts';
import { QueueRegistry } from '../src/platform/jobs.ts';
import { connectRedis, createRedis } from '../src/platform/redis.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const env = process.env;
const CLOCKS = Number(env.CLOCKS ?? 10_000);
const SPREAD_S = Number(env.SPREAD_S ?? 120);
const WORKERS = Number(env.WORKERS ?? 1);
const WORKER_CONCURRENCY = env.WORKER_CONCURRENCY;
const WORKER_POOL = env.WORKER_POOL;
const PLAN_CONCURRENCY = Number(env.PLAN_CONCURRENCY ?? 12);
const TARGET_S = Number(env.TARGET_S ?? 900);
const MARGIN_S = Number(env.MARGIN_S ?? 75);
const DRAIN_S = Number(env.DRAIN_S ?? 900);
const PROFILE = env.PROFILE === '1';
const WARMUP_S = Number(env.WARMUP_S ?? 30);
/** Warm-up clocks: due during the WARMUP_S before the window at the window's rate, left out of every figure. */
const WARMUP = Math.round((CLOCKS / SPREAD_S) * WARMUP_S);
const LEAD_S = 60;
const PG_URL = env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = env.BENCH_DB ?? 'tessera_bench_sla';
const REDIS_SERVER = env.REDIS_SERVER ?? 'redis-server';
const REDIS_HZ = Number(env.REDIS_HZ ?? 100);
const PREFIX = 'bsla';
const QUEUE = 'sla';
const CALIBRATION = Math.min(1000, Math.max(200, Math.round(CLOCKS / 20)));
const GOAL_P99_MS = 250;

const dbUrl = (() => {
  const url = new URL(PG_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
})();
const log = (message: string) => process.stdout.write(`${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const secondsSince = (t: number) => (performance.now() - t) / 1000;

// ---------------------------------------------------------------- small measuring helpers

/** A breach timer's job id, `fire.<clockId>.breach.<dueMs>` (older builds: `fire:<clockId>:breach:<dueMs>`). */
function parseFireJobId(jobId: string): { clockId: string; due: number } | null {
  const m = /^fire[.:]([0-9a-f-]{36})[.:]breach[.:](\d+)$/.exec(jobId);
  return m ? { clockId: m[1]!, due: Number(m[2]) } : null;
}

function percentiles(values: number[]) {
  if (values.length === 0)
    return { n: 0, p50: null, p90: null, p99: null, p999: null, max: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(mean),
  };
}

/** utime + stime of a process in seconds (all its threads), or null when it is gone. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks at 100 Hz
  } catch {
    return null;
  }
}

function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = values[3]! + values[4]!;
  return { busy: total - idle, total };
}

function busyPct(before: { busy: number; total: number }, after: { busy: number; total: number }) {
  const total = after.total - before.total;
  return total > 0 ? round((100 * (after.busy - before.busy)) / total, 0) : 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function redisInfo(redis: Redis, section: string): Promise<Record<string, string>> {
  const text = await redis.info(section);
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Redis-side command calls and microseconds, summed over every command. */
async function redisCommandStats(redis: Redis) {
  const stats = await redisInfo(redis, 'commandstats');
  let calls = 0;
  let usec = 0;
  const byCommand: Record<string, { calls: number; usec: number }> = {};
  for (const [key, value] of Object.entries(stats)) {
    const m = /calls=(\d+),usec=(\d+)/.exec(value);
    if (!m) continue;
    const entry = { calls: Number(m[1]), usec: Number(m[2]) };
    byCommand[key.replace('cmdstat_', '')] = entry;
    calls += entry.calls;
    usec += entry.usec;
  }
  return { calls, usec, byCommand };
}

function diffCommandStats(
  a: Awaited<ReturnType<typeof redisCommandStats>>,
  b: Awaited<ReturnType<typeof redisCommandStats>>,
) {
  const top = Object.entries(b.byCommand)
    .map(([name, v]) => ({
      name,
      calls: v.calls - (a.byCommand[name]?.calls ?? 0),
      usec: v.usec - (a.byCommand[name]?.usec ?? 0),
    }))
    .filter((v) => v.calls > 0)
    .sort((x, y) => y.usec - x.usec)
    .slice(0, 6);
  return { calls: b.calls - a.calls, ms: round((b.usec - a.usec) / 1000, 0), top };
}

/** CPU of the PostgreSQL backends connected to the bench database, sampled while it runs. */
class BackendCpu {
  private base = new Map<number, number>();
  private last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  constructor(private readonly client: pg.Client) {}
  private async pids(): Promise<number[]> {
    const r = await this.client.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [DB_NAME]);
    return r.rows.map((row) => Number(row.pid));
  }
  async sample() {
    for (const pid of await this.pids()) {
      const cpu = cpuSeconds(pid);
      if (cpu === null) continue;
      if (!this.base.has(pid)) this.base.set(pid, this.started ? 0 : cpu);
      this.last.set(pid, cpu);
    }
  }
  async start(intervalMs = 1000) {
    await this.sample();
    this.started = true;
    this.timer = setInterval(() => void this.sample().catch(() => {}), intervalMs);
  }
  async stop(): Promise<number> {
    clearInterval(this.timer);
    await this.sample().catch(() => {});
    let total = 0;
    for (const [pid, last] of this.last) total += last - (this.base.get(pid) ?? 0);
    return round(total, 1);
  }
}

/** Counts every query Kysely runs on the bench's own pool, and their summed duration. */
class QueryMeter {
  queries = 0;
  ms = 0;
  errors = 0;
  readonly logger = (event: LogEvent) => {
    if (event.level === 'query') {
      this.queries++;
      this.ms += event.queryDurationMillis;
    } else this.errors++;
  };
  snapshot() {
    return { queries: this.queries, ms: this.ms, errors: this.errors };
  }
}

// ---------------------------------------------------------------- child processes

interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  output: string[];
  warnings: string[];
  lines: number;
  sweepLogs: { tickets: number; fired: number; at: number }[];
  ready: boolean;
  exited: Promise<number | null>;
}

function startChild(name: string, command: string, args: string[], childEnv: Record<string, string>): Child {
  const child = spawn(command, args, {
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
    lines: 0,
    sweepLogs: [],
    ready: false,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      record.lines++;
      if (record.output.length < 500) record.output.push(line);
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; tickets?: number; fired?: number };
        if (entry.msg === 'workers started') record.ready = true;
        if (entry.msg === 'SLA sweep fired overdue thresholds')
          record.sweepLogs.push({ tickets: entry.tickets ?? 0, fired: entry.fired ?? 0, at: Date.now() });
        if (typeof entry.level === 'number' && entry.level >= 40 && record.warnings.length < 200)
          record.warnings.push(line.slice(0, 400));
      } catch {
        // not a log line
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return record;
}

async function stopChild(child: Child, timeoutMs = 15_000): Promise<number | null> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.process.exitCode;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

async function startRedis(): Promise<{ child: Child; url: string; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-sla-redis-'));
  const child = startChild(
    'redis',
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--hz',
      String(REDIS_HZ),
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--dir',
      dir,
      '--loglevel',
      'warning',
    ],
    {},
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return { child, url, dir };
    } catch {
      if (Date.now() > deadline || child.process.exitCode !== null)
        throw new Error(`redis-server did not start on ${port}:\n${child.output.join('\n')}`);
      probe.disconnect();
      await sleep(100);
    }
  }
}

// ---------------------------------------------------------------- database

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function createDatabase() {
  await withClient(PG_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await c.query(
      `CREATE DATABASE ${DB_NAME} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0`,
    );
  });
  const kysely = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: dbUrl, max: 2 }) }),
  });
  try {
    await migrateToLatest(kysely);
  } finally {
    await kysely.destroy();
  }
}

interface Fixture {
  customerId: string;
  serviceId: string;
  agreementId: string;
}

async function seedFixture(c: pg.Client): Promise<Fixture> {
  const customer = await c.query(
    "INSERT INTO customers (code, name) VALUES ('BENCHSLA', 'SLA timer bench') RETURNING id",
  );
  const service = await c.query(
    "INSERT INTO services (code, name) VALUES ('bench-sla', 'SLA timer bench service') RETURNING id",
  );
  const calendar = await c.query(
    "INSERT INTO calendars (name, time_zone, always_open) VALUES ('24x7 UTC', 'UTC', true) RETURNING id",
  );
  const agreement = await c.query(
    `INSERT INTO agreements (name, kind, customer_id, valid_from, calendar_id, targets, warnings, pause_on,
       escalation_rules, status)
     VALUES ('Bench SLA', 'sla', $1, '2025-01-01', $2, $3, '[]', '[]', '[]', 'active') RETURNING id`,
    [
      customer.rows[0].id,
      calendar.rows[0].id,
      JSON.stringify([
        { priority: '*', metric: 'resolution', duration: `PT${TARGET_S}S`, seconds: TARGET_S },
      ]),
    ],
  );
  await c.query('INSERT INTO agreement_services (agreement_id, service_id) VALUES ($1, $2)', [
    agreement.rows[0].id,
    service.rows[0].id,
  ]);
  return {
    customerId: customer.rows[0].id,
    serviceId: service.rows[0].id,
    agreementId: agreement.rows[0].id,
  };
}

/**
 * Inserts `count` incidents of `channel` whose breach instants are uniform over
 * [firstDueMs, firstDueMs + spreadMs]: reported_at = due - TARGET_S, acknowledged and in progress one
 * second later, with their `created` and `status_changed` timeline rows.
 */
async function seedIncidents(
  c: pg.Client,
  fx: Fixture,
  channel: string,
  count: number,
  firstDueMs: number,
  spreadMs: number,
) {
  const batch = 25_000;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    await c.query(
      `WITH rows AS (
         SELECT to_timestamp(($1::float8 + random() * $2::float8) / 1000.0) - make_interval(secs => $3) AS reported
         FROM generate_series(1, $4)
       ), inserted AS (
         INSERT INTO incidents (title, customer_id, channel, service_id, impact, urgency, priority, status,
           reported_at, acknowledged_at, created_at, updated_at)
         SELECT 'SLA timer bench incident', $5, $6, $7, 'medium', 'medium', 'P3', 'in_progress',
           date_trunc('milliseconds', reported), date_trunc('milliseconds', reported) + interval '1 second',
           reported, reported
         FROM rows
         RETURNING id, reported_at
       ), created AS (
         INSERT INTO incident_events (incident_id, at, type, visibility, actor_name, actor_role, data)
         SELECT id, reported_at, 'created', 'internal', 'bench', 'admin', '{"priority":"P3","groupId":null}'
         FROM inserted
       )
       INSERT INTO incident_events (incident_id, at, type, visibility, actor_name, actor_role, data)
       SELECT id, reported_at + interval '1 second', 'status_changed', 'internal', 'bench', 'admin',
         '{"from":"new","to":"in_progress"}'
       FROM inserted`,
      [firstDueMs, spreadMs, TARGET_S, n, fx.customerId, channel, fx.serviceId],
    );
  }
  await c.query('ANALYZE incidents; ANALYZE incident_events');
}

// ---------------------------------------------------------------- planning

interface PlanResult {
  recomputes: number;
  seconds: number;
  perSecond: number;
  latencyMs: ReturnType<typeof percentiles>;
  clocks: number;
  firedDuringPlanning: number;
  failures: number;
  queries: number;
  queriesPerRecompute: number;
  dbMsPerRecompute: number;
  benchCpuSeconds: number;
}

async function planAll(
  engine: ReturnType<typeof createClockEngine>,
  ids: string[],
  meter: QueryMeter,
  progressLabel: string | null,
): Promise<PlanResult> {
  const latencies: number[] = [];
  let next = 0;
  let clocks = 0;
  let fired = 0;
  let failures = 0;
  const q0 = meter.snapshot();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const ticker = progressLabel
    ? setInterval(
        () =>
          log(
            `  ${progressLabel}: ${latencies.length}/${ids.length} (${round(latencies.length / secondsSince(started), 0)}/s)`,
          ),
        10_000,
      )
    : undefined;
  await Promise.all(
    Array.from({ length: PLAN_CONCURRENCY }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const t = performance.now();
        try {
          const result = await engine.recompute('incident', id, 'bench');
          clocks += result.clocks;
          fired += result.fired;
        } catch (err) {
          failures++;
          if (failures <= 3) log(`  recompute ${id} failed: ${String(err)}`);
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  clearInterval(ticker);
  const seconds = secondsSince(started);
  const cpu = process.cpuUsage(cpu0);
  const q1 = meter.snapshot();
  return {
    recomputes: ids.length,
    seconds: round(seconds, 2),
    perSecond: round(ids.length / seconds, 0),
    latencyMs: percentiles(latencies),
    clocks,
    firedDuringPlanning: fired,
    failures,
    queries: q1.queries - q0.queries,
    queriesPerRecompute: round((q1.queries - q0.queries) / ids.length, 2),
    dbMsPerRecompute: round((q1.ms - q0.ms) / ids.length, 2),
    benchCpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
  };
}

// ---------------------------------------------------------------- main

/** The commit and uncommitted src files this run measured (read at start: others may commit meanwhile). */
function codeState() {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    return {
      head: git('rev-parse', '--short', 'HEAD'),
      dirtySrc: git('status', '--short', 'src', 'migrations').split('\n').filter(Boolean),
    };
  } catch {
    return null;
  }
}

async function main() {
  const startedAt = new Date();
  const code = codeState();
  log(
    `SLA timers: CLOCKS=${CLOCKS} SPREAD_S=${SPREAD_S} WORKERS=${WORKERS} WORKER_CONCURRENCY=${WORKER_CONCURRENCY ?? '(default)'} PLAN_CONCURRENCY=${PLAN_CONCURRENCY}; ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => round(l, 2))
      .join(' ')}`,
  );
  const cleanups: (() => Promise<unknown>)[] = [];
  let cleaning = false;
  const cleanup = async () => {
    if (cleaning) return;
    cleaning = true;
    for (const step of cleanups.reverse()) await step().catch(() => {});
  };
  const onSignal = () => {
    log('interrupted: stopping workers and redis-server');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // Redis
    const redis = await startRedis();
    cleanups.push(async () => {
      await stopChild(redis.child, 5000);
      rmSync(redis.dir, { recursive: true, force: true });
    });
    log(`redis-server ${redis.url} (pid ${redis.child.pid}, hz ${REDIS_HZ}, no persistence, noeviction)`);
    const admin = new Redis(redis.url);
    admin.on('error', () => {});
    cleanups.push(async () => admin.disconnect());
    const redisVersion = (await redisInfo(admin, 'server')).redis_version;

    // Database
    let t = performance.now();
    await createDatabase();
    log(`database ${DB_NAME} created and migrated in ${round(secondsSince(t), 1)} s`);
    const control = new pg.Client({ connectionString: dbUrl });
    await control.connect();
    cleanups.push(() => control.end());
    const fx = await seedFixture(control);

    const meter = new QueryMeter();
    const db = new Kysely<DB>({
      dialect: new PostgresDialect({ pool: createPool(dbUrl, PLAN_CONCURRENCY) }),
      log: meter.logger,
    });
    cleanups.push(() => db.destroy());
    const producer = createRedis(redis.url, 'producer', 'bench-producer');
    await connectRedis(producer, 5000);
    const queues = new QueueRegistry(producer, PREFIX);
    cleanups.push(async () => {
      await queues.close();
      producer.disconnect();
    });
    const engine = createClockEngine({ db, queues });

    // Calibration: incidents due a day after the window, planned the same way (they stay planned).
    t = performance.now();
    await seedIncidents(control, fx, 'bench-cal', CALIBRATION, Date.now() + 86_400_000, 60_000);
    const seedPerSecond = CALIBRATION / secondsSince(t);
    const calIds = (
      await control.query("SELECT id FROM incidents WHERE channel = 'bench-cal' ORDER BY id")
    ).rows.map((r) => r.id as string);
    await planAll(engine, calIds.slice(0, calIds.length / 2), meter, null); // warm-up
    const calibration = await planAll(engine, calIds.slice(calIds.length / 2), meter, null);
    const estPlanS = (CLOCKS + WARMUP) / calibration.perSecond;
    const estSeedS = (CLOCKS + WARMUP) / seedPerSecond;
    const leadS = Math.ceil(estSeedS * 1.5 + estPlanS * 1.5 + 30); // planning rate varies with load
    log(
      `calibration: ${CALIBRATION} recomputes at ${calibration.perSecond}/s (p50 ${calibration.latencyMs.p50} ms); seeding ~${round(seedPerSecond, 0)} incidents/s; window starts in ~${leadS} s`,
    );

    // The measured incidents
    const windowStart = Date.now() + leadS * 1000;
    const firstDue = windowStart + LEAD_S * 1000;
    t = performance.now();
    await seedIncidents(control, fx, 'bench-main', CLOCKS, firstDue, SPREAD_S * 1000);
    const seedSeconds = secondsSince(t);
    if (WARMUP > 0) {
      await seedIncidents(control, fx, 'bench-warm', WARMUP, firstDue - WARMUP_S * 1000, WARMUP_S * 1000);
      const warmIds = (
        await control.query("SELECT id FROM incidents WHERE channel = 'bench-warm' ORDER BY id")
      ).rows.map((r) => r.id as string);
      await planAll(engine, warmIds, meter, null);
      log(`warm-up: ${WARMUP} clocks due during the ${WARMUP_S} s before the window (not measured)`);
    }
    const ids = (
      await control.query("SELECT id FROM incidents WHERE channel = 'bench-main' ORDER BY id")
    ).rows.map((r) => r.id as string);
    log(`seeded ${ids.length} incidents in ${round(seedSeconds, 1)} s`);

    // Planning: the real recompute for every incident
    const memBefore = Number((await redisInfo(admin, 'memory')).used_memory);
    const delayedBefore = await admin.zcard(`${PREFIX}:${QUEUE}:delayed`);
    const redisCmd0 = await redisCommandStats(admin);
    const redisCpu0 = cpuSeconds(redis.child.pid);
    const planBackends = new BackendCpu(control);
    await planBackends.start();
    const machine0 = machineCpu();
    log(`planning ${ids.length} clocks with ${PLAN_CONCURRENCY} recomputes at once ...`);
    const planning = await planAll(engine, ids, meter, 'planning');
    const planMachineBusy = busyPct(machine0, machineCpu());
    const planPgCpu = await planBackends.stop();
    const redisCmd1 = await redisCommandStats(admin);
    const redisCpu1 = cpuSeconds(redis.child.pid);
    const memAfter = Number((await redisInfo(admin, 'memory')).used_memory);
    const delayedAfter = await admin.zcard(`${PREFIX}:${QUEUE}:delayed`);
    const planEnd = Date.now();
    log(
      `planned: ${planning.perSecond} recomputes/s (${planning.seconds} s, p50 ${planning.latencyMs.p50} ms, p99 ${planning.latencyMs.p99} ms), ${planning.queriesPerRecompute} queries and ${planning.dbMsPerRecompute} ms of query time per recompute; ${delayedAfter - delayedBefore} delayed jobs, ${round((memAfter - memBefore) / Math.max(1, delayedAfter - delayedBefore), 0)} B each`,
    );
    if (planEnd > firstDue)
      log(
        `  planning ended ${round((planEnd - firstDue) / 1000, 1)} s after the first due instant: ${planning.firedDuringPlanning} clocks breached during planning (fired_by 'bench', left out of the timer figures)`,
      );

    // How late BullMQ will release each job relative to its due instant (planning delay baked in).
    const planOffsets: number[] = [];
    {
      const key = `${PREFIX}:${QUEUE}:delayed`;
      const total = await admin.zcard(key);
      for (let from = 0; from < total; from += 20_000) {
        const chunk = await admin.zrange(key, from, from + 19_999, 'WITHSCORES');
        for (let i = 0; i < chunk.length; i += 2) {
          const parsed = parseFireJobId(chunk[i]!);
          if (!parsed) continue;
          const due = parsed.due;
          if (due > firstDue + SPREAD_S * 1000 + 1000) continue; // calibration
          planOffsets.push(Math.floor(Number(chunk[i + 1]) / 0x1000) - due);
        }
      }
    }

    // Queue events: promotion (waiting), pick-up (active), completion, per fire job, by Redis time.
    const jobTimes = new Map<
      string,
      { waiting?: number; active?: number; completed?: number; failed?: number }
    >();
    const events = new QueueEvents(QUEUE, {
      connection: { host: '127.0.0.1', port: Number(new URL(redis.url).port) },
      prefix: PREFIX,
    });
    events.on('error', () => {});
    cleanups.push(() => events.close());
    const record =
      (kind: 'waiting' | 'active' | 'completed' | 'failed') => (args: { jobId: string }, id: string) => {
        if (!args.jobId.startsWith('fire')) return;
        const entry = jobTimes.get(args.jobId) ?? {};
        if (entry[kind] === undefined) entry[kind] = Number(id.split('-')[0]);
        jobTimes.set(args.jobId, entry);
      };
    events.on('waiting', record('waiting'));
    events.on('active', record('active'));
    events.on('completed', record('completed'));
    events.on('failed', record('failed'));
    await events.waitUntilReady();

    // Workers
    const workerEnv: Record<string, string> = {
      TESSERA_ROLE: 'worker',
      DATABASE_URL: dbUrl,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: PREFIX,
      LOG_LEVEL: 'info', // the worker logs nothing per job at info: readiness and sweep results only
      MIGRATE_ON_START: 'false',
      SEED_DEFAULTS: 'false',
      ...(WORKER_CONCURRENCY ? { WORKER_CONCURRENCY } : {}),
      ...(WORKER_POOL ? { DATABASE_POOL_SIZE: WORKER_POOL } : {}),
    };
    t = performance.now();
    // One directory per run; node names each thread's profile CPU.<date>.<pid>.<tid>.<seq>.cpuprofile
    // (with --import tsx, thread 0 is the worker, the other thread tsx's module loader).
    const profileDir = path.join(
      ROOT,
      'bench/results/profiles',
      `sla-${startedAt.toISOString().replace(/[:.]/g, '-')}`,
    );
    if (PROFILE) await fs.mkdir(profileDir, { recursive: true });
    const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      startChild(
        `worker-${i + 1}`,
        process.execPath,
        [...nodeArgs, '--import', 'tsx', 'src/server.ts'],
        workerEnv,
      ),
    );
    cleanups.push(() => Promise.all(workers.map((w) => stopChild(w))));
    const bootDeadline = Date.now() + 90_000;
    while (!workers.every((w) => w.ready)) {
      const dead = workers.find((w) => w.process.exitCode !== null);
      if (dead)
        throw new Error(`${dead.name} exited before it was ready:\n${dead.output.slice(-20).join('\n')}`);
      if (Date.now() > bootDeadline) throw new Error('workers did not start within 90 s');
      await sleep(100);
    }
    const bootSeconds = round(secondsSince(t), 1);
    log(
      `${WORKERS} worker process(es) ready in ${bootSeconds} s (pids ${workers.map((w) => w.pid).join(', ')})`,
    );

    // The firing window
    const lastDue = Number(
      (
        await control.query(
          "SELECT (extract(epoch FROM max(c.due_at)) * 1000)::float8 AS m FROM sla_clocks c JOIN incidents i ON i.id = c.ticket_id WHERE i.channel = 'bench-main'",
        )
      ).rows[0].m,
    );
    const window0 = Date.now();
    const workerCpu0 = workers.map((w) => cpuSeconds(w.pid) ?? 0);
    const redisWinCpu0 = cpuSeconds(redis.child.pid);
    const redisWinCmd0 = await redisCommandStats(admin);
    const windowMachine0 = machineCpu();
    const benchCpu0 = process.cpuUsage();
    const windowBackends = new BackendCpu(control);
    await windowBackends.start();
    const loads: number[] = [];
    const expected = ids.length;
    let fires = 0;
    let lastProgress = 0;
    let allFiredAt: number | null = null;
    let unfiredAtMargin: number | null = null;
    let lastFires = 0;
    let lastFireProgress = Date.now();
    log(
      `window: due instants from +${round((firstDue - Date.now()) / 1000, 1)} s to +${round((lastDue - Date.now()) / 1000, 1)} s; waiting until every clock fired (at most ${MARGIN_S} s after the last due instant)`,
    );
    for (;;) {
      await sleep(2000);
      loads.push(os.loadavg()[0]!);
      const now = Date.now();
      const r = await control.query(
        // One table only: this runs every 2 s beside the workers (measured clocks are due from firstDue
        // on, warm-up clocks before it, calibration clocks a day later).
        `SELECT (SELECT count(*) FROM sla_clock_events
                  WHERE kind = 'breach' AND due_at >= to_timestamp(${firstDue} / 1000.0))::int AS fired,
                (SELECT count(*) FROM sla_clocks WHERE next_due_at <= now() AND state = 'running')::int AS overdue`,
      );
      fires = r.rows[0].fired;
      const overdue = r.rows[0].overdue as number;
      if (now - lastProgress >= 10_000) {
        lastProgress = now;
        const cpu = workers.reduce((s, w, i) => s + ((cpuSeconds(w.pid) ?? 0) - workerCpu0[i]!), 0);
        log(
          `  +${round((now - window0) / 1000, 0)} s: ${fires}/${expected} fired, ${overdue} due and not fired yet; workers ${round((100 * cpu) / ((now - window0) / 1000), 0)}% CPU; load ${round(os.loadavg()[0]!, 2)}`,
        );
      }
      const dead = workers.find((w) => w.process.exitCode !== null);
      if (dead)
        throw new Error(`${dead.name} exited during the window:\n${dead.output.slice(-20).join('\n')}`);
      if (fires >= expected && allFiredAt === null) allFiredAt = now;
      if (fires > lastFires) {
        lastFires = fires;
        lastFireProgress = now;
      }
      if (now > lastDue + 2000 && fires >= expected) break;
      if (now > lastDue + MARGIN_S * 1000) {
        // A backlog is not a miss: keep waiting while it drains, up to DRAIN_S after the last due instant.
        unfiredAtMargin ??= expected - fires;
        if (now - lastFireProgress > 30_000 || now > lastDue + DRAIN_S * 1000) break;
      }
    }
    await sleep(1000); // let the last completions reach the event stream
    const window1 = Date.now();
    const windowSeconds = (window1 - window0) / 1000;
    const workerCpu = workers.map((w, i) => round((cpuSeconds(w.pid) ?? 0) - workerCpu0[i]!, 1));
    const redisWinCpu1 = cpuSeconds(redis.child.pid);
    const redisWinCmd1 = await redisCommandStats(admin);
    const windowMachine1 = machineCpu();
    const windowMachineBusy = busyPct(windowMachine0, windowMachine1);
    const benchCpu = process.cpuUsage(benchCpu0);
    const windowPgCpu = await windowBackends.stop();
    const memEnd = Number((await redisInfo(admin, 'memory')).used_memory);
    const delayedEnd = await admin.zcard(`${PREFIX}:${QUEUE}:delayed`);
    const failedJobs = await admin.zcard(`${PREFIX}:${QUEUE}:failed`);
    const stopCodes = await Promise.all(workers.map((w) => stopChild(w)));
    await events.close();

    // Figures from the database
    const rows = (
      await control.query(
        `SELECT c.id, c.state, (extract(epoch FROM c.due_at) * 1000)::float8 AS due,
                e.fired_by, (extract(epoch FROM e.fired_at - e.due_at) * 1000)::float8 AS late
         FROM sla_clocks c
         JOIN incidents i ON i.id = c.ticket_id AND i.channel = 'bench-main'
         LEFT JOIN sla_clock_events e ON e.clock_id = c.id AND e.threshold = 'breach'`,
      )
    ).rows as { id: string; state: string; due: number; fired_by: string | null; late: number | null }[];
    const byFiredBy: Record<string, number> = {};
    const lateAll: number[] = [];
    const lateTimer: number[] = [];
    const lateSweep: number[] = [];
    let missed = 0;
    let notBreachedState = 0;
    for (const row of rows) {
      if (row.state !== 'breached') notBreachedState++;
      if (row.fired_by === null) {
        if (row.due <= window1) missed++;
        continue;
      }
      byFiredBy[row.fired_by] = (byFiredBy[row.fired_by] ?? 0) + 1;
      if (row.fired_by === 'bench') continue; // breached while planning: not a timer figure
      lateAll.push(row.late!);
      if (row.fired_by === 'timer') lateTimer.push(row.late!);
      if (row.fired_by === 'sweep') lateSweep.push(row.late!);
    }
    const duplicates = (
      await control.query(
        `SELECT
           (SELECT count(*) FROM sla_clock_events e JOIN sla_clocks c ON c.id = e.clock_id
              JOIN incidents i ON i.id = c.ticket_id AND i.channel = 'bench-main' WHERE e.kind = 'breach')::int AS events,
           (SELECT count(*) FROM incident_events WHERE type = 'sla.breached')::int AS timeline_rows,
           (SELECT count(*) FROM (SELECT incident_id FROM incident_events WHERE type = 'sla.breached'
              GROUP BY incident_id HAVING count(*) > 1) d)::int AS timeline_duplicated_incidents,
           (SELECT count(*) FROM outbox WHERE type = 'sla.breached')::int AS outbox_rows,
           (SELECT count(*) FROM (SELECT payload->>'clockId' FROM outbox WHERE type = 'sla.breached'
              GROUP BY 1 HAVING count(*) > 1) d)::int AS outbox_duplicated_clocks,
           (SELECT count(*) FROM outbox WHERE sent_at IS NULL)::int AS outbox_unsent`,
      )
    ).rows[0] as Record<string, number>;

    // Where the time goes, per timer-fired job (Redis event times vs the due instant and fired_at).
    const firedAt = new Map<string, number>();
    for (const row of rows) if (row.fired_by === 'timer') firedAt.set(row.id, row.due + row.late!);
    const promote: number[] = [];
    const queueWait: number[] = [];
    const untilInsert: number[] = [];
    const afterInsert: number[] = [];
    const jobRun: number[] = [];
    for (const [jobId, times] of jobTimes) {
      const parsed = parseFireJobId(jobId);
      if (!parsed) continue;
      const due = parsed.due;
      const fired = firedAt.get(parsed.clockId);
      if (times.waiting !== undefined) promote.push(times.waiting - due);
      if (times.waiting !== undefined && times.active !== undefined)
        queueWait.push(times.active - times.waiting);
      if (times.active !== undefined && fired !== undefined) untilInsert.push(fired - times.active);
      if (times.completed !== undefined && fired !== undefined) afterInsert.push(times.completed - fired);
      if (times.completed !== undefined && times.active !== undefined)
        jobRun.push(times.completed - times.active);
    }

    const lateness = percentiles(lateAll);
    const timerLateness = percentiles(lateTimer);
    const fireCount = Object.entries(byFiredBy)
      .filter(([k]) => k !== 'bench')
      .reduce((s, [, v]) => s + v, 0);
    const duplicateCount = duplicates.timeline_duplicated_incidents! + duplicates.outbox_duplicated_clocks!;
    const result = {
      startedAt: startedAt.toISOString(),
      params: {
        CLOCKS,
        SPREAD_S,
        WORKERS,
        WORKER_CONCURRENCY: WORKER_CONCURRENCY ? Number(WORKER_CONCURRENCY) : '(default 5)',
        WORKER_POOL: WORKER_POOL ? Number(WORKER_POOL) : '(default 10)',
        PLAN_CONCURRENCY,
        TARGET_S,
        MARGIN_S,
        DRAIN_S,
        warnings: 'none: one breach threshold per clock',
        calibrationClocks: CALIBRATION,
        warmupClocks: WARMUP,
        WARMUP_S,
      },
      code,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        node: process.version,
        redis: redisVersion,
        redisHz: REDIS_HZ,
        loadavgAtStart: os.loadavg(),
      },
      planning: {
        ...planning,
        calibrationPerSecond: calibration.perSecond,
        seedSeconds: round(seedSeconds, 1),
        pgBackendCpuSeconds: planPgCpu,
        machineBusyPct: planMachineBusy,
        redis: {
          usedMemoryBefore: memBefore,
          usedMemoryAfter: memAfter,
          delayedJobs: delayedAfter - delayedBefore,
          bytesPerDelayedJob: round((memAfter - memBefore) / Math.max(1, delayedAfter - delayedBefore), 0),
          cpuSeconds: redisCpu0 !== null && redisCpu1 !== null ? round(redisCpu1 - redisCpu0, 1) : null,
          commands: diffCommandStats(redisCmd0, redisCmd1),
        },
        releaseOffsetMs: percentiles(planOffsets),
        endedAfterFirstDueS: round((planEnd - firstDue) / 1000, 1),
      },
      window: {
        seconds: round(windowSeconds, 1),
        workerBootSeconds: bootSeconds,
        allFiredAfterLastDueS: allFiredAt === null ? null : round((allFiredAt - lastDue) / 1000, 1),
        unfiredAtMargin: unfiredAtMargin ?? 0,
        benchCpuSeconds: round((benchCpu.user + benchCpu.system) / 1e6, 1),
        workerCpuSeconds: workerCpu,
        workerCpuPctOfWindow: workerCpu.map((s) => round((100 * s) / windowSeconds, 1)),
        // The window's CPU also fired the warm-up clocks.
        workerCpuMsPerFire: round(
          (1000 * workerCpu.reduce((a, b) => a + b, 0)) / Math.max(1, fireCount + WARMUP),
          2,
        ),
        pgBackendCpuSeconds: windowPgCpu,
        redisCpuSeconds:
          redisWinCpu0 !== null && redisWinCpu1 !== null ? round(redisWinCpu1 - redisWinCpu0, 1) : null,
        redisCommands: diffCommandStats(redisWinCmd0, redisWinCmd1),
        machineBusyPct: windowMachineBusy,
        /** Busy % of the machine (all CPUs) that was not this bench: workers, its backends, its redis-server, itself. */
        othersBusyPct: (() => {
          const ours =
            workerCpu.reduce((a, b) => a + b, 0) +
            windowPgCpu +
            (redisWinCpu0 !== null && redisWinCpu1 !== null ? redisWinCpu1 - redisWinCpu0 : 0) +
            (benchCpu.user + benchCpu.system) / 1e6;
          const totalCpuS = (windowMachine1.total - windowMachine0.total) / 100;
          return round(windowMachineBusy - (100 * ours) / Math.max(1, totalCpuS), 0);
        })(),
        loadavg1: {
          mean: round(loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length), 2),
          max: round(Math.max(...loads), 2),
        },
        redisUsedMemoryEnd: memEnd,
        delayedJobsLeft: delayedEnd,
        failedJobs,
        workerWarnings: workers.flatMap((w) => w.warnings).slice(0, 20),
        sweeps: workers.flatMap((w) => w.sweepLogs),
        workerExitCodes: stopCodes,
      },
      results: {
        clocks: rows.length,
        fires: fireCount,
        firedBy: byFiredBy,
        latenessMs: lateness,
        timerLatenessMs: timerLateness,
        sweepLatenessMs: percentiles(lateSweep),
        over250ms: lateAll.filter((l) => l > GOAL_P99_MS).length,
        missed,
        notBreachedState,
        duplicates: duplicates,
        breakdownMs: {
          promote_dueToWaiting: percentiles(promote),
          queue_waitingToActive: percentiles(queueWait),
          job_activeToFireInsert: percentiles(untilInsert),
          job_fireInsertToCompleted: percentiles(afterInsert),
          job_activeToCompleted: percentiles(jobRun),
          eventsSeen: jobTimes.size,
        },
        goal: {
          p99UnderMs: GOAL_P99_MS,
          p99Ok: lateness.p99 !== null && lateness.p99 < GOAL_P99_MS,
          missedOk: missed === 0,
          duplicatesOk: duplicateCount === 0,
        },
      },
    };

    // Table
    const p = (x: { p50: number | null; p99: number | null; max: number | null }) =>
      `p50 ${x.p50} / p99 ${x.p99} / max ${x.max}`;
    const table: [string, string][] = [
      ['clocks (breach thresholds)', String(rows.length)],
      [
        're-planning throughput',
        `${planning.perSecond} ticket recomputes/s (${PLAN_CONCURRENCY} at once, ${planning.seconds} s)`,
      ],
      ['recompute latency ms (planning)', p(planning.latencyMs)],
      ['queries / query ms per recompute', `${planning.queriesPerRecompute} / ${planning.dbMsPerRecompute}`],
      [
        'Redis used_memory before -> after plan',
        `${round(memBefore / 2 ** 20, 1)} -> ${round(memAfter / 2 ** 20, 1)} MiB (${result.planning.redis.bytesPerDelayedJob} B/job)`,
      ],
      ['release offset vs due (planned) ms', p(result.planning.releaseOffsetMs)],
      [
        'fires (timer / sweep / other)',
        `${fireCount} (${byFiredBy.timer ?? 0} / ${byFiredBy.sweep ?? 0} / ${fireCount - (byFiredBy.timer ?? 0) - (byFiredBy.sweep ?? 0)})${byFiredBy.bench ? `; ${byFiredBy.bench} during planning, excluded` : ''}`,
      ],
      ['lateness ms (fired_at - due_at)', `${p(lateness)} (p90 ${lateness.p90}, p99.9 ${lateness.p999})`],
      ['lateness > 250 ms', String(result.results.over250ms)],
      [
        'missed (never fired) / unfired at last due + MARGIN_S',
        `${missed} / ${result.window.unfiredAtMargin}`,
      ],
      ['all fired, s after the last due instant', String(result.window.allFiredAfterLastDueS)],
      [
        'duplicates: timeline incidents / outbox clocks',
        `${duplicates.timeline_duplicated_incidents} / ${duplicates.outbox_duplicated_clocks} (rows ${duplicates.timeline_rows} / ${duplicates.outbox_rows})`,
      ],
      ['  due -> promoted (waiting) ms', p(result.results.breakdownMs.promote_dueToWaiting)],
      ['  promoted -> active ms', p(result.results.breakdownMs.queue_waitingToActive)],
      ['  active -> fire row inserted ms', p(result.results.breakdownMs.job_activeToFireInsert)],
      ['  fire row -> job completed ms', p(result.results.breakdownMs.job_fireInsertToCompleted)],
      [
        'worker CPU s (% of window)',
        workerCpu.map((s, i) => `${s} (${result.window.workerCpuPctOfWindow[i]}%)`).join(', ') +
          ` over ${round(windowSeconds, 0)} s; ${result.window.workerCpuMsPerFire} ms/fire`,
      ],
      ['PostgreSQL backends CPU s (plan / window)', `${planPgCpu} / ${windowPgCpu}`],
      [
        'Redis CPU s (plan / window)',
        `${result.planning.redis.cpuSeconds} / ${result.window.redisCpuSeconds}`,
      ],
      [
        'machine busy % (plan / window)',
        `${planMachineBusy} / ${windowMachineBusy}, of which other processes ${result.window.othersBusyPct} (load1 mean ${result.window.loadavg1.mean})`,
      ],
      [
        'goal p99 < 250 ms, missed 0, dup 0',
        `${result.results.goal.p99Ok ? 'ok' : 'NO'} / ${result.results.goal.missedOk ? 'ok' : 'NO'} / ${result.results.goal.duplicatesOk ? 'ok' : 'NO'}`,
      ],
    ];
    const width = Math.max(...table.map(([k]) => k.length));
    log('');
    for (const [k, v] of table) log(`${k.padEnd(width)}  ${v}`);
    if (result.window.workerWarnings.length > 0)
      log(
        `worker warnings (first ${result.window.workerWarnings.length}):\n${result.window.workerWarnings.join('\n')}`,
      );

    const dir = path.join(ROOT, 'bench/results');
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, `sla-timers-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    await fs.writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`\nwrote ${path.relative(ROOT, file)}`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
