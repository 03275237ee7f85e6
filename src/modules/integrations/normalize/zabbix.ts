/**
 * Zabbix webhook media type, README §3. Zabbix has no fixed webhook body: the media type's script
 * posts whatever it builds. Our contract is ZABBIX_MEDIA_SCRIPT, which forwards the media type's
 * parameters (ZABBIX_MEDIA_PARAMETERS, named as in Zabbix's own 7.0 media types) as one flat JSON
 * object of strings:
 *
 * ```json
 * {
 *   "event_source": "0",            // {EVENT.SOURCE}: 0 trigger, 3 internal, 4 service (1, 2 rejected)
 *   "event_value": "1",             // {EVENT.VALUE}: 1 problem, 0 recovery                 (required)
 *   "event_update_status": "0",     // {EVENT.UPDATE.STATUS}: 1 = update operation (ack, comment…)
 *   "event_update_action": "acknowledged and commented",   // {EVENT.UPDATE.ACTION}
 *   "event_update_message": "…",    // {EVENT.UPDATE.MESSAGE}
 *   "event_update_user": "Jane Admin", // {USER.FULLNAME}
 *   "event_id": "4242",             // {EVENT.ID}: the problem event, same in update/recovery (required)
 *   "event_recovery_id": "4250",    // {EVENT.RECOVERY.ID}
 *   "event_name": "High CPU …",     // {EVENT.NAME}
 *   "event_status": "PROBLEM",      // {EVENT.STATUS}
 *   "trigger_status": "PROBLEM",    // {TRIGGER.STATUS}
 *   "event_nseverity": "4",         // {EVENT.NSEVERITY} 0..5         (required, except internal events)
 *   "event_severity": "High",       // {EVENT.SEVERITY}
 *   "event_ack_status": "No",       // {EVENT.ACK.STATUS}
 *   "event_date": "2026.08.20", "event_time": "11:52:26",   // server local time, no zone: not used
 *   "event_timestamp": "1787219546",           // {EVENT.TIMESTAMP} unix seconds → startsAt
 *   "event_recovery_timestamp": "1787220446",  // {EVENT.RECOVERY.TIMESTAMP} → endsAt
 *   "event_opdata": "…",            // {EVENT.OPDATA}
 *   "event_tags_json": "[{\"tag\":\"service\",\"value\":\"web\"}]",   // {EVENT.TAGSJSON}, a JSON string
 *   "host_host": "web-03.example.internal", "host_name": "Web server 03", "host_ip": "10.0.1.23",
 *   "trigger_id": "23456", "trigger_description": "…",
 *   "alert_subject": "…", "alert_message": "…",
 *   "zabbix_url": "https://zabbix.example.com"   // {$ZABBIX.URL}
 * }
 * ```
 *
 * Every value is a string (numbers are rejected). Macros Zabbix could not expand arrive literally
 * (`{EVENT.RECOVERY.ID}`, `{$ZABBIX.URL}`) or as `*UNKNOWN*`: in optional fields they count as absent; in
 * `event_id`, `event_value` and `event_nseverity` they are rejected.
 *
 * Mapping:
 * - key = occurrence = `event_id` (unique per problem).
 * - status: `event_value` "0" → resolved. "1" with `event_update_status` "1": an action containing
 *   `closed` → resolved, `acknowledged` (not `unacknowledged`) → acknowledged, else firing (comment,
 *   severity change: an update of the open alert).
 * - severity: `event_nseverity` 5 critical, 4 high, 3 medium, 2 low, 1/0 info.
 * - summary: `event_name`, `trigger_name`, `alert_subject`; description: `trigger_description`, else
 *   `alert_message` (on updates and recoveries that is the update/recovery text).
 * - ciHint: `host_host` (technical host name), else `host_name`. serviceHint: tag `service`.
 * - labels: the event tags (repeated tags joined with ", "), plus `zabbix.host`, `zabbix.host_name`,
 *   `zabbix.host_ip`, `zabbix.trigger_id`, `zabbix.opdata`.
 * - links: `<zabbix_url>/tr_events.php?triggerid=…&eventid=…` ("Zabbix event").
 */
