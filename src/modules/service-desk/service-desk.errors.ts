import { DomainError, duplicate, type FieldError, invalidField, notFound } from '../../platform/errors.ts';
import type { ArticleAction, ArticleStatus, RequestAction, RequestStatus } from './service-desk.workflow.ts';

/**
 * Stable codes of the service-desk module (see README, "Error codes"). Refused transitions name the
 * record's status as `currentStatus`: problem+json's own `status` member is the HTTP status.
 */
export const ServiceDeskErrors = {
  // routing rules
  ruleNotFound: (id: string) => notFound('SERVICE_DESK_RULE_NOT_FOUND', 'Routing rule', id),
  duplicatePosition: (position: number) =>
    duplicate('SERVICE_DESK_RULE_POSITION_TAKEN', 'position', String(position)),
  unknownGroup: (id: string) =>
    invalidField('SERVICE_DESK_UNKNOWN_GROUP', 'groupId', `no assignment group ${id}`),
  inactiveGroup: (id: string) =>
    invalidField('SERVICE_DESK_INACTIVE_GROUP', 'groupId', `assignment group ${id} is not active`),

  // request catalogue
  itemNotFound: (id: string) => notFound('SERVICE_DESK_ITEM_NOT_FOUND', 'Request item', id),
  duplicateItemCode: (code: string) => duplicate('SERVICE_DESK_ITEM_CODE_TAKEN', 'code', code),
  invalidFormSchema: (detail: string) =>
    invalidField('SERVICE_DESK_INVALID_FORM_SCHEMA', 'formSchema', `formSchema ${detail}`),
  notAgents: (ids: string[], all: readonly string[]) =>
    new DomainError(
      'SERVICE_DESK_APPROVER_NOT_AGENT',
      'invalid',
      'approvers must be active agents',
      {},
      ids.map((id) => ({
        in: 'body' as const,
        pointer: `/approverIds/${all.indexOf(id)}`,
        detail: `${id} is not an active agent`,
      })),
    ),
  approverNeeded: () =>
    invalidField(
      'SERVICE_DESK_APPROVER_REQUIRED',
      'approverIds',
      'an item that needs approval names at least one approver',
    ),

  // service requests
  requestNotFound: (id: string) => notFound('SERVICE_DESK_REQUEST_NOT_FOUND', 'Service request', id),
  unknownItem: (id: string) => invalidField('SERVICE_DESK_UNKNOWN_ITEM', 'itemId', `no request item ${id}`),
  inactiveItem: (id: string) =>
    invalidField('SERVICE_DESK_ITEM_INACTIVE', 'itemId', `request item ${id} is not offered (inactive)`),
  unknownCustomer: (id: string) =>
    invalidField('SERVICE_DESK_UNKNOWN_CUSTOMER', 'customerId', `no customer ${id}`),
  unknownRequester: (id: string) =>
    invalidField(
      'SERVICE_DESK_UNKNOWN_REQUESTER',
      'requesterId',
      `no active person ${id} who may request for this customer (a contact of it, or an agent)`,
    ),
  customerNeeded: () =>
    invalidField(
      'SERVICE_DESK_CUSTOMER_REQUIRED',
      'customerId',
      'give customerId (only customer-bound keys may leave it out)',
    ),
  invalidAnswers: (errors: FieldError[]) =>
    new DomainError(
      'SERVICE_DESK_INVALID_ANSWERS',
      'invalid',
      `The answers do not match the item's form: ${errors.map((e) => e.pointer).join(', ')}`,
      {},
      errors,
    ),
  transitionNotAllowed: (action: RequestAction, status: RequestStatus, allowedActions: RequestAction[]) =>
    new DomainError(
      'SERVICE_DESK_TRANSITION_NOT_ALLOWED',
      'conflict',
      `Cannot ${action} a service request in status ${status}; allowed: ${allowedActions.join(', ') || 'none'}`,
      { currentStatus: status, allowedActions },
    ),
  approvalNotRequired: (action: RequestAction, status: RequestStatus, allowedActions: RequestAction[]) =>
    new DomainError(
      'SERVICE_DESK_APPROVAL_NOT_REQUIRED',
      'conflict',
      `Cannot ${action} a service request in status ${status}: its item needs no approval; allowed: ${allowedActions.join(', ') || 'none'}`,
      { currentStatus: status, allowedActions },
    ),

  // knowledge base
  articleNotFound: (id: string) => notFound('SERVICE_DESK_ARTICLE_NOT_FOUND', 'Knowledge article', id),
  articleTransitionNotAllowed: (
    action: ArticleAction,
    status: ArticleStatus,
    allowedActions: ArticleAction[],
  ) =>
    new DomainError(
      'SERVICE_DESK_ARTICLE_TRANSITION_NOT_ALLOWED',
      'conflict',
      `Cannot ${action} an article in status ${status}; allowed: ${allowedActions.join(', ') || 'none'}`,
      { currentStatus: status, allowedActions },
    ),
  relevanceNeedsQuery: () =>
    invalidField('SERVICE_DESK_RELEVANCE_NEEDS_QUERY', 'sort', 'sort by relevance needs q', 'query'),
  linkNotFound: (articleId: string, incidentId: string) =>
    new DomainError(
      'SERVICE_DESK_LINK_NOT_FOUND',
      'not_found',
      `Article ${articleId} is not linked to incident ${incidentId}`,
      { id: articleId, incidentId },
    ),
};
