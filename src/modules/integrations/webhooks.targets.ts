import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where outbound webhooks may go (server-side request forgery guard). Pure apart from the resolver
 * the caller passes in.
 *
 * Refused unless the allow-list admits them (`WEBHOOK_ALLOWED_HOSTS`: host names, addresses, CIDRs):
 * - IPv4: 0.0.0.0/8 (unspecified), 10/8, 172.16/12, 192.168/16 (private), 100.64/10 (CGNAT),
 *   127/8 (loopback), 169.254/16 (link-local), 192.0.0/24, 192.0.2/24, 198.18/15, 198.51.100/24,
 *   203.0.113/24, 240/4 (reserved, documentation, benchmarking, broadcast), 224/4 (multicast);
 * - IPv6: ::, ::1, fc00::/7 (unique local), fe80::/10 and fec0::/10 (link/site-local), ff00::/8
 *   (multicast), 2001:db8::/32, 100::/64; IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d)
 *   and NAT64 (64:ff9b::a.b.c.d) addresses are judged by the IPv4 address they carry;
 * - the names `localhost` and `*.localhost`.
 * A host name is resolved (every address) at delivery time; if any address is refused, the target is
 * refused, and the connection then goes to the checked addresses only (no second DNS lookup, so a
 * rebinding answer cannot slip in between check and connect).
 */

type Rule = [address: string, prefix: number, reason: string];

const V4_RULES: Rule[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const V6_RULES: Rule[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'documentation'],
  ['100::', 64, 'discard'],
];

function ruleLists(rules: Rule[], family: 'ipv4' | 'ipv6'): [BlockList, string][] {
  return rules.map(([address, prefix, reason]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return [list, reason];
  });
}
const V4 = ruleLists(V4_RULES, 'ipv4');
const V6 = ruleLists(V6_RULES, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail expanded). */
export function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? [] : new Array(8 - left.length - right.length).fill(0);
  return [...left, ...fill, ...right];
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64), or null. */
export function embeddedIpv4(address: string): string | null {
  const g = ipv6Groups(address);
  if (g.length !== 8) return null;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const mapped = zeros(0, 5) && g[5] === 0xffff;
  const compatible = zeros(0, 6) && (g[6]! !== 0 || g[7]! > 1); // not :: or ::1
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6);
  if (!mapped && !compatible && !nat64) return null;
  return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.');
}

/** Why an address is not a public one (`"loopback"`, `"private"`, ...), or null when it is public. */
export function internalReason(address: string): string | null {
  const family = isIP(address);
  if (family === 4) {
    for (const [list, reason] of V4) if (list.check(address, 'ipv4')) return reason;
    return null;
  }
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return internalReason(v4);
    for (const [list, reason] of V6) if (list.check(address, 'ipv6')) return reason;
    return null;
  }
  return 'not an IP address';
}

export interface AllowList {
  hosts: ReadonlySet<string>;
  addresses: BlockList;
  /** Whether anything at all is allowed (the empty list admits nothing internal). */
  empty: boolean;
}

/** Parses `WEBHOOK_ALLOWED_HOSTS`: comma-separated host names, IP addresses and CIDR ranges. */
export function parseAllowList(text: string): AllowList {
  const hosts = new Set<string>();
  const addresses = new BlockList();
  let count = 0;
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    count++;
    const [base, prefix] = entry.replace(/^\[|\]$/g, '').split('/');
    const family = isIP(base!);
    if (family !== 0) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) addresses.addAddress(base!, type);
      else {
        const bits = Number(prefix);
        if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
          throw new Error(`WEBHOOK_ALLOWED_HOSTS: bad CIDR prefix in "${raw.trim()}"`);
        }
        addresses.addSubnet(base!, bits, type);
      }
    } else if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.?$/.test(entry)) {
      hosts.add(normalHost(entry));
    } else {
      throw new Error(`WEBHOOK_ALLOWED_HOSTS: "${raw.trim()}" is not a host name, address or CIDR range`);
    }
  }
  return { hosts, addresses, empty: count === 0 };
}