import {
  firstText,
  isObject,
  isoFromDate,
  LabelSet,
  LinkList,
  Problems,
  pickDescription,
  pickSummary,
  ptr,
  requireObject,
  typeName,
  unixSecondsToIso,
  ZABBIX_SEVERITY,
} from './shared.ts';
import type { NormalizeContext, NormalizeResult } from './types.ts';

/** The media type's parameters (name → macro), in the order to create them in Zabbix. */
export const ZABBIX_MEDIA_PARAMETERS: readonly { name: string; value: string }[] = [
  { name: 'itsm_url', value: '{$ITSM.URL}' },
  { name: 'itsm_token', value: '{$ITSM.TOKEN}' },
  { name: 'event_source', value: '{EVENT.SOURCE}' },
  { name: 'event_value', value: '{EVENT.VALUE}' },
  { name: 'event_update_status', value: '{EVENT.UPDATE.STATUS}' },
  { name: 'event_update_action', value: '{EVENT.UPDATE.ACTION}' },
  { name: 'event_update_message', value: '{EVENT.UPDATE.MESSAGE}' },
  { name: 'event_update_user', value: '{USER.FULLNAME}' },
  { name: 'event_id', value: '{EVENT.ID}' },
  { name: 'event_recovery_id', value: '{EVENT.RECOVERY.ID}' },
  { name: 'event_name', value: '{EVENT.NAME}' },
  { name: 'event_status', value: '{EVENT.STATUS}' },
  { name: 'trigger_status', value: '{TRIGGER.STATUS}' },
  { name: 'event_nseverity', value: '{EVENT.NSEVERITY}' },
  { name: 'event_severity', value: '{EVENT.SEVERITY}' },
  { name: 'event_ack_status', value: '{EVENT.ACK.STATUS}' },
  { name: 'event_date', value: '{EVENT.DATE}' },
  { name: 'event_time', value: '{EVENT.TIME}' },
  { name: 'event_timestamp', value: '{EVENT.TIMESTAMP}' },
  { name: 'event_recovery_date', value: '{EVENT.RECOVERY.DATE}' },
  { name: 'event_recovery_time', value: '{EVENT.RECOVERY.TIME}' },
  { name: 'event_recovery_timestamp', value: '{EVENT.RECOVERY.TIMESTAMP}' },
  { name: 'event_opdata', value: '{EVENT.OPDATA}' },
  { name: 'event_tags_json', value: '{EVENT.TAGSJSON}' },
  { name: 'host_host', value: '{HOST.HOST}' },
  { name: 'host_name', value: '{HOST.NAME}' },
  { name: 'host_ip', value: '{HOST.IP}' },
  { name: 'trigger_id', value: '{TRIGGER.ID}' },
  { name: 'trigger_description', value: '{TRIGGER.DESCRIPTION}' },
  { name: 'alert_subject', value: '{ALERT.SUBJECT}' },
  { name: 'alert_message', value: '{ALERT.MESSAGE}' },
  { name: 'zabbix_url', value: '{$ZABBIX.URL}' },
];

/**
 * The webhook media type script (Zabbix runs it in Duktape, ES5: no `let`, arrow functions or
 * template literals). It receives the parameters above as the JSON string `value`, takes `itsm_url`
 * and `itsm_token` out (define `{$ITSM.URL}` and the secret macro `{$ITSM.TOKEN}` globally), posts
 * the rest as JSON with `Authorization: Bearer <token>`, and throws on any non-2xx answer so that
 * the media type's "Attempts" setting retries the delivery.
 */
