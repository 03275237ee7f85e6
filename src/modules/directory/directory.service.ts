import { type Database, type Executor, inTransaction } from '../../db/db.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/pg-errors.ts';
import { writeAudit } from '../../platform/audit.ts';
import { type RequestContext, type Scope, scopeOf } from '../../platform/context.ts';
import { checkVersion, DomainError } from '../../platform/errors.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { Page } from '../../platform/paging.ts';
import { DirectoryErrors as E } from './directory.errors.ts';
import * as repo from './directory.repository.ts';
import type {
  Customer,
  CustomerCreate,
  CustomerListQuery,
  CustomerPatch,
  Group,
  GroupCreate,
  GroupListQuery,
  GroupPatch,
  Person,
  PersonCreate,
  PersonListQuery,
  PersonPatch,
} from './directory.schemas.ts';

/** Runs `work`, turning the unique-key clashes it may hit into the matching domain error. */
async function guardUnique<T>(work: () => Promise<T>, clashes: Record<string, () => Error>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    for (const [constraint, error] of Object.entries(clashes))
      if (isUniqueViolation(err, constraint)) throw error();
    throw err;
  }
}

export function createDirectoryService({ db }: { db: Database }) {
  // ---- customers ----
  async function getCustomer(ctx: RequestContext, id: string): Promise<Customer> {
    const row = await repo.findCustomer(db, scopeOf(ctx), id);
    if (!row) throw E.customerNotFound(id);
    return repo.toCustomer(row);
  }

  async function createCustomer(ctx: RequestContext, input: CustomerCreate): Promise<Customer> {
    if (ctx.actor.customerId) {
      throw new DomainError(
        'DIRECTORY_BOUND_KEY',
        'forbidden',
        'A key bound to a customer cannot create customers',
      );
    }
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const row = await repo.insertCustomer(trx, {
            code: input.code,
            name: input.name,
            status: input.status ?? 'active',
            email: input.email ?? null,
            phone: input.phone ?? null,
            notes: input.notes ?? null,
          });
          const customer = repo.toCustomer(row);
          await writeAudit(trx, ctx, {
            action: 'customer.create',
            recordType: 'customer',
            recordId: row.id,
            customerId: row.id,
            after: customer,
          });
          await emitEvent(trx, {
            type: 'customer.created',
            aggregateType: 'customer',
            aggregateId: row.id,
            customerId: row.id,
            payload: { customer },
          });
          return customer;
        }),
      { customers_code_key: () => E.duplicateCode(input.code) },
    );
  }

  async function updateCustomer(
    ctx: RequestContext,
    id: string,
    patch: CustomerPatch,
    expected?: number,
  ): Promise<Customer> {
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const scope = scopeOf(ctx);
          const before = await repo.lockCustomer(trx, scope, id);
          if (!before) throw E.customerNotFound(id);
          checkVersion(before.version, expected);
          const after = repo.toCustomer(await repo.updateCustomer(trx, scope, id, patch));
          const previous = repo.toCustomer(before);
          await writeAudit(trx, ctx, {
            action: 'customer.update',
            recordType: 'customer',
            recordId: id,
            customerId: id,
            before: previous,
            after,
          });
          await emitEvent(trx, {
            type: 'customer.updated',
            aggregateType: 'customer',
            aggregateId: id,
            customerId: id,
            payload: { customer: after, changed: Object.keys(patch) },
          });
          return after;
        }),
      { customers_code_key: () => E.duplicateCode(patch.code ?? '') },
    );
  }

  async function listCustomers(ctx: RequestContext, query: CustomerListQuery): Promise<Page<Customer>> {
    const page = await repo.listCustomers(db, scopeOf(ctx), query);
    return { items: page.items.map(repo.toCustomer), nextCursor: page.nextCursor };
  }

  // ---- people ----
  async function getPerson(ctx: RequestContext, id: string): Promise<Person> {
    const row = await repo.findPerson(db, scopeOf(ctx), id);
    if (!row) throw E.personNotFound(id);
    return repo.toPerson(row);
  }

  async function createPerson(ctx: RequestContext, input: PersonCreate): Promise<Person> {
    const scope = scopeOf(ctx);
    let customerId = input.customerId ?? null;
    if (input.kind === 'agent' && customerId) throw E.agentHasNoCustomer();
    if (input.kind === 'agent' && scope.customerId) throw E.agentHasNoCustomer();
    if (input.kind === 'contact') {
      customerId ??= scope.customerId;
      if (!customerId) throw E.contactNeedsCustomer();
      // A bound key may only create contacts of its own customer; anyone else's is "unknown".
      if (!(await repo.findCustomer(db, scope, customerId))) throw E.unknownCustomer(customerId);
    }
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const row = await repo.insertPerson(trx, {
            name: input.name,
            email: input.email,
            kind: input.kind,
            customer_id: customerId,
            phone: input.phone ?? null,
            department: input.department ?? null,
            active: input.active ?? true,
          });
          const person = repo.toPerson(row);
          await writeAudit(trx, ctx, {
            action: 'person.create',
            recordType: 'person',
            recordId: row.id,
            customerId,
            after: person,
          });
          await emitEvent(trx, {
            type: 'person.created',
            aggregateType: 'person',
            aggregateId: row.id,
            customerId,
            payload: { person },
          });
          return person;
        }),
      { people_email_key: () => E.duplicateEmail(input.email) },
    ).catch((err) => {
      if (isForeignKeyViolation(err)) throw E.unknownCustomer(customerId ?? '');
      throw err;
    });
  }

  async function updatePerson(
    ctx: RequestContext,
    id: string,
    patch: PersonPatch,
    expected?: number,
  ): Promise<Person> {
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const scope = scopeOf(ctx);
          const before = await repo.lockPerson(trx, scope, id);
          if (!before) throw E.personNotFound(id);
          checkVersion(before.version, expected);
          const after = repo.toPerson(await repo.updatePerson(trx, scope, id, patch));
          await writeAudit(trx, ctx, {
            action: 'person.update',
            recordType: 'person',
            recordId: id,
            customerId: before.customer_id,
            before: repo.toPerson(before),
            after,
          });
          await emitEvent(trx, {
            type: 'person.updated',
            aggregateType: 'person',
            aggregateId: id,
            customerId: before.customer_id,
            payload: { person: after, changed: Object.keys(patch) },
          });
          return after;
        }),
      { people_email_key: () => E.duplicateEmail(patch.email ?? '') },
    );
  }

  async function listPeople(ctx: RequestContext, query: PersonListQuery): Promise<Page<Person>> {
    const page = await repo.listPeople(db, scopeOf(ctx), query);
    return { items: page.items.map(repo.toPerson), nextCursor: page.nextCursor };
  }

  // ---- groups ----
  async function loadGroup(executor: Executor, id: string): Promise<Group> {
    const row = await repo.findGroup(executor, id);
    if (!row) throw E.groupNotFound(id);
    return repo.toGroup(row, (await repo.membersOf(executor, [id])).get(id) ?? []);
  }

  async function checkMembers(executor: Executor, memberIds: readonly string[] | undefined): Promise<void> {
    if (!memberIds) return;
    const bad = await repo.nonAgents(executor, memberIds);
    if (bad.length > 0) throw E.notAgents(bad, memberIds);
  }

  async function createGroup(ctx: RequestContext, input: GroupCreate): Promise<Group> {
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          await checkMembers(trx, input.memberIds);
          const row = await repo.insertGroup(trx, {
            name: input.name,
            tier: input.tier,
            description: input.description ?? null,
            email: input.email ?? null,
            active: input.active ?? true,
          });
          await repo.replaceMembers(trx, row.id, input.memberIds ?? []);
          const group = repo.toGroup(row, [...(input.memberIds ?? [])]);
          await writeAudit(trx, ctx, {
            action: 'group.create',
            recordType: 'group',
            recordId: row.id,
            after: group,
          });
          await emitEvent(trx, {
            type: 'group.created',
            aggregateType: 'group',
            aggregateId: row.id,
            payload: { group },
          });
          return group;
        }),
      { assignment_groups_name_key: () => E.duplicateGroupName(input.name) },
    );
  }

  async function updateGroup(
    ctx: RequestContext,
    id: string,
    patch: GroupPatch,
    expected?: number,
  ): Promise<Group> {
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const locked = await repo.lockGroup(trx, id);
          if (!locked) throw E.groupNotFound(id);
          checkVersion(locked.version, expected);
          await checkMembers(trx, patch.memberIds);
          const before = await loadGroup(trx, id);
          const { memberIds, ...fields } = patch;
          await repo.updateGroup(trx, id, fields);
          if (memberIds) await repo.replaceMembers(trx, id, memberIds);
          const after = await loadGroup(trx, id);
          await writeAudit(trx, ctx, {
            action: 'group.update',
            recordType: 'group',
            recordId: id,
            before,
            after,
          });
          await emitEvent(trx, {
            type: 'group.updated',
            aggregateType: 'group',
            aggregateId: id,
            payload: { group: after, changed: Object.keys(patch) },
          });
          return after;
        }),
      { assignment_groups_name_key: () => E.duplicateGroupName(patch.name ?? '') },
    );
  }

  async function listGroups(query: GroupListQuery): Promise<Page<Group>> {
    const page = await repo.listGroups(db, query);
    const members = await repo.membersOf(
      db,
      page.items.map((g) => g.id),
    );
    return {
      items: page.items.map((row) => repo.toGroup(row, members.get(row.id) ?? [])),
      nextCursor: page.nextCursor,
    };
  }

  return {
    getCustomer,
    createCustomer,
    updateCustomer,
    listCustomers,
    getPerson,
    createPerson,
    updatePerson,
    listPeople,
    getGroup: (id: string) => loadGroup(db, id),
    createGroup,
    updateGroup,
    listGroups,
  };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;

/**
 * For other modules: whether a customer exists within the caller's scope. Modules that own
 * customer-bound records check their `customerId` through this, not by querying `customers`.
 */
export async function customerVisible(executor: Executor, scope: Scope, id: string): Promise<boolean> {
  return (await repo.findCustomer(executor, scope, id)) !== undefined;
}

/** For other modules: a group's tier and whether it is active, or undefined when unknown. */
export async function groupInfo(executor: Executor, id: string) {
  const row = await repo.findGroup(executor, id);
  return row ? { id: row.id, name: row.name, tier: row.tier, active: row.active } : undefined;
}

/** For other modules: a person's kind, customer and whether active, or undefined when unknown. */
export async function personInfo(executor: Executor, id: string) {
  const row = await repo.findPerson(executor, { customerId: null }, id);
  return row
    ? { id: row.id, name: row.name, kind: row.kind, customerId: row.customer_id, active: row.active }
    : undefined;
}

/** For other modules: whether a person is a member of a group. */
export async function isGroupMember(executor: Executor, groupId: string, personId: string): Promise<boolean> {
  return ((await repo.membersOf(executor, [groupId])).get(groupId) ?? []).includes(personId);
}
