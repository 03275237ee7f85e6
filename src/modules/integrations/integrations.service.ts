import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import { type Database, inTransaction, type Tx } from '../../db/db.ts';
import type { AlertsTable, Level } from '../../db/schema.ts';
import { writeAudit } from '../../platform/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { checkVersion, DomainError, type FieldError } from '../../platform/errors.ts';
import type { PageQuery } from '../../platform/paging.ts';
import { customerVisible, groupInfo } from '../directory/index.ts';
import { categoryExists, createIncidentService } from '../incident/index.ts';
import { serviceByCode, serviceExists } from '../sla/index.ts';
import * as repo from './integrations.repository.ts';
import type { IntegrationCreate, IntegrationPatch } from './integrations.schemas.ts';
import type { AlertSeverity, NormalizedAlert } from './normalize/index.ts';

/** Default severity -> impact x urgency (critical = P1, high = P2, medium = P3, low = P4, info = P5). */
export const DEFAULT_SEVERITY_MAP: Record<AlertSeverity, { impact: Level; urgency: Level }> = {
  critical: { impact: 'high', urgency: 'high' },
  high: { impact: 'high', urgency: 'medium' },
  medium: { impact: 'medium', urgency: 'medium' },
  low: { impact: 'medium', urgency: 'low' },
  info: { impact: 'low', urgency: 'low' },
};

const RAW_LIMIT = 16 * 1024;
/** Incident statuses in which a firing alert joins the incident rather than opening one. */
const OPEN = ['new', 'assigned', 'in_progress', 'pending'] as const;

export interface Rule {
  match: { label: string; value?: string };
  set: { serviceCode?: string; category?: string; groupId?: string; ci?: string };
}

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** PagerDuty routing keys are 32 characters; the others get a longer, prefixed key. */
function newKey(type: string): string {
  if (type === 'pagerduty') return randomBytes(16).toString('hex');
  return `tik_${randomBytes(32).toString('base64url')}`;
}

export interface IntakeOutcome {
  alerts: number;
  opened: number;
  updated: number;
  resolved: number;
  ignored: number;
  incidentIds: string[];
}

const hintKey = (integrationId: string, key: string) => `${integrationId}\n${key}`;
const HINT_MAX = 200_000;

