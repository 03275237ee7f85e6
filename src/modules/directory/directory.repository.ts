import { type Selectable, sql } from 'kysely';
import type { Executor, Tx } from '../../db/db.ts';
import type { AssignmentGroupsTable, CustomersTable, PeopleTable } from '../../db/schema.ts';
import type { Scope } from '../../platform/context.ts';
import { paginate } from '../../platform/paging.ts';
import { iso } from '../../platform/schemas.ts';
import { inScope, withinScope } from '../../platform/scope.ts';
import type {
  Customer,
  CustomerListQuery,
  Group,
  GroupListQuery,
  Person,
  PersonListQuery,
} from './directory.schemas.ts';

type CustomerRow = Selectable<CustomersTable>;
type PersonRow = Selectable<PeopleTable>;
type GroupRow = Selectable<AssignmentGroupsTable>;

const like = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// ---- customers (scope column: id) ------------------------------------------------------------
export function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    ref: row.ref,
    code: row.code,
    name: row.name,
    status: row.status,
    email: row.email,
    phone: row.phone,
    notes: row.notes,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function findCustomer(db: Executor, scope: Scope, id: string) {
  return withinScope(
    db.selectFrom('customers').selectAll().where('id', '=', id),
    scope,
    'id',
  ).executeTakeFirst();
}

export function lockCustomer(trx: Tx, scope: Scope, id: string) {
  return withinScope(trx.selectFrom('customers').selectAll().where('id', '=', id), scope, 'id')
    .forUpdate()
    .executeTakeFirst();
}

export function insertCustomer(
  db: Executor,
  values: Omit<CustomerRow, 'id' | 'ref' | 'version' | 'created_at' | 'updated_at'>,
) {
  return db.insertInto('customers').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateCustomer(trx: Tx, scope: Scope, id: string, values: Partial<CustomerRow>) {
  return trx
    .updateTable('customers')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .where(inScope(scope, 'id'))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listCustomers(db: Executor, scope: Scope, f: CustomerListQuery) {
  let q = withinScope(db.selectFrom('customers').selectAll(), scope, 'id');
  if (f.status) q = q.where('status', '=', f.status);
  if (f.code) q = q.where(sql`upper(code)`, '=', f.code.toUpperCase());
  if (f.q) q = q.where((eb) => eb.or([eb('name', 'ilike', like(f.q!)), eb('code', 'ilike', like(f.q!))]));
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', name: 'name', code: 'code' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

// ---- people (scope column: customer_id; a bound key sees its customer's contacts only) -------
export function toPerson(row: PersonRow): Person {
  return {
    id: row.id,
    ref: row.ref,
    name: row.name,
    email: row.email,
    phone: row.phone,
    kind: row.kind,
    customerId: row.customer_id,
    department: row.department,
    active: row.active,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function findPerson(db: Executor, scope: Scope, id: string) {
  return withinScope(
    db.selectFrom('people').selectAll().where('id', '=', id),
    scope,
    'customer_id',
  ).executeTakeFirst();
}

export function lockPerson(trx: Tx, scope: Scope, id: string) {
  return withinScope(trx.selectFrom('people').selectAll().where('id', '=', id), scope, 'customer_id')
    .forUpdate()
    .executeTakeFirst();
}

export function insertPerson(
  db: Executor,
  values: Omit<PersonRow, 'id' | 'ref' | 'version' | 'created_at' | 'updated_at'>,
) {
  return db.insertInto('people').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updatePerson(trx: Tx, scope: Scope, id: string, values: Partial<PersonRow>) {
  return trx
    .updateTable('people')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .where(inScope(scope, 'customer_id'))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listPeople(db: Executor, scope: Scope, f: PersonListQuery) {
  let q = withinScope(db.selectFrom('people').selectAll(), scope, 'customer_id');
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  if (f.active !== undefined) q = q.where('active', '=', f.active);
  if (f.email) q = q.where(sql`lower(email)`, '=', f.email.toLowerCase());
  if (f.q) q = q.where((eb) => eb.or([eb('name', 'ilike', like(f.q!)), eb('email', 'ilike', like(f.q!))]));
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', name: 'name' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

/** The ids among `ids` that are not active agents. */
export async function nonAgents(db: Executor, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const agents = await db
    .selectFrom('people')
    .select('id')
    .where('id', 'in', ids)
    .where('kind', '=', 'agent')
    .where('active', '=', true)
    .execute();
  const found = new Set(agents.map((a) => a.id));
  return ids.filter((id) => !found.has(id));
}

// ---- assignment groups (provider-side: no customer scope) ------------------------------------
export function toGroup(row: GroupRow, memberIds: string[]): Group {
  return {
    id: row.id,
    ref: row.ref,
    name: row.name,
    tier: row.tier,
    description: row.description,
    email: row.email,
    active: row.active,
    memberIds,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function findGroup(db: Executor, id: string) {
  return db.selectFrom('assignment_groups').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockGroup(trx: Tx, id: string) {
  return trx.selectFrom('assignment_groups').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function insertGroup(
  db: Executor,
  values: Omit<GroupRow, 'id' | 'ref' | 'version' | 'created_at' | 'updated_at'>,
) {
  return db.insertInto('assignment_groups').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateGroup(trx: Tx, id: string, values: Partial<GroupRow>) {
  return trx
    .updateTable('assignment_groups')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function replaceMembers(trx: Tx, groupId: string, memberIds: readonly string[]): Promise<void> {
  await trx.deleteFrom('group_members').where('group_id', '=', groupId).execute();
  if (memberIds.length > 0) {
    await trx
      .insertInto('group_members')
      .values(memberIds.map((person_id) => ({ group_id: groupId, person_id })))
      .execute();
  }
}

/** Member ids per group, for a page of groups in one query. */
export async function membersOf(db: Executor, groupIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return out;
  const rows = await db
    .selectFrom('group_members')
    .select(['group_id', 'person_id'])
    .where('group_id', 'in', groupIds)
    .orderBy('added_at')
    .orderBy('person_id')
    .execute();
  for (const row of rows) out.get(row.group_id)?.push(row.person_id);
  return out;
}

export function listGroups(db: Executor, f: GroupListQuery) {
  let q = db.selectFrom('assignment_groups').selectAll();
  if (f.tier) q = q.where('tier', '=', f.tier);
  if (f.active !== undefined) q = q.where('active', '=', f.active);
  if (f.memberId) {
    q = q.where(
      'id',
      'in',
      db.selectFrom('group_members').select('group_id').where('person_id', '=', f.memberId!),
    );
  }
  if (f.q) q = q.where('name', 'ilike', like(f.q));
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', name: 'name', tier: 'tier' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}
