import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

export interface ExpectedFieldError {
  in: 'body' | 'query' | 'params' | 'headers';
  pointer: string;
}

/**
 * Asserts an RFC 9457 problem+json reply: the status, the content type, every required member
 * (`type`, `title`, `status`, `detail`, `code`), and — when given — that each expected field error is
 * listed with its `in` and JSON `pointer`. Returns the parsed body for further checks.
 */
export function expectProblem(
  res: LightMyRequestResponse,
  status: number,
  code: string,
  fields?: ExpectedFieldError[],
): Record<string, unknown> & { errors?: { in: string; pointer: string; detail: string }[] } {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({
    type: `urn:tessera:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    status,
    code,
  });
  expect(typeof body.title).toBe('string');
  expect(body.title.length).toBeGreaterThan(0);
  expect(typeof body.detail).toBe('string');
  expect(body.detail.length).toBeGreaterThan(0);
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at /); // never a stack trace
  if (fields) {
    expect(Array.isArray(body.errors), 'errors[] is present').toBe(true);
    for (const error of body.errors) {
      expect(typeof error.detail).toBe('string');
      expect(error.pointer).toMatch(/^\//);
    }
    for (const field of fields) {
      expect(body.errors, `errors[] lists ${field.in} ${field.pointer}`).toContainEqual(
        expect.objectContaining(field),
      );
    }
  }
  return body;
}
