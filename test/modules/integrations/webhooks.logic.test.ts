import { createHmac } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { retryDelayMs, webhookBody } from '../../../src/modules/integrations/webhooks.delivery.ts';
import { eventPatternProblem, wants } from '../../../src/modules/integrations/webhooks.events.ts';
import {
  generateSecret,
  secretKey,
  sign,
  signedHeaders,
} from '../../../src/modules/integrations/webhooks.signing.ts';
import {
  checkTargetUrl,
  embeddedIpv4,
  internalReason,
  parseAllowList,
  pinnedLookup,
  resolveTarget,
  TargetRefusedError,
} from '../../../src/modules/integrations/webhooks.targets.ts';

describe('Standard Webhooks signing', () => {
  it("reproduces the specification's published test vector", () => {
    expect(
      sign(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('generates whsec_ secrets of 24 random bytes and signs with every live secret', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(a).not.toBe(b);
    expect(secretKey(a)).toHaveLength(24);
    const headers = signedHeaders([a, b], 'id-1', 1700000000, '{"x":1}');
    expect(headers['webhook-id']).toBe('id-1');
    expect(headers['webhook-timestamp']).toBe('1700000000');
    const parts = headers['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    const expected = (s: string) =>
      `v1,${createHmac('sha256', Buffer.from(s.slice(6), 'base64'))
        .update('id-1.1700000000.{"x":1}')
        .digest('base64')}`;
    expect(parts).toEqual([expected(a), expected(b)]);
  });
});

describe('internal addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fd12:3456::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['8.8.8.8', null],
    ['172.32.0.1', null],
    ['100.128.0.1', null],
    ['93.184.216.34', null],
    ['2606:4700::1111', null],
    ['::ffff:8.8.8.8', null],
  ])('%s -> %s', (address, reason) => {
    expect(internalReason(address)).toBe(reason);
  });

  it('finds IPv4 inside mapped, compatible and NAT64 IPv6 addresses only', () => {
    expect(embeddedIpv4('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(embeddedIpv4('::a00:1')).toBe('10.0.0.1');
    expect(embeddedIpv4('64:ff9b::808:808')).toBe('8.8.8.8');
    expect(embeddedIpv4('::1')).toBeNull();
    expect(embeddedIpv4('2001:db8::1')).toBeNull();
  });
});

describe('target URLs at subscription time', () => {
  const none = parseAllowList('');
  const allow = parseAllowList(' 127.0.0.1, Hooks.Internal ,10.8.0.0/16,[::1]');

  it.each([
    ['https://hooks.example.com/x', null],
    ['http://93.184.216.34:8080/hook?a=1', null],
    ['ftp://example.com/x', 'must be an http or https URL'],
    ['not a url', 'is not an absolute URL'],
    ['https://user:pw@example.com/x', 'must not carry credentials'],
    ['https://example.com/x#frag', 'must not have a fragment'],
    ['http://127.0.0.1:9000/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://10.0.0.5/', 'private'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:192.168.0.1]/', 'private'],
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://localhost:3000/', 'loopback name'],
    ['http://api.localhost./', 'loopback name'],
  ])('without an allow-list: %s', (url, problem) => {
    const result = checkTargetUrl(url, none);
    if (problem === null) expect(result).toBeNull();
    else expect(result?.detail).toContain(problem);
  });

  it('admits what the allow-list names: addresses, CIDR ranges, host names', () => {
    expect(checkTargetUrl('http://127.0.0.1:9000/', allow)).toBeNull();
    expect(checkTargetUrl('http://10.8.3.4/', allow)).toBeNull();
    expect(checkTargetUrl('http://[::1]:80/', allow)).toBeNull();
    expect(checkTargetUrl('http://hooks.internal/', allow)).toBeNull();
    expect(checkTargetUrl('http://10.9.0.1/', allow)?.detail).toContain('private');
    expect(checkTargetUrl('http://127.0.0.2/', allow)?.detail).toContain('loopback');
    expect(checkTargetUrl('http://localhost/', allow)?.detail).toContain('loopback name');
  });

  it('refuses a malformed allow-list', () => {
    expect(() => parseAllowList('10.0.0.0/40')).toThrow(/CIDR/);
    expect(() => parseAllowList('http://x')).toThrow(/not a host name/);
  });
});

describe('targets at delivery time (resolved)', () => {
  const dns =
    (answers: Record<string, string[]>) =>
    async (host: string): Promise<LookupAddress[]> =>
      (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const resolver = dns({
    'public.example': ['93.184.216.34', '2606:2800::1'],
    'sneaky.example': ['93.184.216.34', '10.0.0.7'],
    'metadata.example': ['169.254.169.254'],
    'hooks.internal': ['10.8.1.1'],
    'office.example': ['10.8.2.2'],
  });

  it('passes public names and refuses a name with any internal address', async () => {
    const none = parseAllowList('');
    await expect(resolveTarget('public.example', none, resolver)).resolves.toHaveLength(2);
    await expect(resolveTarget('sneaky.example', none, resolver)).rejects.toThrow(
      /sneaky\.example resolves to 10\.0\.0\.7, a private address/,
    );
    await expect(resolveTarget('metadata.example', none, resolver)).rejects.toBeInstanceOf(
      TargetRefusedError,
    );
    await expect(resolveTarget('127.0.0.1', none, resolver)).rejects.toThrow(/loopback/);
    await expect(resolveTarget('nowhere.example', none, resolver)).rejects.toThrow(/no address/);
  });

  it('lets the allow-list admit a name or a range', async () => {
    const allow = parseAllowList('hooks.internal,10.8.2.0/24');
    await expect(resolveTarget('hooks.internal', allow, resolver)).resolves.toEqual([
      { address: '10.8.1.1', family: 4 },
    ]);
    await expect(resolveTarget('office.example', allow, resolver)).resolves.toHaveLength(1);
    await expect(resolveTarget('sneaky.example', allow, resolver)).rejects.toThrow(/10\.0\.0\.7/);
  });

  it('connects only to the checked addresses', () => {
    const lookup = pinnedLookup([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800::1', family: 6 },
    ]);
    const calls: unknown[][] = [];
    lookup('rebinding.example', { all: true }, (...args) => calls.push(args));
    lookup('rebinding.example', { family: 6 }, (...args) => calls.push(args));
    lookup('rebinding.example', {}, (...args) => calls.push(args));
    expect(calls[0]).toEqual([
      null,
      [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800::1', family: 6 },
      ],
    ]);
    expect(calls[1]).toEqual([null, '2606:2800::1', 6]);
    expect(calls[2]).toEqual([null, '93.184.216.34', 4]);
  });
});

describe('event patterns', () => {
  it.each([
    ['incident.resolved', null],
    ['incident.*', null],
    ['service_request.*', null],
    ['sla.breached', null],
    ['*', null],
    ['invoice.paid', 'unknown event family "invoice"'],
    ['Incident.created', 'lower case'],
    ['incident', 'lower case'],
    ['incident.*.x', 'lower case'],
  ])('%s', (pattern, problem) => {
    const result = eventPatternProblem(pattern);
    if (problem === null) expect(result).toBeNull();
    else expect(result).toContain(problem);
  });

  it('matches exact types, families and everything, never webhook-internal events', () => {
    expect(wants(['incident.resolved'], 'incident.resolved')).toBe(true);
    expect(wants(['incident.resolved'], 'incident.created')).toBe(false);
    expect(wants(['incident.*'], 'incident.major_declared')).toBe(true);
    expect(wants(['incident.*'], 'incidents.x')).toBe(false);
    expect(wants(['sla.*', 'customer.created'], 'customer.created')).toBe(true);
    expect(wants(['*'], 'person.updated')).toBe(true);
    expect(wants(['*'], 'webhook_delivery.redelivery_requested')).toBe(false);
  });
});

describe('retry schedule and body', () => {
  it('doubles from the base; 15 attempts from 5 s span about 23 hours', () => {
    const waits = Array.from({ length: 14 }, (_, i) => retryDelayMs(5000, i + 1));
    expect(waits.slice(0, 4)).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(waits[13]).toBe(5000 * 2 ** 13);
    const total = waits.reduce((a, b) => a + b, 0);
    expect(total / 3_600_000).toBeCloseTo(22.75, 1);
  });

  it('wraps an event as { type, timestamp, data } with the event and aggregate ids', () => {
    const body = webhookBody({
      type: 'incident.created',
      occurred_at: new Date('2026-03-01T08:00:00.123Z'),
      event_id: 'e1',
      aggregate_type: 'incident',
      aggregate_id: 'i1',
      payload: { incident: { id: 'i1' } },
    });
    expect(body).toEqual({
      type: 'incident.created',
      timestamp: '2026-03-01T08:00:00.123Z',
      data: { incident: { id: 'i1' }, eventId: 'e1', aggregateType: 'incident', aggregateId: 'i1' },
    });
  });
});
