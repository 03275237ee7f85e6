/**
 * Inbound monitoring webhooks: validate and normalise the payloads of five senders into one internal
 * alert shape (`NormalizedAlert`). Pure functions, no I/O: the HTTP layer parses JSON (and answers
 * 400 for malformed JSON or too-deep nesting, 413 for oversized bodies), authenticates the
 * integration, then calls `normalize(source, body)`; dedup, replay and incident decisions are the
 * caller's, with `key` scoped by the receiving integration.
 *
 * Per-sender mapping decisions are documented at the top of each sender's file
 * (alertmanager.ts, grafana.ts, zabbix.ts, pagerduty.ts, cloudevents.ts).
 *
 * A rejected payload gives `{ ok: false, errors }`: field errors in the `FieldError` shape
 * (`{ in: 'body', pointer, detail }`, RFC 6901 pointers, root '/'), to be answered 400/422.
 */
import { normalizeAlertmanager } from './alertmanager.ts';
import { normalizeCloudEvent, normalizeCloudEventsBatchWith } from './cloudevents.ts';
import { normalizeGrafana } from './grafana.ts';
import { generateDedupKey, normalizePagerDuty } from './pagerduty.ts';
import type { AlertSource, NormalizeContext, NormalizeOptions, NormalizeResult } from './types.ts';
import { normalizeZabbix } from './zabbix.ts';

export { ALERTMANAGER_VERSION } from './alertmanager.ts';
export { CLOUDEVENTS_SPECVERSION, type CloudEventDelivery } from './cloudevents.ts';
export {
  GRAFANA_SIGNATURE_HEADER,
  GRAFANA_VERSION,
  type GrafanaSignatureOptions,
  verifyGrafanaSignature,
} from './grafana.ts';
export {
  generateDedupKey,
  PAGERDUTY_EVENT_ACTIONS,
  PAGERDUTY_MAX_DEDUP_KEY,
  PAGERDUTY_MAX_SUMMARY,
  PAGERDUTY_ROUTING_KEY_LENGTH,
  type PagerDutyEventAction,
} from './pagerduty.ts';
export { PAGERDUTY_SEVERITY, parseTimestamp, severityFromWord, ZABBIX_SEVERITY } from './shared.ts';
export {
  ALERT_SEVERITIES,
  ALERT_SOURCES,
  type AlertSeverity,
  type AlertSource,
  type NormalizedAlert,
  type NormalizeOptions,
  type NormalizeResult,
} from './types.ts';
export { ZABBIX_MEDIA_PARAMETERS, ZABBIX_MEDIA_SCRIPT } from './zabbix.ts';

function context(opts: NormalizeOptions = {}): NormalizeContext {
  return {
    now: opts.now ?? new Date(),
    defaultSeverity: opts.defaultSeverity ?? 'medium',
    generateKey: opts.generateKey ?? generateDedupKey,
  };
}

/**
 * Validates and normalises one webhook body of `source`. For 'cloudevents' a JSON object is one
 * structured-mode event and a JSON array a batch (pick by content type in the route and call
 * `normalizeCloudEventsBatch` for `application/cloudevents-batch+json` to be strict).
 */
export function normalize(source: AlertSource, payload: unknown, opts?: NormalizeOptions): NormalizeResult {
  const ctx = context(opts);
  switch (source) {
    case 'alertmanager':
      return normalizeAlertmanager(payload, ctx);
    case 'grafana':
      return normalizeGrafana(payload, ctx);
    case 'zabbix':
      return normalizeZabbix(payload, ctx);
    case 'pagerduty':
      return normalizePagerDuty(payload, ctx);
    case 'cloudevents':
      return Array.isArray(payload)
        ? normalizeCloudEventsBatchWith(payload, ctx)
        : normalizeCloudEvent(payload, ctx);
    default: {
      const never: never = source;
      return {
        ok: false,
        errors: [{ in: 'body', pointer: '/', detail: `unknown alert source ${String(never)}` }],
      };
    }
  }
}

/** A CloudEvents batch (`application/cloudevents-batch+json`): must be a JSON array; `[]` → no alerts. */
export function normalizeCloudEventsBatch(payload: unknown, opts?: NormalizeOptions): NormalizeResult {
  return normalizeCloudEventsBatchWith(payload, context(opts));
}
