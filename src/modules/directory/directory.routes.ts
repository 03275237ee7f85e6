import { contextOf } from '../../platform/auth/auth.plugin.ts';
import type { App } from '../../platform/module.ts';
import { pageOf } from '../../platform/paging.ts';
import { IdParamsSchema, IfMatchHeaders } from '../../platform/schemas.ts';
import { expectedVersion, setEtag } from '../../platform/versioning.ts';
import {
  CustomerCreateSchema,
  CustomerListQuerySchema,
  CustomerPatchSchema,
  CustomerSchema,
  GroupCreateSchema,
  GroupListQuerySchema,
  GroupPatchSchema,
  GroupSchema,
  PersonCreateSchema,
  PersonListQuerySchema,
  PersonPatchSchema,
  PersonSchema,
} from './directory.schemas.ts';
import type { DirectoryService } from './directory.service.ts';

const managers = { roles: ['admin', 'manager'] } as const;
const staff = { roles: ['admin', 'manager', 'agent'] } as const;
const readers = { roles: ['admin', 'manager', 'agent', 'requester'] } as const;

export function directoryRoutes(app: App, service: DirectoryService): void {
  // ---- customers ----
  app.post(
    '/customers',
    {
      config: managers,
      schema: {
        tags: ['customers'],
        operationId: 'createCustomer',
        summary: 'Create a customer',
        body: CustomerCreateSchema,
        response: { 201: CustomerSchema },
      },
    },
    async (request, reply) => {
      const customer = await service.createCustomer(contextOf(request), request.body);
      setEtag(reply, customer.version);
      return reply.code(201).header('location', `${request.url}/${customer.id}`).send(customer);
    },
  );
  app.get(
    '/customers',
    {
      config: readers,
      schema: {
        tags: ['customers'],
        operationId: 'listCustomers',
        summary: 'List customers (a customer-bound key sees only its own)',
        querystring: CustomerListQuerySchema,
        response: { 200: pageOf(CustomerSchema) },
      },
    },
    async (request) => service.listCustomers(contextOf(request), request.query),
  );
  app.get(
    '/customers/:id',
    {
      config: readers,
      schema: {
        tags: ['customers'],
        operationId: 'getCustomer',
        summary: 'Get a customer',
        params: IdParamsSchema,
        response: { 200: CustomerSchema },
      },
    },
    async (request, reply) => {
      const customer = await service.getCustomer(contextOf(request), request.params.id);
      setEtag(reply, customer.version);
      return customer;
    },
  );
  app.patch(
    '/customers/:id',
    {
      config: managers,
      schema: {
        tags: ['customers'],
        operationId: 'updateCustomer',
        summary: 'Change a customer (If-Match: its ETag, else 412 when stale)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: CustomerPatchSchema,
        response: { 200: CustomerSchema },
      },
    },
    async (request, reply) => {
      const customer = await service.updateCustomer(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, customer.version);
      return customer;
    },
  );

  // ---- people ----
  app.post(
    '/people',
    {
      config: staff,
      schema: {
        tags: ['people'],
        operationId: 'createPerson',
        summary: 'Create an agent or a customer contact',
        body: PersonCreateSchema,
        response: { 201: PersonSchema },
      },
    },
    async (request, reply) => {
      const person = await service.createPerson(contextOf(request), request.body);
      setEtag(reply, person.version);
      return reply.code(201).header('location', `${request.url}/${person.id}`).send(person);
    },
  );
  app.get(
    '/people',
    {
      config: readers,
      schema: {
        tags: ['people'],
        operationId: 'listPeople',
        summary: 'List people',
        querystring: PersonListQuerySchema,
        response: { 200: pageOf(PersonSchema) },
      },
    },
    async (request) => service.listPeople(contextOf(request), request.query),
  );
  app.get(
    '/people/:id',
    {
      config: readers,
      schema: {
        tags: ['people'],
        operationId: 'getPerson',
        summary: 'Get a person',
        params: IdParamsSchema,
        response: { 200: PersonSchema },
      },
    },
    async (request, reply) => {
      const person = await service.getPerson(contextOf(request), request.params.id);
      setEtag(reply, person.version);
      return person;
    },
  );
  app.patch(
    '/people/:id',
    {
      config: staff,
      schema: {
        tags: ['people'],
        operationId: 'updatePerson',
        summary: 'Change a person',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: PersonPatchSchema,
        response: { 200: PersonSchema },
      },
    },
    async (request, reply) => {
      const person = await service.updatePerson(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, person.version);
      return person;
    },
  );

  // ---- assignment groups ----
  app.post(
    '/groups',
    {
      config: managers,
      schema: {
        tags: ['groups'],
        operationId: 'createGroup',
        summary: 'Create an assignment group (tier 1, 2 or 3)',
        body: GroupCreateSchema,
        response: { 201: GroupSchema },
      },
    },
    async (request, reply) => {
      const group = await service.createGroup(contextOf(request), request.body);
      setEtag(reply, group.version);
      return reply.code(201).header('location', `${request.url}/${group.id}`).send(group);
    },
  );
  app.get(
    '/groups',
    {
      config: staff,
      schema: {
        tags: ['groups'],
        operationId: 'listGroups',
        summary: 'List assignment groups',
        querystring: GroupListQuerySchema,
        response: { 200: pageOf(GroupSchema) },
      },
    },
    async (request) => service.listGroups(request.query),
  );
  app.get(
    '/groups/:id',
    {
      config: staff,
      schema: {
        tags: ['groups'],
        operationId: 'getGroup',
        summary: 'Get an assignment group',
        params: IdParamsSchema,
        response: { 200: GroupSchema },
      },
    },
    async (request, reply) => {
      const group = await service.getGroup(request.params.id);
      setEtag(reply, group.version);
      return group;
    },
  );
  app.patch(
    '/groups/:id',
    {
      config: managers,
      schema: {
        tags: ['groups'],
        operationId: 'updateGroup',
        summary: 'Change an assignment group (memberIds replaces the members)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: GroupPatchSchema,
        response: { 200: GroupSchema },
      },
    },
    async (request, reply) => {
      const group = await service.updateGroup(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, group.version);
      return group;
    },
  );
}
