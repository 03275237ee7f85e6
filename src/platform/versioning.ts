import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from './errors.ts';

/** Records carry an integer `version`; its strong ETag is `"<version>"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('etag', etagOf(version));
}

/**
 * The version an `If-Match` header expects, `undefined` when absent or `*`. A malformed header is a
 * 400 rather than a silent overwrite.
 */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(header) ?? /^\s*(\d+)\s*$/.exec(header);
  if (!match) {
    throw new DomainError(
      'INVALID_IF_MATCH',
      'invalid',
      'If-Match must be an ETag given by this API, e.g. "3"',
      {},
      [{ in: 'headers', pointer: '/if-match', detail: 'expected a quoted version such as "3"' }],
    );
  }
  return Number(match[1]);
}