export const ZABBIX_MEDIA_SCRIPT = `var params = JSON.parse(value);
var url = params.itsm_url;
var token = params.itsm_token;
delete params.itsm_url;
delete params.itsm_token;
if (typeof url !== 'string' || !/^https?:\\/\\//.test(url)) {
  throw 'Parameter itsm_url must be the ITSM webhook URL (macro {$ITSM.URL})';
}
if (typeof token !== 'string' || token === '' || /^\\{\\$.*\\}$/.test(token)) {
  throw 'Parameter itsm_token is not set (secret macro {$ITSM.TOKEN})';
}
var request = new HttpRequest();
request.addHeader('Content-Type: application/json');
request.addHeader('Authorization: Bearer ' + token);
if (typeof params.http_proxy === 'string' && params.http_proxy !== '' && params.http_proxy.charAt(0) !== '{') {
  request.setProxy(params.http_proxy);
}
delete params.http_proxy;
Zabbix.log(4, '[ITSM webhook] posting event ' + params.event_id + ' to ' + url);
var response = request.post(url, JSON.stringify(params));
var status = request.getStatus();
if (status < 200 || status >= 300) {
  throw 'ITSM webhook answered HTTP ' + status + ': ' + String(response).substring(0, 500);
}
return 'OK';
`;

/** `{EVENT.ID}`, `{HOST.NAME}`, `{EVENT.TAGS.service}`, `{$ZABBIX.URL}`: a macro Zabbix left as it was. */
const MACRO = /^\{(?:\$[A-Z0-9_.]+(?::[^}]*)?|[A-Z][A-Z0-9_]*(?:\.[A-Za-z0-9_]+)+)\}$/;
const UNKNOWN = '*UNKNOWN*';

function isUnresolved(value: string): boolean {
  return value === UNKNOWN || MACRO.test(value.trim());
}

const KNOWN_FIELDS = ZABBIX_MEDIA_PARAMETERS.map((f) => f.name).concat(['trigger_name']);

