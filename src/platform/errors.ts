/**
 * Domain errors. Services throw these (never HTTP errors); `problems.ts` maps each kind to an HTTP
 * status and renders RFC 9457 problem+json. Codes are stable (`MODULE_REASON`) and documented.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'precondition_required'
  | 'rate_limited'
  | 'unavailable';

/** One bad input: where it is (`body`, `query`, `params`, `headers`) and a JSON pointer into it. */
export interface FieldError {
  in: 'body' | 'query' | 'params' | 'headers';
  pointer: string;
  detail: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (code: string, what: string, id: string) =>
  new DomainError(code, 'not_found', `${what} ${id} was not found`, { id });

export const invalidField = (code: string, field: string, detail: string, where: FieldError['in'] = 'body') =>
  new DomainError(code, 'invalid', detail, {}, [{ in: where, pointer: `/${field}`, detail }]);

export const staleVersion = (expected: number, current: number) =>
  new DomainError(
    'VERSION_MISMATCH',
    'precondition_failed',
    `If-Match names version ${expected} but the record is at version ${current}`,
    { expectedVersion: expected, currentVersion: current },
  );

/** A unique-constraint clash reported as the field it concerns. */
export const duplicate = (code: string, field: string, value: string) =>
  new DomainError(code, 'conflict', `${field} "${value}" is already in use`, { field }, [
    { in: 'body', pointer: `/${field}`, detail: 'already in use' },
  ]);

/** Optimistic concurrency: throws 412 when the caller's If-Match names another version. */
export function checkVersion(current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) throw staleVersion(expected, current);
}
