/**
 * Service report benchmark: one monthly report (every section, then its HTML and XLSX renderings)
 * over a database of ROWS incidents and REQUESTS service requests, most of them of the reported
 * customer. Goal: under 10 s and under 300 MB of memory (peak RSS of the process that runs it).
 *
 *   npx tsx bench/reports.ts                  # ROWS=1000000 REQUESTS=200000
 *   ROWS=100000 REQUESTS=20000 npx tsx bench/reports.ts
 *
 * Env: PG_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_DB (tessera_bench_reports),
 * RESEED=1 (seed again), SHARE (0.8: share of tickets that belong to the reported customer; the rest
 * is spread over 20 others), RUNS (3). Seeds with INSERT ... SELECT generate_series (not the API):
 * incidents over the 12 months before November 2026 with timelines (created, started, pending,
 * work notes, resolved), call-backs, SLA clocks, service requests. The measured run happens in a
 * child process so its peak RSS is the report's own.
 */
import { spawn } from 'node:child_process';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/db.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { createReportService } from '../src/modules/reports/reports.service.ts';
import '../src/modules/reports/sections/index.ts';
import { QueueRegistry } from '../src/platform/jobs.ts';
import { createRedis } from '../src/platform/redis.ts';

const env = process.env;
const ROWS = Number(env.ROWS ?? 1_000_000);
const REQUESTS = Number(env.REQUESTS ?? 200_000);
const SHARE = Number(env.SHARE ?? 0.8);
const RUNS = Number(env.RUNS ?? 3);
const PG_URL = env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = env.BENCH_DB ?? 'tessera_bench_reports';
const dbUrl = (() => {
  const url = new URL(PG_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
})();
const log = (m: string) => process.stdout.write(`${m}\n`);
const since = (t: number) => Math.round(performance.now() - t);

async function admin(query: string) {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await c.query(query);
  } finally {
    await c.end();
  }
}

async function seeded(): Promise<boolean> {
  const exists = await admin(`SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'`);
  if (exists.rowCount === 0) return false;
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const r = await c.query(`SELECT to_regclass('bench_reports_meta') AS t`);
    if (!r.rows[0].t) return false;
    const m = await c.query('SELECT rows, requests FROM bench_reports_meta');
    return m.rows[0]?.rows === ROWS && m.rows[0]?.requests === REQUESTS;
  } finally {
    await c.end();
  }
}

