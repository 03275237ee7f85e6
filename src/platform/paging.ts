import { type SelectQueryBuilder, sql } from 'kysely';
import { type Static, type TProperties, type TSchema, Type } from 'typebox';
import { DomainError } from './errors.ts';

/** Query parameters every list accepts. */
export const PageQuerySchema = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size (max 500)' }),
  ),
  cursor: Type.Optional(
    Type.String({ maxLength: 1000, description: "Opaque cursor from the previous page's `nextCursor`" }),
  ),
});

/** A list's query schema: paging plus the list's own filters (and its `sort`). */
export const listQuery = <P extends TProperties>(filters: P) =>
  Type.Object({ ...PageQuerySchema.properties, ...filters });

export function sortQuery(fields: readonly string[], defaultSort: string) {
  const pattern = `^-?(${fields.join('|')})$`;
  return Type.Optional(
    Type.String({
      pattern,
      default: defaultSort,
      description: `Sort field, \`-\` for descending: ${fields.map((f) => `\`${f}\``).join(', ')}`,
    }),
  );
}

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Cursor of the next page, null at the end',
    }),
  });

export type PageQuery = Static<typeof PageQuerySchema> & { sort?: string };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** API sort field -> SQL column (qualified when the query joins). */
export type SortColumns = Record<string, string>;

function encodeCursor(sortKey: string, value: unknown, id: unknown): string {
  const v = value instanceof Date ? value.toISOString() : value;
  return Buffer.from(JSON.stringify([sortKey, v, id])).toString('base64url');
}

function decodeCursor(cursor: string, sortKey: string): [unknown, unknown] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Only scalars this module encoded: a forged null would match no row (a silent empty page),
    // and an object or array would reach SQL as a literal of the wrong type.
    const scalar = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      parsed[0] === sortKey &&
      scalar(parsed[1]) &&
      scalar(parsed[2])
    )
      return [parsed[1], parsed[2]];
  } catch {
    // fall through
  }
  throw new DomainError(
    'INVALID_CURSOR',
    'invalid',
    'cursor is not one this list gave out for this sort',
    {},
    [{ in: 'query', pointer: '/cursor', detail: 'unknown cursor for this sort' }],
  );
}

/**
 * Keyset paging: orders by the sort column then the id column (same direction), continues after the
 * cursor's (value, id), fetches one extra row to know whether a next page exists. The sort column
 * must be selected under its bare column name (the part after the last dot).
 */
export async function paginate<DB, TB extends keyof DB, O extends Record<string, unknown>>(
  query: SelectQueryBuilder<DB, TB, O>,
  options: { page: PageQuery; columns: SortColumns; defaultSort: string; idColumn: string },
): Promise<Page<O>> {
  const sort = options.page.sort ?? options.defaultSort;
  const descending = sort.startsWith('-');
  const key = descending ? sort.slice(1) : sort;
  const column = options.columns[key];
  if (!column) {
    throw new DomainError('INVALID_SORT', 'invalid', `cannot sort by ${key}`, {}, [
      { in: 'query', pointer: '/sort', detail: `must be one of ${Object.keys(options.columns).join(', ')}` },
    ]);
  }
  const limit = options.page.limit ?? 50;
  const direction = descending ? 'desc' : 'asc';
  let q = query;
  if (options.page.cursor) {
    const [value, id] = decodeCursor(options.page.cursor, sort);
    const op = descending ? sql.raw('<') : sql.raw('>');
    q = q.where(
      sql<boolean>`(${sql.ref(column)}, ${sql.ref(options.idColumn)}) ${op} (${value}, ${id})`,
    ) as typeof q;
  }
  const rows = await q
    .orderBy(sql.ref(column), direction)
    .orderBy(sql.ref(options.idColumn), direction)
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit) as O[];
  const last = items[items.length - 1];
  const bare = (name: string) => name.slice(name.lastIndexOf('.') + 1);
  const nextCursor =
    rows.length > limit && last ? encodeCursor(sort, last[bare(column)], last[bare(options.idColumn)]) : null;
  return { items, nextCursor };
}
