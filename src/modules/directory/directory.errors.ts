import { DomainError, duplicate, invalidField, notFound } from '../../platform/errors.ts';

/** Stable codes of the directory module (see README, "Error codes"). */
export const DirectoryErrors = {
  customerNotFound: (id: string) => notFound('DIRECTORY_CUSTOMER_NOT_FOUND', 'Customer', id),
  personNotFound: (id: string) => notFound('DIRECTORY_PERSON_NOT_FOUND', 'Person', id),
  groupNotFound: (id: string) => notFound('DIRECTORY_GROUP_NOT_FOUND', 'Group', id),
  duplicateCode: (code: string) => duplicate('DIRECTORY_CUSTOMER_CODE_TAKEN', 'code', code),
  duplicateEmail: (email: string) => duplicate('DIRECTORY_EMAIL_TAKEN', 'email', email),
  duplicateGroupName: (name: string) => duplicate('DIRECTORY_GROUP_NAME_TAKEN', 'name', name),
  contactNeedsCustomer: () =>
    invalidField(
      'DIRECTORY_CONTACT_NEEDS_CUSTOMER',
      'customerId',
      'a contact belongs to a customer: give customerId',
    ),
  agentHasNoCustomer: () =>
    invalidField(
      'DIRECTORY_AGENT_HAS_NO_CUSTOMER',
      'customerId',
      'agents are provider staff and have no customer',
    ),
  unknownCustomer: (id: string) =>
    invalidField('DIRECTORY_UNKNOWN_CUSTOMER', 'customerId', `no customer ${id}`),
  notAgents: (ids: string[], all: readonly string[]) =>
    new DomainError(
      'DIRECTORY_MEMBER_NOT_AGENT',
      'invalid',
      'group members must be active agents',
      {},
      ids.map((id) => ({
        in: 'body' as const,
        pointer: `/memberIds/${all.indexOf(id)}`,
        detail: `${id} is not an active agent`,
      })),
    ),
};
