/**
 * U+0000 (NUL) is valid in JSON (`"\u0000"`) and in URLs (`%00`), but PostgreSQL stores it in
 * neither `text` nor `jsonb`. API input that holds one is refused with a 400 naming the field
 * (see `app.ts`); monitoring payloads, which their senders cannot change, have it replaced.
 */

import { DomainError, type FieldError } from './errors.ts';

const escapePointer = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** The JSON pointer of the first string (key or value) in `value` that holds a NUL, or null. */
export function nulPointer(value: unknown, at = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? at : null;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulPointer(item, `${at}/${i}`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const here = `${at}/${escapePointer(key)}`;
    if (key.includes('\u0000')) return here;
    const found = nulPointer(item, here);
    if (found !== null) return found;
  }
  return null;
}

/** `value` with every NUL in its strings (keys and values) replaced by U+FFFD. */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD') as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [withoutNul(key), withoutNul(item)]),
  ) as T;
}

/** Quick test on JSON text: can the parsed value hold a NUL? (False positives only: `"\\u0000"`.) */
export const mayHoldNul = (json: string) => json.includes('\\u0000');

/** The 400 for API input that holds a NUL at `pointer` of `part`. */
export const nulInput = (part: FieldError['in'], pointer: string) =>
  new DomainError(
    'INVALID_TEXT',
    'invalid',
    `${part}${pointer} holds a NUL character (U+0000), which cannot be stored`,
    {},
    [{ in: part, pointer, detail: 'holds a NUL character (U+0000)' }],
  );
