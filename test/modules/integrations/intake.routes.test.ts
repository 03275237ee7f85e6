import { createHmac } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/db/db.ts';
import type { DB } from '../../../src/db/schema.ts';
import { IntegrationKeys } from '../../../src/modules/integrations/integrations.service.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { enqueueEvent, fixture, fixtureBytes, postInbound } from '../../helpers/intake.ts';

let t: TestApp;
let customerId: string;

async function integration(type: string, extra: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/api/v1/integrations', {
    body: { type, name: `${type} ${Math.random()}`, customerId, autoResolve: true, ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; key: string };
}

const inbound = (type: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
  postInbound(t.app, type, key, body, headers);

const incidentsOf = async (source: string) =>
  (await t.request('GET', `/api/v1/incidents?source=${source}&customerId=${customerId}&limit=500`)).json()
    .items as {
    id: string;
    status: string;
    channel: string;
    resolutionCode: string | null;
    priority: string;
    acknowledgedAt: string | null;
  }[];

beforeAll(async () => {
  t = await startTestApp();
  customerId = (
    await t.request('POST', '/api/v1/customers', { body: { name: 'Monitored Co', code: 'MON' } })
  ).json().id;
});
afterAll(async () => {
  await t?.close();
});

describe('integrations', () => {
  it('creates integrations with a key shown once; pagerduty keys are 32 characters', async () => {
    const am = await integration('alertmanager');
    expect(am.key.length).toBeGreaterThan(20);
    const pd = await integration('pagerduty');
    expect(pd.key).toHaveLength(32);
    const got = (await t.request('GET', `/api/v1/integrations/${pd.id}`)).json();
    expect(got).not.toHaveProperty('key');
    expect(JSON.stringify((await t.request('GET', '/api/v1/integrations')).json())).not.toContain(pd.key);
  });
});

describe('integration records', () => {
  it('changes an integration with If-Match, names bad references, refuses a stale version', async () => {
    const { id } = await integration('alertmanager');
    const patched = await t.request('PATCH', `/api/v1/integrations/${id}`, {
      headers: { 'if-match': '"1"' },
      body: { name: 'renamed', flapWindowSeconds: 60, autoResolve: false },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'renamed',
      flapWindowSeconds: 60,
      autoResolve: false,
      version: 2,
    });
    expect(patched.headers.etag).toBe('"2"');
    const stale = await t.request('PATCH', `/api/v1/integrations/${id}`, {
      headers: { 'if-match': '"1"' },
      body: { name: 'again' },
    });
    expect(stale.statusCode).toBe(412);
    const badGroup = await t.request('PATCH', `/api/v1/integrations/${id}`, {
      body: {
        rules: [{ match: { label: 'team' }, set: { groupId: '00000000-0000-4000-8000-000000000000' } }],
      },
    });
    expect(badGroup.statusCode).toBe(400);
    expect(badGroup.json().errors[0].pointer).toBe('/rules/0/set/groupId');
    expect((await t.request('GET', `/api/v1/integrations/${id}`)).json()).toMatchObject({
      name: 'renamed',
      version: 2,
    });
  });

  it("a key bound to another customer neither sees nor changes a customer's integrations", async () => {
    const { id } = await integration('alertmanager');
    const other = (
      await t.request('POST', '/api/v1/customers', { body: { name: 'Other Co', code: 'OTHERMON' } })
    ).json().id as string;
    const bound = await t.key('manager', other);
    expect((await t.request('GET', `/api/v1/integrations/${id}`, { token: bound })).statusCode).toBe(404);
    expect(
      (await t.request('PATCH', `/api/v1/integrations/${id}`, { token: bound, body: { name: 'taken' } }))
        .statusCode,
    ).toBe(404);
    expect(
      (await t.request('POST', `/api/v1/integrations/${id}/rotate-key`, { token: bound })).statusCode,
    ).toBe(404);
    expect(
      (await t.request('GET', `/api/v1/integrations/${id}/deliveries`, { token: bound })).statusCode,
    ).toBe(404);
    const listed = (await t.request('GET', '/api/v1/integrations?limit=500', { token: bound })).json()
      .items as {
      id: string;
    }[];
    expect(listed.map((i) => i.id)).not.toContain(id);
  });
});

describe('Alertmanager', () => {
  it('opens one incident, counts repeats, and resolves it when the alert resolves', async () => {
    const { key, id } = await integration('alertmanager');
    const firing = fixture('alertmanager-firing.json');
    const first = await inbound('alertmanager', key, firing);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ alerts: 1, opened: 1 });
    expect((await inbound('alertmanager', key, firing)).json()).toMatchObject({ opened: 0 });
    const opened = await incidentsOf('alertmanager');
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ channel: 'monitoring', status: 'new', priority: 'P1' });
    const alerts = (await t.request('GET', `/api/v1/incidents/${opened[0]!.id}/alerts`)).json().items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      source: 'alertmanager',
      dedupKey: '85831edf2f3aadb2',
      status: 'firing',
      repeatCount: 2,
    });

    const resolved = await inbound('alertmanager', key, fixture('alertmanager-resolved.json'));
    expect(resolved.statusCode).toBe(200);
    const after = (await t.request('GET', `/api/v1/incidents/${opened[0]!.id}`)).json();
    expect(after).toMatchObject({ status: 'resolved', resolutionCode: 'auto_resolved' });

    const deliveries = (await t.request('GET', `/api/v1/integrations/${id}/deliveries`)).json().items;
    expect(deliveries.map((d: { outcome: string }) => d.outcome)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
  });

  it('makes exactly one incident from 50 simultaneous posts of the same new alert', async () => {
    const { key } = await integration('alertmanager');
    const firing = fixture('alertmanager-firing.json');
    firing.alerts[0].fingerprint = 'concurrent000001';
    const replies = await Promise.all(Array.from({ length: 50 }, () => inbound('alertmanager', key, firing)));
    expect(replies.every((r) => r.statusCode === 200)).toBe(true);
    expect(replies.reduce((n, r) => n + r.json().opened, 0)).toBe(1);
    const ids = new Set(replies.flatMap((r) => r.json().incidentIds));
    expect(ids.size).toBe(1);
  });

  it('reopens inside the flap window and opens a new incident after it', async () => {
    const flappy = await integration('alertmanager', { flapWindowSeconds: 3600 });
    const firing = fixture('alertmanager-firing.json');
    firing.alerts[0].fingerprint = 'flap000000000001';
    const resolved = fixture('alertmanager-resolved.json');
    resolved.alerts[0].fingerprint = 'flap000000000001';
    const a = (await inbound('alertmanager', flappy.key, firing)).json().incidentIds[0];
    await inbound('alertmanager', flappy.key, resolved);
    const again = (
      await inbound('alertmanager', flappy.key, {
        ...firing,
        alerts: [{ ...firing.alerts[0], startsAt: '2026-08-20T11:00:00Z' }],
      })
    ).json();
    expect(again).toMatchObject({ opened: 0, incidentIds: [a] });
    expect((await t.request('GET', `/api/v1/incidents/${a}`)).json()).toMatchObject({
      status: 'in_progress',
      reopenCount: 1,
    });

    const strict = await integration('alertmanager', { flapWindowSeconds: 0 });
    firing.alerts[0].fingerprint = 'flap000000000002';
    resolved.alerts[0].fingerprint = 'flap000000000002';
    const b = (await inbound('alertmanager', strict.key, firing)).json().incidentIds[0];
    await inbound('alertmanager', strict.key, resolved);
    await new Promise((r) => setTimeout(r, 20));
    const next = (await inbound('alertmanager', strict.key, firing)).json();
    expect(next.opened).toBe(1);
    expect(next.incidentIds[0]).not.toBe(b);
  });

  it('decides per alert in a group and can group alerts into one incident', async () => {
    const perAlert = await integration('alertmanager');
    const grouped = fixture('alertmanager-grouped-3-alerts.json');
    const res = (await inbound('alertmanager', perAlert.key, grouped)).json();
    expect(res.alerts).toBe(3);
    expect(res.opened).toBe(2); // one of the three is already resolved
    const byGroup = await integration('alertmanager', { grouping: 'group' });
    const one = (await inbound('alertmanager', byGroup.key, grouped)).json();
    expect(one.opened).toBe(1);
  });

  it('accepts HTTP Basic with the key as password; refuses wrong keys, other types and bad payloads', async () => {
    const { key, id } = await integration('alertmanager');
    const basic = Buffer.from(`alertmanager:${key}`).toString('base64');
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inbound/alertmanager',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      payload: JSON.stringify(fixture('alertmanager-firing.json')),
    });
    expect(ok.statusCode).toBe(200);
    expect((await inbound('alertmanager', 'tik_wrong', fixture('alertmanager-firing.json'))).statusCode).toBe(
      401,
    );
    const grafana = await integration('grafana');
    expect((await inbound('alertmanager', grafana.key, fixture('alertmanager-firing.json'))).statusCode).toBe(
      403,
    );
    const bad = await inbound('alertmanager', key, fixture('bad-alertmanager-unsupported-version.json'));
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().errors[0].pointer).toBe('/version');
    const truncated = await inbound(
      'alertmanager',
      key,
      fixtureBytes('bad-truncated-json.json').toString('utf8'),
    );
    expect(truncated.statusCode).toBe(400);
    const deliveries = (await t.request('GET', `/api/v1/integrations/${id}/deliveries`)).json().items;
    const rejected = deliveries.filter((d: { outcome: string }) => d.outcome === 'rejected');
    expect(rejected).toHaveLength(2);
    expect(rejected[0].payload).toBeTruthy();
    expect(rejected.some((d: { reason: string }) => d.reason.includes('malformed JSON'))).toBe(true);
  });

  it('records alerts whose strings hold NUL (replaced by U+FFFD); a body with a raw NUL byte is a kept 400', async () => {
    const { key, id } = await integration('alertmanager');
    const payload = fixture('alertmanager-firing.json');
    const alert = payload.alerts[0];
    alert.labels = { ...alert.labels, alertname: 'Disk\u0000Full', 'bad\u0000label': 'x' };
    alert.annotations = { ...alert.annotations, summary: 'disk \u0000 full' };
    payload.alerts = [alert];
    const text = JSON.stringify(payload);
    expect(text).toContain('\\u0000');
    const ok = await inbound('alertmanager', key, text);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().opened).toBe(1);
    const [incidentId] = ok.json().incidentIds;
    const alerts = (await t.request('GET', `/api/v1/incidents/${incidentId}/alerts`)).json().items;
    expect(alerts[0].labels.alertname).toBe('Disk\uFFFDFull');
    expect(alerts[0].labels['bad\uFFFDlabel']).toBe('x');
    const again = await inbound('alertmanager', key, text);
    expect(again.json()).toMatchObject({ opened: 0, incidentIds: [incidentId] });
    // An escaped backslash before u0000 is text, not a NUL: kept as sent.
    const literal = fixture('alertmanager-firing.json');
    literal.alerts = [{ ...literal.alerts[0], fingerprint: 'literal-nul', labels: { path: 'C:\\u0000' } }];
    const kept = await inbound('alertmanager', key, literal);
    expect(kept.statusCode, kept.body).toBe(200);
    const [literalIncident] = kept.json().incidentIds;
    const keptAlerts = (await t.request('GET', `/api/v1/incidents/${literalIncident}/alerts`)).json().items;
    expect(keptAlerts[0].labels.path).toBe('C:\\u0000');

    const rawNul = await inbound('alertmanager', key, '{"version": "4", "alerts": [\u0000]}');
    expect(rawNul.statusCode, rawNul.body).toBe(400);
    const deliveries = (await t.request('GET', `/api/v1/integrations/${id}/deliveries`)).json().items;
    const rejected = deliveries.find((d: { outcome: string }) => d.outcome === 'rejected');
    expect(rejected.payload).toContain('[\uFFFD]');
  });

  it('answers 503 with Retry-After when an Alertmanager integration posts too fast', async () => {
    const { key } = await integration('alertmanager', { rateLimitPerMinute: 2 });
    const firing = fixture('alertmanager-firing.json');
    firing.alerts[0].fingerprint = 'ratelimit0000001';
    expect((await inbound('alertmanager', key, firing)).statusCode).toBe(200);
    expect((await inbound('alertmanager', key, firing)).statusCode).toBe(200);
    const limited = await inbound('alertmanager', key, firing);
    expect(limited.statusCode).toBe(503);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('PagerDuty Events API v2', () => {
  const enqueue = (body: unknown) => enqueueEvent(t.app, body);

  it('triggers, acknowledges and resolves by dedup_key, answering as PagerDuty does', async () => {
    const { key } = await integration('pagerduty');
    const trigger = { ...fixture('pagerduty-trigger.json'), routing_key: key };
    const res = await enqueue(trigger);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'srv01/mysql' });
    expect((await enqueue(trigger)).statusCode).toBe(202);
    const [incident] = await incidentsOf('pagerduty');
    expect(incident).toBeDefined();
    expect((await incidentsOf('pagerduty')).length).toBe(1);

    await enqueue({ ...fixture('pagerduty-acknowledge.json'), routing_key: key, dedup_key: 'srv01/mysql' });
    expect(
      (await t.request('GET', `/api/v1/incidents/${incident!.id}`)).json().acknowledgedAt,
    ).not.toBeNull();
    await enqueue({ ...fixture('pagerduty-resolve.json'), routing_key: key, dedup_key: 'srv01/mysql' });
    expect((await t.request('GET', `/api/v1/incidents/${incident!.id}`)).json()).toMatchObject({
      status: 'resolved',
      resolutionCode: 'auto_resolved',
    });

    const generated = await enqueue({ ...fixture('pagerduty-trigger-no-dedup-key.json'), routing_key: key });
    expect(generated.statusCode).toBe(202);
    expect(generated.json().dedup_key).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers 400 in PagerDuty shape for invalid events and a wrong key length', async () => {
    const { key } = await integration('pagerduty');
    const bad = await enqueue({ ...fixture('bad-pagerduty-invalid-event-action.json'), routing_key: key });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ status: 'invalid event', message: 'Event object is invalid' });
    const short = await enqueue(fixture('bad-pagerduty-routing-key-wrong-length.json'));
    expect(short.statusCode).toBe(400);
    expect(short.json().errors[0]).toContain('routing_key');
  });

  it('answers 429 with Retry-After when over the limit', async () => {
    const { key } = await integration('pagerduty', { rateLimitPerMinute: 1 });
    expect((await enqueue({ ...fixture('pagerduty-trigger.json'), routing_key: key })).statusCode).toBe(202);
    const limited = await enqueue({ ...fixture('pagerduty-trigger.json'), routing_key: key });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });
});

