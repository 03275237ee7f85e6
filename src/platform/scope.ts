import { type Expression, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import type { Scope } from './context.ts';

/**
 * Customer isolation, applied in every repository query of a customer-owned table: a key bound to
 * one customer only ever matches rows of that customer. `column` is the row's customer column
 * (`customer_id`, or `id` for the customers table itself).
 */
export function withinScope<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  scope: Scope,
  column: string,
): SelectQueryBuilder<DB, TB, O> {
  if (scope.customerId === null) return query;
  return query.where(sql.ref(column), '=', scope.customerId);
}

/** The same condition as an expression, for update and delete builders: `.where(inScope(scope, 'customer_id'))`. */
export function inScope(scope: Scope, column: string): Expression<SqlBool> {
  return scope.customerId === null
    ? sql<SqlBool>`true`
    : sql<SqlBool>`${sql.ref(column)} = ${scope.customerId}`;
}
