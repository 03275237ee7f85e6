import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../../db/db.ts';
import type { Actor, RequestContext, Role } from '../context.ts';
import { DomainError } from '../errors.ts';
import { findActiveKeyByHash, touchKey } from './api-keys.repository.ts';
import { hashToken, tokenFromHeader } from './tokens.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on this route. Every `/api/` route declares `roles` or `public`. */
    roles?: readonly Role[];
    /** No API key needed (health, confirmations by token, inbound endpoints with their own auth). */
    public?: boolean;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
}

/** Resolves tokens to actors, with a short in-process cache so auth costs no query per request. */
export class KeyCache {
  private readonly entries = new Map<string, { actor: Actor; until: number }>();
  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
  ) {}

  async resolve(token: string): Promise<Actor | null> {
    const hash = hashToken(token);
    const now = Date.now();
    const hit = this.entries.get(hash);
    if (hit && hit.until > now) return hit.actor;
    const row = await findActiveKeyByHash(this.db, hash);
    if (!row) {
      this.entries.delete(hash);
      return null;
    }
    const actor: Actor = { keyId: row.id, name: row.name, role: row.role, customerId: row.customer_id };
    if (this.ttlMs > 0) this.entries.set(hash, { actor, until: now + this.ttlMs });
    // last_used_at is advisory: refreshed at most once per cache period, never on the request path.
    touchKey(this.db, row.id).catch(() => {});
    return actor;
  }

  forget(keyId: string): void {
    for (const [hash, entry] of this.entries) if (entry.actor.keyId === keyId) this.entries.delete(hash);
  }
}

export function contextOf(request: FastifyRequest): RequestContext {
  if (!request.actor) throw new DomainError('AUTH_REQUIRED', 'unauthorized', 'An API key is required');
  return { actor: request.actor, requestId: String(request.id) };
}

export function registerAuth(app: FastifyInstance, keys: KeyCache): void {
  app.decorateRequest('actor', null);

  app.addHook('onRoute', (route) => {
    const config = route.config ?? {};
    if (!route.url.startsWith('/api/')) return;
    if (config.public) {
      // OpenAPI: an empty requirement list says "no API key" explicitly.
      route.schema ??= {};
      (route.schema as Record<string, unknown>).security ??= [];
      return;
    }
    if (!config.roles || config.roles.length === 0) {
      throw new Error(`Route ${route.method} ${route.url} declares neither roles nor public`);
    }
    route.schema ??= {};
    const schema = route.schema as Record<string, unknown>;
    schema.security = [{ bearerAuth: [] }];
    const roles = `Roles: ${config.roles.join(', ')}.`;
    schema.description = schema.description ? `${schema.description}\n\n${roles}` : roles;
  });

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (!config?.roles || config.public) return;
    const token = tokenFromHeader(request.headers.authorization);
    if (!token) {
      throw new DomainError(
        'AUTH_REQUIRED',
        'unauthorized',
        'Send an API key as "Authorization: Bearer <token>"',
      );
    }
    const actor = await keys.resolve(token);
    if (!actor) throw new DomainError('AUTH_INVALID', 'unauthorized', 'The API key is unknown or revoked');
    request.actor = actor;
    if (!config.roles.includes(actor.role)) {
      throw new DomainError('AUTH_FORBIDDEN', 'forbidden', `Role ${actor.role} may not do this`, {
        allowedRoles: config.roles,
      });
    }
  });
}
