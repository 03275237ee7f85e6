import { type Database, inTransaction } from '../../db/db.ts';
import { isForeignKeyViolation } from '../../db/pg-errors.ts';
import { writeAudit } from '../audit.ts';
import type { RequestContext } from '../context.ts';
import { invalidField, notFound } from '../errors.ts';
import type { PageQuery } from '../paging.ts';
import * as repo from './api-keys.repository.ts';
import type { ApiKeyCreate } from './api-keys.schemas.ts';
import type { KeyCache } from './auth.plugin.ts';
import { generateToken, hashToken, tokenPrefix } from './tokens.ts';

export function createApiKeyService({ db, keys }: { db: Database; keys: KeyCache }) {
  return {
    async create(ctx: RequestContext, input: ApiKeyCreate) {
      const customerId = input.customerId ?? null;
      if (customerId && input.role === 'admin') {
        throw invalidField('API_KEY_ADMIN_BOUND', 'customerId', 'an admin key cannot be bound to a customer');
      }
      const token = generateToken();
      try {
        return await inTransaction(db, async (trx) => {
          const row = await repo.insertKey(trx, {
            name: input.name,
            role: input.role,
            customer_id: customerId,
            token_hash: hashToken(token),
            token_prefix: tokenPrefix(token),
            created_by: ctx.actor.keyId,
          });
          const key = repo.toApiKey(row);
          await writeAudit(trx, ctx, {
            action: 'api_key.create',
            recordType: 'api_key',
            recordId: row.id,
            after: key,
          });
          return { ...key, token };
        });
      } catch (err) {
        if (isForeignKeyViolation(err)) {
          throw invalidField('API_KEY_UNKNOWN_CUSTOMER', 'customerId', `no customer ${customerId}`);
        }
        throw err;
      }
    },

    async get(id: string) {
      const row = await repo.findKey(db, id);
      if (!row) throw notFound('API_KEY_NOT_FOUND', 'API key', id);
      return repo.toApiKey(row);
    },

    async list(filter: Parameters<typeof repo.listKeys>[1], page: PageQuery) {
      const result = await repo.listKeys(db, filter, page);
      return { items: result.items.map(repo.toApiKey), nextCursor: result.nextCursor };
    },

    async revoke(ctx: RequestContext, id: string) {
      await inTransaction(db, async (trx) => {
        const before = await repo.findKey(trx, id);
        if (!before || before.revoked_at) throw notFound('API_KEY_NOT_FOUND', 'API key', id);
        const after = await repo.revokeKey(trx, id);
        await writeAudit(trx, ctx, {
          action: 'api_key.revoke',
          recordType: 'api_key',
          recordId: id,
          before: repo.toApiKey(before),
          after: after ? repo.toApiKey(after) : null,
        });
      });
      keys.forget(id);
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;

/**
 * Makes sure an unrevoked admin key with exactly `token` exists; a bootstrap key with another
 * token (the variable changed) is revoked. Safe to run from several processes at once.
 */
export async function ensureBootstrapKey(db: Database, token: string): Promise<void> {
  const hash = hashToken(token);
  await inTransaction(db, async (trx) => {
    const existing = await repo.findBootstrapKeys(trx);
    for (const key of existing) if (key.token_hash !== hash) await repo.revokeKey(trx, key.id);
    if (existing.some((key) => key.token_hash === hash)) return;
    await trx
      .insertInto('api_keys')
      .values({
        name: 'bootstrap-admin',
        role: 'admin',
        customer_id: null,
        token_hash: hash,
        token_prefix: tokenPrefix(token),
        bootstrap: true,
      })
      .onConflict((oc) =>
        oc
          .column('token_hash')
          .doUpdateSet({ revoked_at: null, role: 'admin', bootstrap: true, customer_id: null }),
      )
      .execute();
  });
}
