/**
 * CloudEvents 1.0, JSON structured mode (`application/cloudevents+json`) and batch mode
 * (`application/cloudevents-batch+json`, a JSON array of events; `[]` means "nothing to do"), README §7.
 *
 * Validation (spec): `specversion` "1.0", non-empty string `id`, `source`, `type`; optional `subject`,
 * `datacontenttype`, `dataschema` strings and `time` RFC 3339; `data` and `data_base64` never both;
 * attribute names `[a-z0-9]+`; extension values string, number or boolean.
 *
 * Alert identity is not defined by the spec; our convention (README §7):
 * - key = occurrence = extension `dedupkey`, else `<source>|<subject>`, else `source`.
 * - status: `type` ending in `.resolved` → resolved, `.acknowledged` → acknowledged, else firing.
 * - severity: extension `severity` (critical/high/medium/low/info or the usual words: error, warning…),
 *   else `data.alert.severity`, else the integration default.
 * - data (JSON, or `data_base64` with a JSON content type), read leniently: `data.alert.{name,
 *   summary, description, startsAt, endsAt, resource{host, service, …}, labels}`, `data.links[]`.
 * - summary: `alert.summary`, `alert.name`, `subject`, `type`. description: `alert.description`.
 * - ciHint: `alert.resource.host`, else `subject`. serviceHint: `alert.resource.service`.
 * - labels: `alert.labels` / `data.labels`, `resource.<k>`, the extension attributes, `ce.type`, `ce.source`.
 * - startsAt: `alert.startsAt`, else `time` for a firing event; endsAt (resolved): `alert.endsAt`, `time`,
 *   then receipt time.
 * - meta.deliveries[i]: `{ id, source, type, deliveryKey: "<source>|<id>" }`, aligned with the alerts:
 *   the spec's duplicate-delivery identity, for idempotency.
 */
import {
  firstText,
  isObject,
  isoFromDate,
  LabelSet,
  LinkList,
  MAX_KEY,
  Problems,
  parseTimestamp,
  pickDescription,
  pickSummary,
  ptr,
  severityFromWord,
  str,
  timeField,
  typeName,
} from './shared.ts';
import type { NormalizeContext, NormalizedAlert, NormalizeResult } from './types.ts';

export const CLOUDEVENTS_SPECVERSION = '1.0';
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const CONTEXT_ATTRIBUTES = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
]);

export interface CloudEventDelivery {
  id: string;
  source: string;
  type: string;
  deliveryKey: string;
}

function isJsonContentType(ct: string | undefined): boolean {
  if (ct === undefined) return true;
  const base = ct.split(';')[0]!.trim().toLowerCase();
  return base === 'application/json' || base === 'text/json' || base.endsWith('+json');
}

