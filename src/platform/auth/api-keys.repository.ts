import type { Selectable } from 'kysely';
import type { Executor } from '../../db/db.ts';
import type { ApiKeysTable } from '../../db/schema.ts';
import { type PageQuery, paginate } from '../paging.ts';
import { iso, isoOrNull } from '../schemas.ts';
import type { ApiKey } from './api-keys.schemas.ts';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    customerId: row.customer_id,
    tokenPrefix: row.token_prefix,
    bootstrap: row.bootstrap,
    createdAt: iso(row.created_at),
    lastUsedAt: isoOrNull(row.last_used_at),
    revokedAt: isoOrNull(row.revoked_at),
  };
}

export function findActiveKeyByHash(db: Executor, hash: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'name', 'role', 'customer_id'])
    .where('token_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function touchKey(db: Executor, id: string): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}

export function insertKey(
  db: Executor,
  values: Pick<ApiKeyRow, 'name' | 'role' | 'customer_id' | 'token_hash' | 'token_prefix' | 'created_by'> & {
    bootstrap?: boolean;
  },
) {
  return db.insertInto('api_keys').values(values).returningAll().executeTakeFirstOrThrow();
}

export function findKey(db: Executor, id: string) {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listKeys(
  db: Executor,
  filter: { role?: ApiKeyRow['role']; customerId?: string; includeRevoked?: boolean },
  page: PageQuery,
) {
  let q = db.selectFrom('api_keys').selectAll();
  if (filter.role) q = q.where('role', '=', filter.role);
  if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
  if (!filter.includeRevoked) q = q.where('revoked_at', 'is', null);
  return paginate(q, {
    page,
    columns: { createdAt: 'created_at', name: 'name' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

export function revokeKey(db: Executor, id: string) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export function findBootstrapKeys(db: Executor) {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('bootstrap', '=', true)
    .where('revoked_at', 'is', null)
    .execute();
}
