/**
 * The three ways a post goes through intake (plain repeats outside a transaction; claims of new
 * identities; the per-alert way under advisory locks) must decide alike, also when posts overlap.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { postInbound } from '../../helpers/intake.ts';

let t: TestApp;
let customerId: string;

async function integration(extra: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/api/v1/integrations', {
    body: { type: 'alertmanager', name: `am ${Math.random()}`, customerId, autoResolve: true, ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; key: string };
}

const alert = (fingerprint: string, status: 'firing' | 'resolved' = 'firing') => ({
  status,
  labels: { alertname: 'HighCPU', instance: `${fingerprint}.example.internal:9100`, severity: 'warning' },
  annotations: { summary: `HighCPU on ${fingerprint}` },
  startsAt: '2026-12-01T10:00:00Z',
  endsAt: status === 'resolved' ? '2026-12-01T11:00:00Z' : '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus.example.internal/graph',
  fingerprint,
});
const group = (alerts: ReturnType<typeof alert>[]) => ({
  version: '4',
  groupKey: '{}:{alertname="HighCPU"}',
  truncatedAlerts: 0,
  status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
  receiver: 'tessera',
  groupLabels: { alertname: 'HighCPU' },
  commonLabels: { alertname: 'HighCPU' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager.example.internal',
  alerts,
});
const post = (key: string, body: unknown) => postInbound(t.app, 'alertmanager', key, body);

interface AlertRow {
  dedup_key: string;
  status: string;
  repeat_count: number;
  incident_id: string;
  raw: unknown;
}
const alertRows = async (integrationId: string) =>
  (
    await sql<AlertRow>`SELECT dedup_key, status, repeat_count, incident_id, raw FROM alerts
      WHERE integration_id = ${integrationId} ORDER BY dedup_key`.execute(t.db)
  ).rows;
const deliveries = async (integrationId: string) =>
  (await t.request('GET', `/api/v1/integrations/${integrationId}/deliveries?limit=500`)).json().items as {
    outcome: string;
    alerts: number;
    opened: number;
    payload: string | null;
  }[];

beforeAll(async () => {
  t = await startTestApp();
  customerId = (
    await t.request('POST', '/api/v1/customers', { body: { name: 'Paths Co', code: 'PATHS' } })
  ).json().id;
});
afterAll(async () => {
  await t?.close();
});

describe('intake paths', () => {
  it('decides a group per alert whichever way it goes, and logs bodies only where needed', async () => {
    const { id, key } = await integration();
    // New a, b: claimed, two incidents; the body is kept with the alerts.
    const first = await post(key, group([alert('pa'), alert('pb')]));
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ alerts: 2, opened: 2 });
    // a, b again (plain repeats, one statement) and c new (claimed) in one post.
    expect((await post(key, group([alert('pa'), alert('pb'), alert('pc')]))).json()).toMatchObject({
      opened: 1,
    });
    // Plain repeats only.
    const repeat = await post(key, group([alert('pb'), alert('pa')]));
    expect(repeat.json()).toMatchObject({ alerts: 2, opened: 0 });
    expect(repeat.json().incidentIds).toHaveLength(2);
    // a resolved, b firing, d resolved but never seen (ignored): the per-alert way.
    const mixed = await post(key, group([alert('pa', 'resolved'), alert('pb'), alert('pd', 'resolved')]));
    expect(mixed.json()).toMatchObject({ alerts: 3, opened: 0 });

    const rows = await alertRows(id);
    expect(rows.map((r) => [r.dedup_key, r.status, r.repeat_count])).toEqual([
      ['pa', 'resolved', 3],
      ['pb', 'firing', 4],
      ['pc', 'firing', 1],
    ]);
    expect(new Set(rows.map((r) => r.incident_id)).size).toBe(3);
    expect(rows[2]!.raw).toMatchObject({ alerts: [{ fingerprint: 'pa' }, { fingerprint: 'pb' }, {}] });
    const incidentA = (await t.request('GET', `/api/v1/incidents/${rows[0]!.incident_id}`)).json();
    expect(incidentA).toMatchObject({ status: 'resolved', resolutionCode: 'auto_resolved' });

    const log = (await deliveries(id)).reverse();
    expect(log.map((d) => [d.outcome, d.alerts, d.opened, d.payload !== null])).toEqual([
      ['accepted', 2, 2, false],
      ['accepted', 3, 1, false],
      ['accepted', 2, 0, false],
      ['accepted', 3, 0, true],
    ]);
  });

  it('reopens when a firing alert the process thinks firing was resolved elsewhere', async () => {
    const { id, key } = await integration();
    expect((await post(key, group([alert('ra')]))).json()).toMatchObject({ opened: 1 });
    expect((await post(key, group([alert('ra')]))).json()).toMatchObject({ opened: 0 });
    const [row] = await alertRows(id);
    // Another API process took the resolve: this one still holds the identity as firing.
    await sql`UPDATE alerts SET status = 'resolved', resolved_at = now() WHERE dedup_key = 'ra'
      AND integration_id = ${id}`.execute(t.db);
    const resolve = await t.request('POST', `/api/v1/incidents/${row!.incident_id}/resolve`, {
      body: { resolutionCode: 'auto_resolved', resolutionNotes: 'resolved elsewhere' },
    });
    expect(resolve.statusCode, resolve.body).toBe(200);
    const again = await post(key, group([alert('ra')]));
    expect(again.json()).toMatchObject({ opened: 0, incidentIds: [row!.incident_id] });
    expect((await t.request('GET', `/api/v1/incidents/${row!.incident_id}`)).json().status).not.toBe(
      'resolved',
    );
  });

  it('opens one incident per identity when overlapping posts race, in any order', async () => {
    const { id, key } = await integration();
    const keys = ['oa', 'ob', 'oc', 'od', 'oe', 'of'];
    const shuffled = () => [...keys].sort(() => Math.random() - 0.5).slice(0, 4);
    const bodies = Array.from({ length: 30 }, () => group(shuffled().map((k) => alert(k))));
    const replies = await Promise.all(bodies.map((b) => post(key, b)));
    expect(replies.map((r) => r.statusCode)).toEqual(replies.map(() => 200));
    const rows = await alertRows(id);
    expect(rows).toHaveLength(keys.length);
    expect(new Set(rows.map((r) => r.incident_id)).size).toBe(keys.length);
    expect(replies.reduce((n, r) => n + r.json().opened, 0)).toBe(keys.length);
    expect(rows.reduce((n, r) => n + r.repeat_count, 0)).toBe(30 * 4);

    // Repeats racing resolves of the same identities: every post answered, every count kept.
    const mixed = Array.from({ length: 30 }, (_, i) =>
      group(shuffled().map((k, j) => alert(k, (i + j) % 3 === 0 ? 'resolved' : 'firing'))),
    );
    const second = await Promise.all(mixed.map((b) => post(key, b)));
    expect(second.map((r) => r.statusCode)).toEqual(second.map(() => 200));
    const after = await alertRows(id);
    expect(after).toHaveLength(keys.length);
    // Inside the flap window a fire after a resolve reopens the same incident: still one each.
    const incidents = await sql<{ n: number }>`SELECT count(DISTINCT incident_id)::int AS n FROM alerts
      WHERE integration_id = ${id}`.execute(t.db);
    expect(incidents.rows[0]!.n).toBe(keys.length);
    const opened = await sql<{ n: number }>`SELECT count(*)::int AS n FROM incidents
      WHERE id IN (SELECT incident_id FROM alerts WHERE integration_id = ${id})`.execute(t.db);
    expect(opened.rows[0]!.n).toBe(keys.length);
  });
});

describe('batched posts (group commit)', () => {
  const statusOf = (r: { statusCode: number }) => r.statusCode;

  it('takes posts that arrive while their lane is busy in one batch, as if they came one by one', async () => {
    const { id, key } = await integration();
    // Known identities, fired one by one: this process now holds them as firing (the repeat lane).
    const known = ['ka', 'kb', 'kc', 'kd'];
    for (const k of known) expect((await post(key, group([alert(k)]))).json()).toMatchObject({ opened: 1 });
    const before = new Map((await alertRows(id)).map((r) => [r.dedup_key, r]));

    // 36 posts at once: repeats of known identities, new identities, and every new one sent twice
    // (an HA pair), some together with a repeat.
    const bodies = [
      ...Array.from({ length: 20 }, (_, i) => group([alert(known[i % 4]!)])),
      ...['na', 'nb', 'nc', 'nd', 'ne', 'nf', 'ng', 'nh'].flatMap((n, i) => [
        group([alert(n)]),
        group([alert(n), alert(known[i % 4]!)]),
      ]),
    ];
    const replies = await Promise.all(bodies.map((b) => post(key, b)));
    expect(replies.map(statusOf)).toEqual(replies.map(() => 200));

    const rows = new Map((await alertRows(id)).map((r) => [r.dedup_key, r]));
    expect(rows.size).toBe(12);
    // Each new identity opened one incident, in exactly one of its two posts; both name it.
    expect(replies.reduce((n, r) => n + r.json().opened, 0)).toBe(8);
    for (const n of ['na', 'nb', 'nc', 'nd', 'ne', 'nf', 'ng', 'nh']) {
      const row = rows.get(n)!;
      expect(row.repeat_count).toBe(2);
      const naming = replies.filter((_, i) => JSON.stringify(bodies[i]).includes(`"${n}"`));
      expect(naming.map((r) => r.json().incidentIds.includes(row.incident_id))).toEqual([true, true]);
    }
    // Every repeat counted: 20 single posts and 8 pairs over the four known identities.
    for (const k of known) {
      expect(rows.get(k)!.repeat_count - before.get(k)!.repeat_count).toBe(7);
      expect(rows.get(k)!.incident_id).toBe(before.get(k)!.incident_id);
    }
    const incidents = await sql<{ n: number }>`SELECT count(*)::int AS n FROM incidents
      WHERE id IN (SELECT incident_id FROM alerts WHERE integration_id = ${id})`.execute(t.db);
    expect(incidents.rows[0]!.n).toBe(12);

    // One delivery per post, with its own counts; posts shared transactions (one received_at each).
    const log = (await deliveries(id)).slice(0, 36);
    expect(log.every((d) => d.outcome === 'accepted')).toBe(true);
    expect(log.reduce((n, d) => n + d.alerts, 0)).toBe(20 + 8 * 3);
    expect(log.reduce((n, d) => n + d.opened, 0)).toBe(8);
    const times = await sql<{ n: number; posts: number }>`SELECT count(DISTINCT received_at)::int AS n,
      count(*)::int AS posts FROM integration_deliveries WHERE integration_id = ${id}
      AND id > (SELECT min(id) + 3 FROM integration_deliveries WHERE integration_id = ${id})`.execute(t.db);
    expect(times.rows[0]!.posts).toBe(36);
    expect(times.rows[0]!.n).toBeLessThan(36);
  });

  it('fails only the post that fails when its batch does, and records the others', async () => {
    const { id, key } = await integration();
    await post(key, group([alert('fa')]));
    for (let i = 0; i < 7; i++) await post(key, group([alert(`fr${i}`)]));
    // A fault injected in the database: opening an incident titled "poison ..." fails.
    await sql`CREATE OR REPLACE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poisoned incident'; END $$`.execute(t.db);
    await sql`CREATE TRIGGER test_poison BEFORE INSERT ON incidents FOR EACH ROW
      WHEN (NEW.title LIKE 'poison%') EXECUTE FUNCTION test_poison()`.execute(t.db);
    // And so does counting a repeat that now reads "poison ..." (the repeat lane's statement).
    await sql`CREATE TRIGGER test_poison_repeat BEFORE UPDATE ON alerts FOR EACH ROW
      WHEN (NEW.summary LIKE 'poison%') EXECUTE FUNCTION test_poison()`.execute(t.db);
    try {
      const poison = {
        ...alert('fpoison'),
        annotations: { summary: 'poison pill' },
      };
      const bodies = [
        ...Array.from({ length: 6 }, (_, i) => group([alert(`fn${i}`), alert('fa')])),
        group([poison, alert('fa')]),
        ...Array.from({ length: 6 }, (_, i) => group([alert(`fm${i}`)])),
      ];
      // Repeats only (the repeat lane), one of them poisoned.
      const repeats = Array.from({ length: 7 }, (_, i) =>
        group([
          i === 3 ? { ...alert(`fr${i}`), annotations: { summary: 'poison repeat' } } : alert(`fr${i}`),
        ]),
      );
      const [replies, repeatReplies] = await Promise.all([
        Promise.all(bodies.map((b) => post(key, b))),
        Promise.all(repeats.map((b) => post(key, b))),
      ]);
      expect(replies.map(statusOf)).toEqual(bodies.map((_, i) => (i === 6 ? 500 : 200)));
      expect(repeatReplies.map(statusOf)).toEqual(repeats.map((_, i) => (i === 3 ? 500 : 200)));
      const rows = new Map((await alertRows(id)).map((r) => [r.dedup_key, r]));
      expect(rows.has('fpoison')).toBe(false);
      expect(rows.size).toBe(20);
      // fa: once first, then in six accepted posts; the failed post's repeat was rolled back.
      expect(rows.get('fa')!.repeat_count).toBe(7);
      expect(
        [...rows.keys()].filter((k) => k.startsWith('fr')).map((k) => rows.get(k)!.repeat_count),
      ).toEqual([2, 2, 2, 1, 2, 2, 2]);
      expect((await deliveries(id)).filter((d) => d.outcome === 'accepted')).toHaveLength(8 + 12 + 6);
    } finally {
      await sql`DROP TRIGGER test_poison_repeat ON alerts`.execute(t.db);
      await sql`DROP TRIGGER test_poison ON incidents`.execute(t.db);
      await sql`DROP FUNCTION test_poison()`.execute(t.db);
    }
  });
});

describe('the claim batch in one statement', () => {
  /** Which statement wrote what: rows inserted into the tables a claim writes, by statement start. */
  async function recordingStatements<T>(work: () => Promise<T>) {
    await sql`CREATE TABLE IF NOT EXISTS test_writes (tbl text, at timestamptz)`.execute(t.db);
    await sql`TRUNCATE test_writes`.execute(t.db);
    await sql`CREATE OR REPLACE FUNCTION test_record_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO test_writes VALUES (TG_TABLE_NAME, statement_timestamp()); RETURN NULL; END $$`.execute(
      t.db,
    );
    const tables = [
      'alerts',
      'incidents',
      'incident_events',
      'audit_log',
      'outbox',
      'integration_deliveries',
    ];
    for (const table of tables)
      await sql`CREATE TRIGGER test_record_write AFTER INSERT OR UPDATE ON ${sql.table(table)}
        FOR EACH ROW EXECUTE FUNCTION test_record_write()`.execute(t.db);
    try {
      const result = await work();
      const writes = (
        await sql<{
          tbl: string;
          at: Date;
        }>`SELECT DISTINCT tbl, at FROM test_writes ORDER BY at, tbl`.execute(t.db)
      ).rows;
      return {
        result,
        tables: [...new Set(writes.map((w) => w.tbl))].sort(),
        statements: new Set(writes.map((w) => w.at.getTime())).size,
      };
    } finally {
      for (const table of tables)
        await sql`DROP TRIGGER test_record_write ON ${sql.table(table)}`.execute(t.db);
      await sql`DROP FUNCTION test_record_write()`.execute(t.db);
    }
  }

  it('opens incidents, counts repeats and logs the post in one statement', async () => {
    const { key, id } = await integration();
    await post(key, group([alert('os-old')]));
    const {
      result: reply,
      tables,
      statements,
    } = await recordingStatements(() => post(key, group([alert('os-old'), alert('os-new')])));
    expect(reply.json()).toMatchObject({ alerts: 2, opened: 1 });
    expect(tables).toEqual([
      'alerts',
      'audit_log',
      'incident_events',
      'incidents',
      'integration_deliveries',
      'outbox',
    ]);
    expect(statements).toBe(1);
    const rows = new Map((await alertRows(id)).map((r) => [r.dedup_key, r]));
    expect(rows.get('os-old')!.repeat_count).toBe(2);
    expect(rows.get('os-new')!.repeat_count).toBe(1);
    expect((await deliveries(id)).map((d) => [d.alerts, d.opened])).toEqual([
      [2, 1],
      [1, 1],
    ]);
  });

  it('records the incident it opens in audit, timeline and event as the API shows it', async () => {
    const { key } = await integration();
    const reply = await post(key, group([alert('os-shape')]));
    const [incidentId] = reply.json().incidentIds as string[];
    const incident = (await t.request('GET', `/api/v1/incidents/${incidentId}`)).json();
    const audit = (
      await sql<{ after: unknown; action: string }>`SELECT action, after FROM audit_log
        WHERE record_type = 'incident' AND record_id = ${incidentId!}`.execute(t.db)
    ).rows;
    expect(audit).toEqual([{ action: 'incident.create', after: incident }]);
    const events = (
      await sql<{ type: string; payload: unknown }>`SELECT type, payload FROM outbox
        WHERE aggregate_id = ${incidentId!}`.execute(t.db)
    ).rows;
    expect(events).toEqual([{ type: 'incident.created', payload: { incident } }]);
    const timeline = (await t.request('GET', `/api/v1/incidents/${incidentId}/timeline`)).json().items;
    expect(timeline.map((e: { type: string }) => e.type)).toEqual(['created']);
    expect(timeline[0]).toMatchObject({ channel: 'monitoring', priority: incident.priority });
  });

  it('writes nothing and takes a transaction when an alert fired again after its resolve', async () => {
    const { key, id } = await integration({ flapWindowSeconds: 3600 });
    await post(key, group([alert('os-flap')]));
    await post(key, group([alert('os-flap', 'resolved')]));
    const { result: reply, statements } = await recordingStatements(() =>
      post(key, group([alert('os-flap'), alert('os-other')])),
    );
    expect(reply.json()).toMatchObject({ alerts: 2, opened: 1 });
    expect(statements).toBeGreaterThan(1);
    const rows = new Map((await alertRows(id)).map((r) => [r.dedup_key, r]));
    expect(rows.get('os-flap')!.status).toBe('firing');
    expect(rows.get('os-other')!.repeat_count).toBe(1);
    const incidents = new Set([...rows.values()].map((r) => r.incident_id));
    expect(incidents.size).toBe(2);
    expect((await deliveries(id)).filter((d) => d.opened > 0)).toHaveLength(2);
  });
});

