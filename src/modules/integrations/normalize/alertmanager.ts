/**
 * Prometheus Alertmanager `webhook_config` (payload `version: "4"`), README §1. The group parsing here
 * is shared with Grafana's webhook contact point, which sends the same shape plus a few fields.
 *
 * Mapping, per alert (never per group: a `firing` group can carry resolved alerts):
 * - key: `fingerprint` (the hash of the label set); occurrence: `fingerprint@startsAt`, so an alert that
 *   fires again after a resolve (same fingerprint, new `startsAt`) is a new occurrence.
 * - status: the alert's own `status`; endsAt only for resolved alerts (zero time `0001-01-01…` → null).
 * - severity: label `severity`, case-insensitive (critical, warning → medium, error → high, P1…),
 *   otherwise the integration default.
 * - summary: annotation `summary`, `message`, `title`, then label `alertname`.
 * - ciHint: label `instance` without its `:port`, else `host`, `hostname`, `node`, `nodename`.
 * - serviceHint: label `service` (else `service_name`); `job` is a scrape job, not a service.
 * - links: `generatorURL` ("Source"), annotation `runbook_url` ("Runbook"), other URL-valued annotations.
 * - groupKey: the notification's `groupKey`.
 */
import {
  firstText,
  hostFromInstance,
  isBefore,
  isHttpUrl,
  isObject,
  isoFromDate,
  LabelSet,
  LinkList,
  nonNegativeInt,
  Problems,
  pickDescription,
  pickSummary,
  ptr,
  requireObject,
  severityFromWord,
  str,
  stringMap,
  timeField,
  typeName,
} from './shared.ts';
import type { AlertSource, NormalizeContext, NormalizedAlert, NormalizeResult } from './types.ts';

export const ALERTMANAGER_VERSION = '4';

/** One alert of an Alertmanager-shaped group, validated. */
export interface ParsedAlert {
  index: number;
  raw: Record<string, unknown>;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string | null;
  fingerprint: string;
  generatorURL: string | undefined;
}

/** The group envelope, validated. */
export interface ParsedGroup {
  root: Record<string, unknown>;
  receiver: string;
  status: 'firing' | 'resolved';
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string | undefined;
  truncatedAlerts: number;
  alerts: ParsedAlert[];
}

const STATUSES = ['firing', 'resolved'] as const;

