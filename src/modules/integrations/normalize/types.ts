/** The internal alert shape that every inbound monitoring sender is normalised into. */

export type AlertSource = 'alertmanager' | 'grafana' | 'zabbix' | 'pagerduty' | 'cloudevents';

/** Normalised levels (README "suggested normalized level"). */
export type AlertSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export const ALERT_SOURCES: readonly AlertSource[] = [
  'alertmanager',
  'grafana',
  'zabbix',
  'pagerduty',
  'cloudevents',
];
export const ALERT_SEVERITIES: readonly AlertSeverity[] = ['critical', 'high', 'medium', 'low', 'info'];

export interface NormalizedAlert {
  source: AlertSource;
  /**
   * The sender-native identity (fingerprint, dedup_key, Zabbix problem event id, CloudEvents dedupkey
   * or source+subject). The caller scopes it by integration.
   */
  key: string;
  /** One occurrence of it: fingerprint + startsAt for Alertmanager/Grafana; equal to key elsewhere. */
  occurrence: string;
  status: 'firing' | 'resolved' | 'acknowledged';
  severity: AlertSeverity;
  /** Never empty: falls back to alertname / title / trigger name; at most 300 chars. */
  summary: string;
  description: string | null;
  /** Labels/tags/custom details flattened to strings: at most 100 entries, values at most 1000 chars. */
  labels: Record<string, string>;
  ciHint: string | null;
  serviceHint: string | null;
  /** ISO 8601 UTC with `Z` (fraction as sent, up to ns); null when the sender gave none. */
  startsAt: string | null;
  /** ISO 8601 UTC with `Z`; never null when `status` is 'resolved' (falls back to `opts.now`). */
  endsAt: string | null;
  /** http(s) links only, at most 20. */
  links: { href: string; text: string | null }[];
  /** Alertmanager / Grafana `groupKey` (for "one incident per group" mode); null elsewhere. */
  groupKey: string | null;
}

export type NormalizeResult =
  | { ok: true; alerts: NormalizedAlert[]; meta: Record<string, unknown> }
  | { ok: false; errors: { in: 'body'; pointer: string; detail: string }[] };

export interface NormalizeOptions {
  /** Receipt time: PagerDuty's default `timestamp`, and `endsAt` of a resolve that carries no time. */
  now?: Date;
  /** Severity when the payload has none (no `severity` label, CloudEvent without the extension). Default 'medium'. */
  defaultSeverity?: AlertSeverity;
  /** Generates PagerDuty dedup keys for triggers without one. Default: a random UUID as 32 hex chars. */
  generateKey?: () => string;
}

/** Options with defaults applied, as the per-sender normalisers get them. */
export interface NormalizeContext {
  now: Date;
  defaultSeverity: AlertSeverity;
  generateKey: () => string;
}