/** Lower case, no trailing dot, no IPv6 brackets. */
export function normalHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

function addressAllowed(allow: AllowList, address: string): boolean {
  if (allow.empty) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (allow.addresses.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
  const v4 = family === 6 ? embeddedIpv4(address) : null;
  return v4 !== null && allow.addresses.check(v4, 'ipv4');
}

const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

export interface UrlProblem {
  detail: string;
}

/**
 * The checks a subscription's URL must pass when it is saved: absolute http(s), no credentials, no
 * fragment, and not an obviously internal target (an internal IP literal or `localhost`) unless the
 * allow-list admits it. Names are judged again, resolved, at each delivery.
 */
export function checkTargetUrl(text: string, allow: AllowList): UrlProblem | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { detail: 'is not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { detail: 'must be an http or https URL' };
  if (url.username || url.password) return { detail: 'must not carry credentials' };
  if (url.hash) return { detail: 'must not have a fragment' };
  const host = normalHost(url.hostname);
  if (!host) return { detail: 'has no host' };
  if (allow.hosts.has(host)) return null;
  if (isIP(host) !== 0) {
    const reason = internalReason(host);
    if (reason && !addressAllowed(allow, host)) {
      return { detail: `targets ${host}, a ${reason} address; add it to WEBHOOK_ALLOWED_HOSTS to allow it` };
    }
    return null;
  }
  if (isLocalhostName(host)) {
    return { detail: `targets ${host}, a loopback name; add it to WEBHOOK_ALLOWED_HOSTS to allow it` };
  }
  return null;
}

/** A target refused by the guard: never retried (the address is the problem, not the moment). */
export class TargetRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

/**
 * Resolves a target host to the addresses a delivery may connect to, refusing the whole target when
 * any of them is internal and not allowed (a name in the allow-list admits all its addresses).
 */
export async function resolveTarget(
  hostname: string,
  allow: AllowList,
  resolve: Resolver,
): Promise<LookupAddress[]> {
  const host = normalHost(hostname);
  const family = isIP(host);
  const addresses: LookupAddress[] = family !== 0 ? [{ address: host, family }] : await resolve(host);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  if (allow.hosts.has(host)) return addresses;
  if (family === 0 && isLocalhostName(host)) {
    throw new TargetRefusedError(`${host} is a loopback name and not in WEBHOOK_ALLOWED_HOSTS`);
  }
  for (const { address } of addresses) {
    const reason = internalReason(address);
    if (reason && !addressAllowed(allow, address)) {
      const via = family === 0 ? `${host} resolves to ${address}, ` : `${address} is `;
      throw new TargetRefusedError(`${via}a ${reason} address not in WEBHOOK_ALLOWED_HOSTS`);
    }
  }
  return addresses;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `http.request` that answers with addresses already checked, so the socket goes
 * exactly where the guard looked (handles `all: true`, which Node's happy-eyeballs connect asks for).
 */
export function pinnedLookup(addresses: LookupAddress[]) {
  return (
    _hostname: string,
    options: { family?: number | string; all?: boolean },
    callback: LookupCallback,
  ) => {
    const wanted =
      options.family === 4 || options.family === 'IPv4'
        ? 4
        : options.family === 6 || options.family === 'IPv6'
          ? 6
          : 0;
    const usable = wanted === 0 ? addresses : addresses.filter((a) => a.family === wanted);
    if (usable.length === 0) {
      const err: NodeJS.ErrnoException = new Error(`no IPv${wanted} address among the checked ones`);
      err.code = 'ENOTFOUND';
      callback(err, '', 0);
      return;
    }
    if (options.all) callback(null, usable);
    else callback(null, usable[0]!.address, usable[0]!.family);
  };
}
