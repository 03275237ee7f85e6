import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FieldError } from '../../platform/errors.ts';
import { fieldErrors } from '../../platform/problems.ts';

/**
 * Request-item forms: a JSON Schema per catalogue item, compiled with Ajv (unknown keywords are
 * errors, so a typo such as `requird` is not silently ignored), and the answers of a request
 * checked against it. No I/O.
 */

/** Upper bound on a form schema's serialised size. */
export const MAX_FORM_SCHEMA_BYTES = 64 * 1024;

export type FormCompilation = { ok: true; validate: ValidateFunction } | { ok: false; detail: string };

/**
 * Compiles a form schema. A fresh Ajv per compilation: schemas may carry their own `$id`, and a
 * shared instance would clash on it and keep every schema it ever saw.
 */
export function compileForm(schema: Record<string, unknown>): FormCompilation {
  if (Buffer.byteLength(JSON.stringify(schema)) > MAX_FORM_SCHEMA_BYTES) {
    return { ok: false, detail: `must be at most ${MAX_FORM_SCHEMA_BYTES} bytes` };
  }
  if (schema.type !== 'object') {
    return {
      ok: false,
      detail: 'must be a JSON Schema with "type": "object" at its root (answers are an object)',
    };
  }
  // Unknown keywords and formats are errors; the type/required/tuple hygiene checks are not
  // (they reject ordinary form schemas, e.g. a `required` inside `then`).
  const ajv = new Ajv({
    allErrors: true,
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    logger: false,
  });
  addFormats.default(ajv);
  try {
    return { ok: true, validate: ajv.compile(schema) };
  } catch (err) {
    return { ok: false, detail: `is not a valid JSON Schema: ${(err as Error).message}` };
  }
}

/** The bad answers, each as a field error whose pointer is `/answers/<path>`. */
export function answerErrors(validate: ValidateFunction, answers: Record<string, unknown>): FieldError[] {
  if (validate(answers)) return [];
  const errors = fieldErrors((validate.errors ?? []) as ErrorObject[], 'body');
  return errors.map((e) => ({ ...e, pointer: e.pointer === '/' ? '/answers' : `/answers${e.pointer}` }));
}

/** Compiled forms by item id and version: compiling costs milliseconds, checking microseconds. */
export class FormCache {
  private readonly entries = new Map<string, ValidateFunction>();
  constructor(private readonly max = 200) {}

  get(itemId: string, version: number, schema: Record<string, unknown>): FormCompilation {
    const key = `${itemId}:${version}`;
    const hit = this.entries.get(key);
    if (hit) return { ok: true, validate: hit };
    const compiled = compileForm(schema);
    if (compiled.ok) {
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, compiled.validate);
    }
    return compiled;
  }
}
