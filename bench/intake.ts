/**
 * Monitoring intake benchmark: Alertmanager v4 payloads of 1, 10 and 100 alerts (10% new alerts,
 * 90% repeats of a warmed-up pool) posted to `/api/v1/inbound/alertmanager` at rising rates, beside
 * the bare Fastify + TypeBox + Kysely INSERT endpoint of bench/baseline.ts in the same run.
 *
 *   npx tsx bench/intake.ts
 *   SIZES=10 STEP_S=10 CONNECTIONS=64 npx tsx bench/intake.ts
 *
 * Env: SIZES (1,10,100), STEP_S seconds per rate step (10), WARMUP_S (3), CONNECTIONS (64; a paced
 * step uses more when its rate needs them to keep replies of twice the p99 goal in flight, and at
 * most 4 x its rate, at least 2, so that no connection idles into the timeout; see connectionsFor), POOL
 * (2000 alerts fired before measuring; the repeats are drawn from them), START_RATES (size:req/s list,
 * "1:100,10:25,100:8"), MAX_STEPS per size (8), REFINE bisection steps between the last passing and
 * the first failing rate (3: the figure is within 1/16 of the first failing rate above it),
 * MIN_REPLIES (200: a rate step lasts long enough for this many replies, so that its p99 is not
 * just its slowest reply), PACING (smooth | autocannon), BASELINE_LADDER=0 to skip the baseline's
 * own rate ladder, WITH_WORKER=1 to run a worker process too (outbox relay, SLA recompute; "srv
 * ms/req" stays the API process alone, "pg ms/req" includes the worker's backends),
 * TRACE=0 to skip the in-process query trace and EXPLAINs (TRACE_ONLY=1: only the pool and the
 * trace, no load), PROFILE=1 to write a V8 CPU profile of
 * the API process to bench/results/profiles/ (see bench/profile-summary.ts), API_NODE_ARGS (extra
 * Node.js flags for the API process, e.g. "--max-semi-space-size=32"), NEW_SHARE (0.1: the share of
 * new alerts; 0 isolates the repeat path, the goals assume 0.1), PG_URL
 * (postgres://postgres@127.0.0.1:5432/postgres), BENCH_DB (tessera_bench_intake), REDIS_URL
 * (redis://127.0.0.1:6379), WAIT_QUIET s (120) / QUIET_PCT (30): before each step wait for other
 * work on the machine to drop below QUIET_PCT % busy; NOISY_PCT (15): a failed step during which
 * other processes used more than this share of the machine is run once more (an unthrottled run
 * too; the quieter of the two counts), ANALYZE=0 to skip the auto-analyze that the bench does in
 * autovacuum's way before each step, VACUUM=0 to skip the VACUUM (ANALYZE) before each payload size
 * (both autovacuum's work, for a PostgreSQL that runs without it), TIMELINE=1 (TIMELINE_MS, 500) to
 * sample what could stall the server during each step and print the intervals with slow replies,
 * LOADGEN_NICE (-10: this process's priority, set after the servers started; 0 leaves it).
 *
 * Rate steps. autocannon 9's `overallRate` gives each connection a quota of rate/connections
 * requests per second and sends that quota back to back at the start of every second
 * (lib/httpClient.js), so the server sees full-concurrency bursts whatever the rate. With
 * PACING=smooth (default) a `setupClient` hook paces every connection instead: request k of
 * connection i is due at t0 + (i + k * connections) / rate, so arrivals are evenly spaced at the
 * offered rate; a request that is due while its connection still waits for a reply goes out late,
 * and its latency is counted from when it was due ("corrected" latency, no coordinated omission).
 * PACING=autocannon uses `overallRate` as is. A step is sustained when the corrected p99 < 100 ms,
 * every reply is 2xx, and the achieved rate is at least 95% of the offered one.
 *
 * Bodies are pre-generated per step from test/fixtures/webhooks/alertmanager-firing.json: unique
 * 16-hex fingerprints (a per-run prefix and a counter), stable labels and startsAt per fingerprint;
 * body i carries floor((i+1)*size/10) - floor(i*size/10) new alerts (exactly 10% overall) and
 * distinct repeats drawn uniformly from the pool. autocannon's `requests[].setupRequest` hands out
 * the next body, `onResponse` records which bodies were accepted, so the incidents in the database
 * can be checked against the new fingerprints sent.
 *
 * Prints tables and writes bench/results/intake-<date>.json (git-ignored).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon, { type Client, type Result } from 'autocannon';
import { type CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createPool } from '../src/db/db.ts';
import type { DB } from '../src/db/schema.ts';
import {
  busyPct,
  type Child,
  createFreshDatabase,
  freePort,
  log,
  machineCpu,
  percentiles,
  procCpuMs,
  procStatusKb,
  quietEnough,
  ROOT,
  round,
  sampleDbActivity,
  sleep,
  startChild,
  stopChild,
  table,
  topActivity,
  waitReady,
  withClient,
} from './harness.ts';

const env = process.env;
const SIZES = (env.SIZES ?? '1,10,100').split(',').map((s) => Number(s.trim()));
const STEP_S = Number(env.STEP_S ?? 10);
const WARMUP_S = Number(env.WARMUP_S ?? 3);
const CONNECTIONS = Number(env.CONNECTIONS ?? 64);
const POOL = Number(env.POOL ?? 2000);
const MAX_STEPS = Number(env.MAX_STEPS ?? 8);
const REFINE = Number(env.REFINE ?? 3);
const MIN_REPLIES = Number(env.MIN_REPLIES ?? 200);
const PACING = (env.PACING ?? 'smooth') as 'smooth' | 'autocannon';
const BASELINE_LADDER = env.BASELINE_LADDER !== '0';
const WITH_WORKER = env.WITH_WORKER === '1';
const TRACE = env.TRACE !== '0';
const PROFILE = env.PROFILE === '1';
const TRACE_ONLY = env.TRACE_ONLY === '1';
const PG_URL = env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = env.BENCH_DB ?? 'tessera_bench_intake';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WAIT_QUIET = Number(env.WAIT_QUIET ?? 120);
const QUIET_PCT = Number(env.QUIET_PCT ?? 30);
const DRAIN_MS = Number(env.DRAIN_MS ?? 1500);
/** A failed step during which other work used more than this % of the machine is run again once. */
const NOISY_PCT = Number(env.NOISY_PCT ?? 15);
const TOKEN = 'bench-intake-admin-token-0123456789abcdef0123456789';
const P99_GOAL_MS = 100;
const MIN_ACHIEVED = 0.95;
/** Share of new alerts in the measured bodies (0.1 = the issue's 10%; NEW_SHARE=0 isolates the repeat path). */
const NEW_SHARE = Number(env.NEW_SHARE ?? 0.1);
/**
 * VACUUM (ANALYZE) the database before each payload size, as autovacuum would between phases (the
 * CI machine's PostgreSQL runs with autovacuum off: without it, the next phase pays for the dead row
 * versions and GIN pending lists the last one left). VACUUM=0 skips it.
 */
const VACUUM = env.VACUUM !== '0';
/**
 * Before each step, ANALYZE the tables that autovacuum's auto-analyze would have analyzed by then:
 * at most once a minute (autovacuum_naptime), those changed in more than 50 rows + 10 % of their
 * rows since their last analyze (its default threshold and scale factor). The CI machine's PostgreSQL
 * runs without autovacuum, and then plans made while a table was small stay: a prepared statement's
 * generic plan, made on a connection's sixth execution, seq-scans the alerts table it found at 2,000
 * rows long after it has grown (PostgreSQL plans again when ANALYZE changes the table's statistics).
 * ANALYZE=0 skips it.
 */
const ANALYZE = env.ANALYZE !== '0';
/** TIMELINE=1: sample server, GC, checkpoint and disk counters every TIMELINE_MS during each step. */
const TIMELINE = env.TIMELINE === '1';
/** Niceness of the load generator (this process), -10 by default; 0 leaves it as started. */
const LOADGEN_NICE = Number(env.LOADGEN_NICE ?? -10);
const TIMELINE_MS = Number(env.TIMELINE_MS ?? 500);
/** The schema's maximum for rateLimitPerMinute (16,667 posts/s). */
const INTEGRATION_RATE_LIMIT = 1_000_000;
const START_RATES: Record<number, number> = Object.fromEntries(
  (env.START_RATES ?? '1:100,10:25,100:8').split(',').map((pair) => pair.split(':').map(Number)),
);
const BASELINE_START_RATE = 400;

