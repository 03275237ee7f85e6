import { type Static, type TSchema, type TUnsafe, Type } from 'typebox';

/** A string enumeration rendered as `{type: string, enum: [...]}` (what OpenAPI tools expect). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const IdParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) });
export type IdParams = Static<typeof IdParamsSchema>;

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Timestamp = (description?: string) =>
  Type.String({ format: 'date-time', ...(description ? { description } : {}) });

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'ETag of the version this change is based on' })),
});

/** Dates leave the API as ISO 8601 UTC strings. */
export const iso = (date: Date | string): string =>
  date instanceof Date ? date.toISOString() : new Date(date).toISOString();
export const isoOrNull = (date: Date | string | null): string | null => (date === null ? null : iso(date));
