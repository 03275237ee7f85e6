import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { Database } from '../db/db.ts';
import { pingRedis } from './redis.ts';

const Check = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  reason: Type.Optional(Type.String()),
});
const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  checks: Type.Optional(Type.Object({ postgres: Check, redis: Check })),
});

async function check(work: () => Promise<unknown>): Promise<{ status: 'ok' | 'fail'; reason?: string }> {
  try {
    await work();
    return { status: 'ok' };
  } catch (err) {
    return { status: 'fail', reason: err instanceof Error ? err.message : String(err) };
  }
}

/** `/healthz`: the process answers. `/readyz`: PostgreSQL and Redis answer too (503 with reasons). */
export function registerHealth(app: FastifyInstance, deps: { db: Database; redis: Redis }): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getHealth',
        summary: 'Liveness',
        response: { 200: HealthSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getReadiness',
        summary: 'Readiness: PostgreSQL and Redis reachable',
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      const [postgres, redis] = await Promise.all([
        check(() =>
          Promise.race([
            sql`SELECT 1`.execute(deps.db),
            new Promise((_, reject) => setTimeout(() => reject(new Error('PostgreSQL timed out')), 2000)),
          ]),
        ),
        check(() => pingRedis(deps.redis)),
      ]);
      const ok = postgres.status === 'ok' && redis.status === 'ok';
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'fail', checks: { postgres, redis } });
    },
  );
}
