import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import { type Database, type Executor, inTransaction, type Tx } from '../../db/db.ts';
import type { AlertsTable, Level } from '../../db/schema.ts';
import { writeAudit } from '../../platform/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { checkVersion, DomainError, type FieldError } from '../../platform/errors.ts';
import { LookupMemo } from '../../platform/memo.ts';
import { withoutNul, withoutNulEscapes } from '../../platform/nul.ts';
import type { PageQuery } from '../../platform/paging.ts';
import { customerVisible, groupInfo } from '../directory/index.ts';
import { categoryExists, createIncidentService, type IncidentCreate } from '../incident/index.ts';
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

/**
 * Batches that may run at once in a lane of an integration (each holds a pool connection). Measured
 * with bench/intake: both lanes do best with one, as each batch is usually one statement (one at a
 * time makes the largest batches and the fewest commits, and batches never wait for each other's row
 * locks). With two claim batches, 10-alert posts at 300/s cost a third more database CPU per post.
 */
const LANE_BATCHES: Record<'repeat' | 'claim', number> = { repeat: 1, claim: 1 };
/** A batch takes waiting posts up to this many alerts (a larger post goes alone). */
const BATCH_ALERTS = 1000;

const hintKey = (integrationId: string, key: string) => `${integrationId}\n${key}`;
const HINT_MAX = 200_000;
const LOOKUP_TTL_MS = 1000;

