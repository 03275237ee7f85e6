import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventJobId } from '../../../src/platform/outbox-relay.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * Deliveries end to end: the real worker and outbox relay, real HTTP receivers on 127.0.0.1 (the
 * allow-list admits 127.0.0.1 only), small backoff and timeout so retries happen within the test.
 */
let t: TestApp;
const receivers: Receiver[] = [];
const subscriptions: string[] = [];

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}
interface Receiver {
  url: string;
  received: Received[];
  server: http.Server;
}

/** A receiver answering each request with `answer(n)` (n from 1), or never when it returns null. */
async function receiver(answer: (n: number) => number | null = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const status = answer(received.length);
      if (status === null) return; // never answers
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${received.length}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const r = { url: `http://127.0.0.1:${port}/hook`, received, server };
  receivers.push(r);
  return r;
}

/** Verifies a Standard Webhooks signature with nothing but node:crypto. */
function verify(secret: string, r: Received): boolean {
  const id = String(r.headers['webhook-id']);
  const timestamp = String(r.headers['webhook-timestamp']);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${r.body}`).digest();
  return String(r.headers['webhook-signature'])
    .split(' ')
    .some((part) => {
      const [version, signature] = part.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(50);
    value = await probe();
  }
  return value;
}

async function subscribe(url: string, eventTypes: string[], extra: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/api/v1/webhook-subscriptions', {
    body: { url, eventTypes, ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  subscriptions.push(res.json().id);
  return res.json() as { id: string; secret: string };
}

async function deliveries(subscriptionId: string) {
  const res = await t.request('GET', `/api/v1/webhook-subscriptions/${subscriptionId}/deliveries`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as Record<string, unknown>[];
}

async function delivery(id: string) {
  return (await t.request('GET', `/api/v1/webhook-deliveries/${id}`)).json();
}

async function newCustomer(code: string): Promise<string> {
  const res = await t.request('POST', '/api/v1/customers', { body: { code, name: `Customer ${code}` } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

beforeAll(async () => {
  t = await startTestApp({
    worker: true,
    env: {
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_TIMEOUT_MS: '400',
      WEBHOOK_MAX_ATTEMPTS: '4',
    },
  });
});
// Each test's subscriptions stop receiving when it ends, so later events do not reach them.
afterEach(async () => {
  await t.db.updateTable('webhook_subscriptions').set({ active: false }).execute();
  subscriptions.length = 0;
});
afterAll(async () => {
  await t?.close();
  for (const r of receivers) {
    r.server.closeAllConnections();
    r.server.close();
  }
});

describe('webhook deliveries', () => {
  it('delivers a signed event and logs the attempt; other event types are filtered out', async () => {
    const r = await receiver();
    const other = await receiver();
    const sub = await subscribe(r.url, ['customer.*']);
    const filtered = await subscribe(other.url, ['incident.resolved', 'person.*']);
    const customerId = await newCustomer('SIGNED');

    await waitFor(
      () => r.received,
      (x) => x.length >= 1,
    );
    expect(r.received).toHaveLength(1);
    const [got] = r.received;
    expect(got!.headers['content-type']).toBe('application/json');
    expect(verify(sub.secret, got!)).toBe(true);
    expect(verify('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', got!)).toBe(false);
    const timestamp = Number(got!.headers['webhook-timestamp']);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(30);
    const body = JSON.parse(got!.body);
    expect(body).toMatchObject({
      type: 'customer.created',
      data: { customer: { id: customerId, code: 'SIGNED' }, aggregateId: customerId },
    });
    expect(body.timestamp).toMatch(/Z$/);
    expect(body.data.eventId).toMatch(/^[0-9a-f-]{36}$/);

    const [logged] = await waitFor(
      () => deliveries(sub.id),
      (x) => x[0]?.status === 'delivered',
    );
    expect(logged).toMatchObject({
      id: got!.headers['webhook-id'],
      eventType: 'customer.created',
      eventId: body.data.eventId,
      status: 'delivered',
      attemptCount: 1,
      lastStatusCode: 200,
      nextAttemptAt: null,
      customerId,
    });
    expect(logged!.lastDurationMs).toEqual(expect.any(Number));
    const detail = await delivery(String(logged!.id));
    expect(detail.payload).toEqual(body);
    expect(detail.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        redelivery: 0,
        outcome: 'delivered',
        statusCode: 200,
        error: null,
        responseExcerpt: 'answer 1',
      }),
    ]);

    // The same event reached the fan-out of every subscription at once: nothing for the filtered one.
    expect(await deliveries(filtered.id)).toEqual([]);
    expect(other.received).toEqual([]);
  });

  it('retries a receiver that fails twice, then delivers with the same webhook-id', async () => {
    const r = await receiver((n) => (n === 1 ? 500 : n === 2 ? 503 : 200));
    const sub = await subscribe(r.url, ['customer.created']);
    await newCustomer('RETRY');
    const [d] = await waitFor(
      () => deliveries(sub.id),
      (x) => x[0]?.status === 'delivered',
    );
    expect(d).toMatchObject({ status: 'delivered', attemptCount: 3, lastStatusCode: 200, lastError: null });
    expect(r.received).toHaveLength(3);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set([d!.id]));
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
    for (const got of r.received) expect(verify(sub.secret, got)).toBe(true);
    // Exponential backoff from 100 ms: about 100 ms, then about 200 ms.
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(90);
    expect(r.received[2]!.at - r.received[1]!.at).toBeGreaterThanOrEqual(190);
    const detail = await delivery(String(d!.id));
    expect(
      detail.attempts.map((a: Record<string, unknown>) => [a.attempt, a.outcome, a.statusCode, a.error]),
    ).toEqual([
      [1, 'failed', 500, 'HTTP 500'],
      [2, 'failed', 503, 'HTTP 503'],
      [3, 'delivered', 200, null],
    ]);
  });

  it('counts a receiver that never answers as failed attempts (timeout) and gives up after the last', async () => {
    const r = await receiver(() => null);
    const sub = await subscribe(r.url, ['customer.created']);
    await newCustomer('SILENT');
    const pending = await waitFor(
      () => deliveries(sub.id),
      (x) => Number(x[0]?.attemptCount ?? 0) >= 1,
    );
    expect(pending[0]).toMatchObject({ status: 'pending', lastStatusCode: null });
    expect(pending[0]!.lastError).toMatch(/timed out after 400 ms/);
    expect(Date.parse(String(pending[0]!.nextAttemptAt))).toBeGreaterThan(Date.now() - 1000);
    // 4 attempts of 400 ms with 100 + 200 + 400 ms between them.
    const [d] = await waitFor(
      () => deliveries(sub.id),
      (x) => x[0]?.status === 'failed',
      8000,
    );
    expect(d).toMatchObject({ status: 'failed', attemptCount: 4, nextAttemptAt: null });
    const detail = await delivery(String(d!.id));
    expect(detail.attempts).toHaveLength(4);
    for (const a of detail.attempts) {
      expect(a).toMatchObject({ outcome: 'failed', statusCode: null });
      expect(a.error).toMatch(/timed out/);
      expect(a.durationMs).toBeGreaterThanOrEqual(390);
    }
    expect(r.received).toHaveLength(4);
  });

  it('redelivers on request: a new series with the same id and body', async () => {
    const r = await receiver();
    const sub = await subscribe(r.url, ['customer.created']);
    await newCustomer('AGAIN');
    const [d] = await waitFor(
      () => deliveries(sub.id),
      (x) => x[0]?.status === 'delivered',
    );
    const res = await t.request('POST', `/api/v1/webhook-deliveries/${d!.id}/redeliver`);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ id: d!.id, status: 'pending', redeliveries: 1 });
    await waitFor(
      () => r.received,
      (x) => x.length >= 2,
    );
    const after = await waitFor(
      () => delivery(String(d!.id)),
      (x) => x.status === 'delivered' && x.attempts.length === 2,
    );
    expect(after).toMatchObject({ status: 'delivered', attemptCount: 2, redeliveries: 1 });
    expect(after.attempts.map((a: Record<string, unknown>) => [a.redelivery, a.attempt, a.outcome])).toEqual([
      [0, 1, 'delivered'],
      [1, 1, 'delivered'],
    ]);
    expect(r.received[1]!.headers['webhook-id']).toBe(d!.id);
    expect(r.received[1]!.body).toBe(r.received[0]!.body);
    expect(verify(sub.secret, r.received[1]!)).toBe(true);
    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('record_id', '=', String(d!.id))
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['webhook_delivery.redeliver']);
  });

  it('refuses an internal address at delivery time when the allow-list does not admit it', async () => {
    const r = await receiver();
    const sub = await subscribe(r.url, ['customer.created']);
    // A URL that got past the API check (e.g. saved under another allow-list): 127.0.0.2 is loopback.
    await t.db
      .updateTable('webhook_subscriptions')
      .set({ url: r.url.replace('127.0.0.1', '127.0.0.2') })
      .where('id', '=', sub.id)
      .execute();
    await newCustomer('REFUSED');
    const [d] = await waitFor(
      () => deliveries(sub.id),
      (x) => x[0]?.status === 'failed',
    );
    expect(d).toMatchObject({ status: 'failed', attemptCount: 1, lastStatusCode: null });
    expect(d!.lastError).toMatch(/127\.0\.0\.2 is a loopback address not in WEBHOOK_ALLOWED_HOSTS/);
    const detail = await delivery(String(d!.id));
    expect(detail.attempts).toEqual([expect.objectContaining({ outcome: 'refused', attempt: 1 })]);
    expect(r.received).toEqual([]);
  });

  it('turns a subscription inactive when its receiver answers 410 Gone', async () => {
    const r = await receiver(() => 410);
    const sub = await subscribe(r.url, ['customer.created']);
    await newCustomer('GONE');
    const [d] = await waitFor(
      () => deliveries(sub.id),
      (x) => x[0]?.status === 'failed',
    );
    expect(d).toMatchObject({ status: 'failed', attemptCount: 1, lastStatusCode: 410 });
    const subscription = (await t.request('GET', `/api/v1/webhook-subscriptions/${sub.id}`)).json();
    expect(subscription).toMatchObject({ active: false, disabledReason: 'gone', version: 2 });
    expect(r.received).toHaveLength(1);
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'actor_name'])
      .where('record_id', '=', sub.id)
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      expect.objectContaining({ action: 'webhook_subscription.create' }),
      { action: 'webhook_subscription.disable', actor_name: 'system' },
    ]);
    await expectRedeliverRefused(String(d!.id));
  });

  it("gives a customer-bound subscription only its customer's events", async () => {
    const a = await newCustomer('ISOA');
    const b = await newCustomer('ISOB');
    const all = await receiver();
    const onlyA = await receiver();
    const provider = await subscribe(all.url, ['customer.updated']);
    const bound = await subscribe(onlyA.url, ['customer.updated'], { customerId: a });
    for (const id of [b, a]) {
      const res = await t.request('PATCH', `/api/v1/customers/${id}`, { body: { notes: 'changed' } });
      expect(res.statusCode).toBe(200);
    }
    await waitFor(
      () => deliveries(provider.id),
      (x) => x.length === 2 && x.every((d) => d.status === 'delivered'),
    );
    await waitFor(
      () => onlyA.received,
      (x) => x.length >= 1,
    );
    const boundDeliveries = await deliveries(bound.id);
    expect(boundDeliveries.map((d) => [d.customerId, d.eventType])).toEqual([[a, 'customer.updated']]);
    expect(onlyA.received).toHaveLength(1);
    expect(JSON.parse(onlyA.received[0]!.body).data.customer.id).toBe(a);
    expect(all.received).toHaveLength(2);

    // A key bound to B sees neither the subscription nor the delivery of A.
    const keyB = await t.key('manager', b);
    const deliveryA = String(boundDeliveries[0]!.id);
    expect(
      (await t.request('GET', `/api/v1/webhook-deliveries/${deliveryA}`, { token: keyB })).statusCode,
    ).toBe(404);
    expect(
      (await t.request('POST', `/api/v1/webhook-deliveries/${deliveryA}/redeliver`, { token: keyB }))
        .statusCode,
    ).toBe(404);
    const keyA = await t.key('manager', a);
    expect(
      (await t.request('GET', `/api/v1/webhook-deliveries/${deliveryA}`, { token: keyA })).statusCode,
    ).toBe(200);
  });

  it('relays to the fan-out only the events that an active subscription wants', async () => {
    const fanOutJob = async (customerId: string) => {
      const [row] = await waitFor(
        () =>
          t.db
            .selectFrom('outbox')
            .select(['event_id', 'sent_at'])
            .where('aggregate_id', '=', customerId)
            .where('type', '=', 'customer.created')
            .execute(),
        (x) => x[0]?.sent_at != null,
      );
      return t.resources.queues.get('webhooks').getJob(eventJobId(row!.event_id, 'webhooks.fan-out'));
    };
    // No active subscription at all: the event is relayed (sent) without a fan-out job.
    expect(await fanOutJob(await newCustomer('NOSUB'))).toBeUndefined();

    // A subscription for other events, or bound to another customer, does not want it either.
    const r = await receiver();
    await subscribe(r.url, ['incident.*']);
    const other = await newCustomer('NOSUB-OTHER');
    await subscribe(r.url, ['customer.*'], { customerId: other });
    expect(await fanOutJob(await newCustomer('NOSUB-2'))).toBeUndefined();

    // Once one wants it, the next event gets its fan-out and is delivered.
    await subscribe(r.url, ['customer.created']);
    const wanted = await newCustomer('SUB');
    await waitFor(
      () => r.received,
      (x) => x.some((got) => JSON.parse(got.body).data.customer?.id === wanted),
    );
    expect(r.received.filter((got) => JSON.parse(got.body).data.customer?.id === wanted)).toHaveLength(1);
  });
});

async function expectRedeliverRefused(deliveryId: string) {
  const res = await t.request('POST', `/api/v1/webhook-deliveries/${deliveryId}/redeliver`);
  expect(res.statusCode).toBe(409);
  expect(res.json().code).toBe('WEBHOOK_SUBSCRIPTION_INACTIVE');
}
