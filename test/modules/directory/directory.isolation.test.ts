import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem } from '../../helpers/problems.ts';

/** A key bound to a customer sees and changes only that customer's records, whatever the path says. */
let t: TestApp;
let a: { id: string };
let b: { id: string };
let contactA: { id: string };
let contactB: { id: string };
let agent: { id: string };
let requesterA: string;
let managerA: string;
let agentA: string;
let agentUnbound: string;

beforeAll(async () => {
  t = await startTestApp();
  a = (await t.request('POST', '/api/v1/customers', { body: { code: 'ISO-A', name: 'Alpha' } })).json();
  b = (await t.request('POST', '/api/v1/customers', { body: { code: 'ISO-B', name: 'Beta' } })).json();
  contactA = (
    await t.request('POST', '/api/v1/people', {
      body: { name: 'Alice', email: 'alice@alpha.example', kind: 'contact', customerId: a.id },
    })
  ).json();
  contactB = (
    await t.request('POST', '/api/v1/people', {
      body: { name: 'Bob', email: 'bob@beta.example', kind: 'contact', customerId: b.id },
    })
  ).json();
  agent = (
    await t.request('POST', '/api/v1/people', {
      body: { name: 'Sam Agent', email: 'sam@provider.example', kind: 'agent' },
    })
  ).json();
  [requesterA, managerA, agentA, agentUnbound] = await Promise.all([
    t.key('requester', a.id),
    t.key('manager', a.id),
    t.key('agent', a.id),
    t.key('agent'),
  ]);
});
afterAll(async () => {
  await t?.close();
});

const ids = (res: { json(): { items: { id: string }[] } }) =>
  res
    .json()
    .items.map((i) => i.id)
    .sort();

