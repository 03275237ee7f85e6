/**
 * Helpers shared by the inbound-alert normalisers: field validation with JSON pointers, timestamp
 * parsing to canonical UTC, bounded label flattening, severity tables, links. Pure: no I/O.
 */
import type { AlertSeverity, NormalizedAlert } from './types.ts';

// ---------------------------------------------------------------------------------------------------
// Bounds

export const MAX_SUMMARY = 300;
export const MAX_DESCRIPTION = 16_000;
export const MAX_LABELS = 100;
export const MAX_LABEL_KEY = 200;
export const MAX_LABEL_VALUE = 1000;
export const MAX_LINKS = 20;
export const MAX_LINK_HREF = 2048;
export const MAX_LINK_TEXT = 300;
export const MAX_KEY = 1024;
/** Nesting below this depth in custom details is rendered as compact JSON, not as more dotted keys. */
const MAX_FLATTEN_DEPTH = 3;
/** Deeper structures are cut off with "…" when rendered as JSON (bounded, stack-safe). */
const MAX_JSON_DEPTH = 20;

// ---------------------------------------------------------------------------------------------------
// Validation

/** A field error in the request body (the shape of `FieldError` with `in: 'body'`). */
export interface BodyError {
  in: 'body';
  pointer: string;
  detail: string;
}

/** Collects field errors. Pointers are RFC 6901; the document root is '/' as in `fieldErrors`. */
export class Problems {
  readonly errors: BodyError[] = [];
  add(pointer: string, detail: string): void {
    this.errors.push({ in: 'body', pointer: pointer === '' ? '/' : pointer, detail });
  }
  get any(): boolean {
    return this.errors.length > 0;
  }
}

