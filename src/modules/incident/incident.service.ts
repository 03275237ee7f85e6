import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { RawBuilder, Updateable } from 'kysely';
import { type Database, type Executor, inTransaction, type Tx } from '../../db/db.ts';
import { isForeignKeyViolation } from '../../db/pg-errors.ts';
import type { IncidentsTable, Level, Priority } from '../../db/schema.ts';
import { type AuditEntry, auditRecord, writeAudit } from '../../platform/audit.ts';
import { type RequestContext, type Scope, scopeOf, unscoped } from '../../platform/context.ts';
import { checkVersion } from '../../platform/errors.ts';
import { LookupMemo } from '../../platform/memo.ts';
import { auditAndEmit, type DomainEvent, outboxRecord } from '../../platform/outbox.ts';
import type { Page } from '../../platform/paging.ts';
import { iso, isoOrNull } from '../../platform/schemas.ts';
import { customerVisible, groupInfo, isGroupMember, personInfo } from '../directory/index.ts';
import { nextTierGroup, type RoutingCriteria, routeTicket, suggestArticles } from '../service-desk/index.ts';
import { buildHistory } from './history.ts';
import { IncidentErrors as E } from './incident.errors.ts';
import * as repo from './incident.repository.ts';
import type { Incident, IncidentCreate, IncidentListQuery, IncidentPatch } from './incident.schemas.ts';
import { canApply, type IncidentAction, OPEN_STATUSES } from './lifecycle.ts';
import { type PriorityMatrix, priorityOf, raise } from './priority.ts';

type Row = repo.IncidentRecord;
type Values = Updateable<IncidentsTable>;

/** What one action changes: row values, timeline entries, and the domain event type to emit. */
interface Change {
  values: Values;
  timeline: repo.TimelineEntry[];
  event?: string;
  extraEvents?: DomainEvent[];
  /** Runs inside the transaction after the row is updated (confirmations, links). */
  after?: (trx: Tx, updated: Row) => Promise<void>;
}

const STAFF = new Set(['admin', 'manager', 'agent']);
const isStaff = (ctx: RequestContext) => STAFF.has(ctx.actor.role);

function criteriaOf(row: Pick<Row, 'customer_id' | 'category' | 'service_id' | 'channel'>): RoutingCriteria {
  return {
    customerId: row.customer_id,
    category: row.category,
    serviceId: row.service_id,
    channel: row.channel,
  };
}