// ---------------------------------------------------------------- payloads

const FIXTURE = path.join(ROOT, 'test/fixtures/webhooks/alertmanager-firing.json');
interface AmAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}
const ALERTNAMES = ['InstanceDown', 'HighCPU', 'DiskWillFillIn4Hours', 'HighMemory', 'NodeFilesystemFull'];
const SEVERITIES = ['critical', 'warning', 'warning', 'info', 'error'];
const TEAMS = ['dba', 'sre', 'network', 'app'];
const HOSTS = ['db', 'app', 'web', 'cache', 'mq', 'erp', 'mail', 'file'];

/**
 * Alertmanager groups built from the fixture. Alert n has the fingerprint `<run prefix><n as 8 hex>`
 * and labels that are unique to it (its instance), so fingerprints and label sets agree.
 */
class PayloadFactory {
  readonly prefix = randomBytes(4).toString('hex');
  private readonly template: AmAlert;
  private readonly head: string;
  private readonly tail: string;
  private readonly fragments = new Map<number, string>();
  /** Alerts started an hour before the run (a startsAt long past would breach SLAs at once with a worker). */
  private readonly baseTime = Date.now() - 3_600_000;
  /** Alerts 0..nextId-1 exist (were handed out). */
  nextId = 0;
  newSent = 0;

  constructor() {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown> & {
      alerts: AmAlert[];
    };
    this.template = fixture.alerts[0]!;
    const envelope = JSON.stringify({
      ...fixture,
      alerts: ['@ALERTS@'],
      groupLabels: { job: 'node' },
      commonLabels: { job: 'node' },
      commonAnnotations: {},
      groupKey: '{}/{job="node"}:{job="node"}',
    });
    [this.head, this.tail] = envelope.split('"@ALERTS@"') as [string, string];
  }

  fingerprint(n: number): string {
    return `${this.prefix}${n.toString(16).padStart(8, '0')}`;
  }

  fragment(n: number): string {
    let text = this.fragments.get(n);
    if (text) return text;
    const host = `${HOSTS[n % HOSTS.length]}-${String(n).padStart(6, '0')}.example.internal`;
    const alertname = ALERTNAMES[n % ALERTNAMES.length]!;
    const alert: AmAlert = {
      ...this.template,
      labels: {
        alertname,
        instance: `${host}:9100`,
        job: 'node',
        severity: SEVERITIES[n % SEVERITIES.length]!,
        team: TEAMS[n % TEAMS.length]!,
      },
      annotations: {
        description: `${host}:9100 of job node: ${alertname} for more than 5 minutes.`,
        runbook_url: `https://runbooks.example.com/alerts/${alertname}`,
        summary: `${alertname} on ${host}`,
      },
      startsAt: new Date(this.baseTime + n).toISOString(),
      fingerprint: this.fingerprint(n),
    };
    text = JSON.stringify(alert);
    this.fragments.set(n, text);
    return text;
  }

  body(ids: number[]): string {
    return `${this.head}${ids.map((n) => this.fragment(n)).join(',')}${this.tail}`;
  }

  /** `count` alerts never sent before. */
  fresh(count: number): number[] {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(this.nextId++);
    return ids;
  }
}

interface Body {
  text: string;
  newIds: number[];
  alerts: number;
}

/** The bodies of one step: pre-generated, extended on demand if the step sends more. */
class BodySource {
  readonly bodies: Body[] = [];
  taken = 0;
  extended = 0;
  accepted = new Set<number>();
  rejected = 0;
  constructor(
    private readonly factory: PayloadFactory,
    readonly size: number,
    private readonly pool: number,
    pregenerate: number,
  ) {
    for (let i = 0; i < pregenerate; i++) this.bodies.push(this.make(i));
  }

  private make(i: number): Body {
    const newCount = Math.floor((i + 1) * this.size * NEW_SHARE) - Math.floor(i * this.size * NEW_SHARE);
    const newIds = this.factory.fresh(newCount);
    const repeats = new Set<number>();
    while (repeats.size < this.size - newCount) repeats.add(Math.floor(Math.random() * this.pool));
    const ids = [...newIds, ...repeats].sort(() => Math.random() - 0.5);
    return { text: this.factory.body(ids), newIds, alerts: ids.length };
  }

  take(): number {
    const i = this.taken++;
    if (i >= this.bodies.length) {
      this.bodies.push(this.make(i));
      this.extended++;
    }
    return i;
  }

  /** New fingerprints handed out (sent) and those in bodies answered 2xx. */
  newCounts(): { sent: number; accepted: number } {
    let sent = 0;
    for (let i = 0; i < this.taken; i++) sent += this.bodies[i]!.newIds.length;
    let accepted = 0;
    for (const i of this.accepted) accepted += this.bodies[i]!.newIds.length;
    return { sent, accepted };
  }
}

// ---------------------------------------------------------------- one step

interface StepSpec {
  label: string;
  target: 'api' | 'baseline';
  size: number;
  /** Offered req/s; null = unthrottled (as fast as CONNECTIONS connections go). */
  rate: number | null;
  duration: number;
  /** Part of the measurement (false for warm-ups). */
  record: boolean;
}

interface StepResult {
  label: string;
  target: 'api' | 'baseline';
  size: number;
  pacing: string;
  offered: number | null;
  achievedRps: number;
  alertsPerSec: number;
  responses: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** From the scheduled send time (smooth pacing) or the write (autocannon / unthrottled). */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** From the write of the request to the reply (autocannon's own measure). */
  serviceMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /**
   * The server's own view (its latency histogram, from request to reply): % of the step's inbound
   * requests slower than 50 and 100 ms. When the client's p99 is over 100 ms but fewer than 1 % are
   * slow here, the time was lost outside the server (load generator, machine).
   */
  serverSlowPct?: { over50: number; over100: number };
  /** Requests sent later than due because their connection was still busy. */
  lateSends: number;
  bodiesExtended: number;
  serverCpuMsPerReq: number;
  pgCpuMsPerReq: number;
  /** WAL written per reply (cluster-wide: other databases' writes during the step count too). */
  walKbPerReq: number;
  loadgenCpuMsPerReq: number;
  machineBusyPct: number;
  /**
   * Machine CPU used by everything but this step's server process (and the worker), its PostgreSQL
   * backends and the load generator, in % of the machine: other work on the box (and PostgreSQL's
   * WAL writer etc.).
   */
  otherBusyPct: number;
  /** A failed step that ran with other work on the box and was run again (this is the first run). */
  rerun?: boolean;
  backgroundBusyPct: number;
  commitsPerSec: number;
  dbActivity: Record<string, number>;
  sustained: boolean;
  connections: number;
  /** New fingerprints in the bodies sent, and in those answered 2xx (intake steps). */
  newAlerts?: { sent: number; accepted: number };
}

interface Target {
  name: 'api' | 'baseline';
  url: string;
  path: string;
  headers: Record<string, string>;
  pid: number;
  /** Other processes of ours whose CPU is not "other work" (the worker with WITH_WORKER=1). */
  helperPids: number[];
  appName: string;
  dbUrl: string;
}

const BASELINE_TITLES = ['InstanceDown on db-01', 'HighCPU on app-07', 'DiskWillFillIn4Hours on file-02'];

/** CPU (ms) of each PostgreSQL backend serving an application name, by pid. */
async function backendCpu(dbUrl: string, appName: string): Promise<Map<number, number>> {
  return withClient(dbUrl, async (c) => {
    const r = await c.query(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [appName],
    );
    return new Map(r.rows.map((row) => [Number(row.pid), procCpuMs(Number(row.pid))]));
  });
}
/** CPU the backends used between two readings (a backend that started in between counts from 0). */
const backendCpuDelta = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((a, [pid, ms]) => a + ms - (before.get(pid) ?? 0), 0);

/** Inbound requests answered, and how many within 50 and 100 ms, from the API's /metrics histogram. */
async function serverLatencyCounts(
  url: string,
): Promise<{ all: number; le50: number; le100: number } | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const counts = { all: 0, le50: 0, le100: 0 };
    for (const line of text.split('\n')) {
      if (!line.startsWith('tessera_http_request_duration_seconds_') || !line.includes('/inbound/')) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (line.startsWith('tessera_http_request_duration_seconds_count')) counts.all += value;
      else if (line.includes('le="0.05"')) counts.le50 += value;
      else if (line.includes('le="0.1"')) counts.le100 += value;
    }
    return counts;
  } catch {
    return null;
  }
}

