/**
 * Bench database: a fresh `tessera_bench` (UTF8, C.UTF-8), migrated, seeded with ROWS incidents by
 * one INSERT ... SELECT generate_series statement per batch (not through the API).
 */

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { MIGRATIONS_DIR, migrateToLatest } from '../src/db/migrator.ts';

export interface SeedInfo {
  rows: number;
  customers: number;
  reused: boolean;
  seconds: {
    insert: number;
    indexes: number;
    baselineItems: number;
    vacuumAnalyze: number;
    total: number;
  } | null;
  tableBytes: number;
  indexBytes: Record<string, number>;
  counts: Record<string, number>;
}

const log = (message: string) => process.stdout.write(`${message}\n`);
const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;

/** `arr[1 + floor(r * len)]`: a SQL expression picking one element of a text[] by a uniform random. */
const pick = (array: string, r: string) => `(${array})[1 + floor(${r} * cardinality(${array}))::int]`;
const textArray = (values: string[]) =>
  `ARRAY[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]::text[]`;

// Titles, aligned: ZH[i] is the Chinese of EN[i] (a mixed title uses both). None contains 磁盘 or "disk".
const ZH = [
  '邮箱无法登录',
  '打印机卡纸',
  'VPN连接频繁断开',
  '无线网络信号弱',
  '电脑开机蓝屏',
  '业务系统运行缓慢',
  '域账号被锁定',
  '申请重置密码',
  'Office无法激活',
  '共享文件夹无法访问',
  '服务器CPU使用率过高',
  '数据库连接超时',
  '门户网站打不开',
  '会议室投影仪无画面',
  'OA审批流程卡住',
  '企业微信消息收不到',
  '网络延迟高',
  '视频会议卡顿',
  '财务系统报错',
  'ERP登录失败',
  '文件无法保存',
  '浏览器证书错误',
  '邮箱空间已满',
  '存储空间告警',
  '备份任务失败',
  '内存使用率告警',
  '应用服务无响应',
  '打印机脱机',
  '新员工开通账号',
  '申请系统权限',
  'Outlook无法同步日历',
  '手机无法连接公司WiFi',
  '报表导出超时',
  '考勤机数据不同步',
  '网站访问速度慢',
  '单点登录跳转失败',
];
const EN = [
  'Cannot log in to mailbox',
  'Printer paper jam',
  'VPN keeps disconnecting',
  'Weak Wi-Fi signal',
  'Laptop blue screen on boot',
  'Business system very slow',
  'Domain account locked',
  'Password reset request',
  'Office activation failed',
  'Shared folder not accessible',
  'High CPU on server',
  'Database connection timeout',
  'Portal site not loading',
  'Meeting room projector shows no picture',
  'OA approval stuck',
  'WeCom messages not received',
  'High network latency',
  'Video conference lagging',
  'Finance system error',
  'ERP login failed',
  'Cannot save file',
  'Browser certificate error',
  'Mailbox quota exceeded',
  'Storage capacity warning',
  'Backup job failed',
  'Memory usage alert',
  'Application service not responding',
  'Printer offline',
  'New hire account setup',
  'Access request for system',
  'Outlook calendar not syncing',
  'Phone cannot join office Wi-Fi',
  'Report export times out',
  'Attendance terminal not syncing',
  'Website loads slowly',
  'SSO redirect fails',
];
// ~1% of rows each: the words 磁盘 / disk without the rare phrases.
const ZH_DISK = ['磁盘读写缓慢', '磁盘阵列告警', '磁盘使用率超过85%', '磁盘IO等待高'];
const EN_DISK = [
  'Disk I/O latency high',
  'Disk usage above 85%',
  'Disk array degraded',
  'Disk quota warning',
];
const ZH_DETAIL = [
  '已尝试重启电脑但问题依旧',
  '影响部门约20人办公',
  '客户要求今天下班前处理',
  '上午九点开始出现',
  '偶发，每天两到三次',
  '更换网线后仍无法使用',
  '同事电脑正常',
  '提示"连接超时"',
  '系统弹出错误代码0x80070005',
  '涉及财务月结，比较紧急',
  '监控平台自动告警',
  '用户已提供截图',
  '远程协助后暂时恢复',
  '怀疑与昨晚的变更有关',
  '需要厂商配合排查',
];
const EN_DETAIL = [
  'Restarted the machine, no change',
  'About 20 people in the department affected',
  'Customer asks for a fix before end of day',
  'Started around 9am',
  'Intermittent, two or three times a day',
  'Replaced the cable, still failing',
  'Colleagues are fine',
  'Error says "connection timed out"',
  'Error code 0x80070005 shown',
  'Blocks month-end closing, urgent',
  'Raised by the monitoring platform',
  'User attached screenshots',
  'Recovered for now after remote session',
  "Possibly related to last night's change",
  'Needs the vendor to investigate',
];
const NAMES_ZH = [
  '张伟',
  '王芳',
  '李娜',
  '刘洋',
  '陈静',
  '杨磊',
  '赵敏',
  '黄晓明',
  '周杰',
  '吴婷',
  '徐强',
  '孙丽',
];
const NAMES_EN = [
  'Alice Chen',
  'Bob Wang',
  'Carol Li',
  'David Zhang',
  'Emma Liu',
  'Frank Zhou',
  'Grace Wu',
  'Henry Xu',
];
const DEPTS_ZH = ['财务部', '人事部', '销售部', '研发中心', '客服中心', '行政部', '采购部', '生产车间'];
const DEPTS_EN = ['Finance', 'HR', 'Sales', 'R&D', 'Customer service', 'Admin', 'Procurement', 'Plant'];
const HOST_PREFIX = ['srv', 'app', 'db', 'web', 'mail', 'file', 'erp', 'oa'];
const CHANNELS = [
  'phone',
  'phone',
  'phone',
  'phone',
  'email',
  'email',
  'email',
  'email',
  'wechat',
  'wechat',
  'wechat',
  'wechat',
  'portal',
  'portal',
  'portal',
  'oa',
  'im',
  'monitoring',
  'monitoring',
  'api',
  'paper',
];
const CATEGORIES = [
  'network',
  'network.wifi',
  'network.vpn',
  'software',
  'software.email',
  'software.office',
  'hardware',
  'hardware.pc',
  'hardware.printer',
  'account',
  'account.password',
];
const RESOLUTIONS = [
  'fixed',
  'fixed',
  'fixed',
  'fixed',
  'workaround',
  'no_fault_found',
  'duplicate',
  'user_error',
  'auto_resolved',
];

