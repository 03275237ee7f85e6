import { createHash, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type AlertSource,
  generateDedupKey,
  type NormalizedAlert,
  type NormalizeResult,
  normalize,
  normalizeCloudEventsBatch,
  parseTimestamp,
  severityFromWord,
  verifyGrafanaSignature,
  ZABBIX_MEDIA_PARAMETERS,
  ZABBIX_MEDIA_SCRIPT,
} from '../../../src/modules/integrations/normalize/index.ts';
import { fixtureBytes, fixtureUrl } from '../../helpers/intake.ts';

const raw = fixtureBytes;
// Typed unknown here: the normalisers take whatever a sender posts.
const fixture = (name: string): unknown => JSON.parse(raw(name).toString('utf8'));
const NOW = new Date('2026-08-20T12:00:00.000Z');
const OPTS = { now: NOW, generateKey: () => 'generated-key-0001' };

function ok(result: NormalizeResult): { alerts: NormalizedAlert[]; meta: Record<string, unknown> } {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`);
  return result;
}
function one(result: NormalizeResult): NormalizedAlert {
  const { alerts } = ok(result);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
}
function pointers(result: NormalizeResult): string[] {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.alerts)}`);
  for (const e of result.errors) {
    expect(e.in).toBe('body');
    expect(e.detail).not.toBe('');
  }
  return result.errors.map((e) => e.pointer);
}
const clone = <T>(v: T): T => structuredClone(v);

// ---------------------------------------------------------------------------------------------------
// Every fixture of fixtures-index.json

interface IndexEvent {
  key?: string;
  action: string;
  severity?: string;
  resolved_at?: string;
  resolved_at_unix?: string;
  recovery_event_id?: string;
  delivery_id?: string;
}
interface IndexEntry {
  sender: string;
  expect?: string;
  events?: IndexEvent[];
}
const INDEX = fixture('fixtures-index.json') as Record<string, IndexEntry | string>;
const ENTRIES = Object.entries(INDEX).filter((e): e is [string, IndexEntry] => typeof e[1] === 'object');

/** The index's sender names for the five senders this module handles. */
const SENDERS: Record<string, AlertSource> = {
  alertmanager: 'alertmanager',
  grafana: 'grafana',
  zabbix: 'zabbix',
  'pagerduty-events-v2': 'pagerduty',
  'cloudevents-structured': 'cloudevents',
  'cloudevents-batch': 'cloudevents',
};
/** Senders of the index that other modules handle (and whose fixtures are not copied here). */
const OTHER_SENDERS = new Set([
  'datadog-default-payload',
  'datadog-custom-payload',
  'uptime-kuma',
  'nagios-script',
  'n/a',
]);

/** Rejected fixtures ('various' sender): which of our senders must reject them, at which pointers. */
const ALL: AlertSource[] = ['alertmanager', 'grafana', 'zabbix', 'pagerduty', 'cloudevents'];
const REJECTS: Record<string, Partial<Record<AlertSource, string[]>> | 'not-json' | 'other-module'> = {
  'bad-truncated-json.json': 'not-json',
  'bad-uptime-kuma-wrong-types.json': 'other-module',
  'bad-empty-object.json': {
    alertmanager: ['/version', '/receiver', '/status', '/groupKey', '/alerts'],
    grafana: ['/version', '/orgId', '/receiver', '/status', '/groupKey', '/alerts'],
    zabbix: ['/event_id', '/event_value', '/event_nseverity'],
    pagerduty: ['/routing_key', '/event_action'],
    cloudevents: ['/specversion', '/id', '/source', '/type'],
  },
  // `[]` is only acceptable as a CloudEvents batch (nothing to do): see the batch tests below.
  'bad-top-level-array.json': { alertmanager: ['/'], grafana: ['/'], zabbix: ['/'], pagerduty: ['/'] },
  'bad-alertmanager-wrong-types.json': {
    alertmanager: [
      '/version',
      '/receiver',
      '/status',
      '/groupKey',
      '/groupLabels',
      '/commonLabels',
      '/externalURL',
      '/truncatedAlerts',
      '/alerts',
    ],
  },
  'bad-alertmanager-missing-fields.json': {
    alertmanager: [
      '/status',
      '/groupKey',
      '/alerts/0/status',
      '/alerts/0/labels',
      '/alerts/0/startsAt',
      '/alerts/0/fingerprint',
      '/alerts/1/labels',
      '/alerts/1/startsAt',
      '/alerts/1/fingerprint',
    ],
  },
  'bad-alertmanager-invalid-values.json': {
    alertmanager: [
      '/status',
      '/alerts/0/status',
      '/alerts/0/startsAt',
      '/alerts/0/endsAt',
      '/alerts/1/endsAt',
    ],
  },
  'bad-alertmanager-unsupported-version.json': {
    alertmanager: ['/version'],
    grafana: ['/version', '/orgId'],
  },
  'bad-grafana-wrong-types.json': {
    grafana: [
      '/orgId',
      '/state',
      '/truncatedAlerts',
      '/alerts/0/labels',
      '/alerts/0/values/B',
      '/alerts/0/values/C',
    ],
  },
  'bad-zabbix-unresolved-macros.json': { zabbix: ['/event_id', '/event_value', '/event_nseverity'] },
  'bad-pagerduty-missing-routing-key.json': { pagerduty: ['/routing_key'] },
  'bad-pagerduty-routing-key-wrong-length.json': { pagerduty: ['/routing_key'] },
  'bad-pagerduty-invalid-event-action.json': { pagerduty: ['/event_action'] },
  'bad-pagerduty-trigger-missing-payload-fields.json': {
    pagerduty: ['/payload/summary', '/payload/source', '/payload/severity'],
  },
  'bad-pagerduty-invalid-severity.json': { pagerduty: ['/payload/severity'] },
  'bad-pagerduty-resolve-without-dedup-key.json': { pagerduty: ['/dedup_key'] },
  'bad-cloudevent-missing-required.json': { cloudevents: ['/specversion', '/id', '/source', '/time'] },
  'bad-cloudevent-data-and-data-base64.json': { cloudevents: ['/data_base64', '/Dedup-Key'] },
};