/** This database's commits, and the cluster's WAL position (other databases' writes included). */
async function dbCounters(dbUrl: string): Promise<{ commits: number; walLsn: string }> {
  return withClient(dbUrl, async (c) => {
    const r = await c.query(
      'SELECT xact_commit, pg_current_wal_lsn()::text AS lsn FROM pg_stat_database WHERE datname = current_database()',
    );
    return { commits: Number(r.rows[0].xact_commit), walLsn: r.rows[0].lsn as string };
  });
}
async function walBytes(dbUrl: string, from: string, to: string): Promise<number> {
  return withClient(dbUrl, async (c) =>
    Number((await c.query('SELECT pg_wal_lsn_diff($2, $1)::bigint AS n', [from, to])).rows[0].n),
  );
}

/** One sample of the counters the timeline follows (cumulative, except `lagMaxMs` and memory). */
interface TimelineSample {
  t: number;
  served: number;
  le100: number;
  gcMs: Record<string, number>;
  lagMaxMs: number;
  ckptBuffers: number;
  ckptWriteMs: number;
  ckptSyncMs: number;
  backendBuffers: number;
  walSyncs: number;
  dirtyKb: number;
  writebackKb: number;
  diskWriteKb: number;
  diskIoMs: number;
  lockWaits: number;
}

/** Sectors written and weighted I/O ms of the machine's disks (whole devices only). */
async function diskCounters(): Promise<{ writeKb: number; ioMs: number }> {
  const text = await fs.readFile('/proc/diskstats', 'utf8').catch(() => '');
  let writeKb = 0;
  let ioMs = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14 || !/^((vd|sd|xvd)[a-z]+|nvme\d+n\d+)$/.test(f[2]!)) continue;
    writeKb += Number(f[9]) / 2;
    ioMs += Number(f[13]);
  }
  return { writeKb, ioMs };
}

async function meminfoKb(): Promise<Record<string, number>> {
  const text = await fs.readFile('/proc/meminfo', 'utf8').catch(() => '');
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => l.match(/^(\w+):\s+(\d+)/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1]!, Number(m[2])]),
  );
}

/**
 * TIMELINE=1: samples every TIMELINE_MS what could stall the server (its GC and event loop lag,
 * PostgreSQL checkpoints and backend writes, WAL syncs, lock waits, the kernel's dirty pages and the
 * disk) beside its own count of replies slower than 100 ms, to tell which coincides with the stalls.
 */
