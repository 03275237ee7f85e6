import { type Static, Type } from 'typebox';
import { ROLES } from '../context.ts';
import { StringEnum } from '../schemas.ts';

export const RoleSchema = StringEnum(ROLES, { description: 'What the key may do' });

export const ApiKeySchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  role: RoleSchema,
  customerId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
    description: 'The one customer this key is limited to, or null',
  }),
  tokenPrefix: Type.String({ description: 'First characters of the token, to recognise it' }),
  bootstrap: Type.Boolean({ description: 'The key BOOTSTRAP_ADMIN_TOKEN maintains' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type ApiKey = Static<typeof ApiKeySchema>;

export const ApiKeyCreatedSchema = Type.Object({
  ...ApiKeySchema.properties,
  token: Type.String({ description: 'The secret; shown only in this response' }),
});

export const ApiKeyCreateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: RoleSchema,
    customerId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type ApiKeyCreate = Static<typeof ApiKeyCreateSchema>;

export const ApiKeyListQuerySchema = Type.Object({
  role: Type.Optional(RoleSchema),
  customerId: Type.Optional(Type.String({ format: 'uuid' })),
  includeRevoked: Type.Optional(Type.Boolean({ default: false })),
});
