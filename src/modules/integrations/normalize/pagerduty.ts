/**
 * PagerDuty Events API v2 (`POST /v2/enqueue`), as a format we accept; README §4. Validation follows
 * PagerDuty's own rules, so that PD-speaking senders (Alertmanager `pagerduty_config`, Zabbix's and
 * Grafana's PagerDuty integrations) get the same 400s they would get from PagerDuty.
 *
 * - `routing_key` (required, exactly 32 chars) is the credential: returned in meta for the caller.
 * - `event_action`: trigger | acknowledge | resolve.
 * - `dedup_key` (≤ 255 chars) is required for acknowledge/resolve; a trigger without one gets a
 *   generated key (`opts.generateKey`, default a random UUID as 32 hex chars), so that every such
 *   trigger opens a new alert, and it is returned in `meta.dedupKey` for the 202 body.
 * - trigger requires `payload.summary` (≤ 1024), `payload.source`, `payload.severity`
 *   (critical | error | warning | info). For acknowledge/resolve the payload is optional and only read.
 *
 * Mapping:
 * - key = occurrence = `dedup_key` (PagerDuty has no occurrence id: after a resolve, a trigger with the
 *   same key opens a new alert, which the caller decides from the closed state).
 * - status: trigger → firing, acknowledge → acknowledged, resolve → resolved.
 * - severity: critical → critical, error → high, warning → medium, info → info (default for
 *   acknowledge/resolve without a payload: the integration default).
 * - ciHint: `payload.source` (the affected system: host, FQDN, ARN).
 * - serviceHint: `payload.group` ("logical grouping of components of a service", e.g. `prod-datapipe`);
 *   `component` (`mysql`) and `class` (`disk`) are too fine-grained and go to labels.
 * - labels: `custom_details` flattened, plus `pagerduty.component`, `pagerduty.group`, `pagerduty.class`.
 * - startsAt: `payload.timestamp` (the `+0000` offset form is accepted), else receipt time (`opts.now`),
 *   as PagerDuty does; endsAt: receipt time for resolve.
 * - links: `links[]` plus `client_url` ("<client>"); `images[].href`.
 */
import { randomUUID } from 'node:crypto';
import {
  firstText,
  isObject,
  isoFromDate,
  LabelSet,
  LinkList,
  PAGERDUTY_SEVERITY,
  Problems,
  pickSummary,
  ptr,
  requireObject,
  str,
  timeField,
  typeName,
} from './shared.ts';
import type { NormalizeContext, NormalizeResult } from './types.ts';

export const PAGERDUTY_EVENT_ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
export type PagerDutyEventAction = (typeof PAGERDUTY_EVENT_ACTIONS)[number];
export const PAGERDUTY_ROUTING_KEY_LENGTH = 32;
export const PAGERDUTY_MAX_DEDUP_KEY = 255;
export const PAGERDUTY_MAX_SUMMARY = 1024;

/** PagerDuty-style generated dedup key: a random UUID as 32 lowercase hex characters. */
export function generateDedupKey(): string {
  return randomUUID().replaceAll('-', '');
}

function checkLinks(root: Record<string, unknown>, key: string, hrefField: string, p: Problems): unknown[] {
  const value = root[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    p.add(ptr('', key), `must be an array, got ${typeName(value)}`);
    return [];
  }
  value.forEach((item, i) => {
    if (!isObject(item)) p.add(ptr('', key, i), `must be an object, got ${typeName(item)}`);
    else str(item, hrefField, ptr('', key, i), p, { required: true, nonEmpty: true });
  });
  return value;
}

