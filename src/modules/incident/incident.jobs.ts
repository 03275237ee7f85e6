import { Type } from 'typebox';
import type { JobDefinition, ScheduleDefinition } from '../../platform/jobs.ts';
import { createIncidentService } from './incident.service.ts';

/** Closes resolved incidents whose call-back went unanswered for `autoCloseDays`. */
export const autoCloseJob: JobDefinition<Record<string, never>> = {
  queue: 'incident',
  name: 'incident.auto-close',
  payload: Type.Object({}),
  async process(_data, { db, log }) {
    const result = await createIncidentService({ db }).autoCloseExpired();
    if (result.closed || result.failed) log.info(result, 'auto-closed unconfirmed incidents');
    return result;
  },
};

export const incidentSchedules: ScheduleDefinition[] = [
  { id: 'incident.auto-close', job: autoCloseJob.name, cron: '0 */5 * * * *', timeZone: 'UTC' },
];