export function createIntegrationService({ db }: { db: Database }) {
  const incidents = createIncidentService({ db });
  /**
   * Identities this process last saw firing (bounded, oldest forgotten first). Only a hint: it picks
   * a post's lane and which identities a claim tries; the database decides what happens.
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
  /**
   * Reference data read when incidents are opened (incident settings, routing, groups, the rules'
   * services and categories), shared by the batches for a second: a change reaches monitoring
   * intake within that time, as a change to an integration does (`IntegrationKeys`).
   */
  const lookups = new LookupMemo(LOOKUP_TTL_MS);
  /** What the rules say for an alert's labels: service, category, group, CI. */
  async function applyRules(ex: Executor, integration: repo.IntegrationRow, alert: NormalizedAlert) {
    let serviceId = integration.service_id;
    let category: string | null = null;
    let groupId = integration.group_id;
    let ci = alert.ciHint;
    for (const rule of integration.rules as Rule[]) {
      const value = alert.labels[rule.match.label];
      if (value === undefined || (rule.match.value !== undefined && rule.match.value !== value)) continue;
      const fill = (text: string) => text.replace(/\$value/g, value);
      if (rule.set.serviceCode) {
        const code = fill(rule.set.serviceCode);
        const service = await lookups.get(`service-code:${code}`, () => serviceByCode(ex, code));
        if (service) serviceId = service.id;
      }
      const known = (code: string) => lookups.get(`category-exists:${code}`, () => categoryExists(ex, code));
      if (rule.set.category && (await known(rule.set.category))) category = rule.set.category;
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

  /** The incidents that new alerts open, as the integration's mapping and rules make them. */
  async function incidentInputs(ex: Executor, integration: repo.IntegrationRow, alerts: NormalizedAlert[]) {
    const severityMap = { ...DEFAULT_SEVERITY_MAP, ...integration.severity_map };
    const inputs: IncidentCreate[] = [];
    for (const alert of alerts) {
      const mapping = severityMap[alert.severity] ?? DEFAULT_SEVERITY_MAP.medium;
      const routed = await applyRules(ex, integration, alert);
      inputs.push({
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
      });
    }
    return inputs;
  }

  /** Opens the incidents of new alerts (`id` chosen by the caller), in one go. */
  async function openIncidents(
    trx: Tx,
    integration: repo.IntegrationRow,
    items: { alert: NormalizedAlert; id: string; requestId: string | null }[],
  ) {
    if (items.length === 0) return;
    const inputs = await incidentInputs(
      trx,
      integration,
      items.map((i) => i.alert),
    );
    await incidents.createMany(contextOf(integration, items[0]!.requestId), inputs, {
      trx,
      source: integration.type,
      customerKnown: true,
      ids: items.map((i) => i.id),
      requestIds: items.map((i) => i.requestId),
      lookups,
    });
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
        incidentId = randomUUID();
        await openIncidents(trx, integration, [{ alert, id: incidentId, requestId: ctx.requestId }]);
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

  /** A post of firing alerts waiting in its integration's lane. */
  interface Post {
    integration: repo.IntegrationRow;
    alerts: NormalizedAlert[];
    body: string;
    requestId: string | null;
    resolve: (outcome: IntakeOutcome) => void;
    reject: (err: unknown) => void;
  }
  /**
   * Per integration and way: posts of firing alerts waiting, and the batches running. The `repeat`
   * lane takes posts whose every alert this process last saw firing (a hint), the `claim` lane the
   * others, so that plain repeats never wait behind the batches that open incidents.
   */
  type LaneKind = keyof typeof LANE_BATCHES;
  const lanes = new Map<string, { integrationId: string; kind: LaneKind; queue: Post[]; running: number }>();

  const contextOf = (integration: repo.IntegrationRow, requestId: string | null): RequestContext => ({
    actor: {
      keyId: null,
      name: `integration ${integration.name}`,
      role: 'integration',
      customerId: integration.customer_id,
    },
    requestId,
  });
  const newState = (alerts: number): PostState => ({
    outcome: { alerts, opened: 0, updated: 0, resolved: 0, ignored: 0, incidentIds: [] },
    firing: [],
    resolved: [],
  });
  const finish = (integration: repo.IntegrationRow, state: PostState) => {
    for (const key of state.firing) rememberFiring(integration.id, key);
    for (const key of state.resolved) firingHint.delete(hintKey(integration.id, key));
    return state.outcome;
  };
  const httpStatusOf = (integration: repo.IntegrationRow) => (integration.type === 'pagerduty' ? 202 : 200);
  const byKey = (a: NormalizedAlert, b: NormalizedAlert) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

  /**
   * Locks are taken in one order within each way, but a transaction may lock late (a row resolved
   * or claimed meanwhile): a deadlock that PostgreSQL breaks is retried from the start.
   */
  async function retryingDeadlocks<T>(work: (trx: Tx) => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await inTransaction(db, work);
      } catch (err) {
        if (tries >= 3 || (err as { code?: string }).code !== '40P01') throw err;
      }
    }
  }

  /**
   * Records a payload's alerts atomically (in a statement or transaction that other posts of its
   * batch may share): a new identity opens an incident; a repeat only counts; a resolve resolves the
   * alert and, with autoResolve, the incident once all its alerts are resolved; a trigger after a
   * resolve reopens the incident inside the flap window or opens a new one after it; an acknowledge
   * sets the incident's first response. Identities are scoped by the integration, and simultaneous posts of
   * one new identity open one incident. The promise settles after the commit.
   *
   * Posts of firing alerts only, one incident per alert (the bulk of monitoring traffic: senders
   * re-send whole groups on every interval) go through their integration's lane: while the lane's
   * batch is busy, posts queue, and the next batch takes them all (group commit: usually one
   * statement and one commit for many posts; under light load a batch is one post). Anything else
   * (resolves, acknowledges, grouping by group, an identity named twice) takes the general way, a
   * transaction of its own.
   */
  async function ingest(
    integration: repo.IntegrationRow,
    alerts: NormalizedAlert[],
    body: string,
    requestId: string | null,
  ): Promise<IntakeOutcome> {
    const distinct = new Set(alerts.map((a) => a.key)).size === alerts.length;
    if (distinct && integration.grouping !== 'group' && alerts.every((a) => a.status === 'firing')) {
      return new Promise((resolve, reject) => {
        const hinted = alerts.every((a) => firingHint.has(hintKey(integration.id, a.key)));
        enqueue(hinted ? 'repeat' : 'claim', [{ integration, alerts, body, requestId, resolve, reject }]);
      });
    }
    const state = await retryingDeadlocks((trx) => generalPath(trx, integration, alerts, body, requestId));
    return finish(integration, state);
  }

  function enqueue(kind: LaneKind, posts: Post[]) {
    const integrationId = posts[0]!.integration.id;
    const id = `${kind}:${integrationId}`;
    let lane = lanes.get(id);
    if (!lane) {
      lane = { integrationId, kind, queue: [], running: 0 };
      lanes.set(id, lane);
    }
    lane.queue.push(...posts);
    pump(id);
  }

  /** Starts batches of a lane's waiting posts while fewer than its LANE_BATCHES run. */
  function pump(id: string) {
    const lane = lanes.get(id);
    if (!lane) return;
    while (lane.running < LANE_BATCHES[lane.kind] && lane.queue.length > 0) {
      const batch: Post[] = [];
      let size = 0;
      while (
        lane.queue.length > 0 &&
        (batch.length === 0 || size + lane.queue[0]!.alerts.length <= BATCH_ALERTS)
      ) {
        const post = lane.queue.shift()!;
        size += post.alerts.length;
        batch.push(post);
      }
      lane.running++;
      const run = lane.kind === 'repeat' ? repeatBatch(batch) : claimBatch(batch);
      void run.finally(() => {
        lane.running--;
        if (lane.running === 0 && lane.queue.length === 0) lanes.delete(id);
        else pump(id);
      });
    }
  }

  /**
   * A batch of the repeat lane: one statement outside a transaction counts every alert as a repeat
   * and logs a delivery per post, or writes nothing if any alert is not a plain repeat after all (a
   * resolve taken by another process, say); then the posts go to the claim lane. When the statement
   * fails, each post is tried on its own.
   */
  async function repeatBatch(batch: Post[]) {
    const integration = batch[batch.length - 1]!.integration;
    let states: PostState[] | null;
    try {
      states = await tryRepeats(integration, batch);
    } catch (err) {
      // The statement wrote nothing: each post on its own, so that a bad one fails alone.
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const post of batch) await repeatBatch([post]);
      return;
    }
    if (states) {
      for (const [i, post] of batch.entries()) post.resolve(states[i]!.outcome);
      return;
    }
    enqueue('claim', batch);
  }

  /** The repeat statement of a batch whose every alert is hinted firing; null when it wrote nothing. */
  async function tryRepeats(integration: repo.IntegrationRow, batch: Post[]): Promise<PostState[] | null> {
    const httpStatus = httpStatusOf(integration);
    if (batch.length === 1 && batch[0]!.alerts.length === 1) {
      const [post] = batch as [Post];
      const row = await repo.recordSingleRepeat(db, integration.id, contentOf(post.alerts[0]!), {
        httpStatus,
        requestId: post.requestId,
      });
      if (row) {
        const state = newState(1);
        state.outcome.updated = 1;
        noteIncident(state, row.incident_id);
        return [state];
      }
    } else {
      const result = await repo.recordRepeatsOfPosts(
        db,
        integration.id,
        batch.flatMap((p) => p.alerts.map(contentOf)),
        batch.map((p) => ({ alerts: p.alerts.length, opened: 0, httpStatus, requestId: p.requestId })),
      );
      if (result) {
        const incidentOf = new Map(result.map((r) => [r.dedup_key, r.incident_id]));
        return batch.map((post) => {
          const state = newState(post.alerts.length);
          for (const a of [...post.alerts].sort(byKey)) noteIncident(state, incidentOf.get(a.key)!);
          state.outcome.updated = post.alerts.length;
          return state;
        });
      }
    }
    for (const post of batch) for (const a of post.alerts) firingHint.delete(hintKey(integration.id, a.key));
    return null;
  }

  /**
   * A batch of the claim lane: one statement (`oneStatement`), or, when an alert needs the per-alert
   * way, a transaction (`claimPath`); when a batch of several posts fails, each post is tried on its
   * own.
   */
  async function claimBatch(batch: Post[]) {
    const integration = batch[batch.length - 1]!.integration;
    try {
      const states =
        (await oneStatement(integration, batch)) ??
        (await retryingDeadlocks((trx) => claimPath(trx, integration, batch)));
      for (const [i, post] of batch.entries()) post.resolve(finish(integration, states[i]!));
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const post of batch) await claimBatch([post]);
    }
  }

  /**
   * The usual way of a claim batch, one statement outside a transaction (`repo.recordBatch`): the
   * new identities claimed and their incidents opened, every other alert counted as a plain repeat,
   * a delivery logged per post. Null when it wrote nothing because some alert is neither new nor a
   * plain repeat (fired again after a resolve, claimed by a concurrent batch) or a deadlock was
   * broken: the batch then takes `claimPath`.
   */
  async function oneStatement(integration: repo.IntegrationRow, posts: Post[]): Promise<PostState[] | null> {
    const firstPost = new Map<string, number>();
    const lastMention = new Map<string, NormalizedAlert>();
    const mentions = new Map<string, number>();
    for (const [i, post] of posts.entries())
      for (const alert of post.alerts) {
        if (!firstPost.has(alert.key)) firstPost.set(alert.key, i);
        lastMention.set(alert.key, alert);
        mentions.set(alert.key, (mentions.get(alert.key) ?? 0) + 1);
      }
    // Identities this process last saw firing are taken for repeats (a wrong hint fails the
    // statement); the others may be new. Only their first posts' bodies are sent.
    const unhinted = [...lastMention.values()]
      .filter((a) => !firingHint.has(hintKey(integration.id, a.key)))
      .sort(byKey);
    const withRaw = new Set(unhinted.map((a) => firstPost.get(a.key)!));
    const fresh = unhinted.map((a) => ({
      ...contentOf(a),
      occurrence: a.occurrence,
      group_key: a.groupKey,
      starts_at: a.startsAt,
      incident_id: randomUUID(),
      post: firstPost.get(a.key)!,
      mentions: mentions.get(a.key)!,
    }));
    const requestIds = fresh.map((f) => posts[f.post]!.requestId);
    let rows: Awaited<ReturnType<typeof repo.recordBatch>>;
    try {
      rows = await repo.recordBatch(
        db,
        integration.id,
        fresh,
        posts.map((p, i) => (withRaw.has(i) ? rawOf(p.body) : null)),
        posts.flatMap((p) => p.alerts.map(contentOf)),
        posts.map((p) => ({
          alerts: p.alerts.length,
          opened: 0,
          httpStatus: httpStatusOf(integration),
          requestId: p.requestId,
        })),
        lastMention.size,
        async (claimedIds) =>
          incidents.createManyWhere(
            contextOf(integration, requestIds[0] ?? null),
            await incidentInputs(db, integration, unhinted),
            {
              source: integration.type,
              customerKnown: true,
              ids: fresh.map((f) => f.incident_id),
              requestIds,
              lookups,
            },
            claimedIds,
          ),
      );
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'TS001' || code === '40P01') return null;
      throw err;
    }
    const handled = new Map(rows.map((r) => [r.dedup_key, r]));
    return posts.map((post, i) => {
      const state = newState(post.alerts.length);
      for (const alert of [...post.alerts].sort(byKey)) {
        const row = handled.get(alert.key)!;
        if (row.opened && firstPost.get(alert.key) === i) state.outcome.opened++;
        else state.outcome.updated++;
        noteIncident(state, row.incident_id);
        state.firing.push(alert.key);
      }
      return state;
    });
  }

  /**
   * The claim way, for a batch of posts of firing alerts: a transaction whose first statement claims
   * the new identities (their rows inserted, `ON CONFLICT DO NOTHING`: a concurrent batch with the
   * same identity waits, then finds it taken); then the claimed identities' incidents, all in one go
   * (the alerts' foreign key is checked at commit); last, one statement counts the repeats and logs
   * a delivery per post, so their rows stay locked only until the commit that follows. What is neither (fired again after a resolve, taken
   * meanwhile) goes the per-alert way, post by post. An identity named by several posts of the
   * batch is opened by the first and repeated by the others, as if they had come one by one.
   */
  async function claimPath(trx: Tx, integration: repo.IntegrationRow, posts: Post[]): Promise<PostState[]> {
    const states = posts.map((p) => newState(p.alerts.length));
    const firstPost = new Map<string, number>();
    const alertOf = new Map<string, NormalizedAlert>();
    for (const [i, post] of posts.entries())
      for (const alert of post.alerts)
        if (!firstPost.has(alert.key)) {
          firstPost.set(alert.key, i);
          alertOf.set(alert.key, alert);
        }
    // Identities this process last saw firing exist: only the others are claimed (a wrong hint
    // ends with the per-alert way below). Only their posts' bodies are sent.
    const unhinted = [...alertOf.values()].filter((a) => !firingHint.has(hintKey(integration.id, a.key)));
    const withRaw = new Set(unhinted.map((a) => firstPost.get(a.key)!));
    const ids = new Map<string, string>();
    const fresh = unhinted.map((a) => {
      ids.set(a.key, randomUUID());
      return {
        ...contentOf(a),
        occurrence: a.occurrence,
        group_key: a.groupKey,
        starts_at: a.startsAt,
        incident_id: ids.get(a.key)!,
        post: firstPost.get(a.key)!,
      };
    });
    const claimed = new Set(
      fresh.length === 0
        ? []
        : await repo.claimNew(
            trx,
            integration.id,
            fresh,
            posts.map((p, i) => (withRaw.has(i) ? rawOf(p.body) : null)),
          ),
    );
    const opening = [...claimed].sort().map((key) => ({
      alert: alertOf.get(key)!,
      id: ids.get(key)!,
      requestId: posts[firstPost.get(key)!]!.requestId,
    }));
    await openIncidents(trx, integration, opening);
    for (const { alert, id } of opening) {
      const state = states[firstPost.get(alert.key)!]!;
      state.outcome.opened++;
      state.firing.push(alert.key);
      noteIncident(state, id);
    }
    const opensOwn = (post: number, key: string) => claimed.has(key) && firstPost.get(key) === post;
    // Repeats last, so that their rows are locked only until the commit that follows.
    const repeats = posts.flatMap((p, i) => p.alerts.filter((a) => !opensOwn(i, a.key)).map(contentOf));
    const httpStatus = httpStatusOf(integration);
    const result = await repo.repeatAndLog(
      trx,
      integration.id,
      repeats,
      posts.map((p, i) => ({
        alerts: p.alerts.length,
        opened: states[i]!.outcome.opened,
        httpStatus,
        requestId: p.requestId,
      })),
    );
    const repeated = new Map(result.repeated.map((r) => [r.dedup_key, r.incident_id]));
    for (const [i, post] of posts.entries()) {
      const state = states[i]!;
      const opened = state.outcome.opened;
      const ctx = contextOf(integration, post.requestId);
      const raw = rawOf(post.body);
      for (const alert of [...post.alerts].sort(byKey)) {
        if (opensOwn(i, alert.key)) continue;
        if (repeated.has(alert.key)) {
          state.outcome.updated++;
          noteIncident(state, repeated.get(alert.key)!);
          state.firing.push(alert.key);
        } else {
          // Fired again after a resolve, or claimed by a concurrent batch since the claim (or not
          // there at all, when the hint was wrong): as the general way does it.
          await repo.lockKey(trx, integration.id, alert.key);
          const existing = await repo.findAlert(trx, integration.id, alert.key);
          await decideAlert(trx, integration, alert, existing, raw, state, ctx, null);
        }
      }
      if (state.outcome.opened !== opened)
        await repo.setDeliveryOpened(trx, result.deliveryIds[i]!, state.outcome.opened);
    }
    return states;
  }

  /**
   * The general way, for one post: advisory locks per identity (or group) taken in one order, the
   * plain repeats counted in one statement, then alert by alert.
   */
  async function generalPath(
    trx: Tx,
    integration: repo.IntegrationRow,
    alerts: NormalizedAlert[],
    body: string,
    requestId: string | null,
  ): Promise<PostState> {
    const ctx = contextOf(integration, requestId);
    const raw = rawOf(body);
    const byGroup = integration.grouping === 'group';
    const lockKeyOf = (a: NormalizedAlert) => (byGroup && a.groupKey ? `group:${a.groupKey}` : a.key);
    const ordered = [...alerts].sort((a, b) => lockKeyOf(a).localeCompare(lockKeyOf(b)));
    const perKey = new Map<string, number>();
    for (const a of alerts) perKey.set(a.key, (perKey.get(a.key) ?? 0) + 1);
    const keys = [...perKey.keys()];
    const state = newState(alerts.length);
    await repo.lockKeys(trx, integration.id, [...new Set(alerts.map(lockKeyOf))]);
    const candidates = alerts.filter((a) => a.status === 'firing' && perKey.get(a.key) === 1);
    const rows = new Map(
      (await repo.recordRepeats(trx, integration.id, keys, candidates.map(contentOf))).map((r) => [
        r.dedup_key,
        r,
      ]),
    );
    // New alerts are inserted with the delivery at the end (one statement), unless a later alert
    // of the post could need to see them (grouping by group, an identity named twice).
    const deferInserts = !byGroup && perKey.size === alerts.length;
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
      http_status: httpStatusOf(integration),
      alerts: alerts.length,
      opened: state.outcome.opened,
      payload: state.outcome.ignored > 0 ? raw.slice(0, 65536) : null,
      request_id: requestId,
    });
    return state;
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
    // A refused body may hold a raw NUL byte (and the parser's message quotes it): U+FFFD stands in.
    await repo.insertDelivery(db, {
      integration_id: integration.id,
      outcome: 'rejected',
      http_status: httpStatus,
      reason: withoutNul(reason),
      errors: withoutNulEscapes(JSON.stringify(errors)),
      payload: withoutNul(body.slice(0, 65536)),
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

/**
 * Integration keys resolved through a LookupMemo: each key costs one query per `ttlMs` per process
 * (posts that come with it while that query runs share it), so a change to an integration reaches
 * intake within `ttlMs`. Keyed by the key itself: hashing it is the lookup's job, not every post's.
 */
export class IntegrationKeys {
  private readonly memo: LookupMemo;
  constructor(
    private readonly db: Database,
    ttlMs = 2000,
  ) {
    this.memo = new LookupMemo(ttlMs);
  }

  resolve(key: string): Promise<repo.IntegrationRow | null> {
    return this.memo.get(
      key,
      async () => (await repo.findIntegrationByKeyHash(this.db, hashKey(key))) ?? null,
    );
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
