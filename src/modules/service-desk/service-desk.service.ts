import { type Database, type Executor, inTransaction } from '../../db/db.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/pg-errors.ts';
import { writeAudit } from '../../platform/audit.ts';
import { type RequestContext, scopeOf } from '../../platform/context.ts';
import { checkVersion } from '../../platform/errors.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { Page } from '../../platform/paging.ts';
import { customerVisible, groupInfo, personInfo } from '../directory/index.ts';
import { ServiceDeskErrors as E } from './service-desk.errors.ts';
import { answerErrors, compileForm, FormCache } from './service-desk.forms.ts';
import * as repo from './service-desk.repository.ts';
import type {
  ApproveBody,
  Article,
  ArticleCreate,
  ArticleLink,
  ArticleListQuery,
  ArticlePatch,
  ArticleSuggestion,
  CancelBody,
  FulfilBody,
  RejectBody,
  RequestItem,
  RequestItemCreate,
  RequestItemListQuery,
  RequestItemPatch,
  RoutingCriteria,
  RoutingRule,
  RoutingRuleCreate,
  RoutingRuleListQuery,
  RoutingRulePatch,
  ServiceRequest,
  ServiceRequestCreate,
  ServiceRequestEvent,
  ServiceRequestListQuery,
  ServiceRequestPatch,
  TimelineQuery,
} from './service-desk.schemas.ts';
import {
  ARTICLE_ACTION_TARGET,
  type ArticleAction,
  articleActions,
  checkRequestAction,
  type RequestAction,
} from './service-desk.workflow.ts';

/** Runs `work`, turning the unique-key clashes it may hit into the matching domain error. */
async function guardUnique<T>(work: () => Promise<T>, clashes: Record<string, () => Error>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    for (const [constraint, error] of Object.entries(clashes))
      if (isUniqueViolation(err, constraint)) throw error();
    throw err;
  }
}

/** Requester keys (portals of customers) see the catalogue's active items and published articles. */
const isRequester = (ctx: RequestContext) => ctx.actor.role === 'requester';

/** Past tense of each action: timeline entry type and (mostly) outbox event suffix. */
const REQUEST_ACTION_EVENT: Record<RequestAction, string> = {
  approve: 'approved',
  reject: 'rejected',
  start: 'started',
  fulfil: 'fulfilled',
  close: 'closed',
  cancel: 'cancelled',
};
/** `start` has no event of its own: subscribers see it as `service_request.updated`. */
const REQUEST_OUTBOX_EVENT: Record<RequestAction, string> = {
  ...REQUEST_ACTION_EVENT,
  start: 'updated',
};

export type RequestActionBody =
  | { action: 'approve'; body: ApproveBody }
  | { action: 'reject'; body: RejectBody }
  | { action: 'start'; body: Record<string, never> }
  | { action: 'fulfil'; body: FulfilBody }
  | { action: 'close'; body: Record<string, never> }
  | { action: 'cancel'; body: CancelBody };