const ACTION_STATUS: Record<string, NormalizedAlert['status']> = {
  open: 'firing',
  resolve: 'resolved',
  acknowledge: 'acknowledged',
};

describe('fixtures-index.json', () => {
  it('classifies every entry: one of our senders, a reject we check, or another module’s sender', () => {
    for (const [name, entry] of ENTRIES) {
      if (entry.expect === 'reject') expect(REJECTS[name], name).toBeDefined();
      else expect(SENDERS[entry.sender] !== undefined || OTHER_SENDERS.has(entry.sender), name).toBe(true);
    }
  });

  const accepted = ENTRIES.filter(([name, e]) => SENDERS[e.sender] && existsSync(fixtureUrl(name)));
  it('has the fixtures of our senders copied', () => {
    expect(accepted.map(([n]) => n).sort()).toEqual(
      ENTRIES.filter(([, e]) => SENDERS[e.sender])
        .map(([n]) => n)
        .sort(),
    );
    expect(accepted.length).toBe(15);
  });

  it.each(accepted)('%s gives exactly the expected events', (name, entry) => {
    const source = SENDERS[entry.sender]!;
    const { alerts, meta } = ok(normalize(source, fixture(name), OPTS));
    const events = entry.events ?? [];
    expect(alerts).toHaveLength(events.length);
    events.forEach((event, i) => {
      const alert = alerts[i]!;
      expect(alert.source).toBe(source);
      expect(alert.status).toBe(ACTION_STATUS[event.action]);
      if (event.key === '<generated>') {
        expect(alert.key).toBe('generated-key-0001');
        expect(meta['dedupKey']).toBe('generated-key-0001');
        expect(meta['dedupKeyGenerated']).toBe(true);
      } else if (source === 'grafana') {
        // Grafana fingerprints are scoped by orgId (grafana.ts).
        expect(alert.key).toBe(`1:${event.key}`);
      } else {
        expect(alert.key).toBe(event.key);
      }
      if (event.severity) expect(alert.severity).toBe(event.severity);
      if (event.resolved_at) {
        expect(alert.endsAt).toBe(parseTimestamp(event.resolved_at));
        expect(Date.parse(alert.endsAt!)).toBe(Date.parse(event.resolved_at));
      }
      if (event.resolved_at_unix)
        expect(Date.parse(alert.endsAt!) / 1000).toBe(Number(event.resolved_at_unix));
      if (event.recovery_event_id) expect(meta['recoveryEventId']).toBe(event.recovery_event_id);
      if (event.delivery_id) {
        expect((meta['deliveries'] as { deliveryKey: string }[])[i]!.deliveryKey).toBe(event.delivery_id);
      }
      if (alert.status === 'resolved') expect(alert.endsAt).not.toBeNull();
      expect(alert.summary.length).toBeGreaterThan(0);
      expect(alert.summary.length).toBeLessThanOrEqual(300);
    });
  });

  const rejected = Object.entries(REJECTS).filter(([name]) => existsSync(fixtureUrl(name)));
  it.each(rejected)('%s is rejected at the bad fields', (name, expected) => {
    if (expected === 'other-module') return;
    if (expected === 'not-json') {
      // The HTTP layer answers 400 before a normaliser sees it.
      expect(() => JSON.parse(raw(name).toString('utf8'))).toThrow();
      return;
    }
    for (const source of ALL) {
      const want = expected[source];
      if (!want) continue;
      expect(pointers(normalize(source, fixture(name), OPTS)).sort(), `${name} as ${source}`).toEqual(
        [...want].sort(),
      );
    }
  });

  it('the Alertmanager/Grafana "bad" fixtures are rejected by every sender they do not belong to', () => {
    for (const source of ALL) {
      for (const name of ['bad-empty-object.json', 'bad-alertmanager-unsupported-version.json']) {
        expect(normalize(source, fixture(name), OPTS).ok, `${name} as ${source}`).toBe(false);
      }
    }
    // Each sender's good fixture is not mistaken for another sender's format.
    expect(normalize('grafana', fixture('alertmanager-firing.json')).ok).toBe(false);
    expect(normalize('alertmanager', fixture('grafana-firing.json')).ok).toBe(false);
    expect(normalize('pagerduty', fixture('zabbix-problem.json')).ok).toBe(false);
    expect(normalize('zabbix', fixture('cloudevent.json')).ok).toBe(false);
    expect(normalize('cloudevents', fixture('pagerduty-trigger.json')).ok).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
// Shared helpers

describe('timestamps', () => {
  it.each([
    ['2026-08-20T09:52:26.739266876Z', '2026-08-20T09:52:26.739266876Z'],
    ['2026-08-20T11:51:03.157076+02:00', '2026-08-20T09:51:03.157076Z'],
    ['2026-08-20T09:52:26.315+0000', '2026-08-20T09:52:26.315Z'],
    ['2026-08-20T04:22:26-05:30', '2026-08-20T09:52:26Z'],
    ['2026-08-20T09:52:26.100000Z', '2026-08-20T09:52:26.1Z'],
    ['2026-08-20t09:52:26z', '2026-08-20T09:52:26Z'],
    ['2026-08-20 09:52:26+00:00', '2026-08-20T09:52:26Z'],
    ['2026-08-20T00:30:00+01:00', '2026-08-19T23:30:00Z'],
    ['2028-02-29T12:00:00Z', '2028-02-29T12:00:00Z'],
    ['2026-12-31T23:59:60Z', '2026-12-31T23:59:59Z'],
  ])('%s → %s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it.each([
    '2026-13-45T25:61:00Z',
    '2026-02-29T12:00:00Z',
    '2026-04-31T12:00:00Z',
    '2026-08-20T24:00:00Z',
    '2026-08-20T09:52:26',
    '2026-08-20',
    'yesterday',
    '1787219546',
    '2026-08-20T09:52:26.1234567891Z',
    '2026-08-20T09:52:26+25:00',
  ])('rejects %s', (input) => {
    expect(parseTimestamp(input)).toBeUndefined();
  });
});

describe('severity words', () => {
  it.each([
    ['critical', 'critical'],
    ['CRITICAL', 'critical'],
    ['page', 'critical'],
    ['P1', 'critical'],
    ['error', 'high'],
    ['high', 'high'],
    ['warning', 'medium'],
    ['Warn', 'medium'],
    ['low', 'low'],
    ['info', 'info'],
    ['none', 'info'],
    ['bogus', undefined],
    ['', undefined],
  ])('%s → %s', (word, expected) => {
    expect(severityFromWord(word)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------------
// Alertmanager

type Json = Record<string, unknown>;
const amFiring = () => fixture('alertmanager-firing.json') as Json & { alerts: Json[] };

describe('alertmanager', () => {
  it('decides status per alert: a firing group with one resolved alert', () => {
    const { alerts, meta } = ok(
      normalize('alertmanager', fixture('alertmanager-grouped-3-alerts.json'), OPTS),
    );
    expect(alerts.map((a) => a.status)).toEqual(['firing', 'firing', 'resolved']);
    expect(alerts[2]!.endsAt).toBe('2026-08-20T10:01:11.102938475Z');
    expect(alerts[0]!.endsAt).toBeNull();
    expect(
      alerts.every((a) => a.groupKey === '{}:{alertname="FilesystemAlmostFull", cluster="prod-eu-1"}'),
    ).toBe(true);
    expect(meta).toMatchObject({
      status: 'firing',
      notificationReason: 'some alerts resolved',
      truncatedAlerts: 0,
    });
  });

  it('maps key, occurrence, hints, links and keeps nanoseconds; zero endsAt → null', () => {
    const a = one(normalize('alertmanager', amFiring(), OPTS));
    expect(a).toMatchObject({
      key: '85831edf2f3aadb2',
      occurrence: '85831edf2f3aadb2@2026-08-20T09:52:26.739266876Z',
      status: 'firing',
      severity: 'critical',
      summary: 'Instance db-01.example.internal:9100 down',
      description: 'db-01.example.internal:9100 of job node has been down for more than 5 minutes.',
      ciHint: 'db-01.example.internal',
      serviceHint: null,
      startsAt: '2026-08-20T09:52:26.739266876Z',
      endsAt: null,
    });
    expect(a.labels).toEqual({
      alertname: 'InstanceDown',
      instance: 'db-01.example.internal:9100',
      job: 'node',
      severity: 'critical',
      team: 'dba',
    });
    expect(a.links).toEqual([
      { href: 'http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1', text: 'Source' },
      { href: 'https://runbooks.example.com/alerts/InstanceDown', text: 'Runbook' },
    ]);
  });

  it('a re-fire after a resolve is the same key but a new occurrence', () => {
    const first = one(normalize('alertmanager', amFiring(), OPTS));
    const again = amFiring();
    again.alerts[0]!['startsAt'] = '2026-08-20T11:00:00.5Z';
    const second = one(normalize('alertmanager', again, OPTS));
    expect(second.key).toBe(first.key);
    expect(second.occurrence).not.toBe(first.occurrence);
  });

  it('decodes Go-escaped \\u0026 \\u003c \\u003e in every string', () => {
    const body =
      '{"receiver":"itsm\\\\.webhook","status":"firing","version":"4","groupKey":"{}:{a=\\"x\\u0026y\\"}",' +
      '"alerts":[{"status":"firing","labels":{"alertname":"Latency \\u003e 1s \\u0026 errors \\u003c 5%"},' +
      '"annotations":{"dashboard":"https://grafana.example.com/d/x?a=1\\u0026b=2"},' +
      '"startsAt":"2026-08-20T09:52:26.739266876Z","endsAt":"0001-01-01T00:00:00Z",' +
      '"generatorURL":"http://prom:9090/graph?g0.expr=up\\u0026g0.tab=1","fingerprint":"0123456789abcdef"}]}';
    const { alerts, meta } = ok(normalize('alertmanager', JSON.parse(body), OPTS));
    const a = alerts[0]!;
    expect(a.summary).toBe('Latency > 1s & errors < 5%');
    expect(a.groupKey).toBe('{}:{a="x&y"}');
    expect(meta['receiver']).toBe('itsm\\.webhook');
    expect(a.links).toEqual([
      { href: 'http://prom:9090/graph?g0.expr=up&g0.tab=1', text: 'Source' },
      { href: 'https://grafana.example.com/d/x?a=1&b=2', text: 'dashboard' },
    ]);
  });

  it('accepts missing optional fields: no annotations, generatorURL, group maps or truncatedAlerts', () => {
    const body = {
      receiver: 'r',
      status: 'firing',
      version: '4',
      groupKey: '{}:{}',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'Watchdog' },
          startsAt: '2026-08-20T09:00:00Z',
          fingerprint: 'aa',
        },
        {
          status: 'firing',
          labels: { job: 'x', service: 'payments', host: 'app-01' },
          annotations: null,
          startsAt: '2026-08-20T09:00:00Z',
          fingerprint: 'bb',
        },
      ],
    };
    const { alerts, meta } = ok(normalize('alertmanager', body, { ...OPTS, defaultSeverity: 'low' }));
    expect(alerts[0]).toMatchObject({ summary: 'Watchdog', description: null, severity: 'low', links: [] });
    expect(alerts[1]).toMatchObject({ summary: 'Alert bb', serviceHint: 'payments', ciHint: 'app-01' });
    expect(meta['truncatedAlerts']).toBe(0);
  });

  it('keeps truncation info and route labels (max_alerts)', () => {
    const body = amFiring();
    body['truncatedAlerts'] = 3;
    body['routeLabels'] = { team: 'dba' };
    expect(ok(normalize('alertmanager', body, OPTS)).meta['truncatedAlerts']).toBe(3);
  });

  it('a resolved alert without endsAt ends at the receipt time', () => {
    const body = amFiring();
    body.alerts[0]!['status'] = 'resolved';
    delete body.alerts[0]!['endsAt'];
    expect(one(normalize('alertmanager', body, OPTS)).endsAt).toBe('2026-08-20T12:00:00Z');
  });

  it('rejects non-string label values and non-object payloads with pointers', () => {
    const body = amFiring();
    (body.alerts[0]!['labels'] as Json)['severity'] = 2;
    (body.alerts[0]!['labels'] as Json)['a/b~c'] = null;
    expect(pointers(normalize('alertmanager', body))).toEqual([
      '/alerts/0/labels/severity',
      '/alerts/0/labels/a~1b~0c',
    ]);
    for (const payload of [null, 'x', 42, [], [amFiring()]]) {
      expect(pointers(normalize('alertmanager', payload))).toEqual(['/']);
    }
    const notObject = amFiring();
    notObject.alerts = ['x' as unknown as Json];
    expect(pointers(normalize('alertmanager', notObject))).toEqual(['/alerts/0']);
  });

  it('accepts an empty alerts array as nothing to do', () => {
    const body = amFiring();
    body.alerts = [];
    expect(ok(normalize('alertmanager', body)).alerts).toEqual([]);
  });

  it('ciHint strips the exporter port, keeps URLs and bracketed IPv6 hosts', () => {
    const hint = (instance: string) => {
      const body = amFiring();
      (body.alerts[0]!['labels'] as Json)['instance'] = instance;
      return one(normalize('alertmanager', body)).ciHint;
    };
    expect(hint('db-01:9100')).toBe('db-01');
    expect(hint('[2001:db8::1]:9100')).toBe('2001:db8::1');
    expect(hint('https://example.com/health')).toBe('https://example.com/health');
    expect(hint('10.0.0.5')).toBe('10.0.0.5');
  });
});

// ---------------------------------------------------------------------------------------------------
// Labels, summary, links bounds (shared)

describe('bounds', () => {
  it('keeps at most 100 labels, values at most 1000 chars, summary at most 300', () => {
    const body = amFiring();
    const labels: Record<string, string> = { alertname: 'x'.repeat(500) };
    for (let i = 0; i < 150; i++) labels[`l${i}`] = 'v'.repeat(i === 0 ? 5000 : 3);
    labels[`k${'y'.repeat(300)}`] = 'long key';
    body.alerts[0]!['labels'] = labels;
    body.alerts[0]!['annotations'] = { description: 'd'.repeat(50_000) };
    const a = one(normalize('alertmanager', body));
    expect(Object.keys(a.labels)).toHaveLength(100);
    expect(a.labels['l0']).toHaveLength(1000);
    expect(a.labels['l0']!.endsWith('…')).toBe(true);
    expect(a.labels['alertname']).toHaveLength(500);
    expect(a.summary).toHaveLength(300);
    expect(a.summary.endsWith('…')).toBe(true);
    expect(a.description!.length).toBeLessThanOrEqual(16_000);
  });

  it('does not split a surrogate pair when truncating, and collapses whitespace in summaries', () => {
    const body = amFiring();
    body.alerts[0]!['annotations'] = { summary: `${'a'.repeat(298)}😀 tail` };
    const a = one(normalize('alertmanager', body));
    expect(a.summary).toBe(`${'a'.repeat(298)}…`);
    body.alerts[0]!['annotations'] = { summary: '  Disk\n\tfull  on   db-01 ' };
    expect(one(normalize('alertmanager', body)).summary).toBe('Disk full on db-01');
  });

  it('keeps only http(s) links', () => {
    const body = amFiring();
    body.alerts[0]!['generatorURL'] = 'javascript:alert(1)';
    body.alerts[0]!['annotations'] = {
      runbook_url: 'ftp://x/y',
      wiki: 'https://wiki.example.com/x',
      note: 'text',
    };
    expect(one(normalize('alertmanager', body)).links).toEqual([
      { href: 'https://wiki.example.com/x', text: 'wiki' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Grafana

const grafanaFiring = () => fixture('grafana-firing.json') as Json & { alerts: Json[] };

describe('grafana', () => {
  it('scopes the fingerprint by orgId, converts local offsets to UTC, adds Grafana links', () => {
    const a = one(normalize('grafana', grafanaFiring(), OPTS));
    expect(a).toMatchObject({
      key: '1:c6eadffa33fcdf37',
      occurrence: '1:c6eadffa33fcdf37@2026-08-20T09:51:03.157076Z',
      severity: 'medium',
      summary: 'This alert was triggered for zone us-1',
      startsAt: '2026-08-20T09:51:03.157076Z',
      endsAt: null,
      ciHint: null,
    });
    expect(a.links.map((l) => l.text)).toEqual(['Source', 'Runbook', 'Silence']);
    expect(a.links[2]!.href).toContain('alertmanager=grafana&matcher=');
  });

  it('uses the alert’s own orgId, accepts values null, falls back to alertname then title', () => {
    const body = grafanaFiring();
    body.alerts[0]!['orgId'] = 7;
    body.alerts[0]!['values'] = null;
    body.alerts[0]!['annotations'] = {};
    body.alerts[0]!['labels'] = { alertname: 'Memory', severity: 'critical', instance: 'web-1:9100' };
    const a = one(normalize('grafana', body, OPTS));
    expect(a).toMatchObject({
      key: '7:c6eadffa33fcdf37',
      summary: 'Memory',
      severity: 'critical',
      ciHint: 'web-1',
    });
    const noName = grafanaFiring();
    noName.alerts[0]!['annotations'] = {};
    noName.alerts[0]!['labels'] = { zone: 'us-1' };
    expect(one(normalize('grafana', noName)).summary).toBe(
      '[FIRING:1] High memory usage Infrastructure (blue us-1)',
    );
  });

  it('rejects Alertmanager version "4" and requires orgId', () => {
    const body = grafanaFiring();
    body['version'] = '4';
    delete body['orgId'];
    expect(pointers(normalize('grafana', body))).toEqual(['/version', '/orgId']);
  });

  describe('verifyGrafanaSignature', () => {
    const body = raw('grafana-firing.json');
    const secret = 'test-hmac-secret';
    const plain = '76a7c7c11558bde7ad51a86a308b85da993dc336ab0b6bcc662693359d05a0f0';
    const stamped = '5b4c31d8559da59f8bf84eb111d3b427d1561a81b6fc4bd8718c6664bea91560';

    it('matches the README test vectors (exact fixture bytes)', () => {
      expect(body.length).toBe(2648);
      expect(verifyGrafanaSignature(secret, body, { 'x-grafana-alerting-signature': plain })).toBe(true);
      expect(
        verifyGrafanaSignature(secret, body, { 'X-Grafana-Alerting-Signature': plain.toUpperCase() }),
      ).toBe(true);
      const opts = {
        timestampHeader: 'X-Grafana-Alerting-Timestamp',
        now: new Date(1787219466_000 + 60_000),
      };
      const headers = {
        'x-grafana-alerting-signature': stamped,
        'x-grafana-alerting-timestamp': '1787219466',
      };
      expect(verifyGrafanaSignature(secret, body, headers, opts)).toBe(true);
    });

    it('fails on a wrong secret, a changed body, a missing/ambiguous header, or a stale timestamp', () => {
      expect(verifyGrafanaSignature('other', body, { 'x-grafana-alerting-signature': plain })).toBe(false);
      const tampered = Buffer.from(body);
      tampered[10] = tampered[10]! ^ 1;
      expect(verifyGrafanaSignature(secret, tampered, { 'x-grafana-alerting-signature': plain })).toBe(false);
      expect(verifyGrafanaSignature(secret, body, {})).toBe(false);
      expect(verifyGrafanaSignature(secret, body, { 'x-grafana-alerting-signature': [plain, plain] })).toBe(
        false,
      );
      expect(verifyGrafanaSignature(secret, body, { 'x-grafana-alerting-signature': 'nothex' })).toBe(false);
      expect(verifyGrafanaSignature('', body, { 'x-grafana-alerting-signature': plain })).toBe(false);
      const opts = {
        timestampHeader: 'x-grafana-alerting-timestamp',
        now: new Date(1787219466_000 + 301_000),
      };
      const headers = {
        'x-grafana-alerting-signature': stamped,
        'x-grafana-alerting-timestamp': '1787219466',
      };
      expect(verifyGrafanaSignature(secret, body, headers, opts)).toBe(false);
      // Timestamp configured but not sent, or the body-only signature replayed.
      const now = { timestampHeader: 'x-grafana-alerting-timestamp', now: new Date(1787219466_000) };
      expect(verifyGrafanaSignature(secret, body, { 'x-grafana-alerting-signature': plain }, now)).toBe(
        false,
      );
    });

    it('supports a custom signature header', () => {
      const sig = createHmac('sha256', 's3').update(body).digest('hex');
      expect(verifyGrafanaSignature('s3', body, { 'x-signature': sig }, { header: 'X-Signature' })).toBe(
        true,
      );
      expect(
        verifyGrafanaSignature(
          's3',
          body,
          { 'x-grafana-alerting-signature': sig },
          { header: 'X-Signature' },
        ),
      ).toBe(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Zabbix

const zabbixProblem = () => fixture('zabbix-problem.json') as Record<string, unknown>;

describe('zabbix', () => {
  it('maps the problem: key = event id, severity from NSEVERITY, host, tags, unix time', () => {
    const a = one(normalize('zabbix', zabbixProblem(), OPTS));
    expect(a).toMatchObject({
      key: '4242',
      occurrence: '4242',
      status: 'firing',
      severity: 'high',
      summary: 'High CPU utilization (over 90% for 5m)',
      ciHint: 'web-03.example.internal',
      serviceHint: null,
      startsAt: '2026-08-20T09:52:26Z',
      endsAt: null,
      links: [
        {
          href: 'https://zabbix.example.com/tr_events.php?triggerid=23456&eventid=4242',
          text: 'Zabbix event',
        },
      ],
    });
    expect(a.labels).toMatchObject({
      class: 'os',
      component: 'cpu',
      scope: 'performance',
      'zabbix.host_ip': '10.0.1.23',
    });
  });

  it.each([
    ['0', 'info'],
    ['1', 'info'],
    ['2', 'low'],
    ['3', 'medium'],
    ['4', 'high'],
    ['5', 'critical'],
  ])('NSEVERITY %s → %s', (n, severity) => {
    expect(one(normalize('zabbix', { ...zabbixProblem(), event_nseverity: n })).severity).toBe(severity);
  });

  it('update operations: acknowledged → acknowledged, unacknowledged/commented → firing, closed → resolved', () => {
    const update = (action: string) =>
      one(
        normalize(
          'zabbix',
          { ...zabbixProblem(), event_update_status: '1', event_update_action: action },
          OPTS,
        ),
      ).status;
    expect(update('acknowledged')).toBe('acknowledged');
    expect(update('acknowledged and commented')).toBe('acknowledged');
    expect(update('unacknowledged')).toBe('firing');
    expect(update('commented')).toBe('firing');
    expect(update('changed severity from Average to High')).toBe('firing');
    expect(update('closed')).toBe('resolved');
    // "acknowledged" in a problem message (update status 0) is not an ack.
    expect(one(normalize('zabbix', { ...zabbixProblem(), event_update_action: 'acknowledged' })).status).toBe(
      'firing',
    );
    const ack = ok(normalize('zabbix', fixture('zabbix-ack-update.json')));
    expect(ack.meta).toMatchObject({
      updateAction: 'acknowledged and commented',
      updateMessage: 'Investigating: nightly backup job saturating CPU.',
      acknowledged: true,
    });
  });

  it('recovery: ends at the recovery timestamp, or at the receipt time without one', () => {
    const rec = ok(normalize('zabbix', fixture('zabbix-recovery.json'), OPTS));
    expect(rec.alerts[0]).toMatchObject({ status: 'resolved', endsAt: '2026-08-20T10:07:26Z' });
    expect(rec.meta['recoveryEventId']).toBe('4250');
    const body = {
      ...(fixture('zabbix-recovery.json') as Json),
      event_recovery_timestamp: '{EVENT.RECOVERY.TIMESTAMP}',
    };
    expect(one(normalize('zabbix', body, OPTS)).endsAt).toBe('2026-08-20T12:00:00Z');
  });

  it('treats unexpanded macros and *UNKNOWN* in optional fields as absent', () => {
    const body = {
      ...zabbixProblem(),
      host_name: '{HOST.NAME}',
      host_host: '*UNKNOWN*',
      event_name: '{EVENT.NAME}',
      event_tags_json: '{EVENT.TAGSJSON}',
      zabbix_url: '{$ZABBIX.URL}',
      event_timestamp: '{EVENT.TIMESTAMP}',
    };
    const a = one(normalize('zabbix', body));
    expect(a).toMatchObject({
      ciHint: null,
      summary: 'Problem: High CPU utilization (over 90% for 5m)',
      links: [],
    });
    expect(a.startsAt).toBeNull();
    expect(a.labels['zabbix.host_name']).toBeUndefined();
  });

  it('joins repeated tags and takes serviceHint from tag "service"', () => {
    const tags = [
      { tag: 'scope', value: 'availability' },
      { tag: 'scope', value: 'performance' },
      { tag: 'service', value: 'Web shop' },
    ];
    const a = one(normalize('zabbix', { ...zabbixProblem(), event_tags_json: JSON.stringify(tags) }));
    expect(a.labels['scope']).toBe('availability, performance');
    expect(a.serviceHint).toBe('Web shop');
  });

  it('rejects numbers (every Zabbix value is a string), discovery events and malformed tags', () => {
    expect(
      pointers(normalize('zabbix', { ...zabbixProblem(), event_id: 4242, event_value: 1 })).sort(),
    ).toEqual(['/event_id', '/event_value']);
    expect(pointers(normalize('zabbix', { ...zabbixProblem(), event_source: '1' }))).toEqual([
      '/event_source',
    ]);
    expect(pointers(normalize('zabbix', { ...zabbixProblem(), event_tags_json: '[{"tag":1}]' }))).toEqual([
      '/event_tags_json',
    ]);
    expect(pointers(normalize('zabbix', { ...zabbixProblem(), event_tags_json: 'not json' }))).toEqual([
      '/event_tags_json',
    ]);
    expect(pointers(normalize('zabbix', { ...zabbixProblem(), event_timestamp: '2026-08-20' }))).toEqual([
      '/event_timestamp',
    ]);
  });

  it('internal events (source 3) need no severity', () => {
    const body = { ...zabbixProblem(), event_source: '3', event_nseverity: '{EVENT.NSEVERITY}' };
    expect(one(normalize('zabbix', body, { defaultSeverity: 'low' })).severity).toBe('low');
  });

  it('ZABBIX_MEDIA_SCRIPT forwards the parameters as JSON with a bearer token and throws on non-2xx', () => {
    const run = (status: number, params: Record<string, string>) => {
      const sent: { url?: string; body?: string; headers: string[] } = { headers: [] };
      class HttpRequest {
        addHeader(h: string) {
          sent.headers.push(h);
        }
        setProxy() {}
        post(url: string, body: string) {
          sent.url = url;
          sent.body = body;
          return '{"status":"accepted"}';
        }
        getStatus() {
          return status;
        }
      }
      const Zabbix = { log: () => undefined };
      const fn = new Function('value', 'HttpRequest', 'Zabbix', ZABBIX_MEDIA_SCRIPT);
      return { result: fn(JSON.stringify(params), HttpRequest, Zabbix) as unknown, sent };
    };
    const params = Object.fromEntries(
      Object.entries(zabbixProblem()).map(([k, v]) => [k, String(v)]),
    ) as Record<string, string>;
    const { result, sent } = run(202, {
      ...params,
      itsm_url: 'https://itsm.example.com/hooks/zabbix',
      itsm_token: 'tok',
    });
    expect(result).toBe('OK');
    expect(sent.url).toBe('https://itsm.example.com/hooks/zabbix');
    expect(sent.headers).toEqual(['Content-Type: application/json', 'Authorization: Bearer tok']);
    const posted = JSON.parse(sent.body!) as Json;
    expect(posted['itsm_token']).toBeUndefined();
    expect(one(normalize('zabbix', posted)).key).toBe('4242');
    const thrown = (f: () => unknown): string => {
      try {
        f();
      } catch (err) {
        return String(err);
      }
      return 'nothing thrown';
    };
    expect(thrown(() => run(500, { ...params, itsm_url: 'https://x', itsm_token: 'tok' }))).toMatch(
      /HTTP 500/,
    );
    expect(thrown(() => run(202, { ...params, itsm_url: 'https://x', itsm_token: '{$ITSM.TOKEN}' }))).toMatch(
      /itsm_token/,
    );
    expect(thrown(() => run(202, { ...params, itsm_url: '{$ITSM.URL}', itsm_token: 'tok' }))).toMatch(
      /itsm_url/,
    );
  });

  it('ZABBIX_MEDIA_PARAMETERS covers every field of the fixtures', () => {
    const names = new Set(ZABBIX_MEDIA_PARAMETERS.map((p) => p.name));
    for (const name of ['zabbix-problem.json', 'zabbix-ack-update.json', 'zabbix-recovery.json']) {
      for (const key of Object.keys(fixture(name) as Json)) expect(names.has(key), key).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// PagerDuty

const pdTrigger = () => fixture('pagerduty-trigger.json') as Json & { payload: Json };

describe('pagerduty', () => {
  it('maps the trigger: dedup_key, severity, source, group, custom details, +0000 timestamp', () => {
    const { alerts, meta } = ok(normalize('pagerduty', pdTrigger(), OPTS));
    expect(alerts[0]).toMatchObject({
      key: 'srv01/mysql',
      occurrence: 'srv01/mysql',
      status: 'firing',
      severity: 'critical',
      summary: 'DISK at 99% on machine prod-datapipe03.example.com',
      ciHint: 'prod-datapipe03.example.com',
      serviceHint: 'prod-datapipe',
      startsAt: '2026-08-20T09:52:26.315Z',
      endsAt: null,
      groupKey: null,
    });
    expect(alerts[0]!.labels).toEqual({
      'free space': '1%',
      'ping time': '1500ms',
      'load avg': '0.75',
      'pagerduty.component': 'mysql',
      'pagerduty.group': 'prod-datapipe',
      'pagerduty.class': 'disk',
    });
    expect(alerts[0]!.links.map((l) => l.text)).toEqual([
      'Host overview',
      'Sample Monitoring Service',
      'Disk usage last 24h',
    ]);
    expect(meta).toEqual({
      eventAction: 'trigger',
      dedupKey: 'srv01/mysql',
      dedupKeyGenerated: false,
      routingKey: 'e93facc04764012d7bfb002500d5d1a6',
      client: 'Sample Monitoring Service',
      clientUrl: 'https://monitoring.service.com',
    });
  });

  it.each([
    ['critical', 'critical'],
    ['error', 'high'],
    ['warning', 'medium'],
    ['info', 'info'],
  ])('severity %s → %s', (sev, expected) => {
    const body = pdTrigger();
    body.payload['severity'] = sev;
    expect(one(normalize('pagerduty', body)).severity).toBe(expected);
  });

  it('generates a dedup key for a trigger without one (a new alert each time) and returns it', () => {
    const body = fixture('pagerduty-trigger-no-dedup-key.json');
    const a = ok(normalize('pagerduty', body));
    const b = ok(normalize('pagerduty', body));
    expect(a.meta['dedupKeyGenerated']).toBe(true);
    expect(a.meta['dedupKey']).toMatch(/^[0-9a-f]{32}$/);
    expect(a.alerts[0]!.key).toBe(a.meta['dedupKey']);
    expect(b.alerts[0]!.key).not.toBe(a.alerts[0]!.key);
    expect(generateDedupKey()).toMatch(/^[0-9a-f]{32}$/);
    const empty = { ...(body as Json), dedup_key: '' };
    expect(ok(normalize('pagerduty', empty, OPTS)).meta['dedupKey']).toBe('generated-key-0001');
  });

  it('acknowledge → acknowledged, resolve → resolved at the receipt time; payload optional', () => {
    const ack = one(normalize('pagerduty', fixture('pagerduty-acknowledge.json'), OPTS));
    expect(ack).toMatchObject({ status: 'acknowledged', key: 'srv01/mysql', startsAt: null, endsAt: null });
    expect(ack.summary).not.toBe('');
    const res = one(normalize('pagerduty', fixture('pagerduty-resolve.json'), OPTS));
    expect(res).toMatchObject({ status: 'resolved', endsAt: '2026-08-20T12:00:00Z' });
  });

  it('without payload.timestamp the trigger starts at the receipt time', () => {
    const body = pdTrigger();
    delete body.payload['timestamp'];
    expect(one(normalize('pagerduty', body, OPTS)).startsAt).toBe('2026-08-20T12:00:00Z');
  });

  it('accepts the Alertmanager pagerduty_config shape (sha256 dedup key, nested details, resolve with payload)', () => {
    const groupKey = (fixture('alertmanager-firing.json') as Json)['groupKey'] as string;
    const dedup = createHash('sha256').update(groupKey).digest('hex');
    const payload = {
      summary: '[FIRING:1] InstanceDown (db-01.example.internal:9100 node critical)',
      source: 'Alertmanager',
      severity: 'error',
      custom_details: {
        firing: [{ labels: { alertname: 'InstanceDown' }, annotations: { summary: 'down' } }],
        resolved: [],
        num_firing: 1,
        num_resolved: 0,
      },
    };
    const base = {
      routing_key: 'e93facc04764012d7bfb002500d5d1a6',
      dedup_key: dedup,
      client: 'Alertmanager',
      client_url: 'http://alertmanager.example.com:9093/#/alerts?receiver=pd',
      payload,
    };
    const trigger = one(normalize('pagerduty', { ...base, event_action: 'trigger' }));
    expect(trigger).toMatchObject({ key: dedup, severity: 'high', ciHint: 'Alertmanager' });
    expect(trigger.labels['num_firing']).toBe('1');
    expect(trigger.labels['firing']).toBe(
      '[{"labels":{"alertname":"InstanceDown"},"annotations":{"summary":"down"}}]',
    );
    expect(trigger.labels['resolved']).toBe('[]');
    const resolve = one(normalize('pagerduty', { ...base, event_action: 'resolve' }));
    expect(resolve).toMatchObject({ key: dedup, status: 'resolved', severity: 'high' });
  });

  it('rejects a 256-char dedup_key and a 1025-char summary; truncates a 1024-char summary to 300', () => {
    const longKey = { ...pdTrigger(), dedup_key: 'k'.repeat(256) };
    expect(pointers(normalize('pagerduty', longKey))).toEqual(['/dedup_key']);
    expect(
      ok(normalize('pagerduty', { ...pdTrigger(), dedup_key: 'k'.repeat(255) })).alerts[0]!.key,
    ).toHaveLength(255);
    const long = pdTrigger();
    long.payload['summary'] = 's'.repeat(1025);
    expect(pointers(normalize('pagerduty', long))).toEqual(['/payload/summary']);
    long.payload['summary'] = 's'.repeat(1024);
    expect(one(normalize('pagerduty', long)).summary).toHaveLength(300);
  });

  it('rejects bad types: payload, links, timestamp, acknowledge with an empty dedup_key', () => {
    expect(pointers(normalize('pagerduty', { ...pdTrigger(), payload: 'x' }))).toEqual(['/payload']);
    expect(pointers(normalize('pagerduty', { ...pdTrigger(), payload: undefined }))).toEqual(['/payload']);
    expect(pointers(normalize('pagerduty', { ...pdTrigger(), links: {} }))).toEqual(['/links']);
    expect(pointers(normalize('pagerduty', { ...pdTrigger(), links: [{ text: 'x' }] }))).toEqual([
      '/links/0/href',
    ]);
    const ts = pdTrigger();
    ts.payload['timestamp'] = 'now';
    expect(pointers(normalize('pagerduty', ts))).toEqual(['/payload/timestamp']);
    const ack = { ...(fixture('pagerduty-acknowledge.json') as Json), dedup_key: '' };
    expect(pointers(normalize('pagerduty', ack))).toEqual(['/dedup_key']);
    expect(pointers(normalize('pagerduty', { ...pdTrigger(), routing_key: 42 }))).toEqual(['/routing_key']);
  });

  it('survives deeply nested custom details (bounded, no stack overflow)', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 5000; i++) deep = [deep];
    const body = pdTrigger();
    body.payload['custom_details'] = { deep, obj: { a: { b: { c: { d: { e: 1 } } } } } };
    const a = one(normalize('pagerduty', body));
    expect(a.labels['deep']!.length).toBeLessThanOrEqual(1000);
    expect(a.labels['obj.a.b']).toBe('{"c":{"d":{"e":1}}}');
  });
});

// ---------------------------------------------------------------------------------------------------
// CloudEvents

const ce = () => fixture('cloudevent.json') as Json & { data: Json };

describe('cloudevents', () => {
  it('maps dedupkey, severity extension, resource hints, times and the delivery key', () => {
    const { alerts, meta } = ok(normalize('cloudevents', ce(), OPTS));
    expect(alerts[0]).toMatchObject({
      key: 'acme-monitor:db-01:postgres-down',
      occurrence: 'acme-monitor:db-01:postgres-down',
      status: 'firing',
      severity: 'critical',
      summary: 'PostgreSQL on db-01 is not accepting connections',
      description: 'pg_isready failed 3 times in a row on db-01.example.internal:5432',
      ciHint: 'db-01.example.internal',
      serviceHint: 'postgresql',
      startsAt: '2026-08-20T09:52:26.739Z',
      endsAt: null,
      links: [{ href: 'https://monitor.example.com/checks/db-01/postgres', text: 'Check' }],
    });
    expect(alerts[0]!.labels).toMatchObject({
      'resource.environment': 'prod',
      'ce.type': 'com.example.monitoring.alert.triggered',
    });
    expect(meta['batch']).toBe(false);
  });

  it('falls back to source|subject, then source; .acknowledged type; unknown severity → default', () => {
    const body = ce();
    delete body['dedupkey'];
    body['severity'] = 'sev-x';
    body['type'] = 'com.example.monitoring.alert.acknowledged';
    const a = one(normalize('cloudevents', body, { defaultSeverity: 'low' }));
    expect(a).toMatchObject({
      key: 'https://monitor.example.com/checks/db-01/postgres|db-01.example.internal/postgresql',
      status: 'acknowledged',
      severity: 'low',
    });
    delete body['subject'];
    expect(one(normalize('cloudevents', body)).key).toBe('https://monitor.example.com/checks/db-01/postgres');
  });

  it('minimal event: summary falls back to subject/type; resolved without times ends at receipt', () => {
    const minimal = { specversion: '1.0', id: '1', source: '/checks/x', type: 'com.example.alert.resolved' };
    const a = one(normalize('cloudevents', minimal, OPTS));
    expect(a).toMatchObject({
      summary: 'com.example.alert.resolved',
      status: 'resolved',
      endsAt: '2026-08-20T12:00:00Z',
      startsAt: null,
      ciHint: null,
      severity: 'medium',
    });
  });

  it('reads data_base64 when the content type is JSON', () => {
    const body = ce();
    const data = body.data;
    delete (body as Json)['data'];
    body['data_base64'] = Buffer.from(JSON.stringify(data)).toString('base64');
    expect(one(normalize('cloudevents', body)).summary).toBe(
      'PostgreSQL on db-01 is not accepting connections',
    );
  });

  it('rejects object-valued extensions and empty required attributes', () => {
    expect(pointers(normalize('cloudevents', { ...ce(), custom: { a: 1 }, id: '' }))).toEqual([
      '/id',
      '/custom',
    ]);
    expect(pointers(normalize('cloudevents', { ...ce(), specversion: 1 }))).toEqual(['/specversion']);
  });

  it('batch: alerts and deliveries in order; errors point into the array; [] is nothing to do', () => {
    const batch = fixture('cloudevent-batch.json') as Json[];
    const { alerts, meta } = ok(normalizeCloudEventsBatch(batch, OPTS));
    expect(alerts.map((a) => a.status)).toEqual(['firing', 'resolved']);
    expect((meta['deliveries'] as { id: string }[]).map((d) => d.id)).toEqual([
      'c0a8012e-6f3b-4d6e-9d1a-5b2f7e8a9c01',
      'c0a8012e-6f3b-4d6e-9d1a-5b2f7e8a9c02',
    ]);
    expect(meta['batch']).toBe(true);
    expect(ok(normalizeCloudEventsBatch([])).alerts).toEqual([]);
    expect(ok(normalize('cloudevents', fixture('bad-top-level-array.json'))).alerts).toEqual([]);
    const bad = clone(batch);
    delete bad[1]!['id'];
    bad.push('x' as unknown as Json);
    expect(pointers(normalizeCloudEventsBatch(bad))).toEqual(['/1/id', '/2']);
    expect(pointers(normalizeCloudEventsBatch(ce()))).toEqual(['/']);
  });
});