export function normalizeZabbix(payload: unknown, ctx: NormalizeContext): NormalizeResult {
  const p = new Problems();
  const root = requireObject(payload, p);
  if (!root) return { ok: false, errors: p.errors };

  // Every known field, when present, is a string; unexpanded macros count as absent.
  const f: Record<string, string | undefined> = {};
  for (const name of KNOWN_FIELDS) {
    const value = root[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      p.add(ptr('', name), `must be a string (Zabbix sends every value as a string), got ${typeName(value)}`);
      continue;
    }
    f[name] = value;
  }
  const opt = (name: string): string | undefined => {
    const v = f[name];
    return v === undefined || isUnresolved(v) || v.trim() === '' ? undefined : v.trim();
  };
  const required = (name: string, pattern: RegExp, expected: string): string | undefined => {
    const v = f[name];
    if (v === undefined) {
      if (root[name] === undefined || root[name] === null) p.add(ptr('', name), 'is required');
      return undefined;
    }
    if (isUnresolved(v)) {
      p.add(
        ptr('', name),
        `is the unexpanded Zabbix macro ${JSON.stringify(v)}: check the media type parameter`,
      );
      return undefined;
    }
    if (!pattern.test(v)) {
      p.add(ptr('', name), `must be ${expected}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  };
  const optPattern = (name: string, pattern: RegExp, expected: string): string | undefined => {
    const v = opt(name);
    if (v !== undefined && !pattern.test(v)) {
      p.add(ptr('', name), `must be ${expected}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  };

  const eventSource = optPattern('event_source', /^[0-4]$/, 'a Zabbix event source 0-4') ?? '0';
  if (eventSource === '1' || eventSource === '2') {
    p.add(
      '/event_source',
      `event source ${eventSource} (${eventSource === '1' ? 'discovery' : 'autoregistration'}) has no problem/recovery semantics`,
    );
  }
  const eventId = required('event_id', /^\d{1,20}$/, 'a numeric event id');
  const value = required('event_value', /^[01]$/, '"1" (problem) or "0" (recovery)');
  const nseverity =
    eventSource === '3' && opt('event_nseverity') === undefined
      ? undefined
      : required('event_nseverity', /^[0-5]$/, 'a Zabbix severity 0-5');
  const updateStatus = optPattern('event_update_status', /^[01]$/, '"0" or "1"') ?? '0';
  const startTs = optPattern('event_timestamp', /^\d{1,11}$/, 'unix seconds');
  const recoveryTs = optPattern('event_recovery_timestamp', /^\d{1,11}$/, 'unix seconds');
  const recoveryId = optPattern('event_recovery_id', /^\d{1,20}$/, 'a numeric event id');

  const tags: { tag: string; value: string }[] = [];
  const tagsJson = opt('event_tags_json');
  if (tagsJson !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(tagsJson);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed))
      p.add('/event_tags_json', 'must be a JSON array of {"tag","value"} (EVENT.TAGSJSON)');
    else {
      parsed.forEach((t, i) => {
        if (
          isObject(t) &&
          typeof t['tag'] === 'string' &&
          (t['value'] === undefined || typeof t['value'] === 'string')
        ) {
          tags.push({ tag: t['tag'], value: (t['value'] as string | undefined) ?? '' });
        } else p.add('/event_tags_json', `element ${i} must be {"tag": string, "value": string}`);
      });
    }
  }

  if (p.any || eventId === undefined || value === undefined) return { ok: false, errors: p.errors };

  const action = opt('event_update_action') ?? '';
  const isUpdate = value === '1' && updateStatus === '1';
  let status: 'firing' | 'resolved' | 'acknowledged' = value === '0' ? 'resolved' : 'firing';
  if (isUpdate && /(^|[^a-z])closed/i.test(action)) status = 'resolved';
  else if (isUpdate && /(^|[^a-z])acknowledged/i.test(action)) status = 'acknowledged';

  const labels = new LabelSet();
  const byTag = new Map<string, string[]>();
  for (const t of tags) byTag.set(t.tag, [...(byTag.get(t.tag) ?? []), t.value]);
  for (const [tag, values] of byTag) labels.set(tag, values.join(', '));
  labels.setDefault('zabbix.host', opt('host_host'));
  labels.setDefault('zabbix.host_name', opt('host_name'));
  labels.setDefault('zabbix.host_ip', opt('host_ip'));
  labels.setDefault('zabbix.trigger_id', opt('trigger_id'));
  labels.setDefault('zabbix.opdata', opt('event_opdata'));

  const links = new LinkList();
  const zabbixUrl = opt('zabbix_url');
  const triggerId = opt('trigger_id');
  if (zabbixUrl && triggerId && /^\d+$/.test(triggerId)) {
    links.add(
      `${zabbixUrl.replace(/\/+$/, '')}/tr_events.php?triggerid=${triggerId}&eventid=${eventId}`,
      'Zabbix event',
    );
  }

  const startsAt = startTs ? (unixSecondsToIso(startTs) ?? null) : null;
  const endsAt =
    status === 'resolved' ? (recoveryTs && unixSecondsToIso(recoveryTs)) || isoFromDate(ctx.now) : null;
  return {
    ok: true,
    alerts: [
      {
        source: 'zabbix',
        key: eventId,
        occurrence: eventId,
        status,
        severity: nseverity === undefined ? ctx.defaultSeverity : ZABBIX_SEVERITY[nseverity]!,
        summary:
          pickSummary(opt('event_name'), opt('trigger_name'), opt('alert_subject')) ??
          `Zabbix problem ${eventId}`,
        description: pickDescription(opt('trigger_description'), opt('alert_message')),
        labels: labels.labels,
        ciHint: firstText(opt('host_host'), opt('host_name')),
        serviceHint: firstText(...(byTag.get('service') ?? [])),
        startsAt,
        endsAt,
        links: links.links,
        groupKey: null,
      },
    ],
    meta: {
      eventId,
      eventSource,
      eventValue: value,
      updateStatus,
      updateAction: opt('event_update_action') ?? null,
      updateMessage: opt('event_update_message') ?? null,
      updateUser: opt('event_update_user') ?? null,
      acknowledged: opt('event_ack_status') === 'Yes',
      recoveryEventId: recoveryId ?? null,
      triggerId: triggerId ?? null,
      severityName: opt('event_severity') ?? null,
    },
  };
}
