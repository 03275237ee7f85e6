import type { Resources } from './app.ts';
import type { Config } from './config.ts';
import { createDb } from './db/db.ts';
import { QueueRegistry } from './platform/jobs.ts';
import { createRedis } from './platform/redis.ts';

/** The database and Redis locations a process runs against (given, or embedded ones it started). */
export interface Endpoints {
  databaseUrl: string;
  redisUrl: string;
}

/** Opens the shared connections: a pg pool (lazy), a fail-fast Redis producer, the queue registry. */
export function openResources(config: Config, endpoints: Endpoints): Resources {
  const db = createDb(endpoints.databaseUrl, config.DATABASE_POOL_SIZE);
  const redis = createRedis(endpoints.redisUrl, 'producer', 'tessera-producer');
  redis.connect().catch(() => {});
  return { db, redis, queues: new QueueRegistry(redis, config.QUEUE_PREFIX) };
}

export async function closeResources(resources: Resources): Promise<void> {
  await resources.queues.close();
  resources.redis.disconnect();
  await resources.db.destroy();
}
