import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { contextOf } from '../../platform/auth/auth.plugin.ts';
import type { Role } from '../../platform/context.ts';
import type { App } from '../../platform/module.ts';
import { PageQuerySchema, pageOf } from '../../platform/paging.ts';
import { IdParamsSchema, IfMatchHeaders } from '../../platform/schemas.ts';
import { expectedVersion, setEtag } from '../../platform/versioning.ts';
import type { IncidentService } from '../incident/index.ts';
import type { createServiceDeskService } from '../service-desk/index.ts';
import type { ClockEngine } from './sla.clocks.ts';
import {
  AgreementCreateSchema,
  AgreementEventSchema,
  AgreementListQuerySchema,
  AgreementPatchSchema,
  AgreementSchema,
  CalendarCreateSchema,
  CalendarPatchSchema,
  CalendarSchema,
  ClocksSchema,
  ComplianceQuerySchema,
  ComplianceSchema,
  ExceptionImportSchema,
  ExplainSchema,
  RecomputeResultSchema,
  ReviewSchema,
  ServiceCreateSchema,
  ServiceListQuerySchema,
  ServicePatchSchema,
  ServiceSchema,
  TerminateSchema,
} from './sla.schemas.ts';
import type { SlaService } from './sla.service.ts';

type ServiceDeskService = ReturnType<typeof createServiceDeskService>;

const MANAGERS: readonly Role[] = ['admin', 'manager'];
const STAFF: readonly Role[] = ['admin', 'manager', 'agent'];
const READERS: readonly Role[] = ['admin', 'manager', 'agent', 'requester'];

