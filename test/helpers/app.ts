import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { allModules, buildApp, type Resources } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { ensureBootstrapKey } from '../../src/platform/auth/api-keys.service.ts';
import type { Role } from '../../src/platform/context.ts';
import type { App, TesseraModule } from '../../src/platform/module.ts';
import { startWorkers, type WorkerRuntime } from '../../src/platform/worker-runtime.ts';
import { closeResources, openResources } from '../../src/runtime.ts';
import { createTestDatabase, TEST_REDIS_URL } from './databases.ts';

export interface TestApp {
  app: App;
  config: Config;
  resources: Resources;
  db: Resources['db'];
  databaseUrl: string;
  redisUrl: string;
  adminToken: string;
  worker: WorkerRuntime | null;
  /** `app.inject` with a bearer token (the admin's unless given) and a JSON body. */
  request(
    method: string,
    url: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  /** A new API key of `role` (optionally bound to a customer); returns its token. */
  key(role: Role, customerId?: string): Promise<string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Run the real BullMQ workers and outbox relay too. */
  worker?: boolean;
  /** Extra modules (jobs and event routes a test needs). */
  extraModules?: TesseraModule[];
  redisUrl?: string;
}

/**
 * A Tessera app on its own fresh database (cloned from the migrated template) and its own BullMQ
 * prefix on the real Redis, so test files run in parallel without seeing each other.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const adminToken = `tsk_test_${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    QUEUE_PREFIX: `t${randomBytes(5).toString('hex')}`,
    OUTBOX_POLL_MS: '100',
    AUTH_CACHE_MS: '0',
    ...options.env,
  });
  const resources = openResources(config, { databaseUrl: database.url, redisUrl });
  await ensureBootstrapKey(resources.db, adminToken);
  const app = await buildApp(config, resources);
  await app.ready();
  const worker = options.worker
    ? await startWorkers({
        config,
        databaseUrl: database.url,
        redisUrl,
        db: resources.db,
        queues: resources.queues,
        modules: [...allModules(), ...(options.extraModules ?? [])],
        log: app.log,
      })
    : null;

  const request: TestApp['request'] = (method, url, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? adminToken : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    return app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
  };

  return {
    app,
    config,
    resources,
    db: resources.db,
    databaseUrl: database.url,
    redisUrl,
    adminToken,
    worker,
    request,
    async key(role, customerId) {
      const res = await request('POST', '/api/v1/api-keys', {
        body: {
          name: `${role}-${randomBytes(3).toString('hex')}`,
          role,
          ...(customerId ? { customerId } : {}),
        },
      });
      if (res.statusCode !== 201) throw new Error(`key creation failed: ${res.statusCode} ${res.body}`);
      return res.json().token as string;
    },
    async close() {
      await worker?.close();
      await app.close();
      await clearPrefix(resources, config.QUEUE_PREFIX);
      await closeResources(resources);
      await database.drop();
    },
  };
}

async function clearPrefix(resources: Resources, prefix: string): Promise<void> {
  const redis = resources.redis;
  if (redis.status !== 'ready') return;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
