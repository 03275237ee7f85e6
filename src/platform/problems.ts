import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DomainError, type ErrorKind, type FieldError } from './errors.ts';

/** The one table from a domain error's kind to its HTTP status and title. */
export const KIND_STATUS: Record<ErrorKind, { status: number; title: string }> = {
  invalid: { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable content' },
  precondition_required: { status: 428, title: 'Precondition required' },
  rate_limited: { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
};

const STATUS_KIND = new Map<number, ErrorKind>(
  Object.entries(KIND_STATUS).map(([kind, { status }]) => [status, kind as ErrorKind]),
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'Stable problem type URI, `urn:tessera:problem:<code>`' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable error code, e.g. `VALIDATION_FAILED`' }),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          in: Type.String({ description: 'body, query, params or headers' }),
          pointer: Type.String({ description: 'JSON pointer to the bad field' }),
          detail: Type.String(),
        }),
      ),
    ),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export function problemType(code: string): string {
  return `urn:tessera:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
  errors?: FieldError[],
): FastifyReply {
  const kind = STATUS_KIND.get(status);
  // Extras never replace the standard members (a domain's own `status` would break the problem).
  const body: Problem = {
    ...extra,
    type: problemType(code),
    title: kind ? KIND_STATUS[kind].title : status >= 500 ? 'Internal error' : 'Error',
    status,
    detail,
    code,
    instance: request.url,
    requestId: String(request.id),
  };
  if (errors && errors.length > 0) body.errors = errors;
  return reply.code(status).type('application/problem+json').send(body);
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

const CONTEXT_IN: Record<string, FieldError['in']> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/** Ajv's errors as one entry per bad field, each with a JSON pointer. */
export function fieldErrors(validation: AjvError[], context: string): FieldError[] {
  const where = CONTEXT_IN[context] ?? 'body';
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of validation) {
    let pointer = error.instancePath;
    let detail = error.message ?? 'is invalid';
    if (error.keyword === 'required') {
      pointer += `/${String(error.params.missingProperty)}`;
      detail = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      pointer += `/${String(error.params.additionalProperty)}`;
      detail = 'is not a known field';
    } else if (error.keyword === 'enum' && Array.isArray(error.params.allowedValues)) {
      detail = `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    }
    // anyOf/const pairs from unions repeat themselves; one line per field is enough.
    if (error.keyword === 'anyOf' || error.keyword === 'const' || error.keyword === 'type') {
      if (seen.has(pointer)) continue;
    }
    const key = `${pointer}|${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    seen.add(pointer);
    out.push({ in: where, pointer: pointer || '/', detail });
  }
  return out;
}

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
  column?: string;
}

function isPgError(error: unknown): error is PgError & Error {
  return (
    error instanceof Error &&
    typeof (error as PgError).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((error as PgError).code!)
  );
}

/**
 * Registers the error handler and the 404 handler: every error leaves as problem+json, never a
 * stack trace; input the database rejects becomes a 4xx rather than a 500.
 */
export function registerProblems(app: FastifyInstance): void {
  app.addSchema(ProblemSchema);

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      404,
      'ROUTE_NOT_FOUND',
      `No route ${request.method} ${request.url.split('?')[0]}`,
    ),
  );

  app.setErrorHandler((error: FastifyError | DomainError | Error, request, reply) => {
    if (error instanceof DomainError) {
      const { status } = KIND_STATUS[error.kind];
      if (status === 401) reply.header('www-authenticate', 'Bearer realm="tessera"');
      if (status === 429 || status === 503) {
        const retryAfter = error.extra.retryAfterSeconds;
        if (typeof retryAfter === 'number') reply.header('retry-after', String(Math.ceil(retryAfter)));
      }
      return sendProblem(request, reply, status, error.code, error.message, error.extra, error.errors);
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const errors = fieldErrors(
        fastifyError.validation as AjvError[],
        fastifyError.validationContext ?? 'body',
      );
      const fields = errors.map((e) => `${e.in}${e.pointer}`).join(', ');
      return sendProblem(request, reply, 400, 'VALIDATION_FAILED', `Invalid request: ${fields}`, {}, errors);
    }
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendProblem(
          request,
          reply,
          400,
          'MALFORMED_JSON',
          `The body is not valid JSON: ${error.message}`,
        );
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(request, reply, 400, 'EMPTY_BODY', 'The body is empty but JSON was declared');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(
          request,
          reply,
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted here; send application/json`,
        );
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(
          request,
          reply,
          413,
          'BODY_TOO_LARGE',
          'The request body exceeds the configured limit',
          {
            limitBytes: request.routeOptions.bodyLimit,
          },
        );
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendProblem(
          request,
          reply,
          400,
          'INVALID_CONTENT_LENGTH',
          'Content-Length does not match the body',
        );
    }
    if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
      return sendProblem(
        request,
        reply,
        400,
        'MALFORMED_JSON',
        `The body is not valid JSON: ${error.message}`,
      );
    }
    if (fastifyError.statusCode === 429) {
      return sendProblem(request, reply, 429, 'RATE_LIMITED', error.message);
    }
    if (isPgError(error)) {
      switch (error.code) {
        case '23505':
          return sendProblem(
            request,
            reply,
            409,
            'CONFLICT',
            `A unique value is already in use (${error.constraint})`,
          );
        case '23503':
          return sendProblem(
            request,
            reply,
            409,
            'REFERENCE_CONFLICT',
            'A referenced record does not exist or is in use',
          );
        case '22P02':
        case '22007':
        case '22008':
        case '22003':
        case '23514':
          return sendProblem(request, reply, 400, 'INVALID_VALUE', 'A value was rejected by the database');
        case '22021':
        case '22P05':
          // Input with a NUL is refused before it gets here; this covers what slips past (multipart).
          return sendProblem(
            request,
            reply,
            400,
            'INVALID_TEXT',
            'A text value holds a character that cannot be stored (NUL, U+0000)',
          );
        case '40001':
        case '40P01':
          reply.header('retry-after', '1');
          return sendProblem(request, reply, 503, 'RETRY', 'A concurrent update collided; retry the request');
      }
    }
    const status = fastifyError.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendProblem(request, reply, status, fastifyError.code ?? 'CLIENT_ERROR', error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, 500, 'INTERNAL', 'An unexpected error occurred; see the server log');
  });
}