export function createServiceDeskService({ db }: { db: Database }) {
  const forms = new FormCache();

  // ---- routing rules ----
  async function checkRuleTargets(
    ctx: RequestContext,
    executor: Executor,
    input: { groupId?: string; customerId?: string | null },
  ): Promise<void> {
    if (input.groupId) {
      const group = await groupInfo(executor, input.groupId);
      if (!group) throw E.unknownGroup(input.groupId);
      if (!group.active) throw E.inactiveGroup(input.groupId);
    }
    if (input.customerId && !(await customerVisible(executor, scopeOf(ctx), input.customerId))) {
      throw E.unknownCustomer(input.customerId);
    }
  }

  async function getRule(id: string): Promise<RoutingRule> {
    const row = await repo.findRule(db, id);
    if (!row) throw E.ruleNotFound(id);
    return repo.toRule(row);
  }

  async function listRules(query: RoutingRuleListQuery): Promise<Page<RoutingRule>> {
    const page = await repo.listRules(db, query);
    return { items: page.items.map(repo.toRule), nextCursor: page.nextCursor };
  }

  async function createRule(ctx: RequestContext, input: RoutingRuleCreate): Promise<RoutingRule> {
    await checkRuleTargets(ctx, db, input);
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const rule = repo.toRule(
            await repo.insertRule(trx, {
              position: input.position,
              description: input.description ?? null,
              customer_id: input.customerId ?? null,
              category: input.category ?? null,
              service_id: input.serviceId ?? null,
              channel: input.channel ?? null,
              group_id: input.groupId,
              active: input.active ?? true,
            }),
          );
          await writeAudit(trx, ctx, {
            action: 'routing_rule.create',
            recordType: 'routing_rule',
            recordId: rule.id,
            after: rule,
          });
          await emitEvent(trx, {
            type: 'routing_rule.created',
            aggregateType: 'routing_rule',
            aggregateId: rule.id,
            payload: { routingRule: rule },
          });
          return rule;
        }),
      { routing_rules_position_key: () => E.duplicatePosition(input.position) },
    );
  }

  async function updateRule(
    ctx: RequestContext,
    id: string,
    patch: RoutingRulePatch,
    expected?: number,
  ): Promise<RoutingRule> {
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const before = await repo.lockRule(trx, id);
          if (!before) throw E.ruleNotFound(id);
          checkVersion(before.version, expected);
          await checkRuleTargets(ctx, trx, patch);
          const after = repo.toRule(
            await repo.updateRule(trx, id, {
              ...(patch.position !== undefined && { position: patch.position }),
              ...(patch.description !== undefined && { description: patch.description }),
              ...(patch.customerId !== undefined && { customer_id: patch.customerId }),
              ...(patch.category !== undefined && { category: patch.category }),
              ...(patch.serviceId !== undefined && { service_id: patch.serviceId }),
              ...(patch.channel !== undefined && { channel: patch.channel }),
              ...(patch.groupId !== undefined && { group_id: patch.groupId }),
              ...(patch.active !== undefined && { active: patch.active }),
            }),
          );
          await writeAudit(trx, ctx, {
            action: 'routing_rule.update',
            recordType: 'routing_rule',
            recordId: id,
            before: repo.toRule(before),
            after,
          });
          await emitEvent(trx, {
            type: 'routing_rule.updated',
            aggregateType: 'routing_rule',
            aggregateId: id,
            payload: { routingRule: after, changed: Object.keys(patch) },
          });
          return after;
        }),
      { routing_rules_position_key: () => E.duplicatePosition(patch.position ?? -1) },
    );
  }

  async function deleteRule(ctx: RequestContext, id: string, expected?: number): Promise<void> {
    await inTransaction(db, async (trx) => {
      const before = await repo.lockRule(trx, id);
      if (!before) throw E.ruleNotFound(id);
      checkVersion(before.version, expected);
      await trx.deleteFrom('routing_rules').where('id', '=', id).execute();
      const rule = repo.toRule(before);
      await writeAudit(trx, ctx, {
        action: 'routing_rule.delete',
        recordType: 'routing_rule',
        recordId: id,
        before: rule,
      });
      await emitEvent(trx, {
        type: 'routing_rule.deleted',
        aggregateType: 'routing_rule',
        aggregateId: id,
        payload: { routingRule: rule },
      });
    });
  }

  // ---- people (through the directory's exports) ----
  async function checkApprovers(executor: Executor, ids: readonly string[] | undefined): Promise<void> {
    if (!ids || ids.length === 0) return;
    const people = await Promise.all(ids.map((id) => personInfo(executor, id)));
    const bad = ids.filter((_, i) => !(people[i]?.active && people[i]?.kind === 'agent'));
    if (bad.length > 0) throw E.notAgents(bad, ids);
  }

  /** A requester is an active contact of the request's customer, or an agent (provider staff). */
  async function checkRequester(
    executor: Executor,
    customerId: string,
    requesterId: string | null | undefined,
  ): Promise<void> {
    if (!requesterId) return;
    const person = await personInfo(executor, requesterId);
    const fits =
      person?.active &&
      (person.kind === 'agent' || (person.kind === 'contact' && person.customerId === customerId));
    // One answer whatever the reason, so a bound key learns nothing about other customers' people.
    if (!fits) throw E.unknownRequester(requesterId);
  }

  // ---- request catalogue ----
  function checkItem(item: {
    formSchema?: Record<string, unknown>;
    approvalRequired: boolean;
    approverIds: readonly string[];
  }): void {
    if (item.formSchema) {
      const compiled = compileForm(item.formSchema);
      if (!compiled.ok) throw E.invalidFormSchema(compiled.detail);
    }
    if (item.approvalRequired && item.approverIds.length === 0) throw E.approverNeeded();
  }

  async function getItem(ctx: RequestContext, id: string): Promise<RequestItem> {
    const row = await repo.findItem(db, id, { activeOnly: isRequester(ctx) });
    if (!row) throw E.itemNotFound(id);
    return repo.toItem(row);
  }

  async function listItems(ctx: RequestContext, query: RequestItemListQuery): Promise<Page<RequestItem>> {
    const page = await repo.listItems(db, query, { activeOnly: isRequester(ctx) });
    return { items: page.items.map(repo.toItem), nextCursor: page.nextCursor };
  }

  async function createItem(ctx: RequestContext, input: RequestItemCreate): Promise<RequestItem> {
    const approvalRequired = input.approvalRequired ?? false;
    const approverIds = input.approverIds ?? [];
    checkItem({ formSchema: input.formSchema, approvalRequired, approverIds });
    await checkApprovers(db, approverIds);
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const item = repo.toItem(
            await repo.insertItem(trx, {
              code: input.code,
              name: input.name,
              description: input.description ?? null,
              category: input.category ?? null,
              form_schema: input.formSchema ?? { type: 'object' },
              approval_required: approvalRequired,
              approver_ids: approverIds,
              active: input.active ?? true,
            }),
          );
          await writeAudit(trx, ctx, {
            action: 'request_item.create',
            recordType: 'request_item',
            recordId: item.id,
            after: item,
          });
          await emitEvent(trx, {
            type: 'request_item.created',
            aggregateType: 'request_item',
            aggregateId: item.id,
            payload: { requestItem: item },
          });
          return item;
        }),
      { request_items_code_key: () => E.duplicateItemCode(input.code) },
    );
  }

  async function updateItem(
    ctx: RequestContext,
    id: string,
    patch: RequestItemPatch,
    expected?: number,
  ): Promise<RequestItem> {
    return guardUnique(
      () =>
        inTransaction(db, async (trx) => {
          const before = await repo.lockItem(trx, id);
          if (!before) throw E.itemNotFound(id);
          checkVersion(before.version, expected);
          checkItem({
            formSchema: patch.formSchema,
            approvalRequired: patch.approvalRequired ?? before.approval_required,
            approverIds: patch.approverIds ?? before.approver_ids,
          });
          await checkApprovers(trx, patch.approverIds);
          const after = repo.toItem(
            await repo.updateItem(trx, id, {
              ...(patch.code !== undefined && { code: patch.code }),
              ...(patch.name !== undefined && { name: patch.name }),
              ...(patch.description !== undefined && { description: patch.description }),
              ...(patch.category !== undefined && { category: patch.category }),
              ...(patch.formSchema !== undefined && { form_schema: patch.formSchema }),
              ...(patch.approvalRequired !== undefined && { approval_required: patch.approvalRequired }),
              ...(patch.approverIds !== undefined && { approver_ids: patch.approverIds }),
              ...(patch.active !== undefined && { active: patch.active }),
            }),
          );
          await writeAudit(trx, ctx, {
            action: 'request_item.update',
            recordType: 'request_item',
            recordId: id,
            before: repo.toItem(before),
            after,
          });
          await emitEvent(trx, {
            type: 'request_item.updated',
            aggregateType: 'request_item',
            aggregateId: id,
            payload: { requestItem: after, changed: Object.keys(patch) },
          });
          return after;
        }),
      { request_items_code_key: () => E.duplicateItemCode(patch.code ?? '') },
    );
  }

  // ---- service requests ----
  async function getRequest(ctx: RequestContext, id: string): Promise<ServiceRequest> {
    const row = await repo.findRequest(db, scopeOf(ctx), id);
    if (!row) throw E.requestNotFound(id);
    return repo.toRequest(row);
  }

  async function listRequests(
    ctx: RequestContext,
    query: ServiceRequestListQuery,
  ): Promise<Page<ServiceRequest>> {
    const page = await repo.listRequests(db, scopeOf(ctx), query);
    return { items: page.items.map(repo.toRequest), nextCursor: page.nextCursor };
  }

  async function createRequest(ctx: RequestContext, input: ServiceRequestCreate): Promise<ServiceRequest> {
    const scope = scopeOf(ctx);
    const customerId = input.customerId ?? scope.customerId;
    if (!customerId) throw E.customerNeeded();
    // A bound key sees only its own customer: any other is "unknown", and nothing is created.
    if (!(await customerVisible(db, scope, customerId))) throw E.unknownCustomer(customerId);
    const item = await repo.findItem(db, input.itemId);
    if (!item) throw E.unknownItem(input.itemId);
    if (!item.active) throw E.inactiveItem(input.itemId);
    await checkRequester(db, customerId, input.requesterId);
    const form = forms.get(item.id, item.version, item.form_schema);
    if (!form.ok) throw new Error(`request item ${item.id} has a form schema that no longer compiles`);
    const answers = input.answers ?? {};
    const errors = answerErrors(form.validate, answers);
    if (errors.length > 0) throw E.invalidAnswers(errors);

    return inTransaction(db, async (trx) => {
      const row = await repo.insertRequest(trx, {
        item_id: item.id,
        customer_id: customerId,
        requester_id: input.requesterId ?? null,
        title: input.title ?? item.name,
        answers,
        approval_required: item.approval_required,
        created_by_key_id: ctx.actor.keyId,
        created_by_name: ctx.actor.name,
      });
      const request = repo.toRequest(row);
      await repo.insertRequestEvent(trx, {
        request_id: row.id,
        type: 'created',
        from_status: null,
        to_status: row.status,
        ...actorColumns(ctx),
        comment: null,
        data: { itemId: item.id, itemCode: item.code, itemVersion: item.version },
      });
      await writeAudit(trx, ctx, {
        action: 'service_request.create',
        recordType: 'service_request',
        recordId: row.id,
        customerId,
        after: request,
      });
      await emitEvent(trx, {
        type: 'service_request.created',
        aggregateType: 'service_request',
        aggregateId: row.id,
        customerId,
        payload: { serviceRequest: request },
      });
      return request;
    }).catch((err) => {
      if (isForeignKeyViolation(err)) throw E.unknownCustomer(customerId);
      throw err;
    });
  }

  async function updateRequest(
    ctx: RequestContext,
    id: string,
    patch: ServiceRequestPatch,
    expected?: number,
  ): Promise<ServiceRequest> {
    return inTransaction(db, async (trx) => {
      const scope = scopeOf(ctx);
      const before = await repo.lockRequest(trx, scope, id);
      if (!before) throw E.requestNotFound(id);
      checkVersion(before.version, expected);
      await checkRequester(trx, before.customer_id, patch.requesterId);
      const after = repo.toRequest(
        await repo.updateRequest(trx, scope, id, {
          ...(patch.title !== undefined && { title: patch.title }),
          ...(patch.requesterId !== undefined && { requester_id: patch.requesterId }),
        }),
      );
      const previous = repo.toRequest(before);
      await repo.insertRequestEvent(trx, {
        request_id: id,
        type: 'updated',
        from_status: null,
        to_status: null,
        ...actorColumns(ctx),
        comment: null,
        data: {
          changed: Object.keys(patch),
          before: Object.fromEntries(Object.keys(patch).map((k) => [k, previous[k as keyof ServiceRequest]])),
          after: patch,
        },
      });
      await writeAudit(trx, ctx, {
        action: 'service_request.update',
        recordType: 'service_request',
        recordId: id,
        customerId: before.customer_id,
        before: previous,
        after,
      });
      await emitEvent(trx, {
        type: 'service_request.updated',
        aggregateType: 'service_request',
        aggregateId: id,
        customerId: before.customer_id,
        payload: { serviceRequest: after, changed: Object.keys(patch) },
      });
      return after;
    });
  }

  /** One fulfilment transition: lock, check version and state machine, change, record. */
  async function actOnRequest(
    ctx: RequestContext,
    id: string,
    { action, body }: RequestActionBody,
    expected?: number,
  ): Promise<ServiceRequest> {
    return inTransaction(db, async (trx) => {
      const scope = scopeOf(ctx);
      const before = await repo.lockRequest(trx, scope, id);
      if (!before) throw E.requestNotFound(id);
      checkVersion(before.version, expected);
      const check = checkRequestAction(before.status, before.approval_required, action);
      if (!check.ok) {
        throw check.reason === 'approval_not_required'
          ? E.approvalNotRequired(action, before.status, check.allowed)
          : E.transitionNotAllowed(action, before.status, check.allowed);
      }
      const now = new Date();
      let comment: string | null = null;
      let changes: repo.RequestChanges = { status: check.to };
      switch (action) {
        case 'approve':
        case 'reject':
          comment = body.comment ?? null;
          changes = {
            ...changes,
            decided_by_key_id: ctx.actor.keyId,
            decided_by_name: ctx.actor.name,
            decided_at: now,
            decision_comment: comment,
          };
          break;
        case 'fulfil':
          comment = body.notes ?? null;
          changes = { ...changes, fulfilment_notes: comment, fulfilled_at: now };
          break;
        case 'close':
          changes = { ...changes, closed_at: now };
          break;
        case 'cancel':
          comment = body.reason;
          changes = { ...changes, cancel_reason: comment, cancelled_at: now };
          break;
        case 'start':
          break;
      }
      const after = repo.toRequest(await repo.updateRequest(trx, scope, id, changes));
      await repo.insertRequestEvent(trx, {
        request_id: id,
        type: REQUEST_ACTION_EVENT[action],
        from_status: before.status,
        to_status: check.to,
        ...actorColumns(ctx),
        comment,
      });
      await writeAudit(trx, ctx, {
        action: `service_request.${action}`,
        recordType: 'service_request',
        recordId: id,
        customerId: before.customer_id,
        before: repo.toRequest(before),
        after,
      });
      await emitEvent(trx, {
        type: `service_request.${REQUEST_OUTBOX_EVENT[action]}`,
        aggregateType: 'service_request',
        aggregateId: id,
        customerId: before.customer_id,
        payload: { serviceRequest: after, action, fromStatus: before.status },
      });
      return after;
    });
  }

  async function requestTimeline(
    ctx: RequestContext,
    id: string,
    query: TimelineQuery,
  ): Promise<Page<ServiceRequestEvent>> {
    // The timeline is as visible as its request: out of scope is "not found".
    if (!(await repo.findRequest(db, scopeOf(ctx), id))) throw E.requestNotFound(id);
    const page = await repo.listRequestEvents(db, id, query);
    return { items: page.items.map(repo.toRequestEvent), nextCursor: page.nextCursor };
  }

  // ---- knowledge base ----
  async function withLinks(
    ctx: RequestContext,
    executor: Executor,
    row: Parameters<typeof repo.toArticle>[0],
  ) {
    // Links name incidents, which belong to customers: requester keys do not see them.
    const links = isRequester(ctx) ? [] : ((await repo.linksOf(executor, [row.id])).get(row.id) ?? []);
    return repo.toArticle(row, links);
  }

  async function getArticle(ctx: RequestContext, id: string): Promise<Article> {
    const row = await repo.findArticle(db, id, { publishedOnly: isRequester(ctx) });
    if (!row) throw E.articleNotFound(id);
    return withLinks(ctx, db, row);
  }

  async function listArticles(ctx: RequestContext, query: ArticleListQuery): Promise<Page<Article>> {
    const q = query.q?.trim() || undefined;
    const sort = query.sort ?? (q ? '-relevance' : 'createdAt');
    if (!q && sort.replace(/^-/, '') === 'relevance') throw E.relevanceNeedsQuery();
    const page = await repo.listArticles(db, { ...query, q }, { publishedOnly: isRequester(ctx), sort });
    const links = isRequester(ctx)
      ? new Map<string, ArticleLink[]>()
      : await repo.linksOf(
          db,
          page.items.map((a) => a.id),
        );
    return {
      items: page.items.map((row) => repo.toArticle(row, links.get(row.id) ?? [], row.score)),
      nextCursor: page.nextCursor,
    };
  }

  async function createArticle(ctx: RequestContext, input: ArticleCreate): Promise<Article> {
    return inTransaction(db, async (trx) => {
      const row = await repo.insertArticle(trx, {
        title: input.title,
        body: input.body ?? '',
        category: input.category ?? null,
        keywords: input.keywords ?? [],
        created_by_name: ctx.actor.name,
      });
      const article = repo.toArticle(row, []);
      await writeAudit(trx, ctx, {
        action: 'knowledge_article.create',
        recordType: 'knowledge_article',
        recordId: row.id,
        after: article,
      });
      await emitEvent(trx, {
        type: 'knowledge_article.created',
        aggregateType: 'knowledge_article',
        aggregateId: row.id,
        payload: { article: summary(article) },
      });
      return article;
    });
  }

  async function updateArticle(
    ctx: RequestContext,
    id: string,
    patch: ArticlePatch,
    expected?: number,
  ): Promise<Article> {
    return inTransaction(db, async (trx) => {
      const before = await repo.lockArticle(trx, id);
      if (!before) throw E.articleNotFound(id);
      checkVersion(before.version, expected);
      const after = await withLinks(ctx, trx, await repo.updateArticle(trx, id, patch));
      await writeAudit(trx, ctx, {
        action: 'knowledge_article.update',
        recordType: 'knowledge_article',
        recordId: id,
        before: repo.toArticle(before, after.links),
        after,
      });
      await emitEvent(trx, {
        type: 'knowledge_article.updated',
        aggregateType: 'knowledge_article',
        aggregateId: id,
        payload: { article: summary(after), changed: Object.keys(patch) },
      });
      return after;
    });
  }

  async function actOnArticle(
    ctx: RequestContext,
    id: string,
    action: ArticleAction,
    expected?: number,
  ): Promise<Article> {
    return inTransaction(db, async (trx) => {
      const before = await repo.lockArticle(trx, id);
      if (!before) throw E.articleNotFound(id);
      checkVersion(before.version, expected);
      const allowed = articleActions(before.status);
      if (!allowed.includes(action)) throw E.articleTransitionNotAllowed(action, before.status, allowed);
      const status = ARTICLE_ACTION_TARGET[action];
      const now = new Date();
      const row = await repo.updateArticle(trx, id, {
        status,
        ...(action === 'publish' ? { published_at: now } : { retired_at: now }),
      });
      const after = await withLinks(ctx, trx, row);
      await writeAudit(trx, ctx, {
        action: `knowledge_article.${action}`,
        recordType: 'knowledge_article',
        recordId: id,
        before: { status: before.status, version: before.version },
        after: { status: after.status, version: after.version },
      });
      await emitEvent(trx, {
        type: `knowledge_article.${status}`,
        aggregateType: 'knowledge_article',
        aggregateId: id,
        payload: { article: summary(after), fromStatus: before.status },
      });
      return after;
    });
  }

  async function linkArticle(
    ctx: RequestContext,
    id: string,
    incidentId: string,
  ): Promise<{ article: Article; created: boolean }> {
    return inTransaction(db, async (trx) => {
      const row = await repo.findArticle(trx, id, { publishedOnly: false });
      if (!row) throw E.articleNotFound(id);
      const link = await repo.insertLink(trx, {
        article_id: id,
        incident_id: incidentId,
        linked_by: ctx.actor.name,
      });
      if (link) {
        await writeAudit(trx, ctx, {
          action: 'knowledge_article.link',
          recordType: 'knowledge_article',
          recordId: id,
          after: repo.toLink(link),
        });
        await emitEvent(trx, {
          type: 'knowledge_article.linked',
          aggregateType: 'knowledge_article',
          aggregateId: id,
          payload: { articleId: id, ref: row.ref, incidentId },
        });
      }
      return { article: await withLinks(ctx, trx, row), created: link !== undefined };
    });
  }

  async function unlinkArticle(ctx: RequestContext, id: string, incidentId: string): Promise<void> {
    await inTransaction(db, async (trx) => {
      const row = await repo.findArticle(trx, id, { publishedOnly: false });
      if (!row) throw E.articleNotFound(id);
      const link = await repo.deleteLink(trx, id, incidentId);
      if (!link) throw E.linkNotFound(id, incidentId);
      await writeAudit(trx, ctx, {
        action: 'knowledge_article.unlink',
        recordType: 'knowledge_article',
        recordId: id,
        before: repo.toLink(link),
      });
      await emitEvent(trx, {
        type: 'knowledge_article.unlinked',
        aggregateType: 'knowledge_article',
        aggregateId: id,
        payload: { articleId: id, ref: row.ref, incidentId },
      });
    });
  }

  return {
    getRule,
    listRules,
    createRule,
    updateRule,
    deleteRule,
    getItem,
    listItems,
    createItem,
    updateItem,
    getRequest,
    listRequests,
    createRequest,
    updateRequest,
    actOnRequest,
    requestTimeline,
    getArticle,
    listArticles,
    createArticle,
    updateArticle,
    actOnArticle,
    linkArticle,
    unlinkArticle,
  };
}