function status(obj: Record<string, unknown>, at: string, p: Problems): 'firing' | 'resolved' | undefined {
  const value = str(obj, 'status', at, p, { required: true });
  if (value === undefined) return undefined;
  if (!(STATUSES as readonly string[]).includes(value)) {
    p.add(ptr(at, 'status'), `must be one of firing, resolved, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value as 'firing' | 'resolved';
}

function parseAlert(value: unknown, index: number, p: Problems): ParsedAlert | undefined {
  const at = ptr('', 'alerts', index);
  if (!isObject(value)) {
    p.add(at, `must be an object, got ${typeName(value)}`);
    return undefined;
  }
  const before = p.errors.length;
  const st = status(value, at, p);
  const labels = stringMap(value, 'labels', at, p, true);
  if (labels && Object.keys(labels).length === 0) p.add(ptr(at, 'labels'), 'must have at least one label');
  const annotations = stringMap(value, 'annotations', at, p) ?? {};
  const startsAt = timeField(value, 'startsAt', at, p, { required: true });
  const endsAt = timeField(value, 'endsAt', at, p, { zeroIsNull: true });
  if (startsAt && endsAt && isBefore(endsAt, startsAt))
    p.add(ptr(at, 'endsAt'), 'must not be before startsAt');
  const fingerprint = str(value, 'fingerprint', at, p, { required: true, nonEmpty: true, max: 128 });
  const generatorURL = str(value, 'generatorURL', at, p);
  if (p.errors.length > before || !st || !labels || !startsAt || fingerprint === undefined) return undefined;
  return {
    index,
    raw: value,
    status: st,
    labels,
    annotations,
    startsAt,
    endsAt: endsAt ?? null,
    fingerprint,
    generatorURL,
  };
}

/**
 * Validates the envelope and every alert of an Alertmanager-shaped payload (Alertmanager, Grafana).
 * The caller checks `version` and its own extra fields; everything is reported into `p`.
 */
export function parseGroup(root: Record<string, unknown>, p: Problems): ParsedGroup | undefined {
  const receiver = str(root, 'receiver', '', p, { required: true });
  const st = status(root, '', p);
  const groupKey = str(root, 'groupKey', '', p, { required: true, nonEmpty: true });
  const groupLabels = stringMap(root, 'groupLabels', '', p);
  const commonLabels = stringMap(root, 'commonLabels', '', p);
  const commonAnnotations = stringMap(root, 'commonAnnotations', '', p);
  const externalURL = str(root, 'externalURL', '', p);
  const truncatedAlerts = nonNegativeInt(root, 'truncatedAlerts', '', p);
  const alerts: ParsedAlert[] = [];
  const rawAlerts = root['alerts'];
  if (rawAlerts === undefined) p.add('/alerts', 'is required');
  else if (!Array.isArray(rawAlerts)) p.add('/alerts', `must be an array, got ${typeName(rawAlerts)}`);
  else {
    rawAlerts.forEach((a, i) => {
      const parsed = parseAlert(a, i, p);
      if (parsed) alerts.push(parsed);
    });
  }
  if (p.any || receiver === undefined || !st || groupKey === undefined) return undefined;
  return {
    root,
    receiver,
    status: st,
    groupKey,
    groupLabels: groupLabels ?? {},
    commonLabels: commonLabels ?? {},
    commonAnnotations: commonAnnotations ?? {},
    externalURL,
    truncatedAlerts: truncatedAlerts ?? 0,
    alerts,
  };
}

const CI_LABELS = ['instance', 'host', 'hostname', 'node', 'nodename'];
const SERVICE_LABELS = ['service', 'service_name'];
const TEXT_ANNOTATIONS = new Set(['summary', 'description', 'message', 'title']);

/** The parts of the normalised alert that Alertmanager and Grafana derive the same way. */
export function baseAlert(
  source: AlertSource,
  alert: ParsedAlert,
  group: ParsedGroup,
  ctx: NormalizeContext,
  extra: { key: string; summaryFallback?: string | undefined; links?: (links: LinkList) => void },
): NormalizedAlert {
  const { labels, annotations } = alert;
  const labelSet = new LabelSet();
  labelSet.addStrings(labels);

  const links = new LinkList();
  links.add(alert.generatorURL, 'Source');
  links.add(annotations['runbook_url'], 'Runbook');
  extra.links?.(links);
  for (const [name, value] of Object.entries(annotations)) {
    if (name !== 'runbook_url' && !TEXT_ANNOTATIONS.has(name) && isHttpUrl(value)) links.add(value, name);
  }

  const instance = CI_LABELS.map((l) => labels[l]).find((v) => v !== undefined && v.trim() !== '');
  const resolved = alert.status === 'resolved';
  return {
    source,
    key: extra.key,
    occurrence: `${extra.key}@${alert.startsAt}`,
    status: alert.status,
    severity: severityFromWord(labels['severity']) ?? ctx.defaultSeverity,
    summary:
      pickSummary(
        annotations['summary'],
        annotations['message'],
        annotations['title'],
        labels['alertname'],
        extra.summaryFallback,
      ) ?? `Alert ${alert.fingerprint}`,
    description: pickDescription(annotations['description']),
    labels: labelSet.labels,
    ciHint: instance === undefined ? null : firstText(hostFromInstance(instance)),
    serviceHint: firstText(...SERVICE_LABELS.map((l) => labels[l])),
    startsAt: alert.startsAt,
    endsAt: resolved ? (alert.endsAt ?? isoFromDate(ctx.now)) : null,
    links: links.links,
    groupKey: group.groupKey,
  };
}

export function normalizeAlertmanager(payload: unknown, ctx: NormalizeContext): NormalizeResult {
  const p = new Problems();
  const root = requireObject(payload, p);
  if (!root) return { ok: false, errors: p.errors };
  const version = str(root, 'version', '', p, { required: true });
  if (version !== undefined && version !== ALERTMANAGER_VERSION) {
    p.add('/version', `unsupported version ${JSON.stringify(version)}, expected "${ALERTMANAGER_VERSION}"`);
  }
  str(root, 'notification_reason', '', p);
  stringMap(root, 'routeLabels', '', p);
  const group = parseGroup(root, p);
  if (!group || p.any) return { ok: false, errors: p.errors };
  return {
    ok: true,
    alerts: group.alerts.map((a) => baseAlert('alertmanager', a, group, ctx, { key: a.fingerprint })),
    meta: {
      receiver: group.receiver,
      status: group.status,
      groupKey: group.groupKey,
      groupLabels: group.groupLabels,
      notificationReason: root['notification_reason'] ?? null,
      truncatedAlerts: group.truncatedAlerts,
      externalURL: group.externalURL ?? null,
    },
  };
}