export function slaRoutes(
  app: App,
  sla: SlaService,
  clocks: ClockEngine,
  incidents: IncidentService,
  requests: ServiceDeskService,
): void {
  // ---- service catalogue ----
  app.post(
    '/services',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['services'],
        operationId: 'createService',
        summary: 'Add a service to the catalogue',
        body: ServiceCreateSchema,
        response: { 201: ServiceSchema },
      },
    },
    async (request, reply) => {
      const service = await sla.createService(contextOf(request), request.body);
      setEtag(reply, service.version);
      return reply.code(201).send(service);
    },
  );
  app.get(
    '/services',
    {
      config: { roles: READERS },
      schema: {
        tags: ['services'],
        operationId: 'listServices',
        summary: 'The service catalogue (customers see live, customer-visible services)',
        querystring: ServiceListQuerySchema,
        response: { 200: pageOf(ServiceSchema) },
      },
    },
    async (request) => sla.listServices(contextOf(request), request.query),
  );
  app.get(
    '/services/:id',
    {
      config: { roles: READERS },
      schema: {
        tags: ['services'],
        operationId: 'getService',
        summary: 'Get a service',
        params: IdParamsSchema,
        response: { 200: ServiceSchema },
      },
    },
    async (request, reply) => {
      const service = await sla.getService(contextOf(request), request.params.id);
      setEtag(reply, service.version);
      return service;
    },
  );
  app.patch(
    '/services/:id',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['services'],
        operationId: 'updateService',
        summary: 'Change a service (status pipeline, live, retired)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: ServicePatchSchema,
        response: { 200: ServiceSchema },
      },
    },
    async (request, reply) => {
      const service = await sla.updateService(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, service.version);
      return service;
    },
  );

  // ---- calendars ----
  app.post(
    '/calendars',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['calendars'],
        operationId: 'createCalendar',
        summary: 'Create a business calendar (IANA zone, working hours, holidays and make-up days)',
        body: CalendarCreateSchema,
        response: { 201: CalendarSchema },
      },
    },
    async (request, reply) => {
      const calendar = await sla.createCalendar(contextOf(request), request.body);
      setEtag(reply, calendar.version);
      return reply.code(201).send(calendar);
    },
  );
  app.get(
    '/calendars',
    {
      config: { roles: STAFF },
      schema: {
        tags: ['calendars'],
        operationId: 'listCalendars',
        summary: 'List calendars',
        querystring: PageQuerySchema,
        response: { 200: pageOf(CalendarSchema) },
      },
    },
    async (request) => sla.listCalendars(request.query),
  );
  app.get(
    '/calendars/:id',
    {
      config: { roles: STAFF },
      schema: {
        tags: ['calendars'],
        operationId: 'getCalendar',
        summary: 'Get a calendar',
        params: IdParamsSchema,
        response: { 200: CalendarSchema },
      },
    },
    async (request, reply) => {
      const calendar = await sla.getCalendar(request.params.id);
      setEtag(reply, calendar.version);
      return calendar;
    },
  );
  app.patch(
    '/calendars/:id',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['calendars'],
        operationId: 'updateCalendar',
        summary: 'Change a calendar (running clocks keep their snapshot until POST /slas/{id}/recompute)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: CalendarPatchSchema,
        response: { 200: CalendarSchema },
      },
    },
    async (request, reply) => {
      const calendar = await sla.updateCalendar(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, calendar.version);
      return calendar;
    },
  );
  app.post(
    '/calendars/:id/exceptions',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['calendars'],
        operationId: 'importCalendarExceptions',
        summary:
          'Bulk-add holidays and make-up days: a JSON list, or {"holidays": {"country": "CN", "year": 2026}}',
        params: IdParamsSchema,
        body: ExceptionImportSchema,
        response: { 200: Type.Object({ calendar: CalendarSchema, added: Type.Integer() }) },
      },
    },
    async (request) => sla.importExceptions(contextOf(request), request.params.id, request.body),
  );

  // ---- agreements ----
  app.post(
    '/slas',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['agreements'],
        operationId: 'createAgreement',
        summary: 'Create an SLA, OLA or UC (in draft)',
        body: AgreementCreateSchema,
        response: { 201: AgreementSchema },
      },
    },
    async (request, reply) => {
      const agreement = await sla.createAgreement(contextOf(request), request.body);
      setEtag(reply, agreement.version);
      return reply.code(201).send(agreement);
    },
  );
  app.get(
    '/slas',
    {
      config: { roles: READERS },
      schema: {
        tags: ['agreements'],
        operationId: 'listAgreements',
        summary: 'List agreements (customer keys: their own SLAs)',
        querystring: AgreementListQuerySchema,
        response: { 200: pageOf(AgreementSchema) },
      },
    },
    async (request) => sla.listAgreements(contextOf(request), request.query),
  );
  app.get(
    '/slas/:id',
    {
      config: { roles: READERS },
      schema: {
        tags: ['agreements'],
        operationId: 'getAgreement',
        summary: 'Get an agreement',
        params: IdParamsSchema,
        response: { 200: AgreementSchema },
      },
    },
    async (request, reply) => {
      const agreement = await sla.getAgreement(contextOf(request), request.params.id);
      setEtag(reply, agreement.version);
      return agreement;
    },
  );
  app.patch(
    '/slas/:id',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['agreements'],
        operationId: 'updateAgreement',
        summary: 'Change an agreement (an active one needs changeReason; recorded in its history)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: AgreementPatchSchema,
        response: { 200: AgreementSchema },
      },
    },
    async (request, reply) => {
      const agreement = await sla.updateAgreement(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, agreement.version);
      return agreement;
    },
  );
  app.post(
    '/slas/:id/activate',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['agreements'],
        operationId: 'activateAgreement',
        summary: 'draft -> active',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: AgreementSchema },
      },
    },
    async (request, reply) => {
      const agreement = await sla.activate(contextOf(request), request.params.id, expectedVersion(request));
      setEtag(reply, agreement.version);
      return agreement;
    },
  );
  app.post(
    '/slas/:id/terminate',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['agreements'],
        operationId: 'terminateAgreement',
        summary: 'active -> terminated, with a reason (the termination sub-process)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: TerminateSchema,
        response: { 200: AgreementSchema },
      },
    },
    async (request, reply) => {
      const agreement = await sla.terminate(
        contextOf(request),
        request.params.id,
        request.body.reason,
        expectedVersion(request),
      );
      setEtag(reply, agreement.version);
      return agreement;
    },
  );
  app.post(
    '/slas/:id/review',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['agreements'],
        operationId: 'reviewAgreement',
        summary: 'Record a review and move the next review date (at most 12 months ahead)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: ReviewSchema,
        response: { 200: AgreementSchema },
      },
    },
    async (request, reply) => {
      const agreement = await sla.review(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, agreement.version);
      return agreement;
    },
  );
  app.post(
    '/slas/:id/recompute',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['agreements'],
        operationId: 'recomputeAgreementClocks',
        summary:
          'Re-derive the running clocks of this agreement from its current terms and calendar (met and breached clocks stay)',
        params: IdParamsSchema,
        response: { 200: RecomputeResultSchema },
      },
    },
    async (request) => {
      await sla.getAgreement(contextOf(request), request.params.id);
      return (await clocks.recomputeAgreement(request.params.id))!;
    },
  );
  app.get(
    '/slas/:id/history',
    {
      config: { roles: STAFF },
      schema: {
        tags: ['agreements'],
        operationId: 'getAgreementHistory',
        summary: 'Creation, changes, activation, reviews, termination',
        params: IdParamsSchema,
        response: { 200: Type.Object({ items: Type.Array(AgreementEventSchema) }) },
      },
    },
    async (request) => sla.history(contextOf(request), request.params.id),
  );
  app.get(
    '/slas/:id/compliance',
    {
      config: { roles: READERS },
      schema: {
        tags: ['agreements'],
        operationId: 'getAgreementCompliance',
        summary: 'Per target: tickets measured, met, breached, % met, mean and p90 elapsed',
        params: IdParamsSchema,
        querystring: ComplianceQuerySchema,
        response: { 200: ComplianceSchema },
      },
    },
    async (request) => sla.compliance(contextOf(request), request.params.id, request.query),
  );

  // ---- clocks of a ticket: the ticket's own read checks the caller's customer scope (404) ----
  const tickets = [
    {
      path: '/incidents',
      type: 'incident',
      noun: 'Incident',
      tag: 'incidents',
      label: 'an incident',
      check: (request: FastifyRequest, id: string) => incidents.get(contextOf(request), id),
    },
    {
      path: '/service-requests',
      type: 'service_request',
      noun: 'ServiceRequest',
      tag: 'service requests',
      label: 'a service request (measured as P4)',
      check: (request: FastifyRequest, id: string) => requests.getRequest(contextOf(request), id),
    },
  ] as const;
  for (const ticket of tickets) {
    app.get(
      `${ticket.path}/:id/sla`,
      {
        config: { roles: READERS },
        schema: {
          tags: [ticket.tag, 'sla'],
          operationId: `get${ticket.noun}Sla`,
          summary: `The SLA/OLA/UC clocks of ${ticket.label}, computed now`,
          params: IdParamsSchema,
          response: { 200: ClocksSchema },
        },
      },
      async (request) => {
        await ticket.check(request, request.params.id);
        return clocks.read(ticket.type, request.params.id);
      },
    );
    app.get(
      `${ticket.path}/:id/sla/explain`,
      {
        config: { roles: READERS },
        schema: {
          tags: [ticket.tag, 'sla'],
          operationId: `explain${ticket.noun}Sla`,
          summary: `Why each clock of ${ticket.label} shows what it shows: counted, paused, off-hours and holiday segments`,
          params: IdParamsSchema,
          response: { 200: ExplainSchema },
        },
      },
      async (request) => {
        await ticket.check(request, request.params.id);
        return clocks.explain(ticket.type, request.params.id);
      },
    );
  }
}
