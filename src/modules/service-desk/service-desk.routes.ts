import { Type } from 'typebox';
import { contextOf } from '../../platform/auth/auth.plugin.ts';
import type { Role } from '../../platform/context.ts';
import type { App } from '../../platform/module.ts';
import { pageOf } from '../../platform/paging.ts';
import { IdParamsSchema, IfMatchHeaders, Nullable } from '../../platform/schemas.ts';
import { expectedVersion, setEtag } from '../../platform/versioning.ts';
import {
  ApproveBodySchema,
  ArticleCreateSchema,
  ArticleLinkCreateSchema,
  ArticleLinkParamsSchema,
  ArticleListQuerySchema,
  ArticlePatchSchema,
  ArticleSchema,
  CancelBodySchema,
  EmptyBodySchema,
  FulfilBodySchema,
  RejectBodySchema,
  RequestItemCreateSchema,
  RequestItemListQuerySchema,
  RequestItemPatchSchema,
  RequestItemSchema,
  RoutingRuleCreateSchema,
  RoutingRuleListQuerySchema,
  RoutingRulePatchSchema,
  RoutingRuleSchema,
  ServiceRequestCreateSchema,
  ServiceRequestEventSchema,
  ServiceRequestListQuerySchema,
  ServiceRequestPatchSchema,
  ServiceRequestSchema,
  TimelineQuerySchema,
} from './service-desk.schemas.ts';
import type { RequestActionBody, ServiceDeskService } from './service-desk.service.ts';

const managers = { roles: ['admin', 'manager'] } as const;
const staff = { roles: ['admin', 'manager', 'agent'] } as const;
const readers = { roles: ['admin', 'manager', 'agent', 'requester'] } as const;

/** Request actions, their body, who may take them, and their summary. */
const REQUEST_ACTION_ROUTES = [
  {
    action: 'approve',
    operationId: 'approveServiceRequest',
    body: Nullable(ApproveBodySchema),
    config: staff,
    summary: 'Approve a submitted request whose item needs approval (the key is recorded as approver)',
  },
  {
    action: 'reject',
    operationId: 'rejectServiceRequest',
    body: RejectBodySchema,
    config: staff,
    summary: 'Reject a submitted request whose item needs approval (comment required)',
  },
  {
    action: 'start',
    operationId: 'startServiceRequest',
    body: Nullable(EmptyBodySchema),
    config: staff,
    summary: 'Start fulfilment (from approved, or from submitted when no approval is needed)',
  },
  {
    action: 'fulfil',
    operationId: 'fulfilServiceRequest',
    body: Nullable(FulfilBodySchema),
    config: staff,
    summary: 'Mark a request in fulfilment as fulfilled',
  },
  {
    action: 'close',
    operationId: 'closeServiceRequest',
    body: Nullable(EmptyBodySchema),
    config: readers,
    summary: 'Close a fulfilled request (requesters may confirm their own)',
  },
  {
    action: 'cancel',
    operationId: 'cancelServiceRequest',
    body: CancelBodySchema,
    config: readers,
    summary: 'Cancel an open request (reason required; requesters may cancel their own)',
  },
] as const;