function sampleTimeline(target: Target): { stop: () => Promise<TimelineSample[]> } {
  const samples: TimelineSample[] = [];
  let running = true;
  const t0 = performance.now();
  const done = (async () => {
    const client = new pg.Client({ connectionString: target.dbUrl, application_name: 'bench-timeline' });
    await client.connect();
    try {
      while (running) {
        const next = performance.now() + TIMELINE_MS;
        const [metrics, db, disk, mem] = await Promise.all([
          fetch(`${target.url}/metrics`)
            .then((r) => r.text())
            .catch(() => ''),
          client.query(
            `SELECT b.buffers_checkpoint, b.checkpoint_write_time, b.checkpoint_sync_time, b.buffers_backend,
                    w.wal_sync,
                    (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock') AS lock_waits
             FROM pg_stat_bgwriter b, pg_stat_wal w`,
          ),
          diskCounters(),
          meminfoKb(),
        ]);
        const sample: TimelineSample = {
          t: Math.round(performance.now() - t0),
          served: 0,
          le100: 0,
          gcMs: {},
          lagMaxMs: 0,
          ckptBuffers: Number(db.rows[0].buffers_checkpoint),
          ckptWriteMs: Number(db.rows[0].checkpoint_write_time),
          ckptSyncMs: Number(db.rows[0].checkpoint_sync_time),
          backendBuffers: Number(db.rows[0].buffers_backend),
          walSyncs: Number(db.rows[0].wal_sync),
          dirtyKb: mem.Dirty ?? 0,
          writebackKb: mem.Writeback ?? 0,
          diskWriteKb: disk.writeKb,
          diskIoMs: disk.ioMs,
          lockWaits: Number(db.rows[0].lock_waits),
        };
        for (const line of metrics.split('\n')) {
          const value = Number(line.slice(line.lastIndexOf(' ') + 1));
          if (line.startsWith('tessera_http_request_duration_seconds_') && line.includes('/inbound/')) {
            if (line.startsWith('tessera_http_request_duration_seconds_count')) sample.served += value;
            else if (line.includes('le="0.1"')) sample.le100 += value;
          } else if (line.startsWith('tessera_nodejs_gc_duration_seconds_sum')) {
            const kind = line.match(/kind="(\w+)"/)?.[1] ?? 'other';
            sample.gcMs[kind] = (sample.gcMs[kind] ?? 0) + value * 1000;
          } else if (line.startsWith('tessera_nodejs_eventloop_lag_max_seconds')) {
            sample.lagMaxMs = value * 1000;
          }
        }
        samples.push(sample);
        await sleep(Math.max(0, next - performance.now()));
      }
    } finally {
      await client.end();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done.catch((e) => log(`timeline: ${(e as Error).message}`));
      return samples;
    },
  };
}

/** The timeline's intervals in which the server answered any request slower than 100 ms, with what else happened. */
function describeTimeline(samples: TimelineSample[]): string[] {
  const lines: string[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const slow = b.served - a.served - (b.le100 - a.le100);
    const gc = Object.entries(b.gcMs)
      .map(([k, v]) => [k, v - (a.gcMs[k] ?? 0)] as const)
      .filter(([, v]) => v >= 1)
      .map(([k, v]) => `${k} ${round(v, 0)}`)
      .join(' ');
    const ckpt = b.ckptBuffers - a.ckptBuffers;
    const row =
      `    t=${(b.t / 1000).toFixed(1)}s slow ${slow}/${b.served - a.served}, lag max ${round(b.lagMaxMs, 0)} ms, gc ms [${gc}], ` +
      `ckpt buf ${ckpt} (sync ${b.ckptSyncMs - a.ckptSyncMs} ms), backend buf ${b.backendBuffers - a.backendBuffers}, ` +
      `wal syncs ${b.walSyncs - a.walSyncs}, locks ${b.lockWaits}, dirty ${Math.round(b.dirtyKb / 1024)} MB, ` +
      `writeback ${Math.round(b.writebackKb / 1024)} MB, disk ${Math.round((b.diskWriteKb - a.diskWriteKb) / 1024)} MB / io ${b.diskIoMs - a.diskIoMs} ms`;
    if (slow > 0 || ckpt > 0 || b.lagMaxMs > 50) lines.push(row);
  }
  return lines;
}

/**
 * Connections of a step. Unthrottled: CONNECTIONS. Paced: at least as many as the offered rate
 * keeps busy with replies twice as slow as the p99 goal (an HTTP/1.1 connection has one request in
 * flight: with fewer, replies slower than connections / rate but within the goal make the generator
 * send late, and its lateness would count against the server), at least CONNECTIONS, but at most 4 s
 * of the offered rate, so that each connection sends at least every 4 s (autocannon's 10 s timeout
 * also fires on an idle connection), and at least 2.
 */
const connectionsFor = (rate: number | null) =>
  rate === null
    ? CONNECTIONS
    : Math.max(
        2,
        Math.min(Math.ceil(rate * 4), Math.max(CONNECTIONS, Math.ceil((rate * 2 * P99_GOAL_MS) / 1000))),
      );

/** When autoAnalyze last looked (both targets share the bench database). */
let lastAutoAnalyze = 0;
/** What autovacuum's auto-analyze would have done by now (see ANALYZE). */
async function autoAnalyze(dbUrl: string): Promise<void> {
  const now = Date.now();
  if (now - lastAutoAnalyze < 60_000) return;
  lastAutoAnalyze = now;
  await withClient(dbUrl, async (c) => {
    const { rows } = await c.query<{ name: string }>(
      `SELECT format('%I.%I', s.schemaname, s.relname) AS name FROM pg_stat_user_tables s
         JOIN pg_class c ON c.oid = s.relid
        WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)`,
    );
    const started = performance.now();
    for (const { name } of rows) await c.query(`ANALYZE ${name}`);
    if (rows.length > 0)
      log(
        `    auto-analyze (${Math.round(performance.now() - started)} ms): ${rows.map((r) => r.name).join(', ')}`,
      );
  });
}

async function runStep(
  spec: StepSpec,
  target: Target,
  factory: PayloadFactory,
  pool: number,
): Promise<StepResult> {
  const connections = connectionsFor(spec.rate);
  const expected =
    Math.ceil((spec.rate ?? 4000 / Math.max(1, spec.size)) * spec.duration * 1.1) + 2 * connections;
  const source = target.name === 'api' ? new BodySource(factory, spec.size, pool, expected) : null;
  if (ANALYZE && spec.record) await autoAnalyze(target.dbUrl);
  const backgroundBusyPct = spec.record ? await quietEnough(spec.label, WAIT_QUIET, QUIET_PCT) : 0;

  const corrected: number[] = [];
  const service: number[] = [];
  let lateSends = 0;
  /** TIMELINE=1: when (ms after the first scheduled send) replies slower than the goal arrived. */
  const slowAt: number[] = [];
  const smooth = PACING === 'smooth' && spec.rate !== null;
  const rate = spec.rate ?? 0;
  let clientIndex = 0;
  /** The first send is due 50 ms after autocannon starts (set just before it: the readings before take time). */
  let t0 = 0;

  const setupClient = (client: Client) => {
    const i = clientIndex++;
    const state = { due: 0, sent: 0 };
    client.on('response', (_status: number, _bytes: number, duration: number) => {
      service.push(duration);
      const latency = smooth ? state.sent - state.due + duration : duration;
      corrected.push(latency);
      if (TIMELINE && latency >= P99_GOAL_MS) slowAt.push(performance.now() - t0);
    });
    if (!smooth) return;
    client.rate = undefined;
    const send = client._doRequest.bind(client);
    const interval = (1000 * connections) / rate;
    let k = 0;
    client._doRequest = () => {
      const due = t0 + (i * 1000) / rate + k * interval;
      k++;
      const fire = () => {
        if (client.destroyed) return;
        state.due = due;
        state.sent = performance.now();
        if (state.sent - due > 1) lateSends++;
        send();
      };
      const wait = due - performance.now();
      if (wait > 0.5) setTimeout(fire, wait);
      else fire();
    };
  };

  const requests =
    target.name === 'api'
      ? [
          {
            method: 'POST',
            path: target.path,
            setupRequest: (request: Record<string, unknown>, context: Record<string, unknown>) => {
              const i = source!.take();
              context.body = i;
              return { ...request, body: source!.bodies[i]!.text };
            },
            onResponse: (status: number, _body: string, context: Record<string, unknown>) => {
              if (status >= 200 && status < 300) source!.accepted.add(context.body as number);
              else source!.rejected++;
            },
          },
        ]
      : [
          {
            method: 'POST',
            path: target.path,
            setupRequest: (request: Record<string, unknown>) => ({
              ...request,
              body: JSON.stringify({
                title: BASELINE_TITLES[Math.floor(Math.random() * BASELINE_TITLES.length)],
                description: `alert ${randomBytes(8).toString('hex')}`,
              }),
            }),
          },
        ];

  const pgBefore = await backendCpu(target.dbUrl, target.appName);
  const cpuBefore = procCpuMs(target.pid);
  const helpersBefore = target.helperPids.reduce((a, pid) => a + procCpuMs(pid), 0);
  const loadBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  const countersBefore = await dbCounters(target.dbUrl);
  const serverBefore = target.name === 'api' ? await serverLatencyCounts(target.url) : null;
  const activity = spec.record ? sampleDbActivity(target.dbUrl, target.appName) : null;
  const timeline = TIMELINE && spec.record && target.name === 'api' ? sampleTimeline(target) : null;

  t0 = performance.now() + 50;
  const result: Result = await autocannon({
    url: target.url,
    connections,
    duration: spec.duration,
    timeout: 10,
    headers: { ...target.headers, 'content-type': 'application/json' },
    ...(PACING === 'autocannon' && spec.rate !== null ? { overallRate: spec.rate } : {}),
    setupClient,
    requests: requests as never,
  });

  const machineAfter = machineCpu();
  const loadAfter = process.cpuUsage(loadBefore);
  const cpuAfter = procCpuMs(target.pid);
  const helpersAfter = target.helperPids.reduce((a, pid) => a + procCpuMs(pid), 0);
  const pgAfter = await backendCpu(target.dbUrl, target.appName);
  const countersAfter = await dbCounters(target.dbUrl);
  const serverAfter = serverBefore ? await serverLatencyCounts(target.url) : null;
  const served = serverBefore && serverAfter ? serverAfter.all - serverBefore.all : 0;
  const slowPct = (le: 'le50' | 'le100') =>
    round((100 * (served - (serverAfter![le] - serverBefore![le]))) / served, 2);
  const wal = await walBytes(target.dbUrl, countersBefore.walLsn, countersAfter.walLsn);
  const dbActivity = activity ? await activity.stop() : {};
  const timelineSamples = timeline ? await timeline.stop() : null;
  if (timelineSamples) {
    for (const line of describeTimeline(timelineSamples)) log(line);
    const buckets = new Map<number, number>();
    for (const ms of slowAt)
      buckets.set(Math.floor(ms / 500) / 2, (buckets.get(Math.floor(ms / 500) / 2) ?? 0) + 1);
    if (buckets.size > 0)
      log(
        `    client: replies >= ${P99_GOAL_MS} ms by arrival (s after the first due send): ${[...buckets].map(([t, n]) => `${t}s ${n}`).join(', ')}`,
      );
  }
  await sleep(DRAIN_MS);

  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, Number(stat.count)]),
  );
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const achievedRps = round(responses / result.duration, 0);
  const latencyMs = percentiles(corrected);
  const serviceMs = percentiles(service);
  const offered = spec.rate;
  const sustained =
    offered !== null &&
    latencyMs.p99 < P99_GOAL_MS &&
    result.non2xx === 0 &&
    result.errors === 0 &&
    result.timeouts === 0 &&
    responses / result.duration >= MIN_ACHIEVED * offered;
  const alertsPerSec = round((responses * spec.size) / result.duration, 0);
  return {
    label: spec.label,
    target: target.name,
    size: spec.size,
    pacing: spec.rate === null ? 'unthrottled' : PACING,
    offered,
    achievedRps,
    alertsPerSec: target.name === 'api' ? alertsPerSec : 0,
    responses,
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs,
    serviceMs,
    ...(served > 0 ? { serverSlowPct: { over50: slowPct('le50'), over100: slowPct('le100') } } : {}),
    lateSends,
    bodiesExtended: source?.extended ?? 0,
    serverCpuMsPerReq: responses > 0 ? round((cpuAfter - cpuBefore) / responses, 3) : 0,
    pgCpuMsPerReq: responses > 0 ? round(backendCpuDelta(pgBefore, pgAfter) / responses, 3) : 0,
    walKbPerReq: responses > 0 ? round(wal / 1024 / responses, 1) : 0,
    loadgenCpuMsPerReq: responses > 0 ? round((loadAfter.user + loadAfter.system) / 1000 / responses, 3) : 0,
    machineBusyPct: busyPct(machineBefore, machineAfter),
    otherBusyPct: (() => {
      const totalMs = (machineAfter.total - machineBefore.total) * 10; // jiffies at 100 Hz, all cores
      const ours =
        cpuAfter -
        cpuBefore +
        backendCpuDelta(pgBefore, pgAfter) +
        (helpersAfter - helpersBefore) +
        (loadAfter.user + loadAfter.system) / 1000;
      return totalMs > 0
        ? Math.max(0, Math.round((100 * ((machineAfter.busy - machineBefore.busy) * 10 - ours)) / totalMs))
        : 0;
    })(),
    backgroundBusyPct,
    commitsPerSec: round((countersAfter.commits - countersBefore.commits) / result.duration, 0),
    dbActivity,
    sustained,
    connections,
    ...(source ? { newAlerts: source.newCounts() } : {}),
  };
}

