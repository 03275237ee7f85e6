import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ worker: true });
});
afterAll(async () => {
  await t?.close();
});

it('the auto-close job, run by the real worker, closes incidents whose call-back expired', async () => {
  const customerId = (
    await t.request('POST', '/api/v1/customers', { body: { name: 'Jobs Co', code: 'JOBS' } })
  ).json().id;
  const incident = (
    await t.request('POST', '/api/v1/incidents', { body: { title: '无响应', customerId } })
  ).json();
  await t.request('POST', `/api/v1/incidents/${incident.id}/resolve`, {
    body: { resolutionCode: 'fixed', resolutionNotes: 'ok' },
  });
  await sql`UPDATE incident_confirmations SET expires_at = now() - interval '1 minute'`.execute(t.db);

  const queue = t.resources.queues.get('incident');
  const job = await queue.add('incident.auto-close', {}, { jobId: 'auto-close-test' });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !(await job.isCompleted())) await new Promise((r) => setTimeout(r, 100));
  expect(await job.isCompleted()).toBe(true);

  const got = (await t.request('GET', `/api/v1/incidents/${incident.id}`)).json();
  expect(got).toMatchObject({ status: 'closed', closeReason: 'auto_closed' });
  const scheduler = await queue.getJobScheduler('incident.auto-close');
  expect(scheduler?.pattern).toBe('0 */5 * * * *');
});