async function seed(): Promise<string> {
  log(`creating ${DB_NAME} and seeding ${ROWS} incidents, ${REQUESTS} service requests`);
  await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin(
    `CREATE DATABASE ${DB_NAME} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0`,
  );
  const k = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: dbUrl, max: 1 }) }),
  });
  await migrateToLatest(k);
  const run = async (label: string, query: string, params: unknown[] = []) => {
    const t = performance.now();
    await sql.raw(query.replace(/\$(\d+)/g, (_, n) => String(params[Number(n) - 1]))).execute(k);
    log(`  ${label}: ${since(t)} ms`);
  };
  await run(
    'parties',
    `
    INSERT INTO customers (code, name) SELECT 'C' || i, 'Customer ' || i FROM generate_series(0, 20) i;
    INSERT INTO people (name, email, kind) SELECT 'Agent ' || i, 'agent' || i || '@example.com', 'agent' FROM generate_series(1, 12) i;
    INSERT INTO assignment_groups (name, tier) SELECT 'Group ' || i, 1 + (i % 3) FROM generate_series(1, 6) i;
    INSERT INTO services (code, name) SELECT 'svc' || i, 'Service ' || i FROM generate_series(1, 6) i;
    INSERT INTO calendars (name, time_zone, always_open) VALUES ('24x7', 'UTC', true);
    INSERT INTO agreements (name, kind, customer_id, valid_from, calendar_id, targets, warnings, pause_on, status)
      SELECT 'SLA ' || c.code, 'sla', c.id, '2025-01-01', (SELECT id FROM calendars LIMIT 1),
        '[{"priority":"*","metric":"response","duration":"PT1H","seconds":3600},{"priority":"*","metric":"resolution","duration":"PT8H","seconds":28800}]',
        '[]', '[]', 'active'
      FROM customers c;
    INSERT INTO request_items (code, name, category) VALUES ('laptop', 'Laptop', 'hardware'), ('vpn', 'VPN', 'network.vpn'), ('account', 'Account', 'account');
    CREATE TABLE bench_ids AS SELECT
      (SELECT array_agg(id ORDER BY code) FROM customers) AS customers,
      (SELECT array_agg(id) FROM people) AS agents,
      (SELECT array_agg(id) FROM assignment_groups) AS groups,
      (SELECT array_agg(id) FROM services) AS services,
      (SELECT array_agg(id) FROM request_items) AS items;
  `,
  );
  // Customer C0 is the reported one; SHARE of the tickets are its own.
  const customerOf = `CASE WHEN r0 < ${SHARE} THEN b.customers[1] ELSE b.customers[2 + floor(r0 * 1000)::int % 20] END`;
  const batch = 200_000;
  for (let from = 1; from <= ROWS; from += batch) {
    const to = Math.min(ROWS, from + batch - 1);
    await run(
      `incidents ${from}-${to}`,
      `
      INSERT INTO incidents (title, customer_id, channel, category, service_id, impact, urgency, priority, status,
        group_id, assignee_id, tier, major, resolved_tier, group_assignments, escalation_count, reopen_count,
        reported_at, acknowledged_at, resolved_at, closed_at, created_at, updated_at, pending_reason)
      SELECT 'Bench ' || i, ${customerOf},
        (ARRAY['phone','email','wechat','portal','monitoring','api'])[1 + i % 6],
        (ARRAY['network','software','hardware','account','network.wifi','software.email','hardware.printer'])[1 + (i / 7) % 7],
        b.services[1 + (i / 3) % 6], 'medium', 'medium',
        (ARRAY['P1','P2','P3','P3','P3','P4'])[1 + (i / 11) % 6],
        CASE WHEN open THEN (ARRAY['new','in_progress','pending','assigned'])[1 + i % 4] WHEN r1 < 0.7 THEN 'closed' ELSE 'resolved' END,
        b.groups[1 + (i / 5) % 6], b.agents[1 + (i / 13) % 12], 1 + (i / 5) % 6 % 3, r2 < 0.001,
        CASE WHEN open THEN NULL ELSE 1 + (i / 5) % 6 % 3 END,
        1 + (r3 * 2.2)::int, (r3 > 0.85)::int, (r4 < 0.04)::int,
        rep, CASE WHEN i % 9 = 0 AND open THEN NULL ELSE rep + (r2 * 7200) * interval '1 second' END,
        CASE WHEN open THEN NULL ELSE rep + (600 + r4 * 40000) * interval '1 second' END,
        CASE WHEN NOT open AND r1 < 0.7 THEN rep + (800 + r4 * 40000) * interval '1 second' + interval '1 day' END,
        rep, rep, CASE WHEN open AND i % 4 = 2 THEN 'customer' END
      FROM (
        SELECT i, random() AS r0, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
          timestamptz '2026-11-01 00:00:00+08' - ((${ROWS} - i) / ${ROWS}::float8) * interval '365 days' AS rep,
          (random() < 0.03 OR i > ${ROWS} - ${Math.ceil(ROWS / 365) * 2}) AS open
        FROM generate_series(${from}, ${to}) i
      ) s, bench_ids b`,
    );
  }
  await run(
    'incident events',
    `
    INSERT INTO incident_events (incident_id, at, type, actor_name, actor_role, data)
      SELECT id, reported_at, 'created', 'bench', 'agent', jsonb_build_object('channel', channel, 'priority', priority, 'groupId', group_id) FROM incidents;
    INSERT INTO incident_events (incident_id, at, type, actor_name, actor_role, data)
      SELECT id, acknowledged_at, 'status_changed', 'bench', 'agent', '{"from":"assigned","to":"in_progress"}' FROM incidents WHERE acknowledged_at IS NOT NULL;
    INSERT INTO incident_events (incident_id, at, type, actor_name, actor_role, data)
      SELECT id, acknowledged_at + interval '10 minutes', 'status_changed', 'bench', 'agent', '{"from":"in_progress","to":"pending","reason":"customer"}'
      FROM incidents WHERE acknowledged_at IS NOT NULL AND (hashtext(id::text) % 10) = 0;
    INSERT INTO incident_events (incident_id, at, type, actor_name, actor_role, data)
      SELECT id, reported_at + interval '1 hour', 'work_note', 'bench', 'agent', jsonb_build_object('body', 'x', 'minutesSpent', 5 + abs(hashtext(id::text)) % 60)
      FROM incidents WHERE (hashtext(id::text) % 2) = 0;
    INSERT INTO incident_events (incident_id, at, type, actor_name, actor_role, data)
      SELECT id, resolved_at, 'status_changed', 'bench', 'agent', '{"from":"in_progress","to":"resolved"}' FROM incidents WHERE resolved_at IS NOT NULL;
  `,
  );
  await run(
    'call-backs',
    `
    INSERT INTO incident_confirmations (incident_id, token, created_at, expires_at, answered_at, outcome, rating, comment)
      SELECT id, md5(id::text), resolved_at, resolved_at + interval '3 days',
        CASE WHEN status = 'closed' THEN closed_at END,
        CASE WHEN status <> 'closed' THEN NULL WHEN h < 70 THEN 'confirmed' WHEN h < 80 THEN 'rejected' ELSE 'auto_closed' END,
        CASE WHEN status = 'closed' AND h < 80 THEN 1 + h % 5 END,
        CASE WHEN status = 'closed' AND h < 3 THEN '意见 ' || h END
      FROM (SELECT *, abs(hashtext(id::text)) % 100 AS h FROM incidents WHERE resolved_at IS NOT NULL) s;
  `,
  );
  await run(
    'SLA clocks',
    `
    INSERT INTO sla_clocks (ticket_type, ticket_id, customer_id, agreement_id, metric, terms, calendar, state, priority,
        target_seconds, elapsed_ms, started_at, due_at, met_at, breached_at)
      SELECT 'incident', i.id, i.customer_id, a.id, m.metric, '{}', '{}',
        CASE WHEN m.stop IS NULL THEN 'running' WHEN m.elapsed <= m.target THEN 'met' ELSE 'breached' END,
        i.priority, m.target, (coalesce(m.elapsed, 0) * 1000)::bigint, i.reported_at,
        i.reported_at + m.target * interval '1 second',
        CASE WHEN m.stop IS NOT NULL AND m.elapsed <= m.target THEN m.stop END,
        CASE WHEN m.stop IS NOT NULL AND m.elapsed > m.target THEN i.reported_at + m.target * interval '1 second' END
      FROM incidents i JOIN agreements a ON a.customer_id = i.customer_id
      CROSS JOIN LATERAL (VALUES
        ('response', 3600, i.acknowledged_at, extract(epoch FROM i.acknowledged_at - i.reported_at)),
        ('resolution', 28800, i.resolved_at, extract(epoch FROM i.resolved_at - i.reported_at))
      ) AS m(metric, target, stop, elapsed);
  `,
  );
  await run(
    'service requests',
    `
    INSERT INTO service_requests (item_id, customer_id, title, status, approval_required, fulfilled_at, created_by_name, created_at, updated_at)
      SELECT b.items[1 + i % 3], CASE WHEN random() < ${SHARE} THEN b.customers[1] ELSE b.customers[2 + i % 20] END, 'Request ' || i,
        CASE WHEN open THEN 'submitted' ELSE 'fulfilled' END, false,
        CASE WHEN open THEN NULL ELSE created + (3600 + random() * 200000) * interval '1 second' END, 'bench', created, created
      FROM (
        SELECT i, timestamptz '2026-11-01 00:00:00+08' - ((${REQUESTS} - i) / ${REQUESTS}::float8) * interval '365 days' AS created,
          random() < 0.05 AS open
        FROM generate_series(1, ${REQUESTS}) i
      ) s, bench_ids b;
  `,
  );
  await run('vacuum analyze', 'VACUUM ANALYZE');
  await run('meta', `CREATE TABLE bench_reports_meta AS SELECT ${ROWS} AS rows, ${REQUESTS} AS requests`);
  const customer = await sql<{ id: string }>`SELECT customers[1] AS id FROM bench_ids`.execute(k);
  await k.destroy();
  return customer.rows[0]!.id;
}

