import { DomainError, duplicate, type FieldError, invalidField, notFound } from '../../platform/errors.ts';

/** Stable codes of the service level management module. */
export const SlaErrors = {
  serviceNotFound: (id: string) => notFound('SLA_SERVICE_NOT_FOUND', 'Service', id),
  calendarNotFound: (id: string) => notFound('SLA_CALENDAR_NOT_FOUND', 'Calendar', id),
  agreementNotFound: (id: string) => notFound('SLA_AGREEMENT_NOT_FOUND', 'Agreement', id),
  serviceCodeTaken: (code: string) => duplicate('SLA_SERVICE_CODE_TAKEN', 'code', code),
  invalid: (code: string, errors: FieldError[]) =>
    new DomainError(code, 'invalid', errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '), {}, errors),
  field: (code: string, field: string, detail: string) => invalidField(code, field, detail),
  transition: (action: string, status: string, allowed: string[]) =>
    new DomainError(
      'SLA_AGREEMENT_TRANSITION_NOT_ALLOWED',
      'conflict',
      `Cannot ${action} an agreement that is ${status}`,
      {
        currentStatus: status,
        allowedActions: allowed,
      },
    ),
  changeReasonRequired: () =>
    invalidField(
      'SLA_CHANGE_REASON_REQUIRED',
      'changeReason',
      'changing an active agreement needs a changeReason (the change sub-process)',
    ),
};
