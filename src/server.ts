import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { allModules, buildApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { migrateToLatest } from './db/migrator.ts';
import { type EmbeddedService, startEmbeddedPostgres, startEmbeddedRedis } from './embedded.ts';
import { seedDefaults } from './modules/sla/index.ts';
import { ensureBootstrapKey } from './platform/auth/api-keys.service.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { connectRedis } from './platform/redis.ts';
import { startWorkers } from './platform/worker-runtime.ts';
import { closeResources, type Endpoints, openResources } from './runtime.ts';

/**
 * The process entry: `TESSERA_ROLE=all` (default) runs the API and the workers, `api` or `worker`
 * one side. Without DATABASE_URL / REDIS_URL it starts an embedded PostgreSQL and a private
 * redis-server under DATA_DIR and migrates at start; with URLs, `npm run migrate` is a separate step
 * in deployments (MIGRATE_ON_START=false), otherwise a start applies pending migrations.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const stops: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const shutdown = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    for (const stop of stops.reverse())
      await stop().catch((err) => log.error({ err }, 'error during shutdown'));
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  try {
    const endpoints = await resolveEndpoints(config, log, stops);
    const embedded = !config.DATABASE_URL;
    if (embedded || config.MIGRATE_ON_START) {
      const migrationDb = openResources(config, endpoints).db;
      try {
        const applied = await migrateToLatest(migrationDb);
        if (applied.length > 0) log.info({ applied }, 'migrations applied');
      } finally {
        await migrationDb.destroy();
      }
    }

    const resources = openResources(config, endpoints);
    stops.push(() => closeResources(resources));
    const adminToken =
      config.BOOTSTRAP_ADMIN_TOKEN ?? (embedded ? await localAdminToken(config.DATA_DIR) : undefined);
    if (adminToken) await ensureBootstrapKey(resources.db, adminToken);
    if (config.SEED_DEFAULTS && (await seedDefaults(resources.db))) {
      log.info(
        'seeded the 5x8 Asia/Shanghai calendar (China holidays 2025-2026) and the default SLA (2h / 24h)',
      );
    }

    if (config.TESSERA_ROLE !== 'api') {
      await connectRedis(resources.redis, 15_000).catch((err) => {
        throw new Error(`The worker needs Redis at ${redact(endpoints.redisUrl)}: ${err.message}`);
      });
      const workers = await startWorkers({
        config,
        databaseUrl: endpoints.databaseUrl,
        redisUrl: endpoints.redisUrl,
        db: resources.db,
        queues: resources.queues,
        modules: allModules(),
        log,
      });
      stops.push(() => workers.close());
    }

    if (config.TESSERA_ROLE !== 'worker') {
      const app = await buildApp(config, resources);
      stops.push(() => app.close());
      await app.listen({ port: config.PORT, host: config.HOST });
      const shown = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
      const base = `http://${shown}:${(app.server.address() as { port: number }).port}`;
      const lines = [
        `Tessera is running (${config.TESSERA_ROLE})`,
        `  API        ${base}/api/v1`,
        `  Reference  ${base}/docs`,
        `  Health     ${base}/readyz`,
      ];
      if (adminToken) lines.push(`  Admin key  Authorization: Bearer ${adminToken}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : err }, 'start failed');
    process.stderr.write(`Tessera could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown('start failed', 1);
  }
}

/** The given URLs, or embedded services started under DATA_DIR for the ones that are missing. */
async function resolveEndpoints(
  config: Config,
  log: Logger,
  stops: (() => Promise<unknown>)[],
): Promise<Endpoints> {
  const track = (service: EmbeddedService) => {
    stops.push(() => service.stop());
    return service.url;
  };
  const databaseUrl =
    config.DATABASE_URL ?? track(await startEmbeddedPostgres(path.join(config.DATA_DIR, 'postgres'), log));
  const redisUrl =
    config.REDIS_URL ?? track(await startEmbeddedRedis(path.join(config.DATA_DIR, 'redis'), log));
  return { databaseUrl, redisUrl };
}

/** On a single machine without BOOTSTRAP_ADMIN_TOKEN: one admin token kept in DATA_DIR. */
async function localAdminToken(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'admin-token');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const token = `tsk_${randomBytes(32).toString('base64url')}`;
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

const redact = (url: string) => url.replace(/\/\/[^@]*@/, '//***@');

void main();