/** Child process: one definition, RUNS runs of October 2026 (all sections + HTML + XLSX), timings and peak RSS. */
async function measure(): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const db = createDb(dbUrl, 10);
  const redis = createRedis('redis://127.0.0.1:1', 'producer');
  const queues = new QueueRegistry(redis, 'bench');
  const service = createReportService({ db, config: { ...config, SMTP_URL: undefined }, queues });
  const { rows } = await sql<{ id: string }>`SELECT customers[1] AS id FROM bench_ids`.execute(db);
  const customerId = rows[0]!.id;
  const ctx = {
    actor: { keyId: null, name: 'bench', role: 'admin' as const, customerId: null },
    requestId: null,
  };
  const def = await service.createDefinition(ctx, {
    name: 'Bench monthly',
    customerId,
    period: 'monthly',
    schedule: { cron: null, timeZone: 'Asia/Shanghai' },
    locale: 'zh-CN',
  });
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const results: Record<string, number>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const accepted = await service.requestRun(ctx, def.id, '2026-10');
    const rssBefore = process.memoryUsage().rss;
    let t = performance.now();
    await service.executeRun(accepted.runId);
    const compute = since(t);
    const rssAfterCompute = process.memoryUsage().rss;
    t = performance.now();
    const html = await service.render(ctx, accepted.runId, { format: 'html' });
    const htmlMs = since(t);
    t = performance.now();
    const xlsx = await service.render(ctx, accepted.runId, { format: 'xlsx' });
    const xlsxMs = since(t);
    results.push({
      computeMs: compute,
      htmlMs,
      xlsxMs,
      totalMs: compute + htmlMs + xlsxMs,
      htmlKiB: Math.round(html.body.length / 1024),
      rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
      rssAfterComputeMiB: Math.round(rssAfterCompute / 2 ** 20),
      rssAfterRenderMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      xlsxKiB: Math.round(xlsx.body.length / 1024),
    });
  }
  clearInterval(timer);
  const run = await service.getRun(ctx, (await service.listRuns(ctx, def.id, {})).items[0]!.id);
  const workload = run.sections.workload as { totals: unknown };
  const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(
    `${JSON.stringify({ results, peakRssMiB: Math.round(peak / 2 ** 20), maxRssMiB, workloadTotals: workload.totals })}\n`,
  );
  await db.destroy();
  redis.disconnect();
}