describe('Grafana, Zabbix, CloudEvents', () => {
  it('opens and resolves from each sender', async () => {
    for (const [type, open, close] of [
      ['grafana', 'grafana-firing.json', 'grafana-resolved.json'],
      ['zabbix', 'zabbix-problem.json', 'zabbix-recovery.json'],
      ['cloudevents', 'cloudevent.json', 'cloudevent-resolved.json'],
    ] as const) {
      const { key } = await integration(type);
      const opened = await inbound(type, key, fixture(open));
      expect(opened.statusCode, `${type}: ${opened.body}`).toBe(200);
      expect(opened.json().opened, type).toBeGreaterThanOrEqual(1);
      const closed = await inbound(type, key, fixture(close));
      expect(closed.statusCode, type).toBe(200);
      const incidents = await incidentsOf(type);
      expect(incidents.length, type).toBeGreaterThanOrEqual(1);
      expect(
        incidents.some((i) => i.status === 'resolved'),
        type,
      ).toBe(true);
    }
  });
});

describe('integration settings at work', () => {
  it('rotates a key: the new one works at once, the old one is refused', async () => {
    const { id, key: old } = await integration('alertmanager');
    const rotated = await t.request('POST', `/api/v1/integrations/${id}/rotate-key`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { key } = rotated.json() as { key: string };
    expect(key).not.toBe(old);
    expect((await inbound('alertmanager', old, fixture('alertmanager-firing.json'))).statusCode).toBe(401);
    expect((await inbound('alertmanager', key, fixture('alertmanager-firing.json'))).statusCode).toBe(200);
  });

  it('resolves a key with one query per period, shared by the posts that wait for it', async () => {
    const { id, key } = await integration('alertmanager');
    let queries = 0;
    const db = new Kysely<DB>({
      dialect: new PostgresDialect({ pool: createPool(t.databaseUrl, 4) }),
      log: (event) => {
        if (event.level === 'query') queries++;
      },
    });
    try {
      // A period long enough for the steps before the rotation, even on a busy machine.
      const keys = new IntegrationKeys(db, 1500);
      const first = await Promise.all(Array.from({ length: 20 }, () => keys.resolve(key)));
      expect(first.map((row) => row?.id)).toEqual(Array(20).fill(id));
      expect(queries).toBe(1);
      expect((await keys.resolve(key))?.id).toBe(id);
      expect(await keys.resolve('not-a-key')).toBeNull();
      expect(queries).toBe(2);
      // A rotation reaches intake once the period is over: the old key stops, the new one works.
      const rotated = await t.request('POST', `/api/v1/integrations/${id}/rotate-key`);
      const fresh = (rotated.json() as { key: string }).key;
      expect((await keys.resolve(key))?.id).toBe(id);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect(await keys.resolve(key)).toBeNull();
      expect((await keys.resolve(fresh))?.id).toBe(id);
      expect(queries).toBe(4);
    } finally {
      await db.destroy();
    }
  });

  it('checks the Grafana signature when a signing secret is set, and keeps a refused post', async () => {
    const secret = 'test-hmac-secret';
    const { id, key } = await integration('grafana', { signingSecret: secret });
    const body = fixtureBytes('grafana-firing.json');
    const sign = (bytes: Buffer) => createHmac('sha256', secret).update(bytes).digest('hex');
    const signed = await inbound('grafana', key, body.toString('utf8'), {
      'x-grafana-alerting-signature': sign(body),
    });
    expect(signed.statusCode, signed.body).toBe(200);
    const forged = await inbound('grafana', key, body.toString('utf8'), {
      'x-grafana-alerting-signature': sign(Buffer.from('something else')),
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('INTEGRATION_BAD_SIGNATURE');
    const unsigned = await inbound('grafana', key, body.toString('utf8'));
    expect(unsigned.statusCode).toBe(401);
    const log = (await t.request('GET', `/api/v1/integrations/${id}/deliveries`)).json().items as {
      outcome: string;
      reason: string | null;
    }[];
    expect(log.filter((d) => d.outcome === 'rejected').map((d) => d.reason)).toEqual([
      'bad or missing signature',
      'bad or missing signature',
    ]);
  });

  it('with autoResolve off, a resolve marks the alert resolved but leaves the incident open', async () => {
    const { key } = await integration('alertmanager', { autoResolve: false });
    const firing = fixture('alertmanager-firing.json');
    firing.alerts[0].fingerprint = 'no-auto-resolve';
    const opened = await inbound('alertmanager', key, firing);
    const [incidentId] = opened.json().incidentIds;
    const resolved = fixture('alertmanager-resolved.json');
    resolved.alerts[0].fingerprint = 'no-auto-resolve';
    expect((await inbound('alertmanager', key, resolved)).statusCode).toBe(200);
    const alerts = (await t.request('GET', `/api/v1/incidents/${incidentId}/alerts`)).json().items;
    expect(alerts[0].status).toBe('resolved');
    expect((await t.request('GET', `/api/v1/incidents/${incidentId}`)).json().status).toBe('new');
  });

  it('keeps the raw payload with the alert up to 16 kB, and only its size beyond', async () => {
    const { key } = await integration('alertmanager');
    const big = fixture('alertmanager-firing.json');
    big.alerts[0].fingerprint = 'big-payload';
    big.alerts[0].annotations = { ...big.alerts[0].annotations, description: 'x'.repeat(20_000) };
    const reply = await inbound('alertmanager', key, big);
    expect(reply.statusCode, reply.body).toBe(200);
    const [incidentId] = reply.json().incidentIds;
    const [alert] = (await t.request('GET', `/api/v1/incidents/${incidentId}/alerts`)).json().items;
    expect(alert.raw).toEqual({ truncated: true, bytes: Buffer.byteLength(JSON.stringify(big)) });
    const small = fixture('alertmanager-firing.json');
    small.alerts[0].fingerprint = 'small-payload';
    const kept = await inbound('alertmanager', key, small);
    const [smallIncident] = kept.json().incidentIds;
    const [smallAlert] = (await t.request('GET', `/api/v1/incidents/${smallIncident}/alerts`)).json().items;
    expect(smallAlert.raw).toEqual(small);
  });
});

describe('Zabbix media type', () => {
  it('serves the script and parameters to install', async () => {
    const res = await t.request('GET', '/api/v1/integrations/zabbix/media-type');
    expect(res.statusCode).toBe(200);
    expect(res.json().script).toContain('HttpRequest');
    expect(res.json().parameters.map((p: { name: string }) => p.name)).toContain('event_id');
  });
});
