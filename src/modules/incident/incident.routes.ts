import multipart from '@fastify/multipart';
import { type Static, type TSchema, Type } from 'typebox';
import { contextOf } from '../../platform/auth/auth.plugin.ts';
import type { RequestContext, Role } from '../../platform/context.ts';
import type { App } from '../../platform/module.ts';
import { pageOf } from '../../platform/paging.ts';
import { IdParamsSchema, IfMatchHeaders } from '../../platform/schemas.ts';
import { expectedVersion, setEtag } from '../../platform/versioning.ts';
import { IncidentErrors as E } from './incident.errors.ts';
import {
  AssignSchema,
  AttachmentSchema,
  CloseSchema,
  CommentCreateSchema,
  CommunicationSchema,
  ConfirmationAnswerSchema,
  ConfirmationSchema,
  EmptySchema,
  EscalateSchema,
  type Incident,
  IncidentCreateSchema,
  IncidentListQuerySchema,
  IncidentPatchSchema,
  IncidentSchema,
  LinkChildSchema,
  MajorSchema,
  PendSchema,
  ReasonSchema,
  ResolveSchema,
  StatsQuerySchema,
  StatsSchema,
  TimelineSchema,
  TokenParamsSchema,
  WorkNoteCreateSchema,
} from './incident.schemas.ts';
import type { IncidentService } from './incident.service.ts';

const tags = ['incidents'];
const STAFF: readonly Role[] = ['admin', 'manager', 'agent'];
const READERS: readonly Role[] = ['admin', 'manager', 'agent', 'requester'];