async function main() {
  if (process.argv[2] === '--measure') return measure();
  const started = performance.now();
  if (env.RESEED === '1' || !(await seeded())) await seed();
  else {
    log(`reusing ${DB_NAME} (${ROWS} incidents, ${REQUESTS} service requests); applying new migrations`);
    const k = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: dbUrl, max: 1 }) }),
    });
    await migrateToLatest(k);
    await k.destroy();
  }
  log(`database ready in ${Math.round(since(started) / 1000)} s; measuring ${RUNS} runs in a child process`);
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--measure'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`measuring process exited with ${code}`);
  const report = JSON.parse(out.trim().split('\n').pop()!);
  for (const [i, r] of report.results.entries())
    log(
      `run ${i + 1}: sections ${r.computeMs} ms, HTML ${r.htmlMs} ms (${r.htmlKiB} KiB), XLSX ${r.xlsxMs} ms (${r.xlsxKiB} KiB), total ${r.totalMs} ms; RSS ${r.rssBeforeMiB} -> ${r.rssAfterComputeMiB} -> ${r.rssAfterRenderMiB} MiB`,
    );
  log(
    `peak RSS ${report.peakRssMiB} MiB (maxRSS ${report.maxRssMiB} MiB); workload totals ${JSON.stringify(report.workloadTotals)}`,
  );
  const worst = Math.max(...report.results.map((r: { totalMs: number }) => r.totalMs));
  log(`goal < 10000 ms and < 300 MiB: ${worst < 10_000 && report.maxRssMiB < 300 ? 'met' : 'NOT met'}`);
}

await main();