/** `data`, or `data_base64` decoded and parsed when its content type is JSON. */
function eventData(event: Record<string, unknown>, ct: string | undefined): unknown {
  if (event['data'] !== undefined) return event['data'];
  const b64 = event['data_base64'];
  if (typeof b64 !== 'string' || !isJsonContentType(ct)) return undefined;
  try {
    return JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

const textOf = (obj: Record<string, unknown> | undefined, key: string): string | undefined => {
  const v = obj?.[key];
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
};

/** Validates one event at `at` ('' for a single event, `/3` in a batch) and normalises it. */
function normalizeEvent(
  value: unknown,
  at: string,
  p: Problems,
  ctx: NormalizeContext,
): { alert: NormalizedAlert; delivery: CloudEventDelivery } | undefined {
  if (!isObject(value)) {
    p.add(at, `must be a CloudEvent (a JSON object), got ${typeName(value)}`);
    return undefined;
  }
  const before = p.errors.length;
  const specversion = str(value, 'specversion', at, p, { required: true });
  if (specversion !== undefined && specversion !== CLOUDEVENTS_SPECVERSION) {
    p.add(ptr(at, 'specversion'), `unsupported specversion ${JSON.stringify(specversion)}, expected "1.0"`);
  }
  const id = str(value, 'id', at, p, { required: true, nonEmpty: true });
  const source = str(value, 'source', at, p, { required: true, nonEmpty: true });
  const type = str(value, 'type', at, p, { required: true, nonEmpty: true });
  const subject = str(value, 'subject', at, p);
  const time = timeField(value, 'time', at, p);
  const ct = str(value, 'datacontenttype', at, p, { nonEmpty: true });
  str(value, 'dataschema', at, p, { nonEmpty: true });
  str(value, 'data_base64', at, p);
  if (value['data'] !== undefined && value['data_base64'] !== undefined) {
    p.add(ptr(at, 'data_base64'), 'must not be present together with data');
  }
  const dedupkey = str(value, 'dedupkey', at, p, { nonEmpty: true, max: MAX_KEY });
  const extensions: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (name === 'data' || name === 'data_base64') continue;
    if (!ATTRIBUTE_NAME.test(name)) {
      p.add(ptr(at, name), 'is not a valid CloudEvents attribute name (lowercase a-z and 0-9 only)');
      continue;
    }
    if (CONTEXT_ATTRIBUTES.has(name) || v === null) continue;
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
      extensions[name] = String(v);
    } else
      p.add(ptr(at, name), `extension attribute must be a string, number or boolean, got ${typeName(v)}`);
  }
  if (p.errors.length > before || !id || !source || !type) return undefined;

  const data = eventData(value, ct);
  const dataObj = isObject(data) ? data : undefined;
  const alertObj = isObject(dataObj?.['alert']) ? (dataObj['alert'] as Record<string, unknown>) : dataObj;
  const resource = isObject(alertObj?.['resource'])
    ? (alertObj['resource'] as Record<string, unknown>)
    : undefined;

  const lowerType = type.toLowerCase();
  const status = lowerType.endsWith('.resolved')
    ? 'resolved'
    : lowerType.endsWith('.acknowledged')
      ? 'acknowledged'
      : 'firing';

  const key = dedupkey ?? (subject ? `${source}|${subject}` : source);
  const labels = new LabelSet();
  labels.addFlattened(alertObj?.['labels']);
  if (alertObj !== dataObj) labels.addFlattened(dataObj?.['labels']);
  labels.addFlattened(resource, 'resource');
  for (const [name, v] of Object.entries(extensions)) labels.setDefault(name, v);
  labels.setDefault('ce.type', type);
  labels.setDefault('ce.source', source);

  const links = new LinkList();
  const rawLinks = dataObj?.['links'] ?? alertObj?.['links'];
  if (Array.isArray(rawLinks)) {
    for (const l of rawLinks) {
      if (isObject(l)) links.add(l['href'], l['text']);
      else links.add(l);
    }
  }

  const dataTime = (k: string): string | undefined => {
    const v = alertObj?.[k];
    return typeof v === 'string' ? parseTimestamp(v) : undefined;
  };
  const startsAt = dataTime('startsAt') ?? (status === 'firing' ? (time ?? null) : null);
  const endsAt = status === 'resolved' ? (dataTime('endsAt') ?? time ?? isoFromDate(ctx.now)) : null;

  return {
    alert: {
      source: 'cloudevents',
      key,
      occurrence: key,
      status,
      severity:
        severityFromWord(extensions['severity']) ??
        severityFromWord(textOf(alertObj, 'severity')) ??
        ctx.defaultSeverity,
      summary: pickSummary(textOf(alertObj, 'summary'), textOf(alertObj, 'name'), subject, type) ?? type,
      description: pickDescription(
        textOf(alertObj, 'description'),
        typeof data === 'string' ? data : undefined,
      ),
      labels: labels.labels,
      ciHint: firstText(textOf(resource, 'host'), subject),
      serviceHint: firstText(textOf(resource, 'service')),
      startsAt,
      endsAt,
      links: links.links,
      groupKey: null,
    },
    delivery: { id, source, type, deliveryKey: `${source}|${id}` },
  };
}

/** One structured-mode event (a JSON object). */
export function normalizeCloudEvent(payload: unknown, ctx: NormalizeContext): NormalizeResult {
  const p = new Problems();
  const out = normalizeEvent(payload, '', p, ctx);
  if (!out || p.any) return { ok: false, errors: p.errors };
  return { ok: true, alerts: [out.alert], meta: { batch: false, deliveries: [out.delivery] } };
}

/** A batch (a JSON array of events); each bad event is reported at `/<index>/…`; `[]` is fine. */
export function normalizeCloudEventsBatchWith(payload: unknown, ctx: NormalizeContext): NormalizeResult {
  const p = new Problems();
  if (!Array.isArray(payload)) {
    p.add(
      '/',
      `must be a JSON array of CloudEvents (application/cloudevents-batch+json), got ${typeName(payload)}`,
    );
    return { ok: false, errors: p.errors };
  }
  const alerts: NormalizedAlert[] = [];
  const deliveries: CloudEventDelivery[] = [];
  payload.forEach((event, i) => {
    const out = normalizeEvent(event, ptr('', i), p, ctx);
    if (out) {
      alerts.push(out.alert);
      deliveries.push(out.delivery);
    }
  });
  if (p.any) return { ok: false, errors: p.errors };
  return { ok: true, alerts, meta: { batch: true, deliveries } };
}
