import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextTierGroup, type RoutingCriteria, routeTicket } from '../../../src/modules/service-desk/index.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { customer, group, problem } from './fixtures.ts';

let t: TestApp;
let acme: { id: string };
let globex: { id: string };
let tokens: Record<'manager' | 'agent' | 'requester' | 'integration', string>;
let desk: { id: string };
let mailDesk: { id: string };
let acmeDesk: { id: string };
let network: { id: string };
let apps: { id: string };
let vendor: { id: string };
let retiredTier2: { id: string };
const serviceId = randomUUID();

const none: RoutingCriteria = { customerId: null, category: null, serviceId: null, channel: null };

async function rule(body: Record<string, unknown>, token = tokens.manager) {
  const res = await t.request('POST', '/api/v1/routing-rules', { token, body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

beforeAll(async () => {
  t = await startTestApp();
  acme = await customer(t);
  globex = await customer(t);
  tokens = {
    manager: await t.key('manager'),
    agent: await t.key('agent'),
    requester: await t.key('requester', acme.id),
    integration: await t.key('integration'),
  };
  desk = await group(t, 'Service desk 服务台', 1);
  mailDesk = await group(t, 'Mail desk', 1);
  acmeDesk = await group(t, 'Acme desk', 1);
  network = await group(t, 'Network 网络组', 2);
  apps = await group(t, 'Applications 应用组', 2);
  vendor = await group(t, 'Vendor 原厂', 3);
  retiredTier2 = await group(t, 'AAA retired', 2, true);
});
afterAll(async () => {
  await t?.close();
});

describe('routing rules API', () => {
  it('creates, reads, patches with If-Match, lists by position and deletes', async () => {
    const created = await t.request('POST', '/api/v1/routing-rules', {
      token: tokens.manager,
      body: { position: 900, channel: 'phone', groupId: desk.id, description: '电话 -> 服务台' },
    });
    expect(created.statusCode).toBe(201);
    const r = created.json();
    expect(r).toMatchObject({
      position: 900,
      channel: 'phone',
      customerId: null,
      category: null,
      serviceId: null,
      groupId: desk.id,
      active: true,
      version: 1,
    });
    expect(r.ref).toMatch(/^RTR-\d{6,}$/);
    expect(created.headers.etag).toBe('"1"');

    const got = await t.request('GET', `/api/v1/routing-rules/${r.id}`, { token: tokens.agent });
    expect(got.statusCode).toBe(200);
    const patched = await t.request('PATCH', `/api/v1/routing-rules/${r.id}`, {
      token: tokens.manager,
      body: { channel: null, category: 'hardware' },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.json()).toMatchObject({ channel: null, category: 'hardware', version: 2 });
    const stale = await t.request('PATCH', `/api/v1/routing-rules/${r.id}`, {
      body: { active: false },
      headers: { 'if-match': '"1"' },
    });
    expect(problem(stale, 412).code).toBe('VERSION_MISMATCH');

    await rule({ position: 901, groupId: desk.id });
    const list = await t.request('GET', '/api/v1/routing-rules?limit=1', { token: tokens.agent });
    const next = await t.request('GET', `/api/v1/routing-rules?limit=10&cursor=${list.json().nextCursor}`, {
      token: tokens.agent,
    });
    expect([...list.json().items, ...next.json().items].map((x: { position: number }) => x.position)).toEqual(
      [900, 901],
    );

    const staleDelete = await t.request('DELETE', `/api/v1/routing-rules/${r.id}`, {
      headers: { 'if-match': '"1"' },
    });
    expect(staleDelete.statusCode).toBe(412);
    const deleted = await t.request('DELETE', `/api/v1/routing-rules/${r.id}`, {
      headers: { 'if-match': '"2"' },
    });
    expect(deleted.statusCode).toBe(204);
    expect(problem(await t.request('GET', `/api/v1/routing-rules/${r.id}`), 404).code).toBe(
      'SERVICE_DESK_RULE_NOT_FOUND',
    );
    const events = await t.db
      .selectFrom('outbox')
      .select('type')
      .where('aggregate_id', '=', r.id)
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.type)).toEqual([
      'routing_rule.created',
      'routing_rule.updated',
      'routing_rule.deleted',
    ]);
    // Clean up so the routing cases below see only their own rules.
    await t.db.deleteFrom('routing_rules').execute();
  });

  it('checks positions, groups and customers', async () => {
    await rule({ position: 500, groupId: desk.id });
    const dup = problem(
      await t.request('POST', '/api/v1/routing-rules', { body: { position: 500, groupId: desk.id } }),
      409,
    );
    expect(dup).toMatchObject({ code: 'SERVICE_DESK_RULE_POSITION_TAKEN' });
    expect(dup.errors?.[0]?.pointer).toBe('/position');
    const unknownGroup = problem(
      await t.request('POST', '/api/v1/routing-rules', { body: { position: 501, groupId: randomUUID() } }),
      400,
    );
    expect(unknownGroup.code).toBe('SERVICE_DESK_UNKNOWN_GROUP');
    const off = await group(t, 'Disbanded', 2, false);
    const inactive = problem(
      await t.request('POST', '/api/v1/routing-rules', { body: { position: 502, groupId: off.id } }),
      400,
    );
    expect(inactive.code).toBe('SERVICE_DESK_INACTIVE_GROUP');
    const unknownCustomer = problem(
      await t.request('POST', '/api/v1/routing-rules', {
        body: { position: 503, groupId: desk.id, customerId: randomUUID() },
      }),
      400,
    );
    expect(unknownCustomer.errors?.[0]?.pointer).toBe('/customerId');
    const badChannel = problem(
      await t.request('POST', '/api/v1/routing-rules', {
        body: { position: 504, groupId: desk.id, channel: 'a b' },
      }),
      400,
    );
    expect(badChannel.errors?.[0]?.pointer).toBe('/channel');
    await t.db.deleteFrom('routing_rules').execute();
  });

  it('lets admins and managers write, agents read, and nobody else in', async () => {
    const r = await rule({ position: 700, groupId: desk.id });
    for (const token of [tokens.agent, tokens.requester, tokens.integration]) {
      const create = await t.request('POST', '/api/v1/routing-rules', {
        token,
        body: { position: 701, groupId: desk.id },
      });
      expect(problem(create, 403).code).toBe('AUTH_FORBIDDEN');
      const patch = await t.request('PATCH', `/api/v1/routing-rules/${r.id}`, {
        token,
        body: { active: false },
      });
      expect(patch.statusCode).toBe(403);
      const del = await t.request('DELETE', `/api/v1/routing-rules/${r.id}`, { token });
      expect(del.statusCode).toBe(403);
    }
    for (const token of [tokens.requester, tokens.integration]) {
      expect((await t.request('GET', '/api/v1/routing-rules', { token })).statusCode).toBe(403);
      expect((await t.request('GET', `/api/v1/routing-rules/${r.id}`, { token })).statusCode).toBe(403);
    }
    expect((await t.request('GET', '/api/v1/routing-rules', { token: tokens.agent })).statusCode).toBe(200);
    await t.db.deleteFrom('routing_rules').execute();
  });
});

describe('routeTicket and nextTierGroup', () => {
  it('routes to the first active matching rule by position', async () => {
    expect(await routeTicket(t.db, { ...none, customerId: acme.id })).toBeNull();
    await rule({ position: 5, groupId: vendor.id, active: false }); // matches everything, but inactive
    await rule({ position: 10, customerId: acme.id, category: 'software.email', groupId: acmeDesk.id });
    await rule({ position: 20, channel: 'email', groupId: mailDesk.id });
    await rule({ position: 25, serviceId, channel: 'portal', groupId: apps.id });
    await rule({ position: 30, groupId: desk.id }); // catch-all

    const cases: [Partial<RoutingCriteria>, string][] = [
      [{ customerId: acme.id, category: 'software.email', channel: 'email' }, acmeDesk.id],
      [{ customerId: acme.id, category: 'SOFTWARE.EMAIL' }, acmeDesk.id], // codes case-insensitive
      [{ customerId: globex.id, category: 'software.email', channel: 'email' }, mailDesk.id],
      [{ customerId: acme.id, category: 'software', channel: 'Email' }, mailDesk.id],
      [{ category: 'software.email' }, desk.id], // customer unset on the ticket: the customer rule does not match
      [{ serviceId, channel: 'portal' }, apps.id],
      [{ serviceId, channel: 'phone' }, desk.id],
      [{ channel: 'portal' }, desk.id],
      [{}, desk.id],
    ];
    for (const [criteria, expected] of cases) {
      expect(await routeTicket(t.db, { ...none, ...criteria }), JSON.stringify(criteria)).toBe(expected);
    }
    await t.db.updateTable('routing_rules').set({ active: false }).where('position', '=', 30).execute();
    expect(await routeTicket(t.db, none)).toBeNull();
    await t.db.deleteFrom('routing_rules').execute();
  });

  it('escalates through a matching rule to the next tier, else to the first group of the lowest higher tier', async () => {
    await t.db
      .updateTable('assignment_groups')
      .set({ active: false })
      .where('id', '=', retiredTier2.id)
      .execute();
    await rule({ position: 10, category: 'network', groupId: network.id }); // tier 2
    await rule({ position: 20, category: 'network', groupId: vendor.id }); // tier 3
    await rule({ position: 30, customerId: acme.id, groupId: vendor.id }); // tier 3
    await rule({ position: 40, groupId: acmeDesk.id }); // tier 1: never an escalation target

    const net = { ...none, category: 'network' };
    expect(await nextTierGroup(t.db, 1, net)).toEqual({ id: network.id, tier: 2 });
    expect(await nextTierGroup(t.db, 2, net)).toEqual({ id: vendor.id, tier: 3 });
    expect(await nextTierGroup(t.db, 3, net)).toBeNull();
    // No matching rule for tier 2: the first active tier-2 group by name (not "AAA retired", inactive).
    expect(await nextTierGroup(t.db, 1, { ...none, customerId: acme.id })).toEqual({ id: apps.id, tier: 2 });
    expect(await nextTierGroup(t.db, 2, { ...none, customerId: acme.id })).toEqual({
      id: vendor.id,
      tier: 3,
    });
    expect(await nextTierGroup(t.db, 1, none)).toEqual({ id: apps.id, tier: 2 });
    // A rule whose target group was deactivated is skipped.
    await t.db.updateTable('assignment_groups').set({ active: false }).where('id', '=', network.id).execute();
    expect(await nextTierGroup(t.db, 1, net)).toEqual({ id: apps.id, tier: 2 });
    // With no active group above, nothing.
    await t.db.updateTable('assignment_groups').set({ active: false }).where('tier', '>', 1).execute();
    expect(await nextTierGroup(t.db, 1, net)).toBeNull();
  });
});