/**
 * One batch: rows [$1, $2] of $3, created_at spread over the year before $4 (epoch seconds), roughly
 * in insertion order like a real table. Per-row randoms come from a subquery (not flattened, since
 * its target list is volatile), so each is drawn once per row.
 */
function batchSql(): string {
  const zh = textArray(ZH);
  const en = textArray(EN);
  const title = `CASE
      WHEN r_rare < 0.0005 THEN host || ' 磁盘空间不足'
      WHEN r_rare < 0.0015 THEN 'Disk full on ' || host
      WHEN r_rare < 0.0060 THEN ${pick(textArray(ZH_DISK), 'r_t')}
      WHEN r_rare < 0.0110 THEN ${pick(textArray(EN_DISK), 'r_t')}
      WHEN r_lang < 0.55 THEN ${pick(zh, 'r_t')}
      WHEN r_lang < 0.85 THEN ${pick(en, 'r_t')}
      ELSE ${pick(zh, 'r_t')} || ' / ' || ${pick(en, 'r_t')}
    END`;
  // Rare phrases also appear in some descriptions (0.05% 磁盘空间不足 in the description only).
  const zhDesc = `'用户' || ${pick(textArray(NAMES_ZH), 'r_d1')} || '（' || ${pick(textArray(DEPTS_ZH), 'r_d2')} || '）反馈：'
      || title || '。' || ${pick(textArray(ZH_DETAIL), 'r_d1')} || '。'
      || CASE WHEN r_d2 < 0.5 THEN ${pick(textArray(ZH_DETAIL), 'r_d2')} || '。' ELSE '' END
      || '主机 ' || host || '，IP ' || ip || '。'
      || CASE WHEN r_rare BETWEEN 0.5 AND 0.5005 THEN '检查发现服务器磁盘空间不足，日志无法写入。' ELSE '' END
      || '跟踪号 ' || substr(md5(i::text), 1, 12)`;
  const enDesc = `'Reported by ' || ${pick(textArray(NAMES_EN), 'r_d1')} || ' (' || ${pick(textArray(DEPTS_EN), 'r_d2')} || '): '
      || title || '. ' || ${pick(textArray(EN_DETAIL), 'r_d1')} || '. '
      || CASE WHEN r_d2 < 0.5 THEN ${pick(textArray(EN_DETAIL), 'r_d2')} || '. ' ELSE '' END
      || 'Host ' || host || ', IP ' || ip || '. '
      || CASE WHEN r_rare BETWEEN 0.6 AND 0.6005 THEN 'Root cause: disk full on /var/log. ' ELSE '' END
      || 'Trace ' || substr(md5(i::text), 1, 12)`;
  return `
WITH f AS (
  SELECT
    (SELECT array_agg(id ORDER BY code) FROM customers WHERE code LIKE 'BENCH%') AS customers,
    (SELECT array_agg(id ORDER BY name) FROM assignment_groups WHERE name LIKE 'Bench %') AS groups,
    (SELECT array_agg(tier ORDER BY name) FROM assignment_groups WHERE name LIKE 'Bench %') AS tiers
),
g AS (
  SELECT i, i::float8 / $3 AS age,
    random() AS r_lang, random() AS r_t, random() AS r_rare, random() AS r_d1, random() AS r_d2,
    random() AS r_cust, random() AS r_status, random() AS r_prio, random() AS r_chan, random() AS r_cat,
    random() AS r_grp, random() AS r_ack, random() AS r_res, random() AS r_x,
    ${pick(textArray(HOST_PREFIX), 'random()')} || '-' || lpad((i % 397)::text, 3, '0') AS host,
    '10.' || (i % 7) || '.' || (i % 251) || '.' || (i % 253 + 1) AS ip
  FROM generate_series($1::int, $2::int) AS i
),
t AS (
  SELECT g.*, ${title} AS title FROM g
),
s AS (
  SELECT t.*,
    CASE WHEN r_lang < 0.55 OR (r_rare < 0.0060 AND r_rare >= 0.0015) THEN ${zhDesc}
         WHEN r_lang < 0.85 THEN ${enDesc}
         ELSE ${zhDesc} || ' ' || ${pick(textArray(EN_DETAIL), 'r_d2')} || '.'
    END AS description,
    to_timestamp($4 - (1 - age) * 365 * 86400 - r_x * 30) AS created,
    CASE WHEN age > 0.98 THEN
      CASE WHEN r_status < 0.25 THEN 'new' WHEN r_status < 0.45 THEN 'assigned' WHEN r_status < 0.70 THEN 'in_progress'
           WHEN r_status < 0.80 THEN 'pending' WHEN r_status < 0.95 THEN 'resolved' ELSE 'cancelled' END
    ELSE
      CASE WHEN r_status < 0.01 THEN 'new' WHEN r_status < 0.02 THEN 'assigned' WHEN r_status < 0.035 THEN 'in_progress'
           WHEN r_status < 0.05 THEN 'pending' WHEN r_status < 0.08 THEN 'resolved' WHEN r_status < 0.15 THEN 'cancelled'
           ELSE 'closed' END
    END AS status,
    CASE WHEN r_prio < 0.03 THEN 'P1' WHEN r_prio < 0.15 THEN 'P2' WHEN r_prio < 0.50 THEN 'P3'
         WHEN r_prio < 0.85 THEN 'P4' ELSE 'P5' END AS priority,
    1 + floor(r_grp * cardinality(f.groups))::int AS gi,
    f.customers[1 + floor(power(r_cust, 2) * cardinality(f.customers))::int] AS customer_id,
    f.groups, f.tiers
  FROM t CROSS JOIN f
),
r AS (
  SELECT s.*,
    CASE WHEN status = 'new' THEN NULL ELSE groups[gi] END AS group_id,
    CASE WHEN status = 'new' THEN NULL ELSE tiers[gi] END AS tier,
    CASE WHEN status IN ('new', 'cancelled') THEN NULL ELSE created + (2 + r_ack * 120) * interval '1 minute' END AS ack,
    CASE WHEN status IN ('resolved', 'closed')
      THEN least(created + (0.5 + r_res * 72) * interval '1 hour', to_timestamp($4)) END AS resolved,
    CASE WHEN status = 'cancelled' THEN created + interval '1 hour' END AS cancelled
  FROM s
)
INSERT INTO incidents (
  title, description, customer_id, channel, category, impact, urgency, priority, status, pending_reason,
  group_id, tier, resolution_code, resolution_notes, resolved_tier, group_assignments, escalation_count,
  close_reason, reported_at, acknowledged_at, resolved_at, closed_at, cancelled_at, version, created_at, updated_at
)
SELECT
  title, description, customer_id,
  ${pick(textArray(CHANNELS), 'r_chan')},
  CASE WHEN r_cat < 0.9 THEN ${pick(textArray(CATEGORIES), 'r_cat / 0.9')} END,
  CASE priority WHEN 'P1' THEN 'high' WHEN 'P2' THEN 'high' WHEN 'P3' THEN 'medium' WHEN 'P4' THEN 'medium' ELSE 'low' END,
  CASE priority WHEN 'P1' THEN 'high' WHEN 'P2' THEN 'medium' WHEN 'P3' THEN 'medium' ELSE 'low' END,
  priority, status,
  CASE WHEN status = 'pending' THEN 'customer' END,
  group_id, tier,
  CASE WHEN resolved IS NOT NULL THEN ${pick(textArray(RESOLUTIONS), 'r_res')} END,
  CASE WHEN resolved IS NOT NULL THEN CASE WHEN r_lang < 0.55 THEN '已处理，用户确认恢复' ELSE 'Fixed, user confirmed' END END,
  CASE WHEN resolved IS NOT NULL THEN tier END,
  CASE WHEN group_id IS NULL THEN 0 WHEN tier > 1 THEN 2 ELSE 1 END,
  CASE WHEN tier > 1 THEN 1 ELSE 0 END,
  CASE WHEN status = 'closed' THEN CASE WHEN r_x < 0.6 THEN 'confirmed' ELSE 'auto_closed' END END,
  created, ack, resolved,
  CASE WHEN status = 'closed' THEN least(resolved + interval '3 days', to_timestamp($4)) END,
  cancelled,
  CASE status WHEN 'new' THEN 1 WHEN 'assigned' THEN 2 WHEN 'pending' THEN 4 WHEN 'closed' THEN 5 ELSE 3 END,
  created,
  coalesce(CASE WHEN status = 'closed' THEN least(resolved + interval '3 days', to_timestamp($4)) END, resolved, cancelled, ack, created)
FROM r`;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-seed' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

type DbState = { kind: 'none' } | { kind: 'seeded'; rows: number } | { kind: 'resumable' };

/**
 * What `dbName` holds: a finished seed (bench_meta is written at the very end), a seed whose inserts
 * completed but whose index builds / VACUUM were interrupted (bench_seed_state lists the indexes
 * to build), or nothing usable.
 */
async function dbState(serverUrl: string, dbUrl: string, dbName: string, rows: number): Promise<DbState> {
  const exists = await withClient(serverUrl, async (c) => {
    const r = await c.query('SELECT datctype FROM pg_database WHERE datname = $1', [dbName]);
    return r.rows[0] as { datctype: string } | undefined;
  });
  if (exists?.datctype !== 'C.UTF-8') return { kind: 'none' };
  return withClient(dbUrl, async (c) => {
    const t = await c.query(
      "SELECT to_regclass('bench_meta') AS meta, to_regclass('bench_seed_state') AS state",
    );
    if (t.rows[0].meta) {
      const r = await c.query('SELECT rows FROM bench_meta LIMIT 1');
      return r.rows[0] ? { kind: 'seeded', rows: Number(r.rows[0].rows) } : { kind: 'none' };
    }
    if (t.rows[0].state) {
      const state = await c.query('SELECT rows, inserted FROM bench_seed_progress');
      if (state.rows[0]?.inserted && Number(state.rows[0].rows) === rows) return { kind: 'resumable' };
    }
    return { kind: 'none' };
  });
}

export async function prepareDatabase(options: {
  serverUrl: string;
  dbName: string;
  rows: number;
  customers: number;
  reseed: boolean;
  batch: number;
}): Promise<SeedInfo> {
  const { serverUrl, dbName, rows } = options;
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const dbUrl = url.toString();
  const state: DbState = options.reseed
    ? { kind: 'none' }
    : await dbState(serverUrl, dbUrl, dbName, rows).catch(() => ({ kind: 'none' }) as const);
  const reuse = state.kind === 'seeded' && state.rows === rows;
  const resume = state.kind === 'resumable';
  let timing: SeedInfo['seconds'] = null;

  if (!reuse && !resume) {
    const had = state.kind === 'seeded' ? ` (had ${state.rows} rows)` : '';
    log(`creating database ${dbName} (UTF8, C.UTF-8)${had}`);
    await withClient(serverUrl, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.query(
        `CREATE DATABASE ${dbName} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0`,
      );
    });
  }

  // A migration edited after this database applied it (files change while a module is being written)
  // leaves a schema the code no longer matches: seed again rather than measure a wrong schema.
  if (reuse || resume) {
    const changed = await changedMigrations(dbUrl);
    if (changed.length > 0) {
      log(`migrations changed since ${dbName} applied them (${changed.join(', ')}): seeding again`);
      return prepareDatabase({ ...options, reseed: true });
    }
  }

  const kysely = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: dbUrl, max: 2 }) }),
  });
  try {
    const applied = await migrateToLatest(kysely);
    if (applied.length > 0) log(`migrations applied: ${applied.join(', ')}`);
  } finally {
    await kysely.destroy();
  }
  await recordMigrationHashes(dbUrl);

  await withClient(dbUrl, async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS bench_items (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), title text, description text, created_at timestamptz DEFAULT now())`);
    if (reuse) {
      log(`reusing ${dbName}: ${rows} seeded incidents (RESEED=1 to seed again)`);
      await removeBenchWrites(c);
      return;
    }
    if (resume)
      log(`resuming the interrupted seed of ${dbName}: inserts are complete, finishing indexes and VACUUM`);
    timing = await seed(c, options, resume);
  });

  return withClient(dbUrl, async (c) => {
    const size = await c.query(
      `SELECT pg_table_size('incidents')::bigint AS t,
        (SELECT json_object_agg(indexrelid::regclass::text, pg_relation_size(indexrelid)) FROM pg_index WHERE indrelid = 'incidents'::regclass) AS i`,
    );
    const counts = await c.query(`SELECT
        count(*) FILTER (WHERE search_text LIKE '%磁盘空间不足%') AS "q=磁盘空间不足",
        count(*) FILTER (WHERE search_text LIKE '%磁盘%') AS "q=磁盘",
        count(*) FILTER (WHERE search_text LIKE '%disk%' AND search_text LIKE '%full%') AS "q=disk full",
        count(*) FILTER (WHERE status = 'new' AND priority = 'P1') AS "status=new&priority=P1",
        count(*) AS total
      FROM incidents`);
    return {
      rows,
      customers: options.customers,
      reused: reuse,
      seconds: timing,
      tableBytes: Number(size.rows[0].t),
      indexBytes: Object.fromEntries(
        Object.entries(size.rows[0].i as Record<string, number>).map(([k, v]) => [k, Number(v)]),
      ),
      counts: Object.fromEntries(
        Object.entries(counts.rows[0] as Record<string, string>).map(([k, v]) => [k, Number(v)]),
      ),
    };
  });
}

async function migrationHashes(): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const file of (await fs.readdir(MIGRATIONS_DIR)).filter((f) => /\.(ts|js)$/.test(f)).sort())
    hashes.set(
      file.replace(/\.(ts|js)$/, ''),
      createHash('sha256')
        .update(await fs.readFile(path.join(MIGRATIONS_DIR, file)))
        .digest('hex'),
    );
  return hashes;
}

/** Applied migrations whose file differs from the one applied (unknown when applied before hashes were kept). */
async function changedMigrations(dbUrl: string): Promise<string[]> {
  const current = await migrationHashes();
  return withClient(dbUrl, async (c) => {
    const t = await c.query("SELECT to_regclass('bench_migration_hashes') AS t");
    const applied = (await c.query('SELECT name FROM schema_migrations')).rows as { name: string }[];
    if (!t.rows[0].t) return applied.length > 0 ? ['(no hashes recorded)'] : [];
    const recorded = new Map(
      (
        (await c.query('SELECT name, sha256 FROM bench_migration_hashes')).rows as {
          name: string;
          sha256: string;
        }[]
      ).map((r) => [r.name, r.sha256]),
    );
    return applied
      .map((r) => r.name)
      .filter((name) => !recorded.has(name) || recorded.get(name) !== current.get(name));
  });
}

async function recordMigrationHashes(dbUrl: string): Promise<void> {
  const current = await migrationHashes();
  await withClient(dbUrl, async (c) => {
    await c.query(
      'CREATE TABLE IF NOT EXISTS bench_migration_hashes (name text PRIMARY KEY, sha256 text NOT NULL)',
    );
    const applied = (await c.query('SELECT name FROM schema_migrations')).rows as { name: string }[];
    for (const { name } of applied)
      await c.query('INSERT INTO bench_migration_hashes VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
        name,
        current.get(name) ?? '',
      ]);
  });
}

/** Deletes what a previous run's POST scenarios added, so every run measures the same data. */
async function removeBenchWrites(c: pg.Client): Promise<void> {
  const since = (await c.query('SELECT seeded_at FROM bench_meta')).rows[0].seeded_at as Date;
  await c.query('BEGIN');
  await c.query(
    'DELETE FROM incident_events WHERE incident_id IN (SELECT id FROM incidents WHERE created_at > $1)',
    [since],
  );
  const incidents = await c.query('DELETE FROM incidents WHERE created_at > $1', [since]);
  const items = await c.query('DELETE FROM bench_items WHERE created_at > $1', [since]);
  await c.query('DELETE FROM audit_log WHERE at > $1', [since]);
  await c.query('DELETE FROM outbox WHERE occurred_at > $1', [since]);
  await c.query('COMMIT');
  if ((incidents.rowCount ?? 0) + (items.rowCount ?? 0) > 0) {
    log(
      `removed ${incidents.rowCount} incidents and ${items.rowCount} items left by a previous run; vacuuming`,
    );
    const started = performance.now();
    await c.query('VACUUM ANALYZE incidents, bench_items, incident_events, audit_log, outbox');
    log(`vacuum ${seconds(started)} s`);
  }
}

async function seed(
  c: pg.Client,
  options: { rows: number; customers: number; batch: number },
  resume: boolean,
): Promise<NonNullable<SeedInfo['seconds']>> {
  const { rows, customers, batch } = options;
  const started = performance.now();
  await c.query(
    "SET synchronous_commit = off; SET maintenance_work_mem = '1GB'; SET session_replication_role = replica",
  );
  let insert = 0;
  if (!resume) insert = await insertIncidents(c, rows, customers, batch);
  const epoch = Number((await c.query('SELECT epoch FROM bench_seed_progress')).rows[0].epoch);

  // Indexes recorded before the load and not there yet (all of them, or what an interruption left).
  const indexStarted = performance.now();
  const pending = (
    await c.query(`SELECT name, def FROM bench_seed_state s
      WHERE NOT EXISTS (SELECT 1 FROM pg_indexes i WHERE i.indexname = s.name) ORDER BY name`)
  ).rows as { name: string; def: string }[];
  for (const index of pending) {
    const t = performance.now();
    await c.query(index.def);
    log(`  index ${index.name}: ${seconds(t)} s`);
  }
  const indexSeconds = seconds(indexStarted);

  const itemsStarted = performance.now();
  await c.query('TRUNCATE bench_items');
  await c.query(
    `INSERT INTO bench_items (title, description, created_at)
     SELECT 'item ' || i, md5(i::text) || ' ' || md5((i + 1)::text), to_timestamp($2 - ($1 - i))
     FROM generate_series(1, $1::int) AS i`,
    [rows, epoch],
  );
  const baselineItems = seconds(itemsStarted);

  const vacuumStarted = performance.now();
  await c.query('VACUUM ANALYZE');
  const vacuumAnalyze = seconds(vacuumStarted);

  await c.query(
    'CREATE TABLE bench_meta (rows integer NOT NULL, customers integer NOT NULL, seeded_at timestamptz NOT NULL)',
  );
  await c.query('INSERT INTO bench_meta VALUES ($1, $2, to_timestamp($3))', [rows, customers, epoch + 60]);
  await c.query('DROP TABLE bench_seed_state, bench_seed_progress');
  const total = seconds(started);
  log(
    `seeded ${rows} incidents in ${total} s (insert ${insert} s, indexes ${indexSeconds} s, ` +
      `baseline items ${baselineItems} s, VACUUM ANALYZE ${vacuumAnalyze} s)${resume ? ' (resumed: insert time not counted)' : ''}`,
  );
  return { insert, indexes: indexSeconds, baselineItems, vacuumAnalyze, total };
}

/** Customers, groups and the incidents themselves, with the secondary indexes dropped (recorded first). */
async function insertIncidents(
  c: pg.Client,
  rows: number,
  customers: number,
  batch: number,
): Promise<number> {
  await c.query(
    `INSERT INTO customers (code, name, email)
     SELECT 'BENCH' || lpad(i::text, 4, '0'),
       CASE WHEN i % 3 = 0 THEN 'Customer ' || i || ' Ltd'
            ELSE (ARRAY['上海', '北京', '深圳', '杭州', '成都', '南京', '武汉', '西安'])[1 + i % 8] || '客户' || i || '有限公司' END,
       'it' || i || '@customer' || i || '.example'
     FROM generate_series(1, $1::int) AS i`,
    [customers],
  );
  await c.query(`INSERT INTO assignment_groups (name, tier) VALUES
    ('Bench 1 一线服务台', 1), ('Bench 2 二线网络组', 2), ('Bench 3 二线系统组', 2), ('Bench 4 二线应用组', 2),
    ('Bench 5 三线数据库', 3), ('Bench 6 三线厂商支持', 3)`);

  // Bulk load: secondary indexes are dropped and rebuilt after the load (the constraints' stay).
  // Their definitions are kept in bench_seed_state so an interrupted seed can be finished.
  const epoch = Math.floor(Date.now() / 1000) - 60;
  await c.query(
    'CREATE TABLE bench_seed_progress (rows integer NOT NULL, epoch bigint NOT NULL, inserted boolean NOT NULL)',
  );
  await c.query('INSERT INTO bench_seed_progress VALUES ($1, $2, false)', [rows, epoch]);
  await c.query(`CREATE TABLE bench_seed_state AS SELECT i.relname::text AS name, pg_get_indexdef(i.oid) AS def
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = 'incidents'::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`);
  const indexes = (await c.query('SELECT name FROM bench_seed_state')).rows as { name: string }[];
  for (const index of indexes) await c.query(`DROP INDEX ${index.name}`);

  const sql = batchSql();
  const insertStarted = performance.now();
  for (let from = 1; from <= rows; from += batch) {
    const to = Math.min(rows, from + batch - 1);
    const t = performance.now();
    await c.query(sql, [from, to, rows, epoch]);
    log(`  seeded ${to}/${rows} (${seconds(t)} s for ${to - from + 1})`);
  }
  await c.query('UPDATE bench_seed_progress SET inserted = true');
  return seconds(insertStarted);
}
