import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Database } from '../db/db.ts';
import { DomainError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { actor: string; key: string } | null;
  }
}

const REPLAYED_HEADERS = ['content-type', 'etag', 'location', 'content-language'];
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest('hex');
}

/**
 * `Idempotency-Key` on authenticated POSTs: the first request with a key (per actor) runs and its
 * answer is stored; a retry with the same key and body gets that answer again (`Idempotent-Replayed:
 * true`); the same key with another body is 422; a retry while the first is still running is 409.
 * Answers of 5xx are not stored, so such a request can be retried. Keys live `ttlHours`.
 */
export function registerIdempotency(app: FastifyInstance, db: Database, ttlHours: number): void {
  app.decorateRequest('idempotency', null);

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || !request.actor) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    const key = Array.isArray(header) ? header[0]! : header;
    if (!KEY_PATTERN.test(key)) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_INVALID',
        'invalid',
        'Idempotency-Key must be 1-255 visible ASCII characters',
        {},
        [{ in: 'headers', pointer: '/idempotency-key', detail: '1-255 visible ASCII characters' }],
      );
    }
    const actor = request.actor.keyId ?? request.actor.name;
    const hash = requestHash(request);
    for (let attempt = 0; attempt < 2; attempt++) {
      const inserted = await db
        .insertInto('idempotency_keys')
        .values({
          actor,
          key,
          request_hash: hash,
          expires_at: sql<Date>`now() + make_interval(hours => ${ttlHours})`,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('key')
        .executeTakeFirst();
      if (inserted) {
        request.idempotency = { actor, key };
        return;
      }
      const existing = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('actor', '=', actor)
        .where('key', '=', key)
        .executeTakeFirst();
      if (!existing) continue; // purged between the two statements: try to claim it again
      if (existing.expires_at.getTime() <= Date.now()) {
        await db.deleteFrom('idempotency_keys').where('actor', '=', actor).where('key', '=', key).execute();
        continue;
      }
      if (existing.request_hash !== hash) {
        throw new DomainError(
          'IDEMPOTENCY_KEY_REUSED',
          'unprocessable',
          'This Idempotency-Key was used with a different request; use a new key for a new request',
        );
      }
      if (existing.status_code === null) {
        reply.header('retry-after', '1');
        throw new DomainError(
          'IDEMPOTENCY_IN_PROGRESS',
          'conflict',
          'The first request with this Idempotency-Key is still running',
        );
      }
      return replay(
        reply,
        existing.status_code,
        existing.response_headers ?? {},
        existing.response_body ?? '',
      );
    }
    throw new DomainError(
      'IDEMPOTENCY_IN_PROGRESS',
      'conflict',
      'The Idempotency-Key could not be claimed; retry',
    );
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    request.idempotency = null;
    const where = db
      .deleteFrom('idempotency_keys')
      .where('actor', '=', claim.actor)
      .where('key', '=', claim.key);
    if (
      reply.statusCode >= 500 ||
      (typeof payload !== 'string' && !Buffer.isBuffer(payload) && payload != null)
    ) {
      await where.execute();
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    await db
      .updateTable('idempotency_keys')
      .set({
        status_code: reply.statusCode,
        response_headers: JSON.stringify(headers),
        response_body: payload == null ? '' : payload.toString(),
      })
      .where('actor', '=', claim.actor)
      .where('key', '=', claim.key)
      .execute();
    return payload;
  });
}

function replay(
  reply: FastifyReply,
  status: number,
  headers: Record<string, string>,
  body: string,
): FastifyReply {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  reply.header('idempotent-replayed', 'true');
  return reply.code(status).send(body);
}