export function normalizePagerDuty(payload: unknown, ctx: NormalizeContext): NormalizeResult {
  const p = new Problems();
  const root = requireObject(payload, p);
  if (!root) return { ok: false, errors: p.errors };

  const routingKey = str(root, 'routing_key', '', p, { required: true });
  if (routingKey !== undefined && routingKey.length !== PAGERDUTY_ROUTING_KEY_LENGTH) {
    p.add(
      '/routing_key',
      `length is incorrect (should be ${PAGERDUTY_ROUTING_KEY_LENGTH} characters, got ${routingKey.length})`,
    );
  }
  const rawAction = str(root, 'event_action', '', p, { required: true });
  let action: PagerDutyEventAction | undefined;
  if (rawAction !== undefined) {
    if ((PAGERDUTY_EVENT_ACTIONS as readonly string[]).includes(rawAction))
      action = rawAction as PagerDutyEventAction;
    else
      p.add(
        '/event_action',
        `must be one of trigger, acknowledge, resolve, got ${JSON.stringify(rawAction)}`,
      );
  }
  const givenKey = str(root, 'dedup_key', '', p, { max: PAGERDUTY_MAX_DEDUP_KEY });
  const hasKey = givenKey !== undefined && givenKey !== '';
  if (action && action !== 'trigger' && !hasKey && root['dedup_key'] === undefined) {
    p.add('/dedup_key', `is required for ${action}`);
  } else if (action && action !== 'trigger' && givenKey === '') {
    p.add('/dedup_key', `must not be empty for ${action}`);
  }
  const client = str(root, 'client', '', p);
  const clientUrl = str(root, 'client_url', '', p);
  const links = checkLinks(root, 'links', 'href', p);
  const images = checkLinks(root, 'images', 'src', p);

  // The payload: required and strict for trigger; optional and read leniently otherwise.
  const rawPayload = root['payload'];
  let body: Record<string, unknown> = {};
  let severity: string | undefined;
  let startsAt: string | null | undefined;
  if (action === 'trigger') {
    if (rawPayload === undefined || rawPayload === null) p.add('/payload', 'is required for trigger');
    else if (!isObject(rawPayload)) p.add('/payload', `must be an object, got ${typeName(rawPayload)}`);
    else {
      body = rawPayload;
      str(body, 'summary', '/payload', p, { required: true, nonEmpty: true, max: PAGERDUTY_MAX_SUMMARY });
      str(body, 'source', '/payload', p, { required: true, nonEmpty: true });
      severity = str(body, 'severity', '/payload', p, { required: true });
      if (severity !== undefined && !Object.hasOwn(PAGERDUTY_SEVERITY, severity)) {
        p.add(
          '/payload/severity',
          `must be one of critical, error, warning, info, got ${JSON.stringify(severity)}`,
        );
      }
      for (const key of ['component', 'group', 'class']) str(body, key, '/payload', p);
      startsAt = timeField(body, 'timestamp', '/payload', p);
      const details = body['custom_details'];
      if (details !== undefined && details !== null && !isObject(details)) {
        // PagerDuty accepts a string here too (shown as is); anything else is not a detail object.
        if (typeof details !== 'string')
          p.add('/payload/custom_details', `must be an object, got ${typeName(details)}`);
      }
    }
  } else if (isObject(rawPayload)) {
    body = rawPayload;
    const sev = body['severity'];
    if (typeof sev === 'string' && Object.hasOwn(PAGERDUTY_SEVERITY, sev)) severity = sev;
  }

  if (p.any || !action || routingKey === undefined) return { ok: false, errors: p.errors };

  const generated = !hasKey;
  const dedupKey = hasKey ? givenKey : ctx.generateKey();
  const text = (key: string): string | undefined => {
    const v = body[key];
    return typeof v === 'string' && v.trim() !== '' ? v : undefined;
  };

  const labels = new LabelSet();
  const details = body['custom_details'];
  if (typeof details === 'string') labels.set('details', details);
  else labels.addFlattened(details);
  labels.setDefault('pagerduty.component', text('component'));
  labels.setDefault('pagerduty.group', text('group'));
  labels.setDefault('pagerduty.class', text('class'));

  const linkList = new LinkList();
  for (const l of links) if (isObject(l)) linkList.add(l['href'], l['text']);
  linkList.add(clientUrl, client ?? null);
  for (const img of images) if (isObject(img)) linkList.add(img['href'], img['alt']);

  const status = action === 'trigger' ? 'firing' : action === 'acknowledge' ? 'acknowledged' : 'resolved';
  const now = isoFromDate(ctx.now);
  return {
    ok: true,
    alerts: [
      {
        source: 'pagerduty',
        key: dedupKey,
        occurrence: dedupKey,
        status,
        severity: severity ? PAGERDUTY_SEVERITY[severity]! : ctx.defaultSeverity,
        summary: pickSummary(text('summary')) ?? `PagerDuty ${action}: ${dedupKey}`,
        description: null,
        labels: labels.labels,
        ciHint: firstText(text('source')),
        serviceHint: firstText(text('group')),
        startsAt: action === 'trigger' ? (startsAt ?? now) : null,
        endsAt: action === 'resolve' ? now : null,
        links: linkList.links,
        groupKey: null,
      },
    ],
    meta: {
      eventAction: action,
      dedupKey,
      dedupKeyGenerated: generated,
      routingKey,
      client: client ?? null,
      clientUrl: clientUrl ?? null,
    },
  };
}