/** RFC 6901 pointer from path segments: `ptr('', 'alerts', 0)` → `/alerts/0`. */
export function ptr(base: string, ...parts: (string | number)[]): string {
  let out = base === '/' ? '' : base;
  for (const part of parts) out += `/${String(part).replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return out;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** The payload must be a JSON object; arrays and scalars are rejected at the root. */
export function requireObject(payload: unknown, p: Problems, pointer = '/'): Record<string, unknown> | null {
  if (isObject(payload)) return payload;
  p.add(pointer, `must be a JSON object, got ${typeName(payload)}`);
  return null;
}

interface StringRule {
  required?: boolean;
  /** Reject '' (and whitespace only). */
  nonEmpty?: boolean;
  max?: number;
}

/**
 * A string field: absent (undefined) is fine unless `required`; present with another type is an error.
 * Returns the string, or undefined when absent or bad.
 */
export function str(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  p: Problems,
  rule: StringRule = {},
): string | undefined {
  const value = obj[key];
  const pointer = ptr(at, key);
  if (value === undefined) {
    if (rule.required) p.add(pointer, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    p.add(pointer, `must be a string, got ${typeName(value)}`);
    return undefined;
  }
  if (rule.nonEmpty && value.trim() === '') {
    p.add(pointer, 'must not be empty');
    return undefined;
  }
  if (rule.max !== undefined && value.length > rule.max) {
    p.add(pointer, `must be at most ${rule.max} characters, got ${value.length}`);
    return undefined;
  }
  return value;
}

/** A map of string to string (labels, annotations). `null` counts as empty (Go marshals nil maps so). */
export function stringMap(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  p: Problems,
  required = false,
): Record<string, string> | undefined {
  const value = obj[key];
  const pointer = ptr(at, key);
  if (value === undefined) {
    if (required) p.add(pointer, 'is required');
    return undefined;
  }
  if (value === null && !required) return {};
  if (!isObject(value)) {
    p.add(pointer, `must be an object of strings, got ${typeName(value)}`);
    return undefined;
  }
  let ok = true;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      p.add(ptr(pointer, k), `must be a string, got ${typeName(v)}`);
      ok = false;
    }
  }
  return ok ? (value as Record<string, string>) : undefined;
}

/** A non-negative integer field (e.g. `truncatedAlerts`). */
export function nonNegativeInt(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  p: Problems,
): number | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    p.add(ptr(at, key), `must be a non-negative integer, got ${typeName(value)} ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Time

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Canonical UTC text for an instant: `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, fraction without trailing zeros. */
function canonical(epochMs: number, fraction: string): string {
  const base = new Date(epochMs).toISOString().slice(0, 19);
  const frac = fraction.replace(/0+$/, '');
  return frac ? `${base}.${frac}Z` : `${base}Z`;
}

/** A Date as canonical UTC text (milliseconds kept unless zero). */
export function isoFromDate(date: Date): string {
  const ms = date.getTime();
  const whole = Math.floor(ms / 1000) * 1000;
  return canonical(whole, String(ms - whole).padStart(3, '0'));
}

/**
 * Parses an RFC 3339 / ISO 8601 date-time with a zone (`Z`, `+02:00` or PagerDuty's `+0000`) and
 * returns it in UTC as `…Z`, keeping the fractional seconds as given (up to nanoseconds; trailing zeros
 * dropped, as Go's RFC3339Nano does). Returns undefined for anything else, including impossible dates
 * (month 13) and times without a zone.
 */
export function parseTimestamp(text: string): string | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  let second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  if (second === 60) second = 59; // a leap second: keep it inside the minute
  let offsetMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return canonical(date.getTime() - offsetMin * 60_000, m[7] ?? '');
}

/** Go's zero `time.Time` (`0001-01-01T00:00:00Z`, the `endsAt` of a firing Alertmanager/Grafana alert). */
export function isZeroTime(text: string): boolean {
  return /^0001-01-01[Tt ]00:00:00(?:[.,]0+)?(?:[Zz]|[+-]00:?00)$/.test(text);
}

/** Unix seconds as decimal digits (Zabbix `{EVENT.TIMESTAMP}`) → canonical UTC. */
export function unixSecondsToIso(text: string): string | undefined {
  if (!/^\d{1,11}$/.test(text)) return undefined;
  return canonical(Number(text) * 1000, '');
}

/**
 * A timestamp field. Returns the canonical UTC text, `null` for Go's zero time when `zeroIsNull`, or
 * undefined when absent or bad (bad ones are reported).
 */
export function timeField(
  obj: Record<string, unknown>,
  key: string,
  at: string,
  p: Problems,
  rule: { required?: boolean; zeroIsNull?: boolean } = {},
): string | null | undefined {
  const value = obj[key];
  const pointer = ptr(at, key);
  if (value === undefined) {
    if (rule.required) p.add(pointer, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    p.add(pointer, `must be an RFC 3339 date-time string, got ${typeName(value)}`);
    return undefined;
  }
  if (rule.zeroIsNull && isZeroTime(value)) return null;
  const iso = parseTimestamp(value);
  if (iso === undefined) {
    p.add(pointer, `is not a valid RFC 3339 date-time: ${JSON.stringify(truncate(value, 64))}`);
    return undefined;
  }
  return iso;
}

/** Compares two canonical timestamps (same format, so compare by instant then by fraction text). */
export function isBefore(a: string, b: string): boolean {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (ta !== tb) return ta < tb;
  return fractionNanos(a) < fractionNanos(b);
}

function fractionNanos(iso: string): number {
  const m = /\.(\d+)Z$/.exec(iso);
  return m ? Number(m[1]!.padEnd(9, '0')) : 0;
}

// ---------------------------------------------------------------------------------------------------
// Text

/** Cuts `text` to at most `max` UTF-16 units, ending in "…" when cut, never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** The first candidate with visible text, whitespace collapsed to single spaces, at most 300 chars. */
export function pickSummary(...candidates: (string | null | undefined)[]): string | undefined {
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    const text = c.replace(/\s+/g, ' ').trim();
    if (text) return truncate(text, MAX_SUMMARY);
  }
  return undefined;
}

/** A description: trimmed, bounded, null when empty. */
export function pickDescription(...candidates: (string | null | undefined)[]): string | null {
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    const text = c.trim();
    if (text) return truncate(text, MAX_DESCRIPTION);
  }
  return null;
}

/** The first candidate with visible text, trimmed, or null. */
export function firstText(...candidates: (string | null | undefined)[]): string | null {
  for (const c of candidates) {
    if (typeof c === 'string' && c.trim() !== '') return truncate(c.trim(), MAX_LABEL_VALUE);
  }
  return null;
}

/**
 * Compact JSON of any value, bounded in depth and length, and safe on deeply nested input (which
 * would overflow the stack in `JSON.stringify`).
 */
export function boundedJson(value: unknown, max = MAX_LABEL_VALUE): string {
  const out: string[] = [];
  let length = 0;
  const push = (s: string): boolean => {
    out.push(s);
    length += s.length;
    return length <= max;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v === 'boolean' || typeof v === 'number')
      return push(JSON.stringify(v) ?? 'null');
    if (typeof v === 'string') return push(JSON.stringify(v.length > max ? v.slice(0, max) : v));
    if (typeof v !== 'object') return push('null');
    if (depth >= MAX_JSON_DEPTH) return push('"…"');
    if (Array.isArray(v)) {
      if (!push('[')) return false;
      for (let i = 0; i < v.length; i++) {
        if (i > 0 && !push(',')) return false;
        if (!walk(v[i], depth + 1)) return false;
      }
      return push(']');
    }
    if (!push('{')) return false;
    let first = true;
    for (const [k, item] of Object.entries(v)) {
      if (item === undefined) continue;
      if (!first && !push(',')) return false;
      first = false;
      if (!push(`${JSON.stringify(k)}:`)) return false;
      if (!walk(item, depth + 1)) return false;
    }
    return push('}');
  };
  walk(value, 0);
  return truncate(out.join(''), max);
}

// ---------------------------------------------------------------------------------------------------
// Labels

/** Adds entries to a label set while keeping it bounded (100 entries, keys 200 / values 1000 chars). */
export class LabelSet {
  readonly labels: Record<string, string> = {};
  private count = 0;

  set(key: string, value: string): void {
    const k = truncate(key, MAX_LABEL_KEY);
    if (k === '') return;
    if (!Object.hasOwn(this.labels, k)) {
      if (this.count >= MAX_LABELS) return;
      this.count += 1;
    }
    this.labels[k] = truncate(value, MAX_LABEL_VALUE);
  }

  /** Sets the key only when it is not there yet (sender labels win over derived ones). */
  setDefault(key: string, value: string | null | undefined): void {
    if (value === null || value === undefined || value === '') return;
    if (!Object.hasOwn(this.labels, truncate(key, MAX_LABEL_KEY))) this.set(key, value);
  }

  /** String map entries as they are. */
  addStrings(map: Record<string, string> | undefined): void {
    if (!map) return;
    for (const [k, v] of Object.entries(map)) this.set(k, v);
  }

  /**
   * Free-form details (PagerDuty `custom_details`, CloudEvents data): scalars become strings, nested
   * objects dotted keys (`a.b`) up to 3 levels, arrays and deeper objects compact JSON; nulls skipped.
   */
  addFlattened(value: unknown, prefix = '', depth = 0): void {
    if (value === null || value === undefined) return;
    if (typeof value === 'string') {
      if (prefix) this.set(prefix, value);
      return;
    }
    if (typeof value === 'number' || typeof value === 'boolean') {
      if (prefix) this.set(prefix, String(value));
      return;
    }
    if (isObject(value) && depth < MAX_FLATTEN_DEPTH) {
      for (const [k, v] of Object.entries(value)) {
        if (this.count >= MAX_LABELS) return;
        this.addFlattened(v, prefix ? `${prefix}.${k}` : k, depth + 1);
      }
      return;
    }
    this.set(prefix || 'details', boundedJson(value));
  }
}

// ---------------------------------------------------------------------------------------------------
// Links

type Link = NormalizedAlert['links'][number];

/** Collects http(s) links only (no `javascript:` or other schemes), deduplicated, at most 20. */
export class LinkList {
  readonly links: Link[] = [];
  private readonly seen = new Set<string>();

  add(href: unknown, text: unknown = null): void {
    if (typeof href !== 'string' || this.links.length >= MAX_LINKS) return;
    const h = href.trim();
    if (h.length > MAX_LINK_HREF || !/^https?:\/\/[^\s]+$/i.test(h) || this.seen.has(h)) return;
    this.seen.add(h);
    const t = typeof text === 'string' && text.trim() !== '' ? truncate(text.trim(), MAX_LINK_TEXT) : null;
    this.links.push({ href: h, text: t });
  }
}

/** Whether a string looks like an absolute http(s) URL (used to turn URL annotations into links). */
export function isHttpUrl(value: string): boolean {
  return /^https?:\/\/\S+$/i.test(value.trim());
}

// ---------------------------------------------------------------------------------------------------
// Severity

/**
 * Free-text severity (the `severity` label of Alertmanager/Grafana rules, the CloudEvents `severity`
 * extension), case-insensitive. Unknown values give undefined, and the caller uses its default.
 */
const SEVERITY_WORDS: Record<string, AlertSeverity> = {
  critical: 'critical',
  crit: 'critical',
  disaster: 'critical',
  emergency: 'critical',
  emerg: 'critical',
  fatal: 'critical',
  alert: 'critical',
  page: 'critical',
  p1: 'critical',
  sev1: 'critical',
  high: 'high',
  error: 'high',
  err: 'high',
  major: 'high',
  p2: 'high',
  sev2: 'high',
  medium: 'medium',
  warning: 'medium',
  warn: 'medium',
  average: 'medium',
  moderate: 'medium',
  p3: 'medium',
  sev3: 'medium',
  low: 'low',
  minor: 'low',
  p4: 'low',
  sev4: 'low',
  info: 'info',
  informational: 'info',
  information: 'info',
  notice: 'info',
  debug: 'info',
  none: 'info',
  p5: 'info',
  sev5: 'info',
};

export function severityFromWord(value: string | null | undefined): AlertSeverity | undefined {
  if (typeof value !== 'string') return undefined;
  return SEVERITY_WORDS[value.trim().toLowerCase()];
}

/** PagerDuty `payload.severity` (README §4): the only four values PagerDuty accepts. */
export const PAGERDUTY_SEVERITY: Record<string, AlertSeverity> = {
  critical: 'critical',
  error: 'high',
  warning: 'medium',
  info: 'info',
};

/** Zabbix `{EVENT.NSEVERITY}` 0..5 (README §3, our ITSM mapping): 5 critical, 4 high, 3 medium, 2 low, 1/0 info. */
export const ZABBIX_SEVERITY: Record<string, AlertSeverity> = {
  '0': 'info',
  '1': 'info',
  '2': 'low',
  '3': 'medium',
  '4': 'high',
  '5': 'critical',
};

// ---------------------------------------------------------------------------------------------------
// Host hints

/**
 * A CI hint from a Prometheus `instance`-like value: `host:port` → `host` (`[::1]:9100` → `::1`);
 * anything else (URLs, bare names) is kept as it is.
 */
export function hostFromInstance(instance: string): string {
  const text = instance.trim();
  const bracketed = /^\[([^\]]+)\]:\d{1,5}$/.exec(text);
  if (bracketed) return bracketed[1]!;
  const plain = /^([^:/\s]+):\d{1,5}$/.exec(text);
  return plain ? plain[1]! : text;
}