export type ServiceDeskService = ReturnType<typeof createServiceDeskService>;

function actorColumns(ctx: RequestContext) {
  return { actor_key_id: ctx.actor.keyId, actor_name: ctx.actor.name, actor_role: ctx.actor.role };
}

/** Events carry the article without its body (bodies can be long; subscribers fetch it). */
function summary(article: Article) {
  const { body: _body, links: _links, ...rest } = article;
  return rest;
}

// ---- for other modules (the incident module) ---------------------------------------------------

/** groupId of the first active routing rule (lowest `position`) whose set fields all match, else null. */
export async function routeTicket(executor: Executor, criteria: RoutingCriteria): Promise<string | null> {
  return repo.firstMatchingGroup(executor, criteria);
}

/**
 * For escalation: the group a ticket in a group of `currentTier` goes to: a matching routing rule
 * whose (active) target group has tier currentTier+1, else the first active group (by name) with
 * the lowest tier above currentTier; null when none.
 */
export async function nextTierGroup(
  executor: Executor,
  currentTier: number,
  criteria: RoutingCriteria,
): Promise<{ id: string; tier: number } | null> {
  const viaRule = await repo.firstMatchingGroupOfTier(executor, currentTier + 1, criteria);
  if (viaRule) return { id: viaRule.id, tier: viaRule.tier };
  const fallback = await repo.firstGroupAboveTier(executor, currentTier);
  return fallback ? { id: fallback.id, tier: fallback.tier } : null;
}

