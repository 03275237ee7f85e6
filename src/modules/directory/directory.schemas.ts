import { type Static, Type } from 'typebox';
import { listQuery, sortQuery } from '../../platform/paging.ts';
import { Nullable, StringEnum, Timestamp } from '../../platform/schemas.ts';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Phone = Type.String({ minLength: 1, maxLength: 50 });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Uuid = Type.String({ format: 'uuid' });

export const CUSTOMER_STATUSES = ['active', 'inactive'] as const;
export const PERSON_KINDS = ['agent', 'contact'] as const;

// ---- customers -------------------------------------------------------------------------------
export const CustomerSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `CUS-000001`' }),
  code: Type.String({ description: 'Short unique code (case-insensitive)' }),
  name: Type.String(),
  status: StringEnum(CUSTOMER_STATUSES),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  notes: Nullable(Type.String()),
  version: Type.Integer({ description: 'Increases with every change; send it back in If-Match' }),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Customer = Static<typeof CustomerSchema>;

const customerFields = {
  code: Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$',
    description: 'Letters, digits, - and _; at most 32',
  }),
  name: Name,
  status: StringEnum(CUSTOMER_STATUSES),
  email: Nullable(Email),
  phone: Nullable(Phone),
  notes: Nullable(Type.String({ maxLength: 4000 })),
};

export const CustomerCreateSchema = Type.Object(
  {
    code: customerFields.code,
    name: customerFields.name,
    status: Type.Optional(customerFields.status),
    email: Type.Optional(customerFields.email),
    phone: Type.Optional(customerFields.phone),
    notes: Type.Optional(customerFields.notes),
  },
  { additionalProperties: false },
);
export type CustomerCreate = Static<typeof CustomerCreateSchema>;

export const CustomerPatchSchema = Type.Partial(Type.Object(customerFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type CustomerPatch = Static<typeof CustomerPatchSchema>;

export const CustomerListQuerySchema = listQuery({
  status: Type.Optional(StringEnum(CUSTOMER_STATUSES)),
  code: Type.Optional(Type.String({ maxLength: 32 })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Matches name or code' })),
  sort: sortQuery(['createdAt', 'name', 'code'], 'createdAt'),
});
export type CustomerListQuery = Static<typeof CustomerListQuerySchema>;

// ---- people ----------------------------------------------------------------------------------
export const PersonSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `PER-000001`' }),
  name: Type.String(),
  email: Type.String(),
  phone: Nullable(Type.String()),
  kind: StringEnum(PERSON_KINDS, {
    description: "`agent` (provider staff) or `contact` (a customer's person)",
  }),
  customerId: Nullable(Uuid),
  department: Nullable(Type.String()),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Person = Static<typeof PersonSchema>;

export const PersonCreateSchema = Type.Object(
  {
    name: Name,
    email: Email,
    kind: StringEnum(PERSON_KINDS),
    customerId: Type.Optional(Nullable(Uuid)),
    phone: Type.Optional(Nullable(Phone)),
    department: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type PersonCreate = Static<typeof PersonCreateSchema>;

export const PersonPatchSchema = Type.Object(
  {
    name: Type.Optional(Name),
    email: Type.Optional(Email),
    phone: Type.Optional(Nullable(Phone)),
    department: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PersonPatch = Static<typeof PersonPatchSchema>;

export const PersonListQuerySchema = listQuery({
  kind: Type.Optional(StringEnum(PERSON_KINDS)),
  customerId: Type.Optional(Uuid),
  active: Type.Optional(Type.Boolean()),
  email: Type.Optional(Type.String({ maxLength: 254 })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Matches name or email' })),
  sort: sortQuery(['createdAt', 'name'], 'createdAt'),
});
export type PersonListQuery = Static<typeof PersonListQuerySchema>;

// ---- assignment groups -----------------------------------------------------------------------
const Tier = Type.Integer({
  minimum: 1,
  maximum: 3,
  description: '1 = service desk, 2 = second line, 3 = specialists/suppliers',
});
const MemberIds = Type.Array(Uuid, { maxItems: 500, uniqueItems: true, description: 'Agents in the group' });

export const GroupSchema = Type.Object({
  id: Uuid,
  ref: Type.String({ description: 'Human reference, `GRP-000001`' }),
  name: Type.String(),
  tier: Type.Integer(),
  description: Nullable(Type.String()),
  email: Nullable(Type.String()),
  active: Type.Boolean(),
  memberIds: Type.Array(Uuid),
  version: Type.Integer(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Group = Static<typeof GroupSchema>;

export const GroupCreateSchema = Type.Object(
  {
    name: Name,
    tier: Tier,
    description: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
    email: Type.Optional(Nullable(Email)),
    active: Type.Optional(Type.Boolean()),
    memberIds: Type.Optional(MemberIds),
  },
  { additionalProperties: false },
);
export type GroupCreate = Static<typeof GroupCreateSchema>;

export const GroupPatchSchema = Type.Object(
  {
    name: Type.Optional(Name),
    tier: Type.Optional(Tier),
    description: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
    email: Type.Optional(Nullable(Email)),
    active: Type.Optional(Type.Boolean()),
    memberIds: Type.Optional(MemberIds),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type GroupPatch = Static<typeof GroupPatchSchema>;

export const GroupListQuerySchema = listQuery({
  tier: Type.Optional(Tier),
  active: Type.Optional(Type.Boolean()),
  memberId: Type.Optional(Uuid),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  sort: sortQuery(['createdAt', 'name', 'tier'], 'createdAt'),
});
export type GroupListQuery = Static<typeof GroupListQuerySchema>;