export function createIntegrationService({ db }: { db: Database }) {
  const incidents = createIncidentService({ db });
  /**
   * Identities this process last saw firing (bounded, oldest forgotten first). Only a hint for
   * choosing the one-statement path of a post; the database decides.
   */
  const firingHint = new Set<string>();
  const rememberFiring = (integrationId: string, key: string) => {
    const k = hintKey(integrationId, key);
    if (firingHint.has(k)) return;
    if (firingHint.size >= HINT_MAX) {
      let drop = HINT_MAX / 10;
      for (const old of firingHint) {
        firingHint.delete(old);
        if (--drop <= 0) break;
      }
    }
    firingHint.add(k);
  };

  async function validateRefs(ctx: RequestContext, input: Partial<IntegrationCreate>) {
    const errors: FieldError[] = [];
    const bad = (pointer: string, detail: string) => errors.push({ in: 'body', pointer, detail });
    if (
      input.customerId &&
      !(await customerVisible(db, { customerId: ctx.actor.customerId }, input.customerId))
    ) {
      bad('/customerId', `no customer ${input.customerId}`);
    }
    if (input.serviceId && !(await serviceExists(db, input.serviceId)))
      bad('/serviceId', `no service ${input.serviceId}`);
    if (input.groupId && !(await groupInfo(db, input.groupId))) bad('/groupId', `no group ${input.groupId}`);
    for (const [i, rule] of (input.rules ?? []).entries()) {
      if (rule.set.groupId && !(await groupInfo(db, rule.set.groupId)))
        bad(`/rules/${i}/set/groupId`, `no group ${rule.set.groupId}`);
      if (rule.set.category && !(await categoryExists(db, rule.set.category)))
        bad(`/rules/${i}/set/category`, `no category ${rule.set.category}`);
      if (
        rule.set.serviceCode &&
        rule.set.serviceCode !== '$value' &&
        !(await serviceByCode(db, rule.set.serviceCode))
      ) {
        bad(`/rules/${i}/set/serviceCode`, `no service with code ${rule.set.serviceCode}`);
      }
    }
    if (errors.length > 0)
      throw new DomainError(
        'INTEGRATION_INVALID',
        'invalid',
        errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '),
        {},
        errors,
      );
  }

  async function create(ctx: RequestContext, input: IntegrationCreate) {
    await validateRefs(ctx, input);
    const key = newKey(input.type);
    return inTransaction(db, async (trx) => {
      const row = await repo.insertIntegration(trx, {
        type: input.type,
        name: input.name,
        customer_id: input.customerId,
        service_id: input.serviceId ?? null,
        group_id: input.groupId ?? null,
        key_hash: hashKey(key),
        key_prefix: key.slice(0, 6),
        signing_secret: input.signingSecret ?? null,
        severity_map: JSON.stringify(input.severityMap ?? {}),
        rules: JSON.stringify(input.rules ?? []),
        auto_resolve: input.autoResolve ?? true,
        flap_window_seconds: input.flapWindowSeconds ?? 1800,
        grouping: input.grouping ?? 'alert',
        rate_limit_per_minute: input.rateLimitPerMinute ?? 1200,
      });
      const integration = repo.toIntegration(row);
      await writeAudit(trx, ctx, {
        action: 'integration.create',
        recordType: 'integration',
        recordId: row.id,
        customerId: row.customer_id,
        after: integration,
      });
      return { ...integration, key };
    });
  }

  async function load(ctx: RequestContext, id: string) {
    const row = await repo.findIntegration(db, id);
    if (!row || (ctx.actor.customerId && row.customer_id !== ctx.actor.customerId)) {
      throw new DomainError('INTEGRATION_NOT_FOUND', 'not_found', `Integration ${id} was not found`, { id });
    }
    return row;
  }

  async function update(ctx: RequestContext, id: string, patch: IntegrationPatch, expected?: number) {
    await load(ctx, id);
    await validateRefs(ctx, patch);
    return inTransaction(db, async (trx) => {
      const before = (await repo.lockIntegration(trx, id))!;
      checkVersion(before.version, expected);
      const after = repo.toIntegration(
        await repo.updateIntegration(trx, id, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.serviceId !== undefined ? { service_id: patch.serviceId } : {}),
          ...(patch.groupId !== undefined ? { group_id: patch.groupId } : {}),
          ...(patch.signingSecret !== undefined ? { signing_secret: patch.signingSecret } : {}),
          ...(patch.severityMap !== undefined ? { severity_map: JSON.stringify(patch.severityMap) } : {}),
          ...(patch.rules !== undefined ? { rules: JSON.stringify(patch.rules) } : {}),
          ...(patch.autoResolve !== undefined ? { auto_resolve: patch.autoResolve } : {}),
          ...(patch.flapWindowSeconds !== undefined ? { flap_window_seconds: patch.flapWindowSeconds } : {}),
          ...(patch.grouping !== undefined ? { grouping: patch.grouping } : {}),
          ...(patch.rateLimitPerMinute !== undefined
            ? { rate_limit_per_minute: patch.rateLimitPerMinute }
            : {}),
          ...(patch.active !== undefined ? { active: patch.active } : {}),
        }),
      );
      await writeAudit(trx, ctx, {
        action: 'integration.update',
        recordType: 'integration',
        recordId: id,
        customerId: before.customer_id,
        before: repo.toIntegration(before),
        after,
      });
      return after;
    });
  }

  async function rotateKey(ctx: RequestContext, id: string) {
    await load(ctx, id);
    return inTransaction(db, async (trx) => {
      const before = (await repo.lockIntegration(trx, id))!;
      const key = newKey(before.type);
      const row = await repo.updateIntegration(trx, id, {
        key_hash: hashKey(key),
        key_prefix: key.slice(0, 6),
      });
      await writeAudit(trx, ctx, {
        action: 'integration.rotate_key',
        recordType: 'integration',
        recordId: id,
        customerId: row.customer_id,
      });
      return { ...repo.toIntegration(row), key };
    });
  }

  async function list(ctx: RequestContext, query: PageQuery & { type?: string; customerId?: string }) {
    const page = await repo.listIntegrations(db, query, ctx.actor.customerId);
    return { items: page.items.map(repo.toIntegration), nextCursor: page.nextCursor };
  }

  async function deliveries(ctx: RequestContext, id: string, page: PageQuery) {
    await load(ctx, id);
    const result = await repo.listDeliveries(db, id, page);
    return { items: result.items.map(repo.toDelivery), nextCursor: result.nextCursor };
  }

  async function alertsOfIncident(ctx: RequestContext, incidentId: string) {
    await incidents.get(ctx, incidentId);
    return { items: (await repo.alertsOfIncident(db, incidentId)).map(repo.toAlert) };
  }

  // ---- intake ----
  /** What the rules say for an alert's labels: service, category, group, CI. */
  async function applyRules(trx: Tx, integration: repo.IntegrationRow, alert: NormalizedAlert) {
    let serviceId = integration.service_id;
    let category: string | null = null;
    let groupId = integration.group_id;
    let ci = alert.ciHint;
    for (const rule of integration.rules as Rule[]) {
      const value = alert.labels[rule.match.label];
      if (value === undefined || (rule.match.value !== undefined && rule.match.value !== value)) continue;
      const fill = (text: string) => text.replace(/\$value/g, value);
      if (rule.set.serviceCode) {
        const service = await serviceByCode(trx, fill(rule.set.serviceCode));
        if (service) serviceId = service.id;
      }
      if (rule.set.category && (await categoryExists(trx, rule.set.category))) category = rule.set.category;
      if (rule.set.groupId) groupId = rule.set.groupId;
      if (rule.set.ci) ci = fill(rule.set.ci);
    }
    return { serviceId, category, groupId, ci };
  }

  function describe(alert: NormalizedAlert, ci: string | null): string {
    const labels = Object.entries(alert.labels)
      .slice(0, 30)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    return [alert.description, ci ? `CI: ${ci}` : null, labels ? `Labels:\n${labels}` : null]
      .filter(Boolean)
      .join('\n\n')
      .slice(0, 20000);
  }

  async function openIncident(
    trx: Tx,
    integration: repo.IntegrationRow,
    alert: NormalizedAlert,
    ctx: RequestContext,
    id?: string,
  ) {
    const mapping =
      { ...DEFAULT_SEVERITY_MAP, ...integration.severity_map }[alert.severity] ?? DEFAULT_SEVERITY_MAP.medium;
    const routed = await applyRules(trx, integration, alert);
    const incident = await incidents.create(
      ctx,
      {
        title: alert.summary.slice(0, 300),
        description: describe(alert, routed.ci),
        customerId: integration.customer_id,
        channel: 'monitoring',
        impact: mapping.impact,
        urgency: mapping.urgency,
        ...(routed.category ? { category: routed.category } : {}),
        ...(routed.serviceId ? { serviceId: routed.serviceId } : {}),
        ...(routed.groupId ? { groupId: routed.groupId } : {}),
        ...(alert.startsAt ? { reportedAt: alert.startsAt } : {}),
      },
      { trx, source: integration.type, customerKnown: true, ...(id ? { id } : {}) },
    );
    return incident.id;
  }

  /** The raw payload kept with new or changed alerts: the body as sent, bounded. */
  function rawOf(body: string) {
    const size = Buffer.byteLength(body);
    return size <= RAW_LIMIT ? body : JSON.stringify({ truncated: true, bytes: size });
  }

  const contentOf = (a: NormalizedAlert): repo.AlertContent => ({
    dedup_key: a.key,
    severity: a.severity,
    summary: a.summary,
    description: a.description,
    labels: a.labels,
    ci_hint: a.ciHint,
    service_hint: a.serviceHint,
    links: a.links,
    ends_at: a.endsAt,
  });

  /** What one post did, and the identities it left firing or resolved (for the hint, after commit). */
  interface PostState {
    outcome: IntakeOutcome;
    firing: string[];
    resolved: string[];
  }
  const noteIncident = (state: PostState, id: string) => {
    if (!state.outcome.incidentIds.includes(id)) state.outcome.incidentIds.push(id);
  };

  /**
   * One alert that is not a plain repeat (or not known to be one), under its advisory lock, with
   * `existing` read after the lock was taken: open, reopen, resolve, acknowledge, or count it.
   * New alerts are inserted at once, or pushed to `deferred` for the caller to insert.
   */
  async function decideAlert(
    trx: Tx,
    integration: repo.IntegrationRow,
    alert: NormalizedAlert,
    existing: repo.AlertRow | undefined,
    raw: string,
    state: PostState,
    ctx: RequestContext,
    deferred: Insertable<AlertsTable>[] | null,
  ) {
    const { outcome } = state;
    const systemView: RequestContext = { ...ctx, actor: { ...ctx.actor, customerId: null } };
    const byGroup = integration.grouping === 'group';
    const fields = {
      severity: alert.severity,
      summary: alert.summary,
      description: alert.description,
      labels: JSON.stringify(alert.labels),
      ci_hint: alert.ciHint,
      service_hint: alert.serviceHint,
      links: JSON.stringify(alert.links),
      ends_at: alert.endsAt ? new Date(alert.endsAt) : null,
      raw,
    };

    if (alert.status === 'firing') {
      if (existing && existing.status !== 'resolved') {
        // A plain repeat, as in recordRepeats: the raw payload stays that of the last change.
        const { raw: _raw, ...content } = fields;
        await repo.recordRepeat(trx, existing.id, content);
        outcome.updated++;
        noteIncident(state, existing.incident_id);
        state.firing.push(alert.key);
        return;
      }
      // A new identity, or one firing again after a resolve.
      let incidentId: string | null = null;
      if (existing) {
        const current = await incidents.get(systemView, existing.incident_id, trx);
        const withinFlap =
          existing.resolved_at !== null &&
          Date.now() - existing.resolved_at.getTime() <= integration.flap_window_seconds * 1000;
        if ((OPEN as readonly string[]).includes(current.status)) incidentId = current.id;
        else if (current.status === 'resolved' && withinFlap) {
          await incidents.reopenByAlert(ctx, current.id, `alert ${alert.key} fired again`, trx);
          incidentId = current.id;
        }
      }
      if (!incidentId && byGroup && alert.groupKey) {
        const sibling = await repo.latestAlertOfGroup(trx, integration.id, alert.groupKey);
        if (sibling) {
          const current = await incidents.get(systemView, sibling.incident_id, trx);
          if ((OPEN as readonly string[]).includes(current.status)) incidentId = current.id;
        }
      }
      if (!incidentId) {
        incidentId = await openIncident(trx, integration, alert, ctx);
        outcome.opened++;
      } else {
        outcome.updated++;
      }
      noteIncident(state, incidentId);
      state.firing.push(alert.key);
      if (existing) {
        await repo.updateAlert(trx, existing.id, {
          ...fields,
          status: 'firing',
          occurrence: alert.occurrence,
          group_key: alert.groupKey,
          incident_id: incidentId,
          starts_at: alert.startsAt ? new Date(alert.startsAt) : null,
          resolved_at: null,
          last_seen_at: new Date(),
        });
      } else {
        const values: Insertable<AlertsTable> = {
          ...fields,
          integration_id: integration.id,
          dedup_key: alert.key,
          occurrence: alert.occurrence,
          group_key: alert.groupKey,
          incident_id: incidentId,
          status: 'firing',
          starts_at: alert.startsAt ? new Date(alert.startsAt) : null,
        };
        if (deferred) deferred.push(values);
        else await repo.insertAlert(trx, values);
      }
      return;
    }

    if (!existing) {
      outcome.ignored++;
      return;
    }
    noteIncident(state, existing.incident_id);
    if (alert.status === 'acknowledged') {
      await repo.recordRepeat(trx, existing.id, {
        ...fields,
        status: existing.status === 'resolved' ? 'resolved' : 'acknowledged',
      });
      await incidents.acknowledge(ctx, existing.incident_id, `acknowledged by ${integration.type}`, trx);
      outcome.updated++;
      return;
    }
    // resolved
    if (existing.status === 'resolved') {
      await repo.recordRepeat(trx, existing.id, {});
      outcome.updated++;
      return;
    }
    await repo.updateAlert(trx, existing.id, {
      ...fields,
      status: 'resolved',
      // Receipt time: the flap window counts from when Tessera learnt of the resolve.
      resolved_at: new Date(),
      last_seen_at: new Date(),
    });
    outcome.resolved++;
    state.resolved.push(alert.key);
    if (integration.auto_resolve && !(await repo.incidentHasFiringAlerts(trx, existing.incident_id))) {
      await incidents.autoResolve(
        ctx,
        existing.incident_id,
        `All alerts resolved (${integration.type}: ${alert.summary})`,
        trx,
      );
    }
  }

  /**
   * Records a payload's alerts in one transaction: a new identity opens an incident; a repeat only
   * counts; a resolve resolves the alert and, with autoResolve, the incident once all its alerts are
   * resolved; a trigger after a resolve reopens the incident inside the flap window or opens a new
   * one after it; an acknowledge sets the incident's first response. Identities are scoped by the
   * integration, and simultaneous posts of one new identity open one incident.
   *
   * Three ways through, by what the post holds (the outcome is the same; only the cost differs):
   * 1. Only firing alerts that this process last saw firing (a hint): one statement outside a
   *    transaction counts them as repeats and logs the delivery, or writes nothing if any of them
   *    is not a plain repeat after all (then 2 or 3).
   * 2. Only firing alerts, one incident per alert: a transaction whose first statement claims the
   *    new identities (their rows inserted, `ON CONFLICT DO NOTHING`: a concurrent post of the same
   *    identity waits, then finds it taken); then an incident per claimed identity (the alert's
   *    foreign key is checked at commit); last, one statement counts the plain repeats and logs the
   *    delivery, so their rows stay locked only until the commit. What is neither (fired again
   *    after a resolve, taken meanwhile) goes the per-alert way of 3.
   * 3. Anything else (resolves, acknowledges, grouping by group, an identity named twice): advisory
   *    locks per identity (or group) taken in one order, the plain repeats counted in one
   *    statement, then alert by alert.
   */
  async function ingest(
    integration: repo.IntegrationRow,
    alerts: NormalizedAlert[],
    body: string,
    requestId: string | null,
  ): Promise<IntakeOutcome> {
    const ctx: RequestContext = {
      actor: {
        keyId: null,
        name: `integration ${integration.name}`,
        role: 'integration',
        customerId: integration.customer_id,
      },
      requestId,
    };
    const httpStatus = integration.type === 'pagerduty' ? 202 : 200;
    const byGroup = integration.grouping === 'group';
    const lockKeyOf = (a: NormalizedAlert) => (byGroup && a.groupKey ? `group:${a.groupKey}` : a.key);
    const ordered = [...alerts].sort((a, b) => lockKeyOf(a).localeCompare(lockKeyOf(b)));
    const perKey = new Map<string, number>();
    for (const a of alerts) perKey.set(a.key, (perKey.get(a.key) ?? 0) + 1);
    const keys = [...perKey.keys()];
    const allFiring = perKey.size === alerts.length && alerts.every((a) => a.status === 'firing');
    const newState = (): PostState => ({
      outcome: { alerts: alerts.length, opened: 0, updated: 0, resolved: 0, ignored: 0, incidentIds: [] },
      firing: [],
      resolved: [],
    });
    const finish = (state: PostState) => {
      for (const key of state.firing) rememberFiring(integration.id, key);
      for (const key of state.resolved) firingHint.delete(hintKey(integration.id, key));
      return state.outcome;
    };

    // 1. Plain repeats only, outside a transaction.
    if (allFiring && alerts.every((a) => firingHint.has(hintKey(integration.id, a.key)))) {
      const delivery = { httpStatus, requestId };
      if (alerts.length === 1) {
        const row = await repo.recordSingleRepeat(db, integration.id, contentOf(alerts[0]!), delivery);
        if (row)
          return {
            alerts: 1,
            opened: 0,
            updated: 1,
            resolved: 0,
            ignored: 0,
            incidentIds: [row.incident_id],
          };
      } else {
        const rows = await repo.recordRepeats(db, integration.id, keys, alerts.map(contentOf), {
          ...delivery,
          alerts: alerts.length,
        });
        if (rows[0]?.all_plain) {
          const incidentOf = new Map(rows.map((r) => [r.dedup_key, r.incident_id]));
          const state = newState();
          for (const a of ordered) noteIncident(state, incidentOf.get(a.key)!);
          return { ...state.outcome, updated: alerts.length };
        }
      }
      for (const a of alerts) firingHint.delete(hintKey(integration.id, a.key));
    }

    const raw = rawOf(body);
    // 2. Only firing alerts, one incident per alert: claim the new identities.
    const claimPath = async (trx: Tx): Promise<PostState> => {
      const state = newState();
      const ids = new Map(alerts.map((a) => [a.key, randomUUID()]));
      const claimed = new Set(
        await repo.claimNew(
          trx,
          integration.id,
          alerts.map((a) => ({
            ...contentOf(a),
            occurrence: a.occurrence,
            group_key: a.groupKey,
            starts_at: a.startsAt,
            incident_id: ids.get(a.key)!,
          })),
          raw,
        ),
      );
      for (const alert of ordered) {
        if (!claimed.has(alert.key)) continue;
        await openIncident(trx, integration, alert, ctx, ids.get(alert.key));
        state.outcome.opened++;
        state.firing.push(alert.key);
      }
      const opened = state.outcome.opened;
      // Repeats last, so that their rows are locked only until the commit that follows.
      const result = await repo.repeatAndLog(
        trx,
        integration.id,
        alerts.filter((a) => !claimed.has(a.key)).map(contentOf),
        { alerts: alerts.length, opened, httpStatus, requestId },
      );
      const repeated = new Map(result.repeated.map((r) => [r.dedup_key, r.incident_id]));
      for (const alert of ordered) {
        if (claimed.has(alert.key)) {
          noteIncident(state, ids.get(alert.key)!);
        } else if (repeated.has(alert.key)) {
          state.outcome.updated++;
          noteIncident(state, repeated.get(alert.key)!);
          state.firing.push(alert.key);
        } else {
          // Fired again after a resolve, or claimed by a concurrent post since the claim.
          await repo.lockKey(trx, integration.id, lockKeyOf(alert));
          const existing = await repo.findAlert(trx, integration.id, alert.key);
          await decideAlert(trx, integration, alert, existing, raw, state, ctx, null);
        }
      }
      if (state.outcome.opened !== opened)
        await repo.setDeliveryOpened(trx, result.deliveryId, state.outcome.opened);
      return state;
    };

    // 3. The general way.
    const lockKeys = [...new Set(alerts.map(lockKeyOf))];
    const deferInserts = !byGroup && perKey.size === alerts.length;
    const generalPath = async (trx: Tx): Promise<PostState> => {
      const state = newState();
      await repo.lockKeys(trx, integration.id, lockKeys);
      const candidates = alerts.filter((a) => a.status === 'firing' && perKey.get(a.key) === 1);
      const rows = new Map(
        (await repo.recordRepeats(trx, integration.id, keys, candidates.map(contentOf))).map((r) => [
          r.dedup_key,
          r,
        ]),
      );
      // New alerts are inserted with the delivery at the end (one statement), unless a later alert
      // of the post could need to see them (grouping by group, an identity named twice).
      const deferred: Insertable<AlertsTable>[] = [];
      const seen = new Set<string>();
      for (const alert of ordered) {
        const row = rows.get(alert.key);
        if (row?.repeated && alert.status === 'firing' && perKey.get(alert.key) === 1) {
          state.outcome.updated++;
          noteIncident(state, row.incident_id);
          state.firing.push(alert.key);
          continue;
        }
        // The same identity again in this payload: as the alert before it left it.
        const existing = seen.has(alert.key) ? await repo.findAlert(trx, integration.id, alert.key) : row;
        seen.add(alert.key);
        await decideAlert(trx, integration, alert, existing, raw, state, ctx, deferInserts ? deferred : null);
      }
      // The body stays with the alerts it opened or changed (`raw`); the log keeps it only when
      // some alert of the post matched nothing (a resolve of an unknown alert, say).
      await repo.insertAlertsAndDelivery(trx, deferred, {
        integration_id: integration.id,
        outcome: 'accepted',
        http_status: httpStatus,
        alerts: alerts.length,
        opened: state.outcome.opened,
        payload: state.outcome.ignored > 0 ? raw.slice(0, 65536) : null,
        request_id: requestId,
      });
      return state;
    };

    const way = allFiring && !byGroup ? claimPath : generalPath;
    // Locks are taken in one order within each way, but a post may lock late (a row resolved or
    // claimed meanwhile): a deadlock that PostgreSQL breaks is retried from the start.
    for (let tries = 1; ; tries++) {
      try {
        return finish(await inTransaction(db, way));
      } catch (err) {
        if (tries >= 3 || (err as { code?: string }).code !== '40P01') throw err;
      }
    }
  }

  /** Keeps the body and the reason of a post that was refused, for ops to see why a monitor fails. */
  async function reject(
    integration: repo.IntegrationRow,
    httpStatus: number,
    reason: string,
    errors: unknown[],
    body: string,
    requestId: string | null,
  ) {
    await repo.insertDelivery(db, {
      integration_id: integration.id,
      outcome: 'rejected',
      http_status: httpStatus,
      reason,
      errors: JSON.stringify(errors),
      payload: body.slice(0, 65536),
      request_id: requestId,
    });
  }

  return {
    create,
    update,
    rotateKey,
    list,
    get: async (ctx: RequestContext, id: string) => repo.toIntegration(await load(ctx, id)),
    deliveries,
    alertsOfIncident,
    ingest,
    reject,
  };
}

export type IntegrationService = ReturnType<typeof createIntegrationService>;

/** Integration keys resolved with a short in-process cache (like API keys). */
export class IntegrationKeys {
  private readonly entries = new Map<string, { row: repo.IntegrationRow | null; until: number }>();
  constructor(
    private readonly db: Database,
    private readonly ttlMs = 2000,
  ) {}

  async resolve(key: string): Promise<repo.IntegrationRow | null> {
    const hash = hashKey(key);
    const now = Date.now();
    const hit = this.entries.get(hash);
    if (hit && hit.until > now) return hit.row;
    const row = (await repo.findIntegrationByKeyHash(this.db, hash)) ?? null;
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(hash, { row, until: now + this.ttlMs });
    return row;
  }
}

/** A fixed one-minute window per integration, per process. */
export class IntakeLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  /** Seconds to wait, or 0 when the request may go through. */
  take(integrationId: string, perMinute: number, now = Date.now()): number {
    const window = this.windows.get(integrationId);
    if (!window || now - window.start >= 60_000) {
      this.windows.set(integrationId, { start: now, count: 1 });
      return 0;
    }
    window.count++;
    return window.count > perMinute ? Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000)) : 0;
  }
}
