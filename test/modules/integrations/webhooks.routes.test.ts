import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem } from '../../helpers/problems.ts';

/** Subscriptions through the API: validation, the internal-address guard, versions, scope, audit. */
let t: TestApp;
let noAllowList: TestApp;
let customerA: string;
let customerB: string;

const post = (url: string, body: unknown, token?: string) => t.request('POST', url, { body, token });

beforeAll(async () => {
  [t, noAllowList] = await Promise.all([
    startTestApp({ env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } }),
    startTestApp(),
  ]);
  customerA = (await post('/api/v1/customers', { code: 'WHA', name: 'Hook A' })).json().id;
  customerB = (await post('/api/v1/customers', { code: 'WHB', name: 'Hook B' })).json().id;
});
afterAll(async () => {
  await Promise.all([t?.close(), noAllowList?.close()]);
});

describe('webhook subscriptions', () => {
  it('creates (secret shown once), reads, patches with If-Match, rotates the secret and deletes', async () => {
    const created = await post('/api/v1/webhook-subscriptions', {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['incident.*', 'sla.breached'],
      description: 'ops bridge',
    });
    expect(created.statusCode, created.body).toBe(201);
    const sub = created.json();
    expect(sub).toMatchObject({
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['incident.*', 'sla.breached'],
      customerId: null,
      active: true,
      disabledReason: null,
      version: 1,
    });
    expect(sub.ref).toMatch(/^WHK-\d{6}$/);
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(sub.secretHint).toBe(`${sub.secret.slice(0, 10)}…`);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe(`/api/v1/webhook-subscriptions/${sub.id}`);

    const read = await t.request('GET', `/api/v1/webhook-subscriptions/${sub.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json().secret).toBeUndefined();
    expect(read.body).not.toContain(sub.secret);

    const stale = await t.request('PATCH', `/api/v1/webhook-subscriptions/${sub.id}`, {
      body: { active: false },
      headers: { 'if-match': '"7"' },
    });
    expectProblem(stale, 412, 'VERSION_MISMATCH');
    const patched = await t.request('PATCH', `/api/v1/webhook-subscriptions/${sub.id}`, {
      body: { active: false, eventTypes: ['incident.resolved'] },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      active: false,
      disabledReason: 'manual',
      eventTypes: ['incident.resolved'],
      version: 2,
    });

    const rotated = await post(`/api/v1/webhook-subscriptions/${sub.id}/rotate-secret`, {
      keepPreviousSeconds: 3600,
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(sub.secret);
    expect(rotated.json().version).toBe(3);
    const expires = Date.parse(rotated.json().previousSecretExpiresAt);
    expect(expires - Date.now()).toBeGreaterThan(3500_000);
    const immediately = await post(`/api/v1/webhook-subscriptions/${sub.id}/rotate-secret`, {
      keepPreviousSeconds: 0,
    });
    expect(immediately.json().previousSecretExpiresAt).toBeNull();

    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'after'])
      .where('record_id', '=', sub.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'webhook_subscription.create',
      'webhook_subscription.update',
      'webhook_subscription.rotate_secret',
      'webhook_subscription.rotate_secret',
    ]);
    // The audit trail never holds a secret.
    expect(JSON.stringify(audit)).not.toContain(sub.secret);
    expect(JSON.stringify(audit)).not.toContain(rotated.json().secret);

    const deleted = await t.request('DELETE', `/api/v1/webhook-subscriptions/${sub.id}`);
    expect(deleted.statusCode).toBe(204);
    expectProblem(
      await t.request('GET', `/api/v1/webhook-subscriptions/${sub.id}`),
      404,
      'WEBHOOK_SUBSCRIPTION_NOT_FOUND',
    );
  });

  it('refuses unknown event families and malformed patterns with a pointer to each', async () => {
    const res = await post('/api/v1/webhook-subscriptions', {
      url: 'https://hooks.example.com/x',
      eventTypes: ['incident.created', 'invoice.paid', 'service_request.*', 'martian.*'],
    });
    const problem = expectProblem(res, 400, 'WEBHOOK_EVENT_TYPE_UNKNOWN', [
      { in: 'body', pointer: '/eventTypes/1' },
      { in: 'body', pointer: '/eventTypes/3' },
    ]);
    expect(problem.errors).toHaveLength(2);
    expectProblem(
      await post('/api/v1/webhook-subscriptions', {
        url: 'https://hooks.example.com/x',
        eventTypes: ['INCIDENT'],
      }),
      400,
      'VALIDATION_FAILED',
      [{ in: 'body', pointer: '/eventTypes/0' }],
    );
    expectProblem(
      await post('/api/v1/webhook-subscriptions', { url: 'https://hooks.example.com/x', eventTypes: [] }),
      400,
      'VALIDATION_FAILED',
      [{ in: 'body', pointer: '/eventTypes' }],
    );
  });

  it('refuses non-http URLs and internal targets the allow-list does not admit', async () => {
    for (const url of [
      'ftp://files.example.com/x',
      'http://10.0.0.8/hook',
      'http://192.168.1.20:8080/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8080/',
      'http://localhost:8080/',
      'http://user:secret@hooks.example.com/',
    ]) {
      const res = await post('/api/v1/webhook-subscriptions', { url, eventTypes: ['incident.*'] });
      expectProblem(res, 400, 'WEBHOOK_URL_REFUSED', [{ in: 'body', pointer: '/url' }]);
    }
    // 127.0.0.1 is allowed here ...
    expect(
      (await post('/api/v1/webhook-subscriptions', { url: 'http://127.0.0.1:1/', eventTypes: ['*'] }))
        .statusCode,
    ).toBe(201);
    // ... and refused where the configuration admits nothing internal.
    const refused = await noAllowList.request('POST', '/api/v1/webhook-subscriptions', {
      body: { url: 'http://127.0.0.1:1/', eventTypes: ['*'] },
    });
    const problem = expectProblem(refused, 400, 'WEBHOOK_URL_REFUSED', [{ in: 'body', pointer: '/url' }]);
    expect(problem.detail).toMatch(/loopback/);
    const patch = await t.request(
      'PATCH',
      `/api/v1/webhook-subscriptions/${(await firstSubscription()).id}`,
      {
        body: { url: 'http://172.20.0.1/' },
      },
    );
    expectProblem(patch, 400, 'WEBHOOK_URL_REFUSED', [{ in: 'body', pointer: '/url' }]);
  });

  it('is for admins and managers only', async () => {
    const agent = await t.key('agent');
    const res = await post(
      '/api/v1/webhook-subscriptions',
      { url: 'http://127.0.0.1:1/', eventTypes: ['*'] },
      agent,
    );
    expectProblem(res, 403, 'AUTH_FORBIDDEN');
    expectProblem(
      await t.request('GET', '/api/v1/webhook-subscriptions', { token: agent }),
      403,
      'AUTH_FORBIDDEN',
    );
    const manager = await t.key('manager');
    expect((await t.request('GET', '/api/v1/webhook-subscriptions', { token: manager })).statusCode).toBe(
      200,
    );
  });

  it('binds subscriptions of customer-bound keys to their customer and hides the others', async () => {
    const keyA = await t.key('manager', customerA);
    const keyB = await t.key('manager', customerB);
    const mine = await post(
      '/api/v1/webhook-subscriptions',
      { url: 'http://127.0.0.1:2/', eventTypes: ['incident.*'] },
      keyA,
    );
    expect(mine.statusCode, mine.body).toBe(201);
    expect(mine.json().customerId).toBe(customerA);
    expectProblem(
      await post(
        '/api/v1/webhook-subscriptions',
        { url: 'http://127.0.0.1:2/', eventTypes: ['incident.*'], customerId: customerA },
        keyB,
      ),
      400,
      'WEBHOOK_UNKNOWN_CUSTOMER',
      [{ in: 'body', pointer: '/customerId' }],
    );
    expectProblem(
      await post('/api/v1/webhook-subscriptions', {
        url: 'http://127.0.0.1:2/',
        eventTypes: ['incident.*'],
        customerId: '00000000-0000-4000-8000-000000000000',
      }),
      400,
      'WEBHOOK_UNKNOWN_CUSTOMER',
      [{ in: 'body', pointer: '/customerId' }],
    );
    const id = mine.json().id;
    expectProblem(
      await t.request('GET', `/api/v1/webhook-subscriptions/${id}`, { token: keyB }),
      404,
      'WEBHOOK_SUBSCRIPTION_NOT_FOUND',
    );
    expectProblem(
      await t.request('PATCH', `/api/v1/webhook-subscriptions/${id}`, {
        token: keyB,
        body: { active: false },
      }),
      404,
      'WEBHOOK_SUBSCRIPTION_NOT_FOUND',
    );
    expectProblem(
      await t.request('GET', `/api/v1/webhook-subscriptions/${id}/deliveries`, { token: keyB }),
      404,
      'WEBHOOK_SUBSCRIPTION_NOT_FOUND',
    );
    const listB = (await t.request('GET', '/api/v1/webhook-subscriptions', { token: keyB })).json();
    expect(listB.items).toEqual([]);
    const listA = (await t.request('GET', '/api/v1/webhook-subscriptions', { token: keyA })).json();
    expect(listA.items.map((s: { id: string }) => s.id)).toEqual([id]);
    const filtered = (
      await t.request(
        'GET',
        `/api/v1/webhook-subscriptions?customerId=${customerA}&eventType=incident.created`,
      )
    ).json();
    expect(filtered.items.map((s: { id: string }) => s.id)).toEqual([id]);
    expect(
      (
        await t.request('GET', `/api/v1/webhook-subscriptions?customerId=${customerA}&eventType=sla.breached`)
      ).json().items,
    ).toEqual([]);
  });

  it('pages with a cursor', async () => {
    for (let i = 0; i < 3; i++) {
      await post('/api/v1/webhook-subscriptions', {
        url: `http://127.0.0.1:3/${i}`,
        eventTypes: ['group.*'],
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = (await t.request('GET', `/api/v1/webhook-subscriptions?limit=2${query}`)).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((s: { id: string }) => s.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const total = await t.db
      .selectFrom('webhook_subscriptions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(seen).toHaveLength(Number(total.n));
  });

  it('answers 404 for unknown deliveries', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    expectProblem(
      await t.request('GET', `/api/v1/webhook-deliveries/${id}`),
      404,
      'WEBHOOK_DELIVERY_NOT_FOUND',
    );
    expectProblem(
      await post(`/api/v1/webhook-deliveries/${id}/redeliver`, {}),
      404,
      'WEBHOOK_DELIVERY_NOT_FOUND',
    );
  });
});

async function firstSubscription(): Promise<{ id: string }> {
  return (await t.request('GET', '/api/v1/webhook-subscriptions?limit=1')).json().items[0];
}
