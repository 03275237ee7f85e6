import { Type } from 'typebox';
import { contextOf } from '../../platform/auth/auth.plugin.ts';
import type { App } from '../../platform/module.ts';
import { pageOf } from '../../platform/paging.ts';
import { IdParamsSchema, IfMatchHeaders } from '../../platform/schemas.ts';
import { expectedVersion, setEtag } from '../../platform/versioning.ts';
import {
  ReportDefinitionCreateSchema,
  ReportDefinitionListQuerySchema,
  ReportDefinitionPatchSchema,
  ReportDefinitionSchema,
  ReportQuerySchema,
  ReportRunSummarySchema,
  RunAcceptedSchema,
  RunListQuerySchema,
  RunRequestSchema,
  reportRunSchema,
  SectionInfoSchema,
} from './reports.schemas.ts';
import { listSections, type ReportService } from './reports.service.ts';

const managers = { roles: ['admin', 'manager'] } as const;
const readers = { roles: ['admin', 'manager', 'agent', 'requester'] } as const;
const tags = ['reports'];

export function reportRoutes(app: App, service: ReportService): void {
  app.post(
    '/report-definitions',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'createReportDefinition',
        summary: 'Define a service report (customer scope, period, schedule, locale, sections, recipients)',
        description:
          'Checks beyond shape answer 400 with a pointer: an unknown time zone (`/schedule/timeZone`), a bad cron ' +
          '(`/schedule/cron`), an unknown section (`/sections/<i>`), services, SLAs or webhook subscriptions that ' +
          'do not exist. With a cron, a BullMQ job scheduler runs the report at each firing for the last complete period.',
        body: ReportDefinitionCreateSchema,
        response: { 201: ReportDefinitionSchema },
      },
    },
    async (request, reply) => {
      const definition = await service.createDefinition(contextOf(request), request.body);
      setEtag(reply, definition.version);
      return reply.code(201).header('location', `${request.url}/${definition.id}`).send(definition);
    },
  );
  app.get(
    '/report-definitions',
    {
      config: readers,
      schema: {
        tags,
        operationId: 'listReportDefinitions',
        summary: 'List report definitions',
        querystring: ReportDefinitionListQuerySchema,
        response: { 200: pageOf(ReportDefinitionSchema) },
      },
    },
    async (request) => service.listDefinitions(contextOf(request), request.query),
  );
  app.get(
    '/report-definitions/:id',
    {
      config: readers,
      schema: {
        tags,
        operationId: 'getReportDefinition',
        summary: 'Get a report definition (with its next scheduled run)',
        params: IdParamsSchema,
        response: { 200: ReportDefinitionSchema },
      },
    },
    async (request, reply) => {
      const definition = await service.getDefinition(contextOf(request), request.params.id);
      setEtag(reply, definition.version);
      return definition;
    },
  );
  app.patch(
    '/report-definitions/:id',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'updateReportDefinition',
        summary: 'Change a report definition; its job scheduler follows',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: ReportDefinitionPatchSchema,
        response: { 200: ReportDefinitionSchema },
      },
    },
    async (request, reply) => {
      const definition = await service.updateDefinition(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, definition.version);
      return definition;
    },
  );
  app.delete(
    '/report-definitions/:id',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'deleteReportDefinition',
        summary: 'Remove a report definition and its schedule (its reports stay readable)',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.deleteDefinition(contextOf(request), request.params.id, expectedVersion(request));
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/report-definitions/:id/run',
    {
      config: managers,
      schema: {
        tags,
        operationId: 'runReport',
        summary: 'Run a report for one period now (202; a re-run of a period adds a revision)',
        description:
          'The period must be of the definition’s kind (400 with pointer `/period` otherwise). The run is queued ' +
          'and computed by a worker; poll `GET /reports/{runId}` until `status` is `completed` or `failed`.',
        params: IdParamsSchema,
        body: RunRequestSchema,
        response: { 202: RunAcceptedSchema },
      },
    },
    async (request, reply) => {
      const accepted = await service.requestRun(contextOf(request), request.params.id, request.body.period);
      return reply.code(202).header('location', accepted.location).send(accepted);
    },
  );
  app.get(
    '/report-definitions/:id/runs',
    {
      config: readers,
      schema: {
        tags,
        operationId: 'listReportRuns',
        summary: 'Runs of a definition, every revision (`current=true`: the latest per period)',
        params: IdParamsSchema,
        querystring: RunListQuerySchema,
        response: { 200: pageOf(ReportRunSummarySchema) },
      },
    },
    async (request) => service.listRuns(contextOf(request), request.params.id, request.query),
  );
  app.get(
    '/reports/:id',
    {
      config: readers,
      schema: {
        tags,
        operationId: 'getReport',
        summary: 'A report run: JSON (status, period, sections), or rendered as HTML, XLSX or CSV',
        description:
          '`?format=html`: one self-contained, print-friendly page with inline SVG charts in the definition’s ' +
          'locale. `?format=xlsx`: a workbook with a sheet per section table (typed cells, frozen header). ' +
          '`?format=csv&section=<key>[&table=<name>]`: one section table. Renderings of a run that has not ' +
          'completed answer 409.',
        params: IdParamsSchema,
        querystring: ReportQuerySchema,
        response: {
          200: {
            description: 'The run (JSON) or its rendering',
            content: {
              'application/json': { schema: reportRunSchema() },
              'text/html': { schema: { type: 'string' } },
              'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
                schema: { type: 'string', format: 'binary' },
              },
              'text/csv': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const ctx = contextOf(request);
      const format = request.query.format ?? 'json';
      if (format === 'json') {
        // Serialized here: stored sections are sent as stored (no response-schema coercion of old runs).
        const run = await service.getRun(ctx, request.params.id);
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(run));
      }
      const out = await service.render(ctx, request.params.id, { ...request.query, format });
      const disposition = format === 'html' ? 'inline' : 'attachment';
      return reply
        .type(out.contentType)
        .header('content-disposition', `${disposition}; filename="${out.filename}"`)
        .send(out.body);
    },
  );
  app.get(
    '/report-sections',
    {
      config: readers,
      schema: {
        tags,
        operationId: 'listReportSections',
        summary:
          'The sections a report can contain (built-in and added by other modules), with their JSON Schemas',
        response: { 200: Type.Object({ items: Type.Array(SectionInfoSchema) }) },
      },
    },
    async () => ({ items: listSections() }),
  );
}