describe('mapping alerts to incidents', () => {
  it('applies the severity map and the label rules (service, category, group, CI) on every way', async () => {
    const service = (
      await t.request('POST', '/api/v1/services', { body: { code: 'payments', name: 'Payments' } })
    ).json();
    expect(service.id).toBeTruthy();
    const dba = (
      await t.request('POST', '/api/v1/groups', { body: { name: 'DBA on call', tier: 2 } })
    ).json();
    const { key } = await integration({
      severityMap: { medium: { impact: 'low', urgency: 'low' } },
      rules: [
        { match: { label: 'service' }, set: { serviceCode: '$value' } },
        { match: { label: 'team', value: 'dba' }, set: { groupId: dba.id } },
        { match: { label: 'alertname', value: 'DiskFull' }, set: { category: 'hardware.pc' } },
        { match: { label: 'instance' }, set: { ci: 'host $value' } },
      ],
    });
    const mapped = (fingerprint: string, status: 'firing' | 'resolved' = 'firing') => {
      const a = alert(fingerprint, status);
      return {
        ...a,
        labels: { ...a.labels, alertname: 'DiskFull', service: 'payments', team: 'dba', severity: 'warning' },
      };
    };
    const plain = alert('map-plain');
    // The claim lane (one statement) for the first, the per-alert way (a resolve in the post) for the second.
    const batch = await post(key, group([mapped('map-claim'), plain]));
    const general = await post(key, group([mapped('map-general'), alert('map-unknown', 'resolved')]));
    for (const reply of [batch, general]) expect(reply.statusCode, reply.body).toBe(200);
    const ids = [...batch.json().incidentIds, ...general.json().incidentIds] as string[];
    const incidents = await Promise.all(
      ids.map(async (id) => (await t.request('GET', `/api/v1/incidents/${id}`)).json()),
    );
    const byTitle = (fingerprint: string) =>
      incidents.filter((i) => i.description.includes(`${fingerprint}.example.internal`));
    for (const fingerprint of ['map-claim', 'map-general']) {
      const [incident] = byTitle(fingerprint);
      expect(incident).toMatchObject({
        serviceId: service.id,
        groupId: dba.id,
        category: 'hardware.pc',
        impact: 'low',
        urgency: 'low',
        priority: 'P5',
      });
      expect(incident.description).toContain(`CI: host ${fingerprint}.example.internal:9100`);
    }
    const [unmapped] = byTitle('map-plain');
    expect(unmapped).toMatchObject({ serviceId: null, category: null, impact: 'low', urgency: 'low' });
  });
});
