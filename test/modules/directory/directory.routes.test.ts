import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem } from '../../helpers/problems.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('customers', () => {
  it('creates, reads, patches with If-Match and lists with paging', async () => {
    const created = await t.request('POST', '/api/v1/customers', {
      body: { name: 'Acme 甲方', code: 'ACME' },
    });
    expect(created.statusCode).toBe(201);
    const customer = created.json();
    expect(customer).toMatchObject({ name: 'Acme 甲方', code: 'ACME', status: 'active', version: 1 });
    expect(customer.ref).toMatch(/^CUS-\d{6,}$/);
    expect(created.headers.etag).toBe('"1"');

    const got = await t.request('GET', `/api/v1/customers/${customer.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe('"1"');

    const patched = await t.request('PATCH', `/api/v1/customers/${customer.id}`, {
      body: { name: 'Acme 乙方' },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'Acme 乙方', version: 2 });
    expect(patched.headers.etag).toBe('"2"');

    const stale = await t.request('PATCH', `/api/v1/customers/${customer.id}`, {
      body: { name: 'Lost update' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toContain('application/problem+json');
    expect(stale.json()).toMatchObject({ status: 412, code: 'VERSION_MISMATCH', currentVersion: 2 });
    expect((await t.request('GET', `/api/v1/customers/${customer.id}`)).json().name).toBe('Acme 乙方');

    for (const code of ['B1', 'B2', 'B3']) {
      expect((await t.request('POST', '/api/v1/customers', { body: { name: code, code } })).statusCode).toBe(
        201,
      );
    }
    const page1 = await t.request('GET', '/api/v1/customers?limit=2');
    expect(page1.statusCode).toBe(200);
    expect(page1.json().items).toHaveLength(2);
    const page2 = await t.request('GET', `/api/v1/customers?limit=2&cursor=${page1.json().nextCursor}`);
    expect(page2.json().items).toHaveLength(2);
    expect(page2.json().nextCursor).toBeNull();
    const all = [...page1.json().items, ...page2.json().items].map((c: { code: string }) => c.code);
    expect(all).toEqual(['ACME', 'B1', 'B2', 'B3']);
  });
});

describe('people', () => {
  it('creates agents and contacts with their rules', async () => {
    const customer = (
      await t.request('POST', '/api/v1/customers', { body: { name: 'People Co', code: 'PPL' } })
    ).json();
    const agent = await t.request('POST', '/api/v1/people', {
      body: { name: 'Ada', email: 'ada@provider.example', kind: 'agent' },
    });
    expect(agent.statusCode).toBe(201);
    expect(agent.json()).toMatchObject({ kind: 'agent', customerId: null, active: true, version: 1 });
    expect(agent.json().ref).toMatch(/^PER-\d{6,}$/);
    expect(agent.headers.location).toBe(`/api/v1/people/${agent.json().id}`);

    const contact = await t.request('POST', '/api/v1/people', {
      body: { name: 'Cy', email: 'cy@people.example', kind: 'contact', customerId: customer.id },
    });
    expect(contact.statusCode).toBe(201);
    expect(contact.json().customerId).toBe(customer.id);

    expectProblem(
      await t.request('POST', '/api/v1/people', {
        body: { name: 'No customer', email: 'nc@people.example', kind: 'contact' },
      }),
      400,
      'DIRECTORY_CONTACT_NEEDS_CUSTOMER',
      [{ in: 'body', pointer: '/customerId' }],
    );
    expectProblem(
      await t.request('POST', '/api/v1/people', {
        body: { name: 'Bound agent', email: 'ba@people.example', kind: 'agent', customerId: customer.id },
      }),
      400,
      'DIRECTORY_AGENT_HAS_NO_CUSTOMER',
      [{ in: 'body', pointer: '/customerId' }],
    );
    expectProblem(
      await t.request('POST', '/api/v1/people', {
        body: { name: 'Ghost', email: 'ghost@people.example', kind: 'contact', customerId: randomUUID() },
      }),
      400,
      'DIRECTORY_UNKNOWN_CUSTOMER',
      [{ in: 'body', pointer: '/customerId' }],
    );

    const byKind = await t.request('GET', `/api/v1/people?kind=contact&customerId=${customer.id}`);
    expect(byKind.json().items.map((p: { id: string }) => p.id)).toEqual([contact.json().id]);
    const byEmail = await t.request('GET', '/api/v1/people?email=ADA@provider.example');
    expect(byEmail.json().items.map((p: { id: string }) => p.id)).toEqual([agent.json().id]);
  });
});

describe('assignment groups', () => {
  let agents: { id: string }[];
  let contact: { id: string };
  let inactive: { id: string };
  beforeAll(async () => {
    agents = [];
    for (const name of ['g1', 'g2', 'g3']) {
      agents.push(
        (
          await t.request('POST', '/api/v1/people', {
            body: { name, email: `${name}@groups.example`, kind: 'agent' },
          })
        ).json(),
      );
    }
    const customer = (
      await t.request('POST', '/api/v1/customers', { body: { name: 'Groups Co', code: 'GRPC' } })
    ).json();
    contact = (
      await t.request('POST', '/api/v1/people', {
        body: { name: 'gc', email: 'gc@groups.example', kind: 'contact', customerId: customer.id },
      })
    ).json();
    inactive = (
      await t.request('POST', '/api/v1/people', {
        body: { name: 'gi', email: 'gi@groups.example', kind: 'agent', active: false },
      })
    ).json();
  });

  it.each([0, 4, -1])('tier %s -> 400 at /tier', async (tier) => {
    const res = await t.request('POST', '/api/v1/groups', { body: { name: `Tier ${tier}`, tier } });
    expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'body', pointer: '/tier' }]);
  });

  it('tier 1..3 are accepted; tier is required', async () => {
    for (const tier of [1, 2, 3]) {
      const res = await t.request('POST', '/api/v1/groups', { body: { name: `Tier ok ${tier}`, tier } });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ tier, memberIds: [], active: true, version: 1 });
      expect(res.json().ref).toMatch(/^GRP-\d{6,}$/);
    }
    expectProblem(
      await t.request('POST', '/api/v1/groups', { body: { name: 'No tier' } }),
      400,
      'VALIDATION_FAILED',
      [{ in: 'body', pointer: '/tier' }],
    );
    expectProblem(
      await t.request('PATCH', `/api/v1/groups/${randomUUID()}`, { body: { tier: 9 } }),
      400,
      'VALIDATION_FAILED',
      [{ in: 'body', pointer: '/tier' }],
    );
  });

  it('members must be active agents: each bad one at /memberIds/<index>', async () => {
    const unknown = randomUUID();
    const res = await t.request('POST', '/api/v1/groups', {
      body: { name: 'Bad members', tier: 1, memberIds: [agents[0]!.id, contact.id, unknown, inactive.id] },
    });
    const body = expectProblem(res, 400, 'DIRECTORY_MEMBER_NOT_AGENT', [
      { in: 'body', pointer: '/memberIds/1' },
      { in: 'body', pointer: '/memberIds/2' },
      { in: 'body', pointer: '/memberIds/3' },
    ]);
    expect(body.errors).toHaveLength(3);
    expect(body.errors?.[1]?.detail).toContain(unknown);
    const list = await t.request('GET', '/api/v1/groups?q=Bad%20members');
    expect(list.json().items).toEqual([]);
  });

  it('duplicate member ids -> 400', async () => {
    const res = await t.request('POST', '/api/v1/groups', {
      body: { name: 'Dupes', tier: 1, memberIds: [agents[0]!.id, agents[0]!.id] },
    });
    expectProblem(res, 400, 'VALIDATION_FAILED', [{ in: 'body', pointer: '/memberIds' }]);
  });

  it('PATCH memberIds replaces the members; other fields keep them', async () => {
    const [a, b, c] = agents as [{ id: string }, { id: string }, { id: string }];
    const created = await t.request('POST', '/api/v1/groups', {
      body: { name: 'Network', tier: 2, memberIds: [a.id, b.id] },
    });
    expect(created.statusCode).toBe(201);
    const group = created.json();
    expect(group.memberIds).toEqual([a.id, b.id]);

    const replaced = await t.request('PATCH', `/api/v1/groups/${group.id}`, {
      body: { memberIds: [c.id] },
      headers: { 'if-match': '"1"' },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ memberIds: [c.id], version: 2 });
    expect(replaced.headers.etag).toBe('"2"');

    const renamed = await t.request('PATCH', `/api/v1/groups/${group.id}`, { body: { name: 'Network ops' } });
    expect(renamed.json()).toMatchObject({ name: 'Network ops', memberIds: [c.id], version: 3 });

    const got = await t.request('GET', `/api/v1/groups/${group.id}`);
    expect(got.json().memberIds).toEqual([c.id]);
    const byMember = await t.request('GET', `/api/v1/groups?memberId=${c.id}`);
    expect(byMember.json().items.map((g: { id: string }) => g.id)).toContain(group.id);
    const former = await t.request('GET', `/api/v1/groups?memberId=${a.id}`);
    expect(former.json().items.map((g: { id: string }) => g.id)).not.toContain(group.id);

    const emptied = await t.request('PATCH', `/api/v1/groups/${group.id}`, { body: { memberIds: [] } });
    expect(emptied.json().memberIds).toEqual([]);

    // A bad member in a PATCH changes nothing.
    const bad = await t.request('PATCH', `/api/v1/groups/${group.id}`, {
      body: { memberIds: [a.id, contact.id], name: 'Should not stick' },
    });
    expectProblem(bad, 400, 'DIRECTORY_MEMBER_NOT_AGENT', [{ in: 'body', pointer: '/memberIds/1' }]);
    expect((await t.request('GET', `/api/v1/groups/${group.id}`)).json()).toMatchObject({
      name: 'Network ops',
      memberIds: [],
      version: 4,
    });

    expectProblem(
      await t.request('PATCH', `/api/v1/groups/${group.id}`, {
        body: { tier: 3 },
        headers: { 'if-match': '"1"' },
      }),
      412,
      'VERSION_MISMATCH',
    );
    expectProblem(await t.request('GET', `/api/v1/groups/${randomUUID()}`), 404, 'DIRECTORY_GROUP_NOT_FOUND');
  });
});