const niceRate = (r: number) => {
  if (r >= 100) return Math.round(r / 10) * 10;
  if (r >= 10) return Math.round(r);
  return Math.max(1, Math.round(r * 2) / 2);
};

function describeStep(r: StepResult): string {
  return (
    `  ${r.label}: offered ${r.offered ?? 'max'} -> ${r.achievedRps} req/s (${r.target === 'api' ? `${r.alertsPerSec} alerts/s, ` : ''}` +
    `p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, service p99 ${r.serviceMs.p99} ms, ` +
    (r.serverSlowPct ? `server >50/>100 ms ${r.serverSlowPct.over50}/${r.serverSlowPct.over100}%, ` : '') +
    `non-2xx ${r.non2xx}, ` +
    `err ${r.errors}/${r.timeouts}, late ${r.lateSends}, ${r.connections} conns, box ${r.machineBusyPct}%, other ${r.otherBusyPct}% (before ${r.backgroundBusyPct}%)) ${r.offered === null ? '' : r.sustained ? 'PASS' : 'FAIL'}`
  );
}

/**
 * Doubles the rate from `start` until a step fails (or MAX_STEPS), then bisects REFINE times
 * between the last passing and the first failing rate. If the first step fails, halves down.
 */
async function ladder(
  name: string,
  target: Target,
  size: number,
  start: number,
  factory: PayloadFactory,
  steps: StepResult[],
): Promise<{ best: StepResult | null; tried: StepResult[] }> {
  const tried: StepResult[] = [];
  const run = async (rate: number) => {
    const once = async () => {
      const r = await runStep(
        {
          label: `${name} @${rate}`,
          target: target.name,
          size,
          rate,
          // Long enough for MIN_REPLIES replies: a p99 over fewer is the slowest one or two.
          duration: Math.max(STEP_S, Math.ceil(MIN_REPLIES / rate)),
          record: true,
        },
        target,
        factory,
        POOL,
      );
      log(describeStep(r));
      steps.push(r);
      return r;
    };
    let r = await once();
    // A step that failed while other work took a share of the machine is run once more.
    if (!r.sustained && r.otherBusyPct > NOISY_PCT) {
      r.rerun = true;
      log(`    other work took ${r.otherBusyPct}% of the machine: running ${r.label} again`);
      r = await once();
    }
    tried.push(r);
    return r;
  };
  let pass: StepResult | null = null;
  let fail: StepResult | null = null;
  let rate = start;
  for (let n = 0; n < MAX_STEPS; n++) {
    const r = await run(rate);
    if (r.sustained) {
      pass = r;
      if (fail) break;
      rate = niceRate(rate * 2);
    } else {
      fail = r;
      if (pass) break;
      rate = niceRate(rate / 2);
      if (rate < 1 || tried.some((t) => t.offered === rate)) break;
    }
  }
  for (let n = 0; n < REFINE && pass && fail; n++) {
    const mid = niceRate((pass.offered! + fail.offered!) / 2);
    if (mid <= pass.offered! || mid >= fail.offered!) break;
    const r = await run(mid);
    if (r.sustained) pass = r;
    else fail = r;
  }
  return { best: pass, tried };
}

// ---------------------------------------------------------------- setup through the API

