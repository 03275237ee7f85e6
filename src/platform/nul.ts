/**
 * U+0000 (NUL) is valid in JSON (`"\u0000"`) and in URLs (`%00`), but PostgreSQL stores it in
 * neither `text` nor `jsonb`. API input that holds one is refused with a 400 naming the field
 * (see `app.ts`); monitoring payloads, which their senders cannot change, have it replaced.
 */

import { DomainError, type FieldError } from './errors.ts';

const escapePointer = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The JSON pointer of the first string (key or value) in `value` that holds a NUL, or null. Walks
 * with a stack of its own, so that a deeply nested body cannot overflow the call stack.
 */
export function nulPointer(value: unknown): string | null {
  const pending: [unknown, string][] = [[value, '']];
  while (pending.length > 0) {
    const [item, at] = pending.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return at;
    } else if (item !== null && typeof item === 'object') {
      const entries: [unknown, string][] = Array.isArray(item)
        ? item.map((child, i) => [child, `${at}/${i}`])
        : Object.entries(item).map(([key, child]) => {
            const here = `${at}/${escapePointer(key)}`;
            return [key.includes('\u0000') ? '\u0000' : child, here];
          });
      // Last pushed, first looked at: the document's order.
      for (let i = entries.length - 1; i >= 0; i--) pending.push(entries[i]!);
    }
  }
  return null;
}

/** JSON text with every NUL escape in its strings (`\u0000`, not `\\u0000`) made U+FFFD's. */
export const withoutNulEscapes = (json: string) => json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\uFFFD');

/** `text` with every NUL replaced by U+FFFD. */
export const withoutNul = (text: string) => text.replaceAll('\u0000', '\uFFFD');

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
