import { DomainError, type FieldError, invalidField, notFound } from '../../platform/errors.ts';

/** Stable codes of the reports module. */
export const ReportErrors = {
  definitionNotFound: (id: string) => notFound('REPORTS_DEFINITION_NOT_FOUND', 'Report definition', id),
  runNotFound: (id: string) => notFound('REPORTS_RUN_NOT_FOUND', 'Report run', id),
  invalid: (errors: FieldError[]) =>
    new DomainError(
      'REPORTS_INVALID_DEFINITION',
      'invalid',
      `Invalid report definition: ${errors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`,
      {},
      errors,
    ),
  badPeriod: (period: string, kind: string, example: string) =>
    invalidField(
      'REPORTS_INVALID_PERIOD',
      'period',
      `"${period}" is not a ${kind} period of this definition; expected e.g. ${example}`,
    ),
  notReady: (status: string) =>
    new DomainError(
      'REPORTS_RUN_NOT_READY',
      'conflict',
      `The report is ${status}; renderings exist once it has completed`,
      {
        status,
      },
    ),
  unknownSection: (key: string, known: string[]) =>
    new DomainError('REPORTS_UNKNOWN_SECTION', 'invalid', `The run has no section "${key}"`, {}, [
      { in: 'query', pointer: '/section', detail: `must be one of ${known.join(', ')}` },
    ]),
  sectionRequired: (known: string[]) =>
    new DomainError('REPORTS_SECTION_REQUIRED', 'invalid', 'CSV holds one section: add &section=<key>', {}, [
      { in: 'query', pointer: '/section', detail: `is required with format=csv; one of ${known.join(', ')}` },
    ]),
  unknownTable: (name: string, known: string[]) =>
    new DomainError('REPORTS_UNKNOWN_TABLE', 'invalid', `The section has no table "${name}"`, {}, [
      { in: 'query', pointer: '/table', detail: `must be one of ${known.join(', ')}` },
    ]),
};
