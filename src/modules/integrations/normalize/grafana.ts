/**
 * Grafana unified alerting, webhook contact point (payload `version: "1"`), README §2. The Alertmanager
 * shape plus `orgId`, `state`, `title`, `message` and per-alert `silenceURL`, `dashboardURL`,
 * `panelURL`, `imageURL`, `ruleUID`, `values`, `valueString`.
 *
 * Mapping, per alert, as for Alertmanager (see alertmanager.ts) except:
 * - key: `<orgId>:<fingerprint>`, with the alert's own `orgId` when present, else the top-level one.
 *   Grafana fingerprints hash the hidden `__alert_rule_uid__` label, and provisioned rule UIDs can
 *   repeat across orgs sending to the same URL. occurrence: `<orgId>:<fingerprint>@startsAt`.
 * - timestamps carry the server's local offset (`+02:00`) and are converted to UTC.
 * - summary falls back to label `alertname`, then the group `title`.
 * - links add `silenceURL`, `dashboardURL`, `panelURL` and `imageURL` when not empty.
 * - Signature: `verifyGrafanaSignature` checks the optional HMAC (`hmacConfig`) on the raw body.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { baseAlert, parseGroup } from './alertmanager.ts';
import { isObject, nonNegativeInt, Problems, ptr, requireObject, str, typeName } from './shared.ts';
import type { NormalizeContext, NormalizeResult } from './types.ts';

export const GRAFANA_VERSION = '1';
export const GRAFANA_SIGNATURE_HEADER = 'X-Grafana-Alerting-Signature';

function orgIdField(
  obj: Record<string, unknown>,
  at: string,
  p: Problems,
  required: boolean,
): number | undefined {
  const value = obj['orgId'];
  if (value === undefined) {
    if (required) p.add(ptr(at, 'orgId'), 'is required');
    return undefined;
  }
  return nonNegativeInt(obj, 'orgId', at, p);
}

export function normalizeGrafana(payload: unknown, ctx: NormalizeContext): NormalizeResult {
  const p = new Problems();
  const root = requireObject(payload, p);
  if (!root) return { ok: false, errors: p.errors };
  const version = str(root, 'version', '', p, { required: true });
  if (version !== undefined && version !== GRAFANA_VERSION) {
    p.add('/version', `unsupported version ${JSON.stringify(version)}, expected "${GRAFANA_VERSION}"`);
  }
  const orgId = orgIdField(root, '', p, true);
  const state = str(root, 'state', '', p);
  const title = str(root, 'title', '', p);
  str(root, 'message', '', p);
  str(root, 'appVersion', '', p);

  const group = parseGroup(root, p);
  // Grafana's per-alert extras.
  const alertOrgIds = new Map<number, number>();
  const rawAlerts = root['alerts'];
  if (Array.isArray(rawAlerts)) {
    rawAlerts.forEach((a, i) => {
      if (!isObject(a)) return;
      const at = ptr('', 'alerts', i);
      for (const key of ['silenceURL', 'dashboardURL', 'panelURL', 'imageURL', 'ruleUID', 'valueString']) {
        str(a, key, at, p);
      }
      const values = a['values'];
      if (values !== undefined && values !== null) {
        if (!isObject(values))
          p.add(ptr(at, 'values'), `must be an object of numbers, got ${typeName(values)}`);
        else {
          for (const [ref, v] of Object.entries(values)) {
            if (typeof v !== 'number') p.add(ptr(at, 'values', ref), `must be a number, got ${typeName(v)}`);
          }
        }
      }
      const own = orgIdField(a, at, p, false);
      if (own !== undefined) alertOrgIds.set(i, own);
    });
  }

  if (!group || p.any || orgId === undefined) return { ok: false, errors: p.errors };
  return {
    ok: true,
    alerts: group.alerts.map((a) => {
      const key = `${alertOrgIds.get(a.index) ?? orgId}:${a.fingerprint}`;
      return baseAlert('grafana', a, group, ctx, {
        key,
        summaryFallback: title,
        links: (links) => {
          links.add(a.raw['silenceURL'], 'Silence');
          links.add(a.raw['dashboardURL'], 'Dashboard');
          links.add(a.raw['panelURL'], 'Panel');
          links.add(a.raw['imageURL'], 'Image');
        },
      });
    }),
    meta: {
      receiver: group.receiver,
      status: group.status,
      state: state ?? null,
      orgId,
      groupKey: group.groupKey,
      groupLabels: group.groupLabels,
      truncatedAlerts: group.truncatedAlerts,
      externalURL: group.externalURL ?? null,
      title: title ?? null,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// HMAC signature (grafana/alerting `http/hmac.go`)

export interface GrafanaSignatureOptions {
  /** The contact point's `hmacConfig.header`; default `X-Grafana-Alerting-Signature`. */
  header?: string;
  /**
   * The contact point's `hmacConfig.timestampHeader`, if set there. Grafana then sends the unix
   * seconds in that header and signs `"<ts>:" + body`; a request without it fails.
   */
  timestampHeader?: string;
  /** Allowed clock skew for the timestamp, in seconds; default 300. */
  maxSkewSeconds?: number;
  now?: Date;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== wanted || v === undefined) continue;
    if (Array.isArray(v)) return v.length === 1 ? v[0] : undefined; // a repeated header is ambiguous
    return v;
  }
  return undefined;
}

/**
 * Verifies Grafana's webhook signature: `hex(HMAC-SHA256(secret, body))` in the signature header, or
 * over `"<ts>:" + body` when a timestamp header is configured (then the timestamp must be within
 * `maxSkewSeconds` of `now`). Checks the raw bytes before any JSON parsing; compares in constant time.
 */
export function verifyGrafanaSignature(
  secret: string,
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
  opts: GrafanaSignatureOptions = {},
): boolean {
  if (secret === '') return false;
  const given = header(headers, opts.header ?? GRAFANA_SIGNATURE_HEADER)
    ?.trim()
    .toLowerCase();
  if (!given || !/^[0-9a-f]{64}$/.test(given)) return false;
  const hmac = createHmac('sha256', secret);
  if (opts.timestampHeader) {
    const ts = header(headers, opts.timestampHeader)?.trim();
    if (!ts || !/^\d{1,12}$/.test(ts)) return false;
    const nowSeconds = Math.floor((opts.now ?? new Date()).getTime() / 1000);
    if (Math.abs(nowSeconds - Number(ts)) > (opts.maxSkewSeconds ?? 300)) return false;
    hmac.update(`${ts}:`);
  }
  hmac.update(rawBody);
  const expected = hmac.digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