export function serviceDeskRoutes(app: App, service: ServiceDeskService): void {
  // ---- routing rules ----
  app.post(
    '/routing-rules',
    {
      config: managers,
      schema: {
        tags: ['routing-rules'],
        operationId: 'createRoutingRule',
        summary: 'Create a routing rule (new tickets go to the group of the first matching active rule)',
        body: RoutingRuleCreateSchema,
        response: { 201: RoutingRuleSchema },
      },
    },
    async (request, reply) => {
      const rule = await service.createRule(contextOf(request), request.body);
      setEtag(reply, rule.version);
      return reply.code(201).header('location', `${request.url}/${rule.id}`).send(rule);
    },
  );
  app.get(
    '/routing-rules',
    {
      config: staff,
      schema: {
        tags: ['routing-rules'],
        operationId: 'listRoutingRules',
        summary: 'List routing rules (by position: the order they are tried in)',
        querystring: RoutingRuleListQuerySchema,
        response: { 200: pageOf(RoutingRuleSchema) },
      },
    },
    async (request) => service.listRules(request.query),
  );
  app.get(
    '/routing-rules/:id',
    {
      config: staff,
      schema: {
        tags: ['routing-rules'],
        operationId: 'getRoutingRule',
        summary: 'Get a routing rule',
        params: IdParamsSchema,
        response: { 200: RoutingRuleSchema },
      },
    },
    async (request, reply) => {
      const rule = await service.getRule(request.params.id);
      setEtag(reply, rule.version);
      return rule;
    },
  );
  app.patch(
    '/routing-rules/:id',
    {
      config: managers,
      schema: {
        tags: ['routing-rules'],
        operationId: 'updateRoutingRule',
        summary: 'Change a routing rule (null clears a match field: it then matches anything)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: RoutingRulePatchSchema,
        response: { 200: RoutingRuleSchema },
      },
    },
    async (request, reply) => {
      const rule = await service.updateRule(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, rule.version);
      return rule;
    },
  );
  app.delete(
    '/routing-rules/:id',
    {
      config: managers,
      schema: {
        tags: ['routing-rules'],
        operationId: 'deleteRoutingRule',
        summary: 'Delete a routing rule',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.deleteRule(contextOf(request), request.params.id, expectedVersion(request));
      return reply.code(204).send(null);
    },
  );

  // ---- request catalogue ----
  app.post(
    '/request-items',
    {
      config: managers,
      schema: {
        tags: ['request-items'],
        operationId: 'createRequestItem',
        summary: 'Add an item to the request catalogue (its formSchema must compile as a JSON Schema)',
        body: RequestItemCreateSchema,
        response: { 201: RequestItemSchema },
      },
    },
    async (request, reply) => {
      const item = await service.createItem(contextOf(request), request.body);
      setEtag(reply, item.version);
      return reply.code(201).header('location', `${request.url}/${item.id}`).send(item);
    },
  );
  app.get(
    '/request-items',
    {
      config: readers,
      schema: {
        tags: ['request-items'],
        operationId: 'listRequestItems',
        summary: 'List the request catalogue (requester keys see active items only)',
        querystring: RequestItemListQuerySchema,
        response: { 200: pageOf(RequestItemSchema) },
      },
    },
    async (request) => service.listItems(contextOf(request), request.query),
  );
  app.get(
    '/request-items/:id',
    {
      config: readers,
      schema: {
        tags: ['request-items'],
        operationId: 'getRequestItem',
        summary: 'Get a request item with its form schema',
        params: IdParamsSchema,
        response: { 200: RequestItemSchema },
      },
    },
    async (request, reply) => {
      const item = await service.getItem(contextOf(request), request.params.id);
      setEtag(reply, item.version);
      return item;
    },
  );
  app.patch(
    '/request-items/:id',
    {
      config: managers,
      schema: {
        tags: ['request-items'],
        operationId: 'updateRequestItem',
        summary: 'Change a request item (a new formSchema applies to new requests)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: RequestItemPatchSchema,
        response: { 200: RequestItemSchema },
      },
    },
    async (request, reply) => {
      const item = await service.updateItem(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, item.version);
      return item;
    },
  );

  // ---- service requests ----
  app.post(
    '/service-requests',
    {
      config: readers,
      schema: {
        tags: ['service-requests'],
        operationId: 'createServiceRequest',
        summary: "Submit a service request; answers are checked against the item's form schema",
        body: ServiceRequestCreateSchema,
        response: { 201: ServiceRequestSchema },
      },
    },
    async (request, reply) => {
      const created = await service.createRequest(contextOf(request), request.body);
      setEtag(reply, created.version);
      return reply.code(201).header('location', `${request.url}/${created.id}`).send(created);
    },
  );
  app.get(
    '/service-requests',
    {
      config: readers,
      schema: {
        tags: ['service-requests'],
        operationId: 'listServiceRequests',
        summary: 'List service requests (a customer-bound key sees only its customer’s)',
        querystring: ServiceRequestListQuerySchema,
        response: { 200: pageOf(ServiceRequestSchema) },
      },
    },
    async (request) => service.listRequests(contextOf(request), request.query),
  );
  app.get(
    '/service-requests/:id',
    {
      config: readers,
      schema: {
        tags: ['service-requests'],
        operationId: 'getServiceRequest',
        summary: 'Get a service request',
        params: IdParamsSchema,
        response: { 200: ServiceRequestSchema },
      },
    },
    async (request, reply) => {
      const found = await service.getRequest(contextOf(request), request.params.id);
      setEtag(reply, found.version);
      return found;
    },
  );
  app.patch(
    '/service-requests/:id',
    {
      config: staff,
      schema: {
        tags: ['service-requests'],
        operationId: 'updateServiceRequest',
        summary: 'Change the title or requester of a service request (status changes are actions)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: ServiceRequestPatchSchema,
        response: { 200: ServiceRequestSchema },
      },
    },
    async (request, reply) => {
      const updated = await service.updateRequest(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, updated.version);
      return updated;
    },
  );
  for (const route of REQUEST_ACTION_ROUTES) {
    app.post(
      `/service-requests/:id/${route.action}`,
      {
        config: route.config as { roles: readonly Role[] },
        schema: {
          tags: ['service-requests'],
          operationId: route.operationId,
          summary: route.summary,
          description:
            'A disallowed transition is 409 with `currentStatus` and `allowedActions`. A body with only ' +
            'optional fields may be left out.',
          params: IdParamsSchema,
          headers: IfMatchHeaders,
          body: route.body,
          response: { 200: ServiceRequestSchema },
        },
      },
      async (request, reply) => {
        const updated = await service.actOnRequest(
          contextOf(request),
          request.params.id,
          { action: route.action, body: request.body ?? {} } as RequestActionBody,
          expectedVersion(request),
        );
        setEtag(reply, updated.version);
        return updated;
      },
    );
  }
  app.get(
    '/service-requests/:id/timeline',
    {
      config: readers,
      schema: {
        tags: ['service-requests'],
        operationId: 'listServiceRequestEvents',
        summary: 'The timeline of a service request, oldest first',
        params: IdParamsSchema,
        querystring: TimelineQuerySchema,
        response: { 200: pageOf(ServiceRequestEventSchema) },
      },
    },
    async (request) => service.requestTimeline(contextOf(request), request.params.id, request.query),
  );

  // ---- knowledge base ----
  app.post(
    '/knowledge',
    {
      config: staff,
      schema: {
        tags: ['knowledge'],
        operationId: 'createKnowledgeArticle',
        summary: 'Write a knowledge article (starts as a draft)',
        body: ArticleCreateSchema,
        response: { 201: ArticleSchema },
      },
    },
    async (request, reply) => {
      const article = await service.createArticle(contextOf(request), request.body);
      setEtag(reply, article.version);
      return reply.code(201).header('location', `${request.url}/${article.id}`).send(article);
    },
  );
  app.get(
    '/knowledge',
    {
      config: readers,
      schema: {
        tags: ['knowledge'],
        operationId: 'listKnowledgeArticles',
        summary: 'List or search knowledge articles (requester keys see published articles only)',
        querystring: ArticleListQuerySchema,
        response: { 200: pageOf(ArticleSchema) },
      },
    },
    async (request) => service.listArticles(contextOf(request), request.query),
  );
  app.get(
    '/knowledge/:id',
    {
      config: readers,
      schema: {
        tags: ['knowledge'],
        operationId: 'getKnowledgeArticle',
        summary: 'Get a knowledge article with its incident links',
        params: IdParamsSchema,
        response: { 200: ArticleSchema },
      },
    },
    async (request, reply) => {
      const article = await service.getArticle(contextOf(request), request.params.id);
      setEtag(reply, article.version);
      return article;
    },
  );
  app.patch(
    '/knowledge/:id',
    {
      config: staff,
      schema: {
        tags: ['knowledge'],
        operationId: 'updateKnowledgeArticle',
        summary: 'Change a knowledge article',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: ArticlePatchSchema,
        response: { 200: ArticleSchema },
      },
    },
    async (request, reply) => {
      const article = await service.updateArticle(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, article.version);
      return article;
    },
  );
  for (const action of ['publish', 'retire'] as const) {
    app.post(
      `/knowledge/:id/${action}`,
      {
        config: staff,
        schema: {
          tags: ['knowledge'],
          operationId: action === 'publish' ? 'publishKnowledgeArticle' : 'retireKnowledgeArticle',
          summary:
            action === 'publish'
              ? 'Publish a draft article'
              : 'Retire a published article (no longer offered)',
          description: 'A disallowed transition is 409 with `currentStatus` and `allowedActions`.',
          params: IdParamsSchema,
          headers: IfMatchHeaders,
          body: Nullable(EmptyBodySchema),
          response: { 200: ArticleSchema },
        },
      },
      async (request, reply) => {
        const article = await service.actOnArticle(
          contextOf(request),
          request.params.id,
          action,
          expectedVersion(request),
        );
        setEtag(reply, article.version);
        return article;
      },
    );
  }
  app.post(
    '/knowledge/:id/links',
    {
      config: staff,
      schema: {
        tags: ['knowledge'],
        operationId: 'linkKnowledgeArticle',
        summary: 'Link an article to an incident it helped with (201 when new, 200 when already linked)',
        params: IdParamsSchema,
        body: ArticleLinkCreateSchema,
        response: { 200: ArticleSchema, 201: ArticleSchema },
      },
    },
    async (request, reply) => {
      const { article, created } = await service.linkArticle(
        contextOf(request),
        request.params.id,
        request.body.incidentId,
      );
      setEtag(reply, article.version);
      return reply.code(created ? 201 : 200).send(article);
    },
  );
  app.delete(
    '/knowledge/:id/links/:incidentId',
    {
      config: staff,
      schema: {
        tags: ['knowledge'],
        operationId: 'unlinkKnowledgeArticle',
        summary: 'Remove the link between an article and an incident',
        params: ArticleLinkParamsSchema,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.unlinkArticle(contextOf(request), request.params.id, request.params.incidentId);
      return reply.code(204).send(null);
    },
  );
}