describe('a key bound to customer A', () => {
  it('GET /customers/{B} -> 404, exactly like an unknown id', async () => {
    const res = await t.request('GET', `/api/v1/customers/${b.id}`, { token: requesterA });
    expectProblem(res, 404, 'DIRECTORY_CUSTOMER_NOT_FOUND');
    expect((await t.request('GET', `/api/v1/customers/${a.id}`, { token: requesterA })).statusCode).toBe(200);
  });

  it('lists only A, whatever the filter asks for', async () => {
    expect(ids(await t.request('GET', '/api/v1/customers', { token: requesterA }))).toEqual([a.id]);
    expect(
      (await t.request('GET', '/api/v1/customers?code=ISO-B', { token: requesterA })).json().items,
    ).toEqual([]);
    expect((await t.request('GET', '/api/v1/customers?q=Beta', { token: requesterA })).json().items).toEqual(
      [],
    );
  });

  it("GET /people lists only A's contacts (not B's, not provider agents)", async () => {
    expect(ids(await t.request('GET', '/api/v1/people', { token: requesterA }))).toEqual([contactA.id]);
    expect(
      (await t.request('GET', `/api/v1/people?customerId=${b.id}`, { token: requesterA })).json().items,
    ).toEqual([]);
    expect(
      (await t.request('GET', '/api/v1/people?email=bob@beta.example', { token: requesterA })).json().items,
    ).toEqual([]);
  });

  it("GET /people/{B's contact} -> 404", async () => {
    const res = await t.request('GET', `/api/v1/people/${contactB.id}`, { token: requesterA });
    expectProblem(res, 404, 'DIRECTORY_PERSON_NOT_FOUND');
    expect((await t.request('GET', `/api/v1/people/${contactA.id}`, { token: requesterA })).statusCode).toBe(
      200,
    );
  });

  it('cannot change B: PATCH /customers/{B} and PATCH /people/{B contact} -> 404, nothing changes', async () => {
    const customer = await t.request('PATCH', `/api/v1/customers/${b.id}`, {
      token: managerA,
      body: { name: 'Hijacked' },
    });
    expectProblem(customer, 404, 'DIRECTORY_CUSTOMER_NOT_FOUND');
    const person = await t.request('PATCH', `/api/v1/people/${contactB.id}`, {
      token: agentA,
      body: { name: 'Hijacked' },
    });
    expectProblem(person, 404, 'DIRECTORY_PERSON_NOT_FOUND');
    const requester = await t.request('PATCH', `/api/v1/customers/${b.id}`, {
      token: requesterA,
      body: { name: 'Hijacked' },
    });
    expectProblem(requester, 403, 'AUTH_FORBIDDEN');
    expect((await t.request('GET', `/api/v1/customers/${b.id}`)).json()).toMatchObject({
      name: 'Beta',
      version: 1,
    });
    expect((await t.request('GET', `/api/v1/people/${contactB.id}`)).json()).toMatchObject({
      name: 'Bob',
      version: 1,
    });
    // ... while A can be changed by its own manager.
    const own = await t.request('PATCH', `/api/v1/customers/${a.id}`, {
      token: managerA,
      body: { notes: 'changed by its manager' },
    });
    expect(own.statusCode).toBe(200);
  });

  it('cannot create a contact for B (400 at /customerId), nor an agent; nothing is created', async () => {
    const res = await t.request('POST', '/api/v1/people', {
      token: agentA,
      body: { name: 'Mallory', email: 'mallory@beta.example', kind: 'contact', customerId: b.id },
    });
    expectProblem(res, 400, 'DIRECTORY_UNKNOWN_CUSTOMER', [{ in: 'body', pointer: '/customerId' }]);
    const asAgent = await t.request('POST', '/api/v1/people', {
      token: agentA,
      body: { name: 'Mallory', email: 'mallory@beta.example', kind: 'agent' },
    });
    expectProblem(asAgent, 400, 'DIRECTORY_AGENT_HAS_NO_CUSTOMER', [{ in: 'body', pointer: '/customerId' }]);
    const found = await t.db
      .selectFrom('people')
      .select('id')
      .where('email', '=', 'mallory@beta.example')
      .execute();
    expect(found).toEqual([]);
  });

  it('creates contacts for A, with or without customerId', async () => {
    const implicit = await t.request('POST', '/api/v1/people', {
      token: agentA,
      body: { name: 'Ann', email: 'ann@alpha.example', kind: 'contact' },
    });
    expect(implicit.statusCode).toBe(201);
    expect(implicit.json().customerId).toBe(a.id);
    const explicit = await t.request('POST', '/api/v1/people', {
      token: agentA,
      body: { name: 'Art', email: 'art@alpha.example', kind: 'contact', customerId: a.id },
    });
    expect(explicit.statusCode).toBe(201);
  });

  it('cannot mint keys or read the audit log', async () => {
    expectProblem(
      await t.request('POST', '/api/v1/api-keys', {
        token: managerA,
        body: { name: 'escalate', role: 'agent', customerId: b.id },
      }),
      403,
      'AUTH_FORBIDDEN',
    );
    expectProblem(await t.request('GET', '/api/v1/audit', { token: managerA }), 403, 'AUTH_FORBIDDEN');
  });
});

describe('an unbound agent key', () => {
  it('sees both customers and both contacts, and the agents', async () => {
    const customers = ids(await t.request('GET', '/api/v1/customers', { token: agentUnbound }));
    expect(customers).toEqual([a.id, b.id].sort());
    const people = ids(await t.request('GET', '/api/v1/people?limit=500', { token: agentUnbound }));
    expect(people).toEqual(expect.arrayContaining([contactA.id, contactB.id, agent.id]));
    expect(
      (await t.request('GET', `/api/v1/people/${contactB.id}`, { token: agentUnbound })).statusCode,
    ).toBe(200);
    expect((await t.request('GET', `/api/v1/customers/${b.id}`, { token: agentUnbound })).statusCode).toBe(
      200,
    );
  });

  it('may create a contact for any customer', async () => {
    const res = await t.request('POST', '/api/v1/people', {
      token: agentUnbound,
      body: { name: 'Bea', email: 'bea@beta.example', kind: 'contact', customerId: b.id },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().customerId).toBe(b.id);
  });
});
