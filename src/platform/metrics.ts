import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/db.ts';
import type { QueueRegistry } from './jobs.ts';

/**
 * `/metrics` in the Prometheus text format: HTTP latency by route, queue depths by state, outbox
 * backlog and lag, and the process's own metrics. One registry per app instance.
 */
export function registerMetrics(
  app: FastifyInstance,
  deps: { db: Database; queues: QueueRegistry; queueNames: () => string[] },
): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });

  const latency = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  new Gauge({
    name: 'tessera_queue_jobs',
    help: 'BullMQ jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (deps.queues.connection.status !== 'ready') return;
      for (const name of deps.queueNames()) {
        const counts = await deps.queues
          .get(name)
          .getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')
          .catch(() => null);
        for (const [state, count] of Object.entries(counts ?? {})) this.set({ queue: name, state }, count);
      }
    },
  });

  // Each gauge reads the outbox in its own collect: prom-client collects all metrics of a scrape at
  // once, so a value set by another metric's collect would be reported one scrape late.
  const outboxState = () =>
    sql<{ unsent: number; lag: number | null }>`
      SELECT count(*)::int AS unsent, extract(epoch FROM now() - min(occurred_at))::float8 AS lag
      FROM outbox WHERE sent_at IS NULL`
      .execute(deps.db)
      .then((r) => r.rows[0])
      .catch(() => undefined);
  new Gauge({
    name: 'tessera_outbox_unsent',
    help: 'Domain events waiting in the outbox',
    registers: [registry],
    async collect() {
      this.set((await outboxState())?.unsent ?? 0);
    },
  });
  new Gauge({
    name: 'tessera_outbox_lag_seconds',
    help: 'Age of the oldest unsent outbox event (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await outboxState())?.lag ?? 0);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    if (!route || route === '/metrics') return;
    latency.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