/** Longest ticket text considered by suggestions (trigram similarity is linear in it). */
const SUGGEST_MAX_TEXT = 4000;

/**
 * Published articles matching the text (title/body/keywords), boosted when the category matches;
 * Chinese and English. Best first; `score` is about 0..1 plus the category bonus.
 */
export async function suggestArticles(
  executor: Executor,
  input: { text: string; category: string | null; limit: number },
): Promise<ArticleSuggestion[]> {
  const text = input.text.trim().slice(0, SUGGEST_MAX_TEXT);
  const limit = Math.min(Math.max(Math.trunc(input.limit), 0), 50);
  if (!text || limit === 0) return [];
  return repo.suggest(executor, { text, category: input.category, limit });
}

/** Service request statuses in the vocabulary of SLA clocks (the incident lifecycle's). */
const CLOCK_STATUS: Record<string, string> = {
  submitted: 'new',
  approved: 'assigned',
  in_fulfilment: 'in_progress',
  fulfilled: 'resolved',
  closed: 'closed',
  rejected: 'cancelled',
  cancelled: 'cancelled',
};

/**
 * For SLA clocks: each request's status history. Requests have no priority of their own: they are
 * measured as P4 (an agreement's `*` target applies when it has no P4 one); the response is the
 * first decision or start of fulfilment.
 */