export function createIncidentService({ db }: { db: Database }) {
  async function settings(executor: Executor = db) {
    const s = await repo.getSettings(executor);
    return {
      matrix: s.priority_matrix as PriorityMatrix,
      resolutionCodes: s.resolution_codes.map((c) => c.code),
      reopenWindowDays: s.reopen_window_days,
      autoCloseDays: s.auto_close_days,
    };
  }

  async function checkCategory(executor: Executor, code: string | null | undefined) {
    if (!code) return;
    const category = await repo.findCategory(executor, code);
    if (!category?.active) throw E.unknownCategory(code);
  }

  async function checkRequester(
    executor: Executor,
    customerId: string,
    requesterId: string | null | undefined,
  ) {
    if (!requesterId) return;
    const person = await personInfo(executor, requesterId);
    if (!person?.active) throw E.badRequester(`no active person ${requesterId}`);
    if (person.kind === 'contact' && person.customerId !== customerId) {
      throw E.badRequester('the requester is a contact of another customer');
    }
  }

  async function checkAssignee(executor: Executor, groupId: string, assigneeId: string | null | undefined) {
    if (!assigneeId) return;
    const person = await personInfo(executor, assigneeId);
    if (!person?.active || person.kind !== 'agent')
      throw E.badAssignee(`${assigneeId} is not an active agent`);
    if (!(await isGroupMember(executor, groupId, assigneeId)))
      throw E.badAssignee('the assignee is not a member of the group');
  }

  /** Matrix priority, or an override that must come with a reason. */
  function decidePriority(
    matrix: PriorityMatrix,
    impact: Level,
    urgency: Level,
    override: Priority | null | undefined,
    reason: string | undefined,
  ): { priority: Priority; overridden: boolean; reason: string | null } {
    const computed = priorityOf(matrix, impact, urgency);
    if (!override || override === computed) return { priority: computed, overridden: false, reason: null };
    if (!reason) throw E.priorityNeedsReason();
    return { priority: override, overridden: true, reason };
  }

  function eventOf(type: string, row: Row, data: Record<string, unknown> = {}): DomainEvent {
    return {
      type,
      aggregateType: 'incident',
      aggregateId: row.id,
      customerId: row.customer_id,
      payload: { incident: repo.toIncident(row), ...data },
    };
  }

  /**
   * `customerKnown`: the caller vouches that the customer exists and is in the actor's scope (intake:
   * the integration's own customer, a foreign key), which saves the lookup. `id`: the new incident's
   * id, when the caller needs it before the insert (intake links an alert row to it first).
   */
  async function create(
    ctx: RequestContext,
    input: IncidentCreate,
    options: { trx?: Tx; source?: string; customerKnown?: boolean; id?: string } = {},
  ): Promise<Incident> {
    const { id, ...rest } = options;
    const [incident] = await createMany(ctx, [input], { ...rest, ...(id ? { ids: [id] } : {}) });
    return incident!;
  }

  interface CreateOptions {
    trx?: Tx;
    source?: string;
    customerKnown?: boolean;
    ids?: string[];
    requestIds?: (string | null)[];
    /** Reference data (settings, routing, groups, categories) kept across calls; default: this call's. */
    lookups?: LookupMemo;
  }

  /**
   * The rows and timelines of new incidents, validated, with one read of the settings and one
   * routing lookup per distinct routing criteria (through `lookups`).
   */
  async function prepareMany(ctx: RequestContext, inputs: IncidentCreate[], options: CreateOptions) {
    const scope = scopeOf(ctx);
    // Inside a caller's transaction every read goes through it (a second pool connection could deadlock).
    const ex: Executor = options.trx ?? db;
    const lookups = options.lookups ?? new LookupMemo();
    const memo = <T>(key: string, load: () => Promise<T>): Promise<T> => lookups.get(key, load);
    const { matrix } = await memo('settings', () => settings(ex));
    const rows: repo.NewIncidentRow[] = [];
    const timelines: repo.TimelineEntry[][] = [];
    for (const [i, input] of inputs.entries()) {
      if (
        !options.customerKnown &&
        !(await memo(`customer:${scope.customerId}:${input.customerId}`, () =>
          customerVisible(ex, scope, input.customerId),
        ))
      )
        throw E.unknownCustomer(input.customerId);
      await checkRequester(ex, input.customerId, input.requesterId);
      if (input.category) await memo(`category:${input.category}`, () => checkCategory(ex, input.category));
      const impact = input.impact ?? 'medium';
      const urgency = input.urgency ?? 'medium';
      const decided = decidePriority(matrix, impact, urgency, input.priority, input.priorityReason);
      const channel = input.channel ?? 'api';
      let groupId = input.groupId ?? null;
      if (!groupId) {
        const criteria = {
          customerId: input.customerId,
          category: input.category ?? null,
          serviceId: input.serviceId ?? null,
          channel,
        };
        groupId = await memo(`route:${JSON.stringify(criteria)}`, () => routeTicket(ex, criteria));
      }
      let tier: number | null = null;
      if (groupId) {
        const group = await memo(`group:${groupId}`, () => groupInfo(ex, groupId));
        // A group the caller named must be active; one a routing rule chose is taken as it is.
        if (input.groupId && !group?.active) throw E.badGroup(`no active group ${groupId}`);
        tier = group?.tier ?? null;
      }
      rows.push({
        id: options.ids?.[i] ?? randomUUID(),
        source: options.source ?? null,
        title: input.title,
        description: input.description ?? '',
        customer_id: input.customerId,
        requester_id: input.requesterId ?? null,
        channel,
        category: input.category ?? null,
        service_id: input.serviceId ?? null,
        impact,
        urgency,
        priority: decided.priority,
        priority_overridden: decided.overridden,
        priority_reason: decided.reason,
        group_id: groupId,
        tier,
        group_assignments: groupId ? 1 : 0,
        ...(input.reportedAt ? { reported_at: new Date(input.reportedAt) } : {}),
      });
      timelines.push([
        { type: 'created', visibility: 'public', data: { channel, priority: decided.priority, groupId } },
      ]);
    }
    return { rows, timelines };
  }

  const createdEntry = (incident: Incident, requestId: string | null | undefined): AuditEntry => ({
    action: 'incident.create',
    recordType: 'incident',
    recordId: incident.id,
    customerId: incident.customerId,
    after: incident,
    ...(requestId !== undefined ? { requestId } : {}),
  });

  /**
   * Creates several incidents in one transaction with one read of the settings, one routing lookup
   * per distinct routing criteria and one statement for the rows, one for audit and events: the
   * batch form of `create`. `ids`: the new incidents' ids, in the order of `inputs`; `requestIds`:
   * the request behind each (for the audit log, when they differ from the context's). All or none
   * are created.
   */
  async function createMany(
    ctx: RequestContext,
    inputs: IncidentCreate[],
    options: CreateOptions = {},
  ): Promise<Incident[]> {
    if (inputs.length === 0) return [];
    const { rows, timelines } = await prepareMany(ctx, inputs, options);
    const run = <T>(work: (trx: Tx) => Promise<T>) =>
      options.trx ? work(options.trx) : inTransaction(db, work);
    const created = run(async (trx) => {
      const inserted = await repo.insertIncidentsWithEvents(trx, rows, ctx, timelines);
      const incidents = inserted.map(repo.toIncident);
      await auditAndEmit(
        trx,
        ctx,
        incidents.map((incident, i) => createdEntry(incident, options.requestIds?.[i])),
        inserted.map((row) => eventOf('incident.created', row)),
      );
      return incidents;
    });
    return created.catch((err) => {
      if (isForeignKeyViolation(err, 'incidents_service_fk'))
        throw E.unknownService(inputs.find((i) => i.serviceId)?.serviceId ?? '');
      throw err;
    });
  }

  /**
   * For monitoring intake: `createMany` as CTEs of the caller's one statement (outside a
   * transaction), in which `ids` (a subquery) yields the ids of those to create: each is inserted
   * with its timeline, audit entry and `incident.created` event, the others not at all. CTE `inc_new`
   * yields (id) of those inserted; the statement should select `outboxNotify()` when it is not empty.
   */
  async function createManyWhere(
    ctx: RequestContext,
    inputs: IncidentCreate[],
    options: Omit<CreateOptions, 'trx'> & { ids: string[] },
    ids: RawBuilder<unknown>,
  ): Promise<RawBuilder<unknown>> {
    const { rows, timelines } = await prepareMany(ctx, inputs, options);
    const incidents = rows.map(repo.newIncident);
    return repo.insertIncidentsWhere(
      rows,
      timelines,
      ctx,
      incidents.map((row, i) =>
        auditRecord(ctx, createdEntry(repo.toIncident(row), options.requestIds?.[i])),
      ),
      incidents.map((row) => outboxRecord(eventOf('incident.created', row))),
      ids,
    );
  }

  /** For monitoring intake: set the first response (PagerDuty/Zabbix acknowledge) inside the caller's transaction. */
  async function acknowledge(ctx: RequestContext, id: string, note: string, outer: Tx) {
    return change(
      ctx,
      id,
      undefined,
      'update',
      async (row) =>
        row.acknowledged_at
          ? { values: {}, timeline: [] }
          : {
              values: { acknowledged_at: new Date() },
              timeline: [{ type: 'acknowledged', visibility: 'public', data: { note } }],
              event: 'incident.updated',
            },
      unscoped,
      outer,
    );
  }

  /**
   * For monitoring intake: resolve from any open status once every alert of the incident is
   * resolved (resolution code auto_resolved); a no-op when it is no longer open.
   */
  async function autoResolve(ctx: RequestContext, id: string, notes: string, outer: Tx) {
    return change(
      ctx,
      id,
      undefined,
      'update',
      async (row) => {
        if (!OPEN_STATUSES.includes(row.status)) return { values: {}, timeline: [] };
        const token = randomBytes(24).toString('base64url');
        const { autoCloseDays } = await settings(outer);
        const expiresAt = new Date(Date.now() + autoCloseDays * 86_400_000);
        return {
          values: {
            status: 'resolved',
            resolution_code: 'auto_resolved',
            resolution_notes: notes,
            resolved_at: new Date(),
            resolved_tier: row.tier ?? 1,
            pending_reason: null,
          },
          timeline: [
            statusChange(row.status, 'resolved', {
              resolutionCode: 'auto_resolved',
              resolutionNotes: notes,
              automatic: true,
            }),
          ],
          event: 'incident.resolved',
          after: async (trx) => {
            await repo.supersedeConfirmations(trx, id);
            await repo.insertConfirmation(trx, { incident_id: id, token, expires_at: expiresAt });
          },
        };
      },
      unscoped,
      outer,
    );
  }

  /** For monitoring intake: an alert firing again inside the flap window reopens its resolved incident. */
  async function reopenByAlert(ctx: RequestContext, id: string, reason: string, outer: Tx) {
    return change(
      ctx,
      id,
      undefined,
      'update',
      async (row) =>
        row.status === 'resolved'
          ? reopened(row, reason, { byMonitoring: true })
          : { values: {}, timeline: [] },
      unscoped,
      outer,
    );
  }

  /**
   * The one write path of every change to an incident: lock it (within the caller's customer scope),
   * check If-Match, check the state machine, apply, then timeline + audit + outbox, in one commit.
   */
  async function change(
    ctx: RequestContext,
    id: string,
    expected: number | undefined,
    action: IncidentAction | 'update' | 'comment' | 'major' | 'link' | 'communicate' | 'confirm',
    decide: (row: Row, trx: Tx) => Promise<Change>,
    scope: Scope = scopeOf(ctx),
    outer?: Tx,
  ): Promise<Incident> {
    const run = <T>(work: (trx: Tx) => Promise<T>) => (outer ? work(outer) : inTransaction(db, work));
    return run(async (trx) => {
      const before = await repo.lockIncident(trx, scope, id);
      if (!before) throw E.notFound(id);
      checkVersion(before.version, expected);
      if (action in ACTION_NAMES && !canApply(action as IncidentAction, before.status)) {
        throw E.transitionNotAllowed(action as IncidentAction, before.status);
      }
      const decided = await decide(before, trx);
      const after =
        Object.keys(decided.values).length > 0 ? await repo.updateIncident(trx, id, decided.values) : before;
      await decided.after?.(trx, after);
      await repo.appendEvents(trx, id, ctx, decided.timeline);
      const incident = repo.toIncident(after);
      const events = [...(decided.extraEvents ?? [])];
      if (decided.event) events.unshift(eventOf(decided.event, after, { action }));
      await auditAndEmit(
        trx,
        ctx,
        [
          {
            action: `incident.${action}`,
            recordType: 'incident',
            recordId: id,
            customerId: after.customer_id,
            before: repo.toIncident(before),
            after: incident,
          },
        ],
        events,
      );
      return incident;
    });
  }

  const statusChange = (
    from: string,
    to: string,
    data: Record<string, unknown> = {},
  ): repo.TimelineEntry => ({
    type: 'status_changed',
    visibility: 'public',
    data: { from, to, ...data },
  });

  async function assign(
    ctx: RequestContext,
    id: string,
    input: { groupId: string; assigneeId?: string | null; note?: string },
    expected?: number,
  ) {
    const group = await groupInfo(db, input.groupId);
    if (!group?.active) throw E.badGroup(`no active group ${input.groupId}`);
    await checkAssignee(db, input.groupId, input.assigneeId);
    return change(ctx, id, expected, 'assign', async (row) => ({
      values: {
        status: 'assigned',
        group_id: group.id,
        tier: group.tier,
        assignee_id: input.assigneeId ?? null,
        group_assignments: row.group_id === group.id ? row.group_assignments : row.group_assignments + 1,
      },
      timeline: [
        ...(row.status !== 'assigned' ? [statusChange(row.status, 'assigned')] : []),
        {
          type: 'assigned',
          data: {
            fromGroupId: row.group_id,
            groupId: group.id,
            tier: group.tier,
            assigneeId: input.assigneeId ?? null,
            note: input.note,
          },
        },
      ],
      event: 'incident.assigned',
    }));
  }

  async function escalate(
    ctx: RequestContext,
    id: string,
    input: { reason: string; groupId?: string; trigger?: 'manual' | 'sla' },
    expected?: number,
    outer?: Tx,
  ) {
    return change(
      ctx,
      id,
      expected,
      'escalate',
      async (row, trx) => {
        const currentTier = row.tier ?? 1;
        let target: { id: string; tier: number } | null;
        if (input.groupId) {
          const group = await groupInfo(trx, input.groupId);
          if (!group?.active) throw E.badGroup(`no active group ${input.groupId}`);
          if (group.tier <= currentTier) throw E.badGroup(`escalation goes to a tier above ${currentTier}`);
          target = group;
        } else {
          target = await nextTierGroup(trx, currentTier, criteriaOf(row));
        }
        if (!target) throw E.noNextTier(currentTier);
        return {
          values: {
            status: 'assigned',
            group_id: target.id,
            tier: target.tier,
            assignee_id: null,
            escalation_count: row.escalation_count + 1,
            group_assignments: row.group_assignments + 1,
          },
          timeline: [
            ...(row.status !== 'assigned' ? [statusChange(row.status, 'assigned')] : []),
            {
              type: 'escalated',
              data: {
                kind: 'functional',
                trigger: input.trigger ?? 'manual',
                fromGroupId: row.group_id,
                fromTier: currentTier,
                groupId: target.id,
                tier: target.tier,
                reason: input.reason,
              },
            },
          ],
          event: 'incident.escalated',
        };
      },
      scopeOf(ctx),
      outer,
    );
  }

  /** For SLA escalation rules: reassign to a group, inside the caller's transaction. */
  async function reassign(ctx: RequestContext, id: string, groupId: string, reason: string, outer: Tx) {
    const group = await groupInfo(outer, groupId);
    if (!group?.active) throw E.badGroup(`no active group ${groupId}`);
    return change(
      ctx,
      id,
      undefined,
      'assign',
      async (row) => ({
        values: {
          status: 'assigned',
          group_id: group.id,
          tier: group.tier,
          assignee_id: null,
          group_assignments: row.group_id === group.id ? row.group_assignments : row.group_assignments + 1,
        },
        timeline: [
          ...(row.status !== 'assigned' ? [statusChange(row.status, 'assigned')] : []),
          {
            type: 'assigned',
            data: {
              fromGroupId: row.group_id,
              groupId: group.id,
              tier: group.tier,
              assigneeId: null,
              note: reason,
              trigger: 'sla',
            },
          },
        ],
        event: 'incident.assigned',
      }),
      scopeOf(ctx),
      outer,
    );
  }

  /** For SLA escalation rules: raise the priority one step (P1 stays P1), recorded with a reason. */
  async function raisePriority(ctx: RequestContext, id: string, reason: string, outer: Tx) {
    return change(
      ctx,
      id,
      undefined,
      'update',
      async (row) => {
        const to = raise(row.priority);
        if (to === row.priority) return { values: {}, timeline: [] };
        return {
          values: { priority: to, priority_overridden: true, priority_reason: reason },
          timeline: [
            {
              type: 'priority_changed',
              visibility: 'public',
              data: { from: row.priority, to, overridden: true, reason, trigger: 'sla' },
            },
          ],
          event: 'incident.updated',
        };
      },
      scopeOf(ctx),
      outer,
    );
  }

  /** For SLA: a timeline entry (sla.warning, sla.breached, notifications) inside the caller's transaction. */
  async function recordSlaEvent(ctx: RequestContext, id: string, entry: repo.TimelineEntry, outer: Tx) {
    await repo.appendEvents(outer, id, ctx, [entry]);
  }

  /** For SLA clocks: each incident's status history (one query for any number of ids). */
  async function histories(ids: string[], executor: Executor = db) {
    if (ids.length === 0) return [];
    const rows = await repo.historyRows(executor, ids);
    return rows.map(({ events, ...row }) =>
      buildHistory(
        row,
        events.map((e) => ({ type: e.type, data: e.data, at: new Date(e.at) })),
      ),
    );
  }

  async function start(ctx: RequestContext, id: string, expected?: number) {
    return change(ctx, id, expected, 'start', async (row) => ({
      values: { status: 'in_progress', acknowledged_at: row.acknowledged_at ?? new Date() },
      timeline: [statusChange(row.status, 'in_progress')],
      event: 'incident.updated',
    }));
  }

  async function pend(
    ctx: RequestContext,
    id: string,
    input: { reason: string; note?: string },
    expected?: number,
  ) {
    return change(ctx, id, expected, 'pend', async (row) => ({
      values: { status: 'pending', pending_reason: input.reason },
      timeline: [statusChange(row.status, 'pending', { reason: input.reason, note: input.note })],
      event: 'incident.updated',
    }));
  }

  async function resume(ctx: RequestContext, id: string, expected?: number) {
    return change(ctx, id, expected, 'resume', async (row) => ({
      values: { status: 'in_progress', pending_reason: null },
      timeline: [statusChange(row.status, 'in_progress', { pendingReason: row.pending_reason })],
      event: 'incident.updated',
    }));
  }

  async function resolve(
    ctx: RequestContext,
    id: string,
    input: { resolutionCode: string; resolutionNotes: string },
    expected?: number,
  ) {
    const current = await settings();
    if (!current.resolutionCodes.includes(input.resolutionCode)) {
      throw E.unknownResolutionCode(input.resolutionCode, current.resolutionCodes);
    }
    const token = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + current.autoCloseDays * 86_400_000);
    return change(ctx, id, expected, 'resolve', async (row) => ({
      extraEvents: [
        {
          type: 'incident.confirmation_requested',
          aggregateType: 'incident',
          aggregateId: id,
          customerId: row.customer_id,
          payload: {
            incidentId: id,
            incidentRef: row.ref,
            requesterId: row.requester_id,
            token,
            expiresAt: expiresAt.toISOString(),
          },
        },
      ],
      values: {
        status: 'resolved',
        resolution_code: input.resolutionCode,
        resolution_notes: input.resolutionNotes,
        resolved_at: new Date(),
        resolved_tier: row.tier ?? 1,
        acknowledged_at: row.acknowledged_at ?? new Date(),
        pending_reason: null,
      },
      timeline: [
        statusChange(row.status, 'resolved', {
          resolutionCode: input.resolutionCode,
          resolutionNotes: input.resolutionNotes,
        }),
        { type: 'callback_requested', data: { expiresAt: expiresAt.toISOString() } },
      ],
      event: 'incident.resolved',
      after: async (trx) => {
        await repo.supersedeConfirmations(trx, id);
        await repo.insertConfirmation(trx, { incident_id: id, token, expires_at: expiresAt });
      },
    }));
  }

  async function reopen(ctx: RequestContext, id: string, input: { reason: string }, expected?: number) {
    const { reopenWindowDays } = await settings();
    return change(ctx, id, expected, 'reopen', async (row) => {
      if (row.resolved_at && Date.now() - row.resolved_at.getTime() > reopenWindowDays * 86_400_000) {
        throw E.reopenWindowPassed(reopenWindowDays);
      }
      return reopened(row, input.reason);
    });
  }

  function reopened(row: Row, reason: string, extra: Record<string, unknown> = {}): Change {
    return {
      values: { status: 'in_progress', reopen_count: row.reopen_count + 1, resolved_at: null },
      timeline: [statusChange(row.status, 'in_progress', { reopened: true, reason, ...extra })],
      event: 'incident.reopened',
      after: (trx) => repo.supersedeConfirmations(trx, row.id).then(() => undefined),
    };
  }

  async function close(ctx: RequestContext, id: string, input: { note?: string }, expected?: number) {
    return change(ctx, id, expected, 'close', async (row) => ({
      values: { status: 'closed', closed_at: new Date(), close_reason: 'closed' },
      timeline: [statusChange(row.status, 'closed', { note: input.note })],
      event: 'incident.closed',
      after: (trx) => repo.supersedeConfirmations(trx, row.id).then(() => undefined),
    }));
  }

  async function cancel(ctx: RequestContext, id: string, input: { reason: string }, expected?: number) {
    return change(ctx, id, expected, 'cancel', async (row) => ({
      values: { status: 'cancelled', cancelled_at: new Date(), pending_reason: null },
      timeline: [statusChange(row.status, 'cancelled', { reason: input.reason })],
      event: 'incident.cancelled',
    }));
  }

  async function update(ctx: RequestContext, id: string, patch: IncidentPatch, expected?: number) {
    const { matrix } = await settings();
    await checkCategory(db, patch.category);
    return change(ctx, id, expected, 'update', async (row, trx) => {
      if (patch.requesterId !== undefined) await checkRequester(trx, row.customer_id, patch.requesterId);
      const values: Values = {};
      const timeline: repo.TimelineEntry[] = [];
      for (const [key, column] of [
        ['title', 'title'],
        ['description', 'description'],
        ['requesterId', 'requester_id'],
        ['category', 'category'],
        ['serviceId', 'service_id'],
      ] as const) {
        if (patch[key] !== undefined && patch[key] !== row[column])
          (values as Record<string, unknown>)[column] = patch[key];
      }
      const impact = patch.impact ?? row.impact;
      const urgency = patch.urgency ?? row.urgency;
      const keepOverride = patch.priority === undefined && row.priority_overridden;
      if (!keepOverride) {
        const decided = decidePriority(matrix, impact, urgency, patch.priority, patch.priorityReason);
        if (decided.priority !== row.priority || decided.overridden !== row.priority_overridden) {
          values.priority = decided.priority;
          values.priority_overridden = decided.overridden;
          values.priority_reason = decided.reason;
          timeline.push({
            type: 'priority_changed',
            visibility: 'public',
            data: {
              from: row.priority,
              to: decided.priority,
              overridden: decided.overridden,
              reason: decided.reason,
            },
          });
        }
      }
      if (impact !== row.impact) values.impact = impact;
      if (urgency !== row.urgency) values.urgency = urgency;
      const changed = Object.keys(values);
      if (changed.length > 0) timeline.push({ type: 'updated', data: { fields: changed } });
      return { values, timeline, event: changed.length > 0 ? 'incident.updated' : undefined };
    });
  }

  async function comment(
    ctx: RequestContext,
    id: string,
    input: { body: string; visibility?: 'public' | 'internal' },
  ) {
    const visibility = isStaff(ctx) ? (input.visibility ?? 'public') : 'public';
    return change(ctx, id, undefined, 'comment', async (row) => {
      const acknowledges = visibility === 'public' && isStaff(ctx) && !row.acknowledged_at;
      return {
        values: acknowledges ? { acknowledged_at: new Date() } : {},
        timeline: [{ type: 'comment', visibility, data: { body: input.body } }],
        event: acknowledges ? 'incident.updated' : undefined,
      };
    });
  }

  async function workNote(ctx: RequestContext, id: string, input: { body: string; minutesSpent?: number }) {
    return change(ctx, id, undefined, 'comment', async () => ({
      values: {},
      timeline: [{ type: 'work_note', data: { body: input.body, minutesSpent: input.minutesSpent ?? null } }],
    }));
  }

  async function flagMajor(
    ctx: RequestContext,
    id: string,
    input: { reason: string },
    expected?: number,
    outer?: Tx,
  ) {
    return change(
      ctx,
      id,
      expected,
      'major',
      async (row) => ({
        values: { major: true, major_reason: input.reason },
        timeline: [
          {
            type: 'major_declared',
            visibility: 'public',
            data: { reason: input.reason, wasMajor: row.major },
          },
        ],
        event: row.major ? 'incident.updated' : 'incident.major_declared',
      }),
      scopeOf(ctx),
      outer,
    );
  }

  async function linkChild(ctx: RequestContext, id: string, childId: string) {
    if (childId === id) throw E.badChild('an incident cannot be its own child');
    return change(ctx, id, undefined, 'link', async (row, trx) => {
      if (!row.major) throw E.notMajor();
      const child = await repo.lockIncident(trx, scopeOf(ctx), childId);
      if (!child) throw E.badChild(`no incident ${childId}`);
      if (child.major) throw E.badChild('a major incident cannot be a child');
      await repo.setParent(trx, childId, id);
      await repo.appendEvents(trx, childId, ctx, [
        { type: 'linked', data: { parentId: id, parentRef: row.ref } },
      ]);
      return {
        values: {},
        timeline: [{ type: 'child_linked', data: { childId, childRef: child.ref } }],
        event: 'incident.updated',
      };
    });
  }

  async function communicate(
    ctx: RequestContext,
    id: string,
    input: { message: string; audience?: string; channel?: string },
  ) {
    return change(ctx, id, undefined, 'communicate', async (row) => {
      if (!row.major) throw E.notMajor();
      return {
        values: {},
        timeline: [{ type: 'communication', visibility: 'public', data: { ...input } }],
        event: 'incident.updated',
      };
    });
  }

  async function get(ctx: RequestContext, id: string, executor: Executor = db): Promise<Incident> {
    const row = await repo.findIncident(executor, scopeOf(ctx), id);
    if (!row) throw E.notFound(id);
    return repo.toIncident(row);
  }

  async function list(ctx: RequestContext, query: IncidentListQuery): Promise<Page<Incident>> {
    const page = await repo.listIncidents(db, scopeOf(ctx), query);
    return { items: page.items.map(repo.toIncident), nextCursor: page.nextCursor };
  }

  async function timeline(ctx: RequestContext, id: string) {
    await get(ctx, id);
    const rows = await repo.timeline(db, id, !isStaff(ctx));
    return { items: rows.map(repo.toTimelineItem) };
  }

  async function addAttachment(
    ctx: RequestContext,
    id: string,
    file: { filename: string; contentType: string; content: Buffer },
  ) {
    const sha256 = createHash('sha256').update(file.content).digest('hex');
    let stored: Awaited<ReturnType<typeof repo.insertAttachment>> | undefined;
    await change(ctx, id, undefined, 'update', async () => ({
      values: {},
      timeline: [],
      after: async (trx) => {
        stored = await repo.insertAttachment(trx, {
          incident_id: id,
          filename: file.filename,
          content_type: file.contentType,
          size_bytes: file.content.length,
          sha256,
          content: file.content,
          uploaded_by: ctx.actor.name,
        });
        await repo.appendEvents(trx, id, ctx, [
          {
            type: 'attachment_added',
            visibility: 'public',
            data: {
              attachmentId: stored.id,
              filename: file.filename,
              sizeBytes: file.content.length,
              sha256,
            },
          },
        ]);
      },
    }));
    return toAttachment(stored!);
  }

  async function listAttachments(ctx: RequestContext, id: string) {
    await get(ctx, id);
    return { items: (await repo.listAttachments(db, id)).map(toAttachment) };
  }

  async function getAttachment(ctx: RequestContext, id: string, attachmentId: string) {
    await get(ctx, id);
    const row = await repo.findAttachment(db, id, attachmentId);
    if (!row) throw E.attachmentNotFound(attachmentId);
    return row;
  }

  async function stats(ctx: RequestContext, query: { from?: string; to?: string; customerId?: string }) {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * 86_400_000);
    return repo.stats(db, scopeOf(ctx), from, to, query.customerId);
  }

  async function suggestions(ctx: RequestContext, id: string) {
    const incident = await get(ctx, id);
    const items = await suggestArticles(db, {
      text: `${incident.title} ${incident.description}`,
      category: incident.category,
      limit: 5,
    });
    return { items };
  }

  // ---- call-back (回访) ----
  async function confirmationOf(ctx: RequestContext, id: string) {
    const incident = await get(ctx, id);
    const row = await repo.latestConfirmation(db, id);
    if (!row) throw E.confirmationNotFound();
    return toConfirmation(row, incident);
  }

  async function confirmationByToken(token: string) {
    const row = await repo.findConfirmationByToken(db, token);
    if (!row) throw E.confirmationNotFound();
    const incident = await repo.findIncident(db, unscoped, row.incident_id);
    return toConfirmation(row, repo.toIncident(incident!));
  }

  /** The requester's answer through the emailed link: confirm closes, reject reopens. */
  async function answerConfirmation(
    token: string,
    answer: { outcome: 'confirmed' | 'rejected'; rating?: number; comment?: string },
  ) {
    const found = await repo.findConfirmationByToken(db, token);
    if (!found) throw E.confirmationNotFound();
    const incidentRow = await repo.findIncident(db, unscoped, found.incident_id);
    const ctx: RequestContext = {
      actor: {
        keyId: null,
        name: 'requester (confirmation link)',
        role: 'requester',
        customerId: incidentRow?.customer_id ?? null,
      },
      requestId: null,
    };
    const data = { outcome: answer.outcome, rating: answer.rating ?? null, comment: answer.comment ?? null };
    const incident = await change(ctx, found.incident_id, undefined, 'confirm', async (row, trx) => {
      const confirmation = await repo.lockConfirmationByToken(trx, token);
      if (!confirmation) throw E.confirmationNotFound();
      if (confirmation.answered_at) throw E.confirmationClosed(confirmation.outcome ?? 'answered');
      if (row.status !== 'resolved')
        throw E.transitionNotAllowed(answer.outcome === 'confirmed' ? 'close' : 'reopen', row.status);
      await repo.answerConfirmation(trx, confirmation.id, {
        outcome: answer.outcome,
        rating: answer.rating,
        comment: answer.comment,
      });
      const callback: repo.TimelineEntry = { type: 'callback', visibility: 'public', data };
      if (answer.outcome === 'rejected') {
        const base = reopened(row, answer.comment ?? 'rejected by the requester', { byRequester: true });
        return { ...base, timeline: [callback, ...base.timeline] };
      }
      return {
        values: { status: 'closed', closed_at: new Date(), close_reason: 'confirmed' },
        timeline: [callback, statusChange(row.status, 'closed', { confirmed: true })],
        event: 'incident.closed',
      };
    });
    return { incidentId: incident.id, status: incident.status, outcome: answer.outcome };
  }

  /**
   * Closes resolved incidents whose confirmation time ran out (recorded as auto-closed, no
   * response). One transaction per incident; one that fails is counted and retried next run.
   */
  async function autoCloseExpired(
    now = new Date(),
    limit = 500,
  ): Promise<{ closed: number; failed: number }> {
    const due = await repo.expiredConfirmations(db, now, limit);
    let closed = 0;
    let failed = 0;
    const ctx: RequestContext = {
      actor: { keyId: null, name: 'auto-close', role: 'admin', customerId: null },
      requestId: null,
    };
    for (const item of due) {
      await change(ctx, item.incident_id, undefined, 'confirm', async (row, trx) => {
        const confirmation = await repo.lockConfirmationByToken(trx, item.token);
        if (!confirmation || confirmation.answered_at || row.status !== 'resolved')
          return { values: {}, timeline: [] };
        await repo.answerConfirmation(trx, confirmation.id, { outcome: 'auto_closed' });
        closed++;
        return {
          values: { status: 'closed', closed_at: now, close_reason: 'auto_closed' },
          timeline: [
            {
              type: 'callback',
              visibility: 'public',
              data: { outcome: 'auto_closed', rating: null, comment: null },
            },
            statusChange(row.status, 'closed', { autoClosed: true }),
          ],
          event: 'incident.closed',
        };
      }).catch(() => {
        failed++;
      });
    }
    return { closed, failed };
  }

  return {
    create,
    createMany,
    createManyWhere,
    get,
    list,
    update,
    assign,
    escalate,
    start,
    pend,
    resume,
    resolve,
    reopen,
    close,
    cancel,
    comment,
    workNote,
    flagMajor,
    linkChild,
    communicate,
    timeline,
    addAttachment,
    listAttachments,
    getAttachment,
    stats,
    suggestions,
    confirmationOf,
    confirmationByToken,
    answerConfirmation,
    autoCloseExpired,
    acknowledge,
    autoResolve,
    reopenByAlert,
    reassign,
    raisePriority,
    recordSlaEvent,
    histories,
  };
}

