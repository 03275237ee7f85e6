import type { IncidentStatus } from '../../db/schema.ts';
import { DomainError, invalidField, notFound } from '../../platform/errors.ts';
import { allowedActions, type IncidentAction } from './lifecycle.ts';

/** Stable codes of the incident module. */
export const IncidentErrors = {
  notFound: (id: string) => notFound('INCIDENT_NOT_FOUND', 'Incident', id),
  transitionNotAllowed: (action: IncidentAction, status: IncidentStatus) =>
    new DomainError(
      'INCIDENT_TRANSITION_NOT_ALLOWED',
      'conflict',
      `Cannot ${action} an incident that is ${status}; allowed: ${allowedActions(status).join(', ') || 'none'}`,
      { currentStatus: status, action, allowedActions: allowedActions(status) },
    ),
  unknownCustomer: (id: string) =>
    invalidField('INCIDENT_UNKNOWN_CUSTOMER', 'customerId', `no customer ${id}`),
  badRequester: (detail: string) => invalidField('INCIDENT_BAD_REQUESTER', 'requesterId', detail),
  unknownService: (id: string) =>
    invalidField('INCIDENT_UNKNOWN_SERVICE', 'serviceId', `no service ${id} in the catalogue`),
  unknownCategory: (code: string) =>
    invalidField('INCIDENT_UNKNOWN_CATEGORY', 'category', `no active category ${code}`),
  badGroup: (detail: string, field = 'groupId') => invalidField('INCIDENT_BAD_GROUP', field, detail),
  badAssignee: (detail: string) => invalidField('INCIDENT_BAD_ASSIGNEE', 'assigneeId', detail),
  unknownResolutionCode: (code: string, known: string[]) =>
    invalidField(
      'INCIDENT_UNKNOWN_RESOLUTION_CODE',
      'resolutionCode',
      `${code} is not one of ${known.join(', ')}`,
    ),
  priorityNeedsReason: () =>
    invalidField(
      'INCIDENT_PRIORITY_REASON_REQUIRED',
      'priorityReason',
      'overriding the matrix priority needs a reason',
    ),
  noNextTier: (tier: number) =>
    new DomainError(
      'INCIDENT_NO_NEXT_TIER',
      'conflict',
      `No active group of a tier above ${tier} to escalate to`,
      { tier },
    ),
  reopenWindowPassed: (days: number) =>
    new DomainError(
      'INCIDENT_REOPEN_WINDOW_PASSED',
      'conflict',
      `Incidents can be reopened within ${days} days of resolution`,
      {
        reopenWindowDays: days,
      },
    ),
  badChild: (detail: string) => invalidField('INCIDENT_BAD_CHILD', 'childId', detail),
  notMajor: () =>
    new DomainError(
      'INCIDENT_NOT_MAJOR',
      'conflict',
      'Only a major incident takes child incidents and communications',
    ),
  attachmentNotFound: (id: string) => notFound('INCIDENT_ATTACHMENT_NOT_FOUND', 'Attachment', id),
  attachmentMissing: () =>
    invalidField('INCIDENT_ATTACHMENT_MISSING', 'file', 'send the file as multipart/form-data field "file"'),
  attachmentTooLarge: (limit: number) =>
    new DomainError(
      'INCIDENT_ATTACHMENT_TOO_LARGE',
      'payload_too_large',
      `Attachments are limited to ${limit} bytes`,
      {
        limitBytes: limit,
      },
    ),
  confirmationNotFound: () => notFound('INCIDENT_CONFIRMATION_NOT_FOUND', 'Confirmation', '(token)'),
  confirmationClosed: (outcome: string) =>
    new DomainError(
      'INCIDENT_CONFIRMATION_CLOSED',
      'conflict',
      `This confirmation is already closed (${outcome})`,
      { outcome },
    ),
  categoryNotFound: (code: string) => notFound('INCIDENT_CATEGORY_NOT_FOUND', 'Category', code),
  categoryTaken: (code: string) =>
    new DomainError('INCIDENT_CATEGORY_TAKEN', 'conflict', `category ${code} exists`, {}, [
      { in: 'body', pointer: '/code', detail: 'already in use' },
    ]),
  unknownParentCategory: (code: string) =>
    invalidField('INCIDENT_UNKNOWN_CATEGORY', 'parentCode', `no category ${code}`),
};