export async function requestHistories(executor: Executor, ids: string[]) {
  if (ids.length === 0) return [];
  const [rows, events] = await Promise.all([
    executor
      .selectFrom('service_requests')
      .select(['id', 'customer_id', 'created_at', 'status'])
      .where('id', 'in', ids)
      .execute(),
    executor
      .selectFrom('service_request_events')
      .select(['request_id', 'at', 'to_status'])
      .where('request_id', 'in', ids)
      .where('to_status', 'is not', null)
      .orderBy('request_id')
      .orderBy('id')
      .execute(),
  ]);
  return rows.map((row) => {
    const states = [
      {
        at: row.created_at.getTime(),
        status: 'new',
        pendingReason: null,
        priority: 'P4',
        groupId: null as string | null,
      },
    ];
    let acknowledgedAt: number | null = null;
    for (const event of events) {
      if (event.request_id !== row.id || !event.to_status || event.to_status === 'submitted') continue;
      const at = Math.max(event.at.getTime(), states[states.length - 1]!.at);
      acknowledgedAt ??= at;
      const state = {
        ...states[states.length - 1]!,
        at,
        status: CLOCK_STATUS[event.to_status] ?? event.to_status,
      };
      if (state.at === states[states.length - 1]!.at) states[states.length - 1] = state;
      else states.push(state);
    }
    return {
      ticketType: 'service_request' as const,
      ticketId: row.id,
      customerId: row.customer_id,
      serviceId: null,
      reportedAt: row.created_at.getTime(),
      acknowledgedAt,
      status: row.status,
      priority: 'P4',
      groupId: null,
      states,
    };
  });
}

/** For SLA clocks: a warning or breach on the request's timeline, inside the caller's transaction. */
export async function recordRequestSlaEvent(
  trx: Executor,
  requestId: string,
  ctx: RequestContext,
  entry: { type: string; data: Record<string, unknown> },
) {
  await trx
    .insertInto('service_request_events')
    .values({
      request_id: requestId,
      type: entry.type,
      actor_key_id: ctx.actor.keyId,
      actor_name: ctx.actor.name,
      actor_role: ctx.actor.role,
      data: JSON.stringify(entry.data),
    })
    .execute();
}