const ACTION_NAMES: Record<IncidentAction, true> = {
  assign: true,
  start: true,
  pend: true,
  resume: true,
  resolve: true,
  reopen: true,
  close: true,
  escalate: true,
  cancel: true,
};

export type IncidentService = ReturnType<typeof createIncidentService>;

function toAttachment(row: {
  id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  uploaded_by: string;
  created_at: Date;
}) {
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.content_type,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    uploadedBy: row.uploaded_by,
    createdAt: iso(row.created_at),
  };
}

function toConfirmation(
  row: {
    token: string;
    created_at: Date;
    expires_at: Date;
    answered_at: Date | null;
    outcome: string | null;
    rating: number | null;
    comment: string | null;
  },
  incident: Incident,
) {
  return {
    incidentId: incident.id,
    incidentRef: incident.ref,
    title: incident.title,
    resolutionCode: incident.resolutionCode,
    resolutionNotes: incident.resolutionNotes,
    token: row.token,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    answeredAt: isoOrNull(row.answered_at),
    outcome: row.outcome,
    rating: row.rating,
    comment: row.comment,
  };
}

/** The module's configuration: priority matrix, resolution codes, windows, and the category tree. */
export function createIncidentConfigService({ db }: { db: Database }) {
  const toSettings = (s: Awaited<ReturnType<typeof repo.getSettings>>) => ({
    priorityMatrix: s.priority_matrix as PriorityMatrix,
    resolutionCodes: s.resolution_codes,
    reopenWindowDays: s.reopen_window_days,
    autoCloseDays: s.auto_close_days,
    version: s.version,
  });

  return {
    async getSettings() {
      return toSettings(await repo.getSettings(db));
    },

    async updateSettings(
      ctx: RequestContext,
      patch: Partial<{
        priorityMatrix: PriorityMatrix;
        resolutionCodes: { code: string; en: string; 'zh-CN': string }[];
        reopenWindowDays: number;
        autoCloseDays: number;
      }>,
      expected?: number,
    ) {
      return inTransaction(db, async (trx) => {
        const before = await repo.lockSettings(trx);
        checkVersion(before.version, expected);
        const after = toSettings(
          await repo.updateSettings(trx, {
            priority_matrix: patch.priorityMatrix,
            resolution_codes: patch.resolutionCodes,
            reopen_window_days: patch.reopenWindowDays,
            auto_close_days: patch.autoCloseDays,
          }),
        );
        await writeAudit(trx, ctx, {
          action: 'incident_settings.update',
          recordType: 'incident_settings',
          recordId: '1',
          before: toSettings(before),
          after,
        });
        return after;
      });
    },

    async listCategories() {
      return { items: (await repo.listCategories(db)).map(repo.toCategory) };
    },

    async createCategory(
      ctx: RequestContext,
      input: {
        code: string;
        name: string;
        nameZh?: string | null;
        parentCode?: string | null;
        active?: boolean;
      },
    ) {
      return inTransaction(db, async (trx) => {
        if (await repo.findCategory(trx, input.code)) throw E.categoryTaken(input.code);
        let parentId: string | null = null;
        if (input.parentCode) {
          const parent = await repo.findCategory(trx, input.parentCode);
          if (!parent) throw E.unknownParentCategory(input.parentCode);
          parentId = parent.id;
        }
        await repo.insertCategory(trx, {
          code: input.code,
          name: input.name,
          name_zh: input.nameZh ?? null,
          parent_id: parentId,
          active: input.active ?? true,
        });
        const category = repo.toCategory((await repo.findCategory(trx, input.code))!);
        await writeAudit(trx, ctx, {
          action: 'category.create',
          recordType: 'category',
          recordId: category.id,
          after: category,
        });
        return category;
      });
    },

    async updateCategory(
      ctx: RequestContext,
      code: string,
      patch: { name?: string; nameZh?: string | null; active?: boolean },
      expected?: number,
    ) {
      return inTransaction(db, async (trx) => {
        const before = await repo.findCategory(trx, code);
        if (!before) throw E.categoryNotFound(code);
        checkVersion(before.version, expected);
        await repo.updateCategory(trx, code, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.nameZh !== undefined ? { name_zh: patch.nameZh } : {}),
          ...(patch.active !== undefined ? { active: patch.active } : {}),
        });
        const after = repo.toCategory((await repo.findCategory(trx, code))!);
        await writeAudit(trx, ctx, {
          action: 'category.update',
          recordType: 'category',
          recordId: after.id,
          before: repo.toCategory(before),
          after,
        });
        return after;
      });
    },
  };
}

export type IncidentConfigService = ReturnType<typeof createIncidentConfigService>;

/** For other modules: whether an active category with this code exists. */
export async function categoryExists(executor: Executor, code: string): Promise<boolean> {
  const row = await repo.findCategory(executor, code);
  return row?.active === true;
}