export async function incidentRoutes(
  app: App,
  service: IncidentService,
  attachmentMaxBytes: number,
): Promise<void> {
  app.post(
    '/incidents',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'createIncident',
        summary: 'Record an incident (priority from the impact x urgency matrix; routing rules pick a group)',
        body: IncidentCreateSchema,
        response: { 201: IncidentSchema },
      },
    },
    async (request, reply) => {
      const incident = await service.create(contextOf(request), request.body);
      setEtag(reply, incident.version);
      return reply.code(201).header('location', `${request.url}/${incident.id}`).send(incident);
    },
  );

  app.get(
    '/incidents',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'listIncidents',
        summary: 'List and search incidents (`q` works for Chinese and English)',
        querystring: IncidentListQuerySchema,
        response: { 200: pageOf(IncidentSchema) },
      },
    },
    async (request) => service.list(contextOf(request), request.query),
  );

  app.get(
    '/incidents/stats',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'getIncidentStats',
        summary:
          'Counts, time to acknowledge/resolve (mean, p90), first-contact resolution, reopen and escalation rates',
        querystring: StatsQuerySchema,
        response: { 200: StatsSchema },
      },
    },
    async (request) => service.stats(contextOf(request), request.query),
  );

  app.get(
    '/incidents/:id',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'getIncident',
        summary: 'Get an incident',
        params: IdParamsSchema,
        response: { 200: IncidentSchema },
      },
    },
    async (request, reply) => {
      const incident = await service.get(contextOf(request), request.params.id);
      setEtag(reply, incident.version);
      return incident;
    },
  );

  app.patch(
    '/incidents/:id',
    {
      config: { roles: STAFF },
      schema: {
        tags,
        operationId: 'updateIncident',
        summary: 'Change fields; a priority different from the matrix needs priorityReason',
        params: IdParamsSchema,
        headers: IfMatchHeaders,
        body: IncidentPatchSchema,
        response: { 200: IncidentSchema },
      },
    },
    async (request, reply) => {
      const incident = await service.update(
        contextOf(request),
        request.params.id,
        request.body,
        expectedVersion(request),
      );
      setEtag(reply, incident.version);
      return incident;
    },
  );

  /** One transition endpoint: `POST /incidents/{id}/<name>` with its own schema and roles. */
  function action<S extends TSchema>(
    name: string,
    operationId: string,
    summary: string,
    body: S,
    roles: readonly Role[],
    run: (
      ctx: RequestContext,
      id: string,
      body: Static<S>,
      expected: number | undefined,
    ) => Promise<Incident>,
  ) {
    app.post(
      `/incidents/:id/${name}`,
      {
        config: { roles },
        schema: {
          tags,
          operationId,
          summary,
          params: IdParamsSchema,
          headers: IfMatchHeaders,
          body,
          response: { 200: IncidentSchema },
        },
      },
      async (request, reply) => {
        const incident = await run(
          contextOf(request),
          request.params.id,
          request.body as Static<S>,
          expectedVersion(request),
        );
        setEtag(reply, incident.version);
        return incident;
      },
    );
  }

  action(
    'assign',
    'assignIncident',
    'Assign to a group (and optionally an agent of it)',
    AssignSchema,
    STAFF,
    (c, id, b, v) => service.assign(c, id, b, v),
  );
  action(
    'start',
    'startIncident',
    'Start work (sets acknowledgedAt if not yet set)',
    EmptySchema,
    STAFF,
    (c, id, _b, v) => service.start(c, id, v),
  );
  action(
    'pend',
    'pendIncident',
    'Put on hold waiting for the customer, a supplier or a change',
    PendSchema,
    STAFF,
    (c, id, b, v) => service.pend(c, id, b, v),
  );
  action('resume', 'resumeIncident', 'Resume work after a hold', EmptySchema, STAFF, (c, id, _b, v) =>
    service.resume(c, id, v),
  );
  action(
    'resolve',
    'resolveIncident',
    'Resolve with a resolution code and notes; asks the requester to confirm',
    ResolveSchema,
    STAFF,
    (c, id, b, v) => service.resolve(c, id, b, v),
  );
  action(
    'reopen',
    'reopenIncident',
    'Reopen a resolved incident (within the reopen window)',
    ReasonSchema,
    READERS,
    (c, id, b, v) => service.reopen(c, id, b, v),
  );
  action('close', 'closeIncident', 'Close a resolved incident', CloseSchema, STAFF, (c, id, b, v) =>
    service.close(c, id, b, v),
  );
  action(
    'escalate',
    'escalateIncident',
    'Functional escalation to a group of the next tier',
    EscalateSchema,
    STAFF,
    (c, id, b, v) => service.escalate(c, id, b, v),
  );
  action(
    'cancel',
    'cancelIncident',
    'Cancel an open incident (duplicate, misreport, not an incident)',
    ReasonSchema,
    STAFF,
    (c, id, b, v) => service.cancel(c, id, b, v),
  );
  action('major', 'declareMajorIncident', 'Declare a major incident', MajorSchema, STAFF, (c, id, b, v) =>
    service.flagMajor(c, id, b, v),
  );
  action(
    'children',
    'linkChildIncident',
    'Link a child incident to this major incident',
    LinkChildSchema,
    STAFF,
    (c, id, b) => service.linkChild(c, id, b.childId),
  );
  action(
    'communications',
    'logIncidentCommunication',
    'Log a communication about this major incident',
    CommunicationSchema,
    STAFF,
    (c, id, b) => service.communicate(c, id, b),
  );
  action(
    'work-notes',
    'addIncidentWorkNote',
    'Add an internal work note',
    WorkNoteCreateSchema,
    STAFF,
    (c, id, b) => service.workNote(c, id, b),
  );

  app.post(
    '/incidents/:id/comments',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'commentIncident',
        summary:
          'Comment (public or internal; requesters always public). A first public agent reply acknowledges.',
        params: IdParamsSchema,
        body: CommentCreateSchema,
        response: { 201: IncidentSchema },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await service.comment(contextOf(request), request.params.id, request.body)),
  );

  app.get(
    '/incidents/:id/timeline',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'getIncidentTimeline',
        summary:
          'Comments, work notes, status, priority and assignment changes, escalations, call-backs (requesters: public items only)',
        params: IdParamsSchema,
        response: { 200: TimelineSchema },
      },
    },
    async (request) => service.timeline(contextOf(request), request.params.id),
  );

  app.get(
    '/incidents/:id/suggestions',
    {
      config: { roles: STAFF },
      schema: {
        tags,
        operationId: 'suggestKnowledgeForIncident',
        summary: 'Published knowledge articles matching the incident text and category',
        params: IdParamsSchema,
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                ref: Type.String(),
                title: Type.String(),
                category: Type.Union([Type.String(), Type.Null()]),
                score: Type.Number(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => service.suggestions(contextOf(request), request.params.id),
  );

  app.get(
    '/incidents/:id/confirmation',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'getIncidentConfirmation',
        summary: 'The latest call-back request of the incident, with the token the requester answers with',
        params: IdParamsSchema,
        response: { 200: ConfirmationSchema },
      },
    },
    async (request) => service.confirmationOf(contextOf(request), request.params.id),
  );

  app.get(
    '/confirmations/:token',
    {
      config: { public: true },
      schema: {
        tags: ['confirmations'],
        operationId: 'getConfirmation',
        summary: 'What the requester is asked to confirm (no API key: the token is the capability)',
        params: TokenParamsSchema,
        response: { 200: ConfirmationSchema },
      },
    },
    async (request) => service.confirmationByToken(request.params.token),
  );

  app.post(
    '/confirmations/:token',
    {
      config: { public: true },
      schema: {
        tags: ['confirmations'],
        operationId: 'answerConfirmation',
        summary: 'Confirm (closes the incident) or reject (reopens it), with a rating 1-5 and a comment',
        params: TokenParamsSchema,
        body: ConfirmationAnswerSchema,
        response: {
          200: Type.Object({ incidentId: Type.String(), status: Type.String(), outcome: Type.String() }),
        },
      },
    },
    async (request) => service.answerConfirmation(request.params.token, request.body),
  );

  // Attachments: multipart only on this route's own plugin scope.
  await app.register(async (scoped) => {
    await scoped.register(multipart, { limits: { fileSize: attachmentMaxBytes, files: 1, fields: 5 } });
    scoped.post(
      '/incidents/:id/attachments',
      {
        config: { roles: READERS },
        schema: {
          tags,
          operationId: 'addIncidentAttachment',
          summary:
            'Attach a file (multipart/form-data, field `file`); size, content type and SHA-256 are recorded',
          params: IdParamsSchema,
          consumes: ['multipart/form-data'],
          response: { 201: AttachmentSchema },
        },
      },
      async (request, reply) => {
        const file = await request.file().catch(() => undefined);
        if (!file) throw E.attachmentMissing();
        let content: Buffer;
        try {
          content = await file.toBuffer();
        } catch {
          throw E.attachmentTooLarge(attachmentMaxBytes);
        }
        if (file.file.truncated) throw E.attachmentTooLarge(attachmentMaxBytes);
        const { id } = request.params as { id: string };
        const stored = await service.addAttachment(contextOf(request), id, {
          filename: file.filename.slice(0, 255) || 'attachment',
          contentType: file.mimetype || 'application/octet-stream',
          content,
        });
        return reply.code(201).send(stored);
      },
    );
  });

  app.get(
    '/incidents/:id/attachments',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'listIncidentAttachments',
        summary: 'List attachments',
        params: IdParamsSchema,
        response: { 200: Type.Object({ items: Type.Array(AttachmentSchema) }) },
      },
    },
    async (request) => service.listAttachments(contextOf(request), request.params.id),
  );

  app.get(
    '/incidents/:id/attachments/:attachmentId',
    {
      config: { roles: READERS },
      schema: {
        tags,
        operationId: 'downloadIncidentAttachment',
        summary: 'Download an attachment',
        params: Type.Object({
          id: Type.String({ format: 'uuid' }),
          attachmentId: Type.String({ format: 'uuid' }),
        }),
      },
    },
    async (request, reply) => {
      const row = await service.getAttachment(
        contextOf(request),
        request.params.id,
        request.params.attachmentId,
      );
      return reply
        .type(row.content_type)
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(row.filename)}`)
        .header('x-content-sha256', row.sha256)
        .send(row.content);
    },
  );
}