async function api<T>(baseUrl: string, method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Fires alerts 0..POOL-1 (100 per post, 4 posts at a time): they open POOL incidents. */
async function warmPool(baseUrl: string, key: string, factory: PayloadFactory): Promise<number> {
  const ids = factory.fresh(POOL);
  const chunks: number[][] = [];
  for (let i = 0; i < ids.length; i += 100) chunks.push(ids.slice(i, i + 100));
  const started = performance.now();
  let opened = 0;
  const worker = async () => {
    for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
      const response = await fetch(`${baseUrl}/api/v1/inbound/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: factory.body(chunk),
      });
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`pool post answered ${response.status}: ${text.slice(0, 500)}`);
      opened += (JSON.parse(text) as { opened: number }).opened;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  log(
    `pool: ${POOL} alerts fired, ${opened} incidents opened in ${round((performance.now() - started) / 1000, 1)} s`,
  );
  return opened;
}

// ---------------------------------------------------------------- where the time goes (in process)

interface TracedQuery {
  sql: string;
  count: number;
  totalMs: number;
  plan?: string;
  explainMs?: number | null;
  walBytes?: number;
  error?: string;
}
interface Trace {
  name: string;
  alerts: number;
  newAlerts: number;
  wallMs: number;
  queries: number;
  queryMs: number;
  /** WAL of one post: each statement's EXPLAIN (WAL) bytes times its count (commit record not included). */
  walBytes: number;
  byStatement: TracedQuery[];
}

const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * Runs the real ingest (src/modules/integrations/integrations.service.ts) in this process on one
 * pool connection, serially, with a Kysely that logs every query and its duration: the statements
 * one post makes, how many, and how long each takes without concurrency. Then EXPLAIN (ANALYZE,
 * BUFFERS) of each distinct statement inside a rolled-back transaction.
 */
async function traceIngest(dbUrl: string, integrationId: string, factory: PayloadFactory): Promise<Trace[]> {
  const { createIntegrationService } = await import('../src/modules/integrations/integrations.service.ts');
  const repo = await import('../src/modules/integrations/integrations.repository.ts');
  const { normalize } = await import('../src/modules/integrations/normalize/index.ts');
  const captured: { sql: string; params: unknown[]; ms: number }[] = [];
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: createPool(dbUrl, 1) }),
    log: (event) => {
      if (event.level === 'query')
        captured.push({
          sql: (event.query as CompiledQuery).sql,
          params: [...event.query.parameters],
          ms: event.queryDurationMillis,
        });
    },
  });
  const service = createIntegrationService({ db });
  const integration = (await repo.findIntegration(db, integrationId))!;
  const traces: Trace[] = [];
  const client = new pg.Client({ connectionString: dbUrl, application_name: 'bench-explain' });
  await client.connect();
  try {
    // `posts`: sent at once, so that all but the first share one batch (one statement), as under load.
    const cases: { name: string; size: number; newShare: 'none' | 'all' | 'tenth'; posts?: number }[] = [
      { name: '1 alert, repeat', size: 1, newShare: 'none' },
      { name: '1 alert, new', size: 1, newShare: 'all' },
      { name: '10 alerts (1 new)', size: 10, newShare: 'tenth' },
      { name: '100 alerts (10 new)', size: 100, newShare: 'tenth' },
      { name: '1 + 32 posts of 1 alert (repeats) at once', size: 1, newShare: 'none', posts: 33 },
      { name: '1 + 32 posts of 10 alerts (1 new each) at once', size: 10, newShare: 'tenth', posts: 33 },
    ];
    // The API process knows the pool's alerts as firing (it opened their incidents), so its repeats
    // take the repeat lane: this process learns them the same way, by one post of each.
    for (let from = 0; from < POOL; from += 100) {
      const text = factory.body(Array.from({ length: Math.min(100, POOL - from) }, (_, i) => from + i));
      const normalized = normalize('alertmanager', JSON.parse(text) as unknown);
      if (normalized.ok) await service.ingest(integration, normalized.alerts, text, 'bench-trace');
    }
    for (const c of cases) {
      const makeBody = () => {
        const fresh =
          c.newShare === 'all' ? c.size : c.newShare === 'tenth' ? Math.round(c.size * NEW_SHARE) : 0;
        const ids = factory.fresh(fresh);
        const repeats = new Set<number>();
        while (repeats.size < c.size - fresh) repeats.add(Math.floor(Math.random() * POOL));
        return { text: factory.body([...ids, ...repeats]), fresh: ids };
      };
      const ingest = async (texts: string[]) => {
        const posts = texts.map((text) => {
          const normalized = normalize('alertmanager', JSON.parse(text) as unknown);
          if (!normalized.ok) throw new Error(`trace payload invalid: ${JSON.stringify(normalized.errors)}`);
          return { text, alerts: normalized.alerts };
        });
        const t = performance.now();
        await Promise.all(posts.map((p) => service.ingest(integration, p.alerts, p.text, 'bench-trace')));
        return performance.now() - t;
      };
      const runs: { wallMs: number; queries: typeof captured }[] = [];
      let lastFresh: number[] = [];
      for (let i = 0; i < 8; i++) {
        const bodies = Array.from({ length: c.posts ?? 1 }, makeBody);
        captured.length = 0;
        const wallMs = await ingest(bodies.map((b) => b.text));
        runs.push({ wallMs, queries: [...captured] });
        lastFresh = bodies.flatMap((b) => b.fresh);
      }
      // The median run of the last five (the first ones warm the JIT and the caches).
      const measured = runs.slice(3).sort((a, b) => a.wallMs - b.wallMs);
      const median = measured[Math.floor(measured.length / 2)]!;
      const groups = new Map<string, TracedQuery & { params: unknown[] }>();
      for (const q of median.queries) {
        const g = groups.get(q.sql) ?? { sql: q.sql, count: 0, totalMs: 0, params: q.params };
        g.count++;
        g.totalMs += q.ms;
        groups.set(q.sql, g);
      }
      // EXPLAIN each distinct statement with the last run's parameters, in a transaction rolled back.
      const lastQueries = runs[runs.length - 1]!.queries;
      const freshKeys = lastFresh.map((n) => factory.fingerprint(n));
      for (const g of groups.values()) {
        if (/^(begin|commit|rollback)\b/i.test(g.sql.trim())) continue;
        // The largest execution (a batch of several posts rather than a post alone).
        const q =
          lastQueries
            .filter((x) => x.sql === g.sql)
            .sort((a, b) => JSON.stringify(b.params).length - JSON.stringify(a.params).length)[0] ?? g;
        // Ids made for this post (incidents, events) would collide with the rows it wrote: every
        // UUID that the first run's parameters do not hold as well is replaced by a new one.
        const firstRun = runs[0]!.queries.find((x) => x.sql === g.sql);
        const stable = new Set(JSON.stringify(firstRun?.params ?? []).match(UUID_G) ?? []);
        const renamed = new Map<string, string>();
        const params = q.params.map((p) =>
          typeof p === 'string'
            ? freshKeys
                .reduce((s, k) => s.replaceAll(k, `${k}x`), p)
                .replace(UUID_G, (id) => {
                  if (stable.has(id)) return id;
                  if (!renamed.has(id)) renamed.set(id, randomUUID());
                  return renamed.get(id)!;
                })
            : p,
        );
        await client.query('BEGIN');
        try {
          const r = await client.query(`EXPLAIN (ANALYZE, BUFFERS, WAL) ${g.sql}`, params);
          g.plan = r.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
          const time = g.plan.match(/Execution Time: ([\d.]+) ms/);
          g.explainMs = time ? Number(time[1]) : null;
          // The top node's WAL line (DML): records, full-page images, bytes of one execution.
          const wal = g.plan.match(/WAL: records=(\d+)(?: fpi=\d+)? bytes=(\d+)/);
          g.walBytes = wal ? Number(wal[2]) : 0;
        } catch (err) {
          g.error = err instanceof Error ? err.message : String(err);
        } finally {
          await client.query('ROLLBACK');
        }
      }
      traces.push({
        name: c.name,
        alerts: c.size * (c.posts ?? 1),
        newAlerts:
          (c.newShare === 'all' ? c.size : c.newShare === 'tenth' ? Math.round(c.size * NEW_SHARE) : 0) *
          (c.posts ?? 1),
        wallMs: round(median.wallMs, 2),
        queries: median.queries.length,
        queryMs: round(
          median.queries.reduce((a, q) => a + q.ms, 0),
          2,
        ),
        walBytes: [...groups.values()].reduce((a, g) => a + (g.walBytes ?? 0) * g.count, 0),
        byStatement: [...groups.values()].map(({ params: _params, ...g }) => ({
          ...g,
          totalMs: round(g.totalMs, 2),
        })),
      });
    }
    // Prepared statements that PostgreSQL keeps planning per execution (custom plans) cost a plan
    // each time: the trace's one connection says which plan each statement runs with.
    const plans = await sql<{ name: string; generic_plans: string; custom_plans: string }>`
      SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name`.execute(db);
    log(
      `prepared statements on the trace's connection (generic/custom plans): ${plans.rows
        .map((r) => `${r.name} ${r.generic_plans}/${r.custom_plans}`)
        .join(', ')}`,
    );
  } finally {
    await client.end();
    await db.destroy();
  }
  return traces;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const startedAt = new Date();
  log(
    `Tessera intake benchmark: SIZES=${SIZES.join(',')} STEP_S=${STEP_S} CONNECTIONS=${CONNECTIONS} POOL=${POOL} PACING=${PACING}${WITH_WORKER ? ' WITH_WORKER=1' : ''}`,
  );
  log(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${round(os.totalmem() / 2 ** 30, 1)} GiB, load ${os
      .loadavg()
      .map((l) => round(l, 2))
      .join(' ')}`,
  );
  const dbUrl = await createFreshDatabase(PG_URL, DB_NAME);
  const pgVersion = await withClient(
    dbUrl,
    async (c) => (await c.query('SHOW server_version')).rows[0].server_version as string,
  );
  log(`database ${DB_NAME} created and migrated (PostgreSQL ${pgVersion})`);

  const [apiPort, baselinePort] = [await freePort(), await freePort()];
  const apiEnv = {
    DATABASE_URL: dbUrl,
    REDIS_URL,
    QUEUE_PREFIX: 'bintake',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    BOOTSTRAP_ADMIN_TOKEN: TOKEN,
    MIGRATE_ON_START: 'false',
    HOST: '127.0.0.1',
  };
  const profileDir = path.join(ROOT, 'bench/results/profiles');
  if (PROFILE) await fs.mkdir(profileDir, { recursive: true });
  const apiChild = startChild(
    'api',
    ['src/server.ts'],
    { ...apiEnv, TESSERA_ROLE: 'api', PORT: String(apiPort) },
    // One CPU.<date>.<pid>.<thread>.cpuprofile per thread: the main thread's is the one with requests in it.
    [
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...(env.API_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
  );
  const baselineChild = startChild('baseline', ['bench/baseline.ts', String(baselinePort)], {
    DATABASE_URL: dbUrl,
  });
  const children: Child[] = [apiChild, baselineChild];
  if (WITH_WORKER)
    children.push(startChild('worker', ['src/server.ts'], { ...apiEnv, TESSERA_ROLE: 'worker', PORT: '0' }));
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping the servers');
    void Promise.all(children.map((c) => stopChild(c))).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const baselineUrl = `http://127.0.0.1:${baselinePort}`;
  // The load generator shares the cores with the servers it measures. At a higher priority (set
  // after the servers started, so that they keep the default) it sends on time when the machine is
  // busy, and the latency measured is the servers', not its own lateness. Same for both targets.
  if (LOADGEN_NICE !== 0)
    try {
      os.setPriority(LOADGEN_NICE);
      log(`load generator at nice ${LOADGEN_NICE} (servers and PostgreSQL at their default)`);
    } catch (err) {
      log(`load generator priority unchanged (${(err as Error).message}); run as root for LOADGEN_NICE`);
    }
  const factory = new PayloadFactory();
  const steps: StepResult[] = [];
  const summary: {
    size: number;
    sustainedRps: number | null;
    sustainedAlertsPerSec: number | null;
    p99AtSustained: number | null;
    maxRps: number;
    maxAlertsPerSec: number;
    p99AtMax: number;
  }[] = [];
  const baselineMax: StepResult[] = [];
  let baselineSustained: StepResult | null = null;
  let traces: Trace[] = [];
  let verification: Record<string, unknown> = {};
  let stopCodes: (number | null)[] = [];
  let memory: Record<string, number | null> = {};
  let integrationId = '';

  try {
    await Promise.all([
      waitReady(apiChild, `${apiUrl}/readyz`),
      waitReady(baselineChild, `${baselineUrl}/readyz`),
    ]);
    const customer = await api<{ id: string }>(apiUrl, 'POST', '/api/v1/customers', {
      code: 'BENCH-INTAKE',
      name: 'Bench intake customer',
    });
    const integration = await api<{ id: string; key: string }>(apiUrl, 'POST', '/api/v1/integrations', {
      type: 'alertmanager',
      name: 'bench alertmanager',
      customerId: customer.id,
      rateLimitPerMinute: INTEGRATION_RATE_LIMIT,
    });
    integrationId = integration.id;
    log(
      `servers ready (api pid ${apiChild.pid} on ${apiPort}, baseline pid ${baselineChild.pid} on ${baselinePort}); integration ${integration.id}`,
    );
    await warmPool(apiUrl, integration.key, factory);

    const apiTarget: Target = {
      name: 'api',
      url: apiUrl,
      path: '/api/v1/inbound/alertmanager',
      headers: { authorization: `Bearer ${integration.key}` },
      pid: apiChild.pid,
      helperPids: children.filter((c) => c.name === 'worker').map((c) => c.pid),
      appName: 'tessera',
      dbUrl,
    };
    const baselineTarget: Target = {
      name: 'baseline',
      url: baselineUrl,
      path: '/items',
      headers: {},
      pid: baselineChild.pid,
      helperPids: [],
      appName: 'bench-baseline',
      dbUrl,
    };
    const unthrottled = async (target: Target, size: number, label: string) => {
      const once = async () => {
        const r = await runStep(
          { label, target: target.name, size, rate: null, duration: STEP_S, record: true },
          target,
          factory,
          POOL,
        );
        log(describeStep(r));
        steps.push(r);
        return r;
      };
      const first = await once();
      if (first.otherBusyPct <= NOISY_PCT) return first;
      first.rerun = true;
      log(`    other work took ${first.otherBusyPct}% of the machine: running ${label} again`);
      const second = await once();
      return second.otherBusyPct < first.otherBusyPct ? second : first;
    };

    // Baseline first (max, and its own ladder), intake sizes, baseline max again at the end.
    if (!TRACE_ONLY) log(`warm-up (${WARMUP_S}s each)...`);
    if (!TRACE_ONLY)
      await runStep(
        {
          label: 'warm-up baseline',
          target: 'baseline',
          size: 1,
          rate: null,
          duration: WARMUP_S,
          record: false,
        },
        baselineTarget,
        factory,
        POOL,
      );
    if (!TRACE_ONLY) baselineMax.push(await unthrottled(baselineTarget, 1, 'baseline max (start)'));
    if (BASELINE_LADDER && !TRACE_ONLY)
      baselineSustained = (await ladder('baseline', baselineTarget, 1, BASELINE_START_RATE, factory, steps))
        .best;

    for (const size of TRACE_ONLY ? [] : SIZES) {
      if (interrupted) break;
      if (VACUUM) {
        const t = performance.now();
        await withClient(apiTarget.dbUrl, (c) => c.query('VACUUM (ANALYZE)'));
        log(`vacuum (analyze) before size ${size}: ${Math.round(performance.now() - t)} ms`);
      }
      log(`size ${size}:`);
      await runStep(
        {
          label: `warm-up ${size}`,
          target: 'api',
          size,
          rate: START_RATES[size] ?? 10,
          duration: WARMUP_S,
          record: false,
        },
        apiTarget,
        factory,
        POOL,
      );
      const { best } = await ladder(
        `intake x${size}`,
        apiTarget,
        size,
        START_RATES[size] ?? 10,
        factory,
        steps,
      );
      const max = await unthrottled(apiTarget, size, `intake x${size} max`);
      summary.push({
        size,
        sustainedRps: best?.achievedRps ?? null,
        sustainedAlertsPerSec: best?.alertsPerSec ?? null,
        p99AtSustained: best?.latencyMs.p99 ?? null,
        maxRps: max.achievedRps,
        maxAlertsPerSec: max.alertsPerSec,
        p99AtMax: max.latencyMs.p99,
      });
    }
    if (!TRACE_ONLY) baselineMax.push(await unthrottled(baselineTarget, 1, 'baseline max (end)'));

    // ---- the database after the run: no duplicates
    await sleep(2000);
    verification = await withClient(dbUrl, async (c) => {
      const one = async (q: string) => (await c.query(q)).rows[0] as Record<string, unknown>;
      const incidents = await one(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE source = 'alertmanager')::int AS from_alerts FROM incidents`,
      );
      const alerts = await one(`SELECT count(*)::int AS n, count(DISTINCT dedup_key)::int AS keys,
          count(DISTINCT incident_id)::int AS incidents, sum(repeat_count)::bigint AS receipts,
          count(*) FILTER (WHERE dedup_key NOT LIKE '${factory.prefix}%')::int AS foreign_keys FROM alerts`);
      const shared = await one(
        `SELECT count(*)::int AS n FROM (SELECT incident_id FROM alerts GROUP BY incident_id HAVING count(*) > 1) x`,
      );
      const orphan = await one(
        `SELECT count(*)::int AS n FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.incident_id = i.id)`,
      );
      const deliveries =
        await one(`SELECT count(*)::int AS posts, count(*) FILTER (WHERE outcome <> 'accepted')::int AS not_accepted,
          sum(alerts)::bigint AS alerts, sum(opened)::bigint AS opened FROM integration_deliveries`);
      const outbox = await one(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE sent_at IS NULL)::int AS unsent FROM outbox`,
      );
      const sizes = await one(`SELECT pg_total_relation_size('alerts')::bigint AS alerts_bytes,
          pg_total_relation_size('integration_deliveries')::bigint AS deliveries_bytes,
          pg_total_relation_size('outbox')::bigint AS outbox_bytes`);
      const vacuum =
        await one(`SELECT n_live_tup::int AS live, n_dead_tup::int AS dead, autovacuum_count::int AS autovacuums,
          n_tup_hot_upd::bigint AS hot_updates, n_tup_upd::bigint AS updates FROM pg_stat_user_tables WHERE relname = 'alerts'`);
      return {
        incidents,
        alerts,
        incidentsWithSeveralAlerts: shared.n,
        incidentsWithoutAlert: orphan.n,
        deliveries,
        outbox,
        sizes,
        alertsTable: vacuum,
      };
    });
    const newSent = steps.reduce((a, s) => a + (s.newAlerts?.sent ?? 0), 0);
    const newAccepted = steps.reduce((a, s) => a + (s.newAlerts?.accepted ?? 0), 0);
    // Warm-up steps are not in `steps`; every fingerprint handed out is factory.nextId (pool included).
    verification.fingerprintsHandedOut = factory.nextId;
    verification.newAlertsInMeasuredSteps = { sent: newSent, accepted: newAccepted };
    const inc = verification.incidents as { n: number };
    const al = verification.alerts as { n: number; keys: number; incidents: number; foreign_keys: number };
    const dl = verification.deliveries as { opened: number };
    verification.ok =
      inc.n === al.n &&
      al.n === al.keys &&
      al.keys === al.incidents &&
      verification.incidentsWithSeveralAlerts === 0 &&
      verification.incidentsWithoutAlert === 0 &&
      al.foreign_keys === 0 &&
      Number(dl.opened) === inc.n &&
      inc.n <= factory.nextId;

    if (TRACE) {
      try {
        traces = await traceIngest(dbUrl, integrationId, factory);
      } catch (err) {
        log(`trace skipped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  } finally {
    memory = Object.fromEntries(children.map((c) => [c.name, procStatusKb(c.pid, 'VmHWM')]));
    stopCodes = await Promise.all(children.map((c) => stopChild(c)));
  }

  // ---------------------------------------------------------------- report
  const bMax = Math.max(...baselineMax.map((b) => b.achievedRps));
  const bMaxStart = baselineMax[0]?.achievedRps ?? 0;
  log('');
  log(
    `Results: ${CONNECTIONS} connections (paced steps: max(${CONNECTIONS}, rate x ${(2 * P99_GOAL_MS) / 1000} s), at most 4 x rate), ${STEP_S}s per step, pacing ${PACING}, pool ${POOL}, ${os.cpus().length} cores, PostgreSQL ${pgVersion}, Node ${process.version}`,
  );
  log('');
  log('All steps (latency from the scheduled send time; "svc" = from the write of the request):');
  log(
    table([
      [
        'step',
        'offered',
        'req/s',
        'alerts/s',
        'p50 ms',
        'p99 ms',
        'svc p99',
        'max ms',
        'non-2xx',
        'err/to',
        'late',
        'srv ms/req',
        'pg ms/req',
        'WAL kB/req',
        'commits/s',
        'box',
        'other',
        'ok',
      ],
      ...steps.map((r) => [
        r.label,
        String(r.offered ?? 'max'),
        String(r.achievedRps),
        r.target === 'api' ? String(r.alertsPerSec) : '',
        String(r.latencyMs.p50),
        String(r.latencyMs.p99),
        String(r.serviceMs.p99),
        String(r.latencyMs.max),
        String(r.non2xx),
        `${r.errors}/${r.timeouts}`,
        String(r.lateSends),
        String(r.serverCpuMsPerReq),
        String(r.pgCpuMsPerReq),
        String(r.walKbPerReq),
        String(r.commitsPerSec),
        `${r.machineBusyPct}%`,
        `${r.otherBusyPct}%`,
        `${r.offered === null ? '' : r.sustained ? 'PASS' : 'FAIL'}${r.rerun ? ' (noisy, rerun)' : ''}`,
      ]),
    ]),
  );
  log('');
  log('Database wait states of the server connections per step (pg_stat_activity every 100 ms):');
  for (const r of steps) log(`  ${r.label}: ${topActivity(r.dbActivity, 6)}`);

  const goals = summary.map((s) => {
    const ratioMax = s.sustainedRps !== null && bMax > 0 ? round(s.sustainedRps / bMax, 2) : null;
    const ratioSustained =
      s.sustainedRps !== null && baselineSustained
        ? round(s.sustainedRps / baselineSustained.achievedRps, 2)
        : null;
    let goal = '';
    if (s.size === 10)
      goal = `>= 3000 alerts/s: ${s.sustainedAlertsPerSec !== null && s.sustainedAlertsPerSec >= 3000 ? 'OK' : 'MISS'}`;
    if (s.size === 1) goal = `>= 0.5 x bare: ${ratioMax !== null && ratioMax >= 0.5 ? 'OK' : 'MISS'}`;
    return { ...s, ratioToBaselineMax: ratioMax, ratioToBaselineSustained: ratioSustained, goal };
  });
  log('');
  log(
    `Bare endpoint (bench/baseline.ts POST /items): max ${baselineMax.map((b) => `${b.achievedRps} req/s (p99 ${b.latencyMs.p99} ms)`).join(' at the start, ')} at the end` +
      (baselineSustained
        ? `; sustained with p99 < ${P99_GOAL_MS} ms: ${baselineSustained.achievedRps} req/s (p99 ${baselineSustained.latencyMs.p99} ms)`
        : ''),
  );
  log(
    `Summary (sustained = highest step with p99 < ${P99_GOAL_MS} ms from the scheduled send, no non-2xx, >= ${MIN_ACHIEVED * 100}% of the offered rate):`,
  );
  log(
    table([
      [
        'alerts/post',
        'sustained req/s',
        'sustained alerts/s',
        'p99 ms',
        'max req/s',
        'max alerts/s',
        'p99 at max',
        'x bare max',
        'x bare sustained',
        'goal',
      ],
      ...goals.map((g) => [
        String(g.size),
        String(g.sustainedRps ?? '-'),
        String(g.sustainedAlertsPerSec ?? '-'),
        String(g.p99AtSustained ?? '-'),
        String(g.maxRps),
        String(g.maxAlertsPerSec),
        String(g.p99AtMax),
        String(g.ratioToBaselineMax ?? '-'),
        String(g.ratioToBaselineSustained ?? '-'),
        g.goal,
      ]),
    ]),
  );
  log(`(x bare max uses the higher of the two baseline max runs, ${bMax} req/s; the first was ${bMaxStart})`);
  log('');
  log(`Database after the run: ${JSON.stringify(verification)}`);
  log(
    verification.ok
      ? 'no duplicates: incidents = alerts = distinct fingerprints = incidents with one alert each = sum(opened) of the deliveries'
      : 'CHECK FAILED: see the counts above',
  );
  if (traces.length > 0) {
    log('');
    log(
      'One post through the real ingest, in process, serially, one connection (median of 5 after 3 warm-ups):',
    );
    for (const t of traces) {
      log(
        `  ${t.name}: ${t.wallMs} ms wall, ${t.queries} queries taking ${t.queryMs} ms (client-side, incl. round trips), ~${round(t.walBytes / 1024, 1)} kB WAL`,
      );
      for (const q of t.byStatement.sort((a, b) => b.totalMs - a.totalMs))
        log(
          `    ${String(q.count).padStart(3)} x ${String(q.totalMs).padStart(7)} ms  ${q.sql.replace(/\s+/g, ' ').slice(0, 150)}` +
            (q.explainMs !== undefined
              ? `  [EXPLAIN ${q.explainMs} ms, WAL ${q.walBytes ?? 0} B]`
              : q.error
                ? `  [EXPLAIN failed: ${q.error}]`
                : ''),
        );
    }
  }
  const warnings = children.flatMap((c) => c.warnings.map((w) => ({ child: c.name, ...w })));
  log('');
  log(
    `server log lines at warn or above: ${children.map((c) => `${c.name} ${c.warnings.length}`).join(', ')}`,
  );
  const grouped = new Map<string, number>();
  for (const w of warnings)
    grouped.set(`${w.child}: ${w.msg}`, (grouped.get(`${w.child}: ${w.msg}`) ?? 0) + 1);
  for (const [msg, n] of grouped) log(`  ${n} x ${msg}`);
  log(
    `peak RSS (VmHWM, MB): ${Object.entries(memory)
      .map(([k, v]) => `${k} ${v === null ? '?' : round(v / 1024, 0)}`)
      .join(', ')}`,
  );
  log(`server exit codes after SIGTERM: ${children.map((c, i) => `${c.name} ${stopCodes[i]}`).join(', ')}`);

  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `SIZES=${SIZES.join(',')} STEP_S=${STEP_S} CONNECTIONS=${CONNECTIONS} POOL=${POOL} PACING=${PACING}${WITH_WORKER ? ' WITH_WORKER=1' : ''} npx tsx bench/intake.ts`,
    settings: {
      SIZES,
      STEP_S,
      WARMUP_S,
      CONNECTIONS,
      POOL,
      PACING,
      MAX_STEPS,
      REFINE,
      START_RATES,
      WITH_WORKER,
      newShare: NEW_SHARE,
      p99GoalMs: P99_GOAL_MS,
      minAchieved: MIN_ACHIEVED,
      integrationRateLimitPerMinute: INTEGRATION_RATE_LIMIT,
      apiPoolSize: 10,
      baselinePoolSize: 10,
    },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGiB: round(os.totalmem() / 2 ** 30, 1),
      loadavgAtEnd: os.loadavg(),
      node: process.version,
      postgres: pgVersion,
    },
    baseline: { max: baselineMax, sustained: baselineSustained },
    summary: goals,
    steps,
    verification,
    traces,
    serverWarnings: warnings.slice(0, 100),
    memoryHwmKb: memory,
    stopCodes,
  };
  const dir = path.join(ROOT, 'bench/results');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `intake-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
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
