import { Redis, type RedisOptions } from 'ioredis';

/**
 * Producer connections fail fast (API and relay must not hang on a dead Redis); worker connections
 * wait forever, as BullMQ requires (`maxRetriesPerRequest: null`).
 */
export function createRedis(url: string, kind: 'producer' | 'worker', name = 'tessera'): Redis {
  const options: RedisOptions = {
    connectionName: name,
    lazyConnect: true,
    connectTimeout: 3000,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    ...(kind === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
  };
  const redis = new Redis(url, options);
  // Connection errors are reported through readiness and the callers' failures; without a listener
  // ioredis would print every reconnect attempt.
  redis.on('error', () => {});
  return redis;
}

/** Resolves once connected, or rejects after `timeoutMs`. */
export async function connectRedis(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') redis.connect().catch(() => {});
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status === 'wait') redis.connect().catch(() => {});
  if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
  await Promise.race([
    redis.ping(),
    new Promise((_, reject) => setTimeout(() => reject(new Error('Redis PING timed out')), timeoutMs)),
  ]);
}
