import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
let customerId: string;
let serviceId: string;
let calendarId: string;

const post = (url: string, body: unknown, token?: string) => t.request('POST', url, { body, token });

async function activeSla(extra: Record<string, unknown> = {}) {
  const created = await post('/api/v1/slas', {
    name: '邮件服务 SLA',
    kind: 'sla',
    customerId,
    serviceIds: [serviceId],
    calendarId,
    validFrom: '2026-01-01',
    validTo: '2027-12-31',
    targets: [
      { priority: 'P1', metric: 'response', duration: 'PT20S' },
      { priority: 'P1', metric: 'resolution', duration: 'PT1H' },
    ],
    warnings: [{ percent: 50 }, { before: 'PT10M' }],
    pauseOn: [{ status: 'pending', reason: 'customer' }],
    ...extra,
  });
  expect(created.statusCode, created.body).toBe(201);
  expect(created.json().status).toBe('draft');
  const activated = await post(`/api/v1/slas/${created.json().id}/activate`, {});
  expect(activated.statusCode, activated.body).toBe(200);
  expect(activated.json().status).toBe('active');
  return activated.json();
}

beforeAll(async () => {
  t = await startTestApp();
  customerId = (await post('/api/v1/customers', { name: 'Acme 甲方', code: 'ACME' })).json().id;
  serviceId = (await post('/api/v1/services', { code: 'mail', name: '邮件服务' })).json().id;
  const calendar = await post('/api/v1/calendars', {
    name: '24x7',
    timeZone: 'Asia/Shanghai',
    alwaysOpen: true,
  });
  expect(calendar.statusCode, calendar.body).toBe(201);
  calendarId = calendar.json().id;
});
afterAll(async () => {
  await t?.close();
});

describe('agreements', () => {
  it('accepts the contract shape and gives an incident clocks', async () => {
    const sla = await activeSla();
    const incident = (
      await post('/api/v1/incidents', {
        title: '邮件发不出去',
        customerId,
        serviceId,
        impact: 'high',
        urgency: 'high',
      })
    ).json();
    const res = await t.request('GET', `/api/v1/incidents/${incident.id}/sla`);
    expect(res.statusCode, res.body).toBe(200);
    const clocks = res.json().clocks;
    expect(clocks).toHaveLength(2);
    const response = clocks.find((c: { metric: string }) => c.metric === 'response');
    expect(response).toMatchObject({
      agreementId: sla.id,
      state: 'running',
      target: 'PT20S',
      targetSeconds: 20,
      breachedAt: null,
      warningsReached: [],
    });
    expect(response.remainingSeconds).toBeLessThanOrEqual(20);
    expect(Date.parse(response.dueAt) - Date.parse(incident.reportedAt)).toBe(20_000);

    const explain = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla/explain`)).json();
    expect(explain.clocks[0].segments[0]).toMatchObject({ kind: 'counted' });

    // pause on pending(customer); the response was met by start
    await post(`/api/v1/incidents/${incident.id}/start`, {});
    await post(`/api/v1/incidents/${incident.id}/pend`, { reason: 'customer' });
    const paused = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla`)).json().clocks;
    expect(paused.find((c: { metric: string }) => c.metric === 'response').state).toBe('met');
    const resolution = paused.find((c: { metric: string }) => c.metric === 'resolution');
    expect(resolution.state).toBe('paused');
    expect(resolution.dueAt).toBeNull();
    const segments = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla/explain`))
      .json()
      .clocks.find((c: { metric: string }) => c.metric === 'resolution').segments;
    expect(segments.at(-1)).toMatchObject({ kind: 'paused', reason: 'pending:customer' });
  });

  it('refuses unknown services, calendars and bad durations with pointers', async () => {
    const res = await post('/api/v1/slas', {
      name: 'bad',
      kind: 'sla',
      customerId,
      serviceIds: ['00000000-0000-4000-8000-000000000000'],
      calendarId,
      validFrom: '2026-01-01',
      targets: [{ priority: 'P1', metric: 'response', duration: 'PT0S' }],
    });
    expect(res.statusCode).toBe(400);
    const pointers = res.json().errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toContain('/serviceIds/0');
    expect(pointers).toContain('/targets/0/duration');
  });
});

describe('catalogue, calendars and agreement lifecycle', () => {
  it('validates calendars with pointers and imports the China holidays', async () => {
    const bad = await post('/api/v1/calendars', {
      name: 'bad',
      timeZone: 'Mars/Olympus',
      workingHours: [
        { day: 'mon', from: '09:00', to: '12:00' },
        { day: 'mon', from: '11:00', to: '13:00' },
      ],
    });
    expect(bad.statusCode).toBe(400);
    const pointers = bad.json().errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toContain('/timeZone');
    const shape = await post('/api/v1/calendars', {
      name: 'x',
      timeZone: 'Asia/Shanghai',
      workingHours: [{ day: 'mon', from: '25:00', to: '12:00' }],
    });
    expect(shape.statusCode).toBe(400);

    const calendar = (
      await post('/api/v1/calendars', {
        name: '5x8 午休',
        timeZone: 'Asia/Shanghai',
        workingHours: ['mon', 'tue', 'wed', 'thu', 'fri'].flatMap((day) => [
          { day, from: '09:00', to: '12:00' },
          { day, from: '13:00', to: '18:00' },
        ]),
        exceptions: [
          { date: '2026-10-01', kind: 'holiday' },
          { date: '2026-10-11', kind: 'workday', hours: [{ from: '09:00', to: '18:00' }] },
        ],
      })
    ).json();
    const imported = await post(`/api/v1/calendars/${calendar.id}/exceptions`, {
      holidays: { country: 'CN', year: 2026 },
    });
    expect(imported.statusCode, imported.body).toBe(200);
    const exceptions = imported.json().calendar.exceptions;
    // The calendar's own 10-01 and 10-11 entries are kept; the shipped ones are added around them.
    expect(exceptions.find((e: { date: string }) => e.date === '2026-10-11')).toMatchObject({
      kind: 'workday',
    });
    expect(exceptions.find((e: { date: string }) => e.date === '2026-02-16')).toMatchObject({
      kind: 'holiday',
    });
    expect(exceptions.find((e: { date: string }) => e.date === '2026-09-20')).toMatchObject({
      kind: 'workday',
    });
  });

  it('records changes, reviews and termination with reason and actor, and limits the review date', async () => {
    const sla = await activeSla({ name: '生命周期 SLA' });
    let res = await t.request('PATCH', `/api/v1/slas/${sla.id}`, { body: { name: '改名' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].pointer).toBe('/changeReason');
    res = await t.request('PATCH', `/api/v1/slas/${sla.id}`, {
      body: { name: '改名', changeReason: '客户要求' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const tooFar = await post(`/api/v1/slas/${sla.id}/review`, {
      notes: '年度评审',
      nextReviewAt: '2099-01-01',
    });
    expect(tooFar.statusCode).toBe(400);
    const next = new Date(Date.now() + 180 * 86_400_000).toISOString().slice(0, 10);
    res = await post(`/api/v1/slas/${sla.id}/review`, { notes: '年度评审', nextReviewAt: next });
    expect(res.json().nextReviewAt).toBe(next);
    expect((await post(`/api/v1/slas/${sla.id}/activate`, {})).statusCode).toBe(409);
    expect((await post(`/api/v1/slas/${sla.id}/terminate`, {})).statusCode).toBe(400);
    res = await post(`/api/v1/slas/${sla.id}/terminate`, { reason: '合同终止' });
    expect(res.json().status).toBe('terminated');
    const history = (await t.request('GET', `/api/v1/slas/${sla.id}/history`)).json().items;
    expect(history.map((h: { type: string }) => h.type)).toEqual([
      'created',
      'activated',
      'changed',
      'reviewed',
      'terminated',
    ]);
    expect(history.find((h: { type: string }) => h.type === 'changed')).toMatchObject({ reason: '客户要求' });
    expect(history.find((h: { type: string }) => h.type === 'terminated')).toMatchObject({
      reason: '合同终止',
    });
  });

  it('keeps met clocks and re-derives running ones only on recompute; reports compliance', async () => {
    const c = (await post('/api/v1/customers', { name: 'Recompute Co', code: 'RCMP' })).json().id;
    const svc = (await post('/api/v1/services', { code: 'erp', name: 'ERP' })).json().id;
    const cal = (
      await post('/api/v1/calendars', { name: 'always', timeZone: 'UTC', alwaysOpen: true })
    ).json();
    const agreement = (
      await post('/api/v1/slas', {
        name: 'ERP SLA',
        kind: 'sla',
        customerId: c,
        serviceIds: [svc],
        calendarId: cal.id,
        validFrom: '2026-01-01',
        targets: [
          { priority: '*', metric: 'response', duration: 'PT1H' },
          { priority: '*', metric: 'resolution', duration: 'PT8H' },
        ],
      })
    ).json();
    await post(`/api/v1/slas/${agreement.id}/activate`, {});
    const incident = (
      await post('/api/v1/incidents', { title: 'ERP 慢', customerId: c, serviceId: svc })
    ).json();
    await post(`/api/v1/incidents/${incident.id}/start`, {});
    const { createClockEngine } = await import('../../../src/modules/sla/index.ts');
    await createClockEngine({ db: t.db }).recompute('incident', incident.id, 'test');

    // The calendar becomes 5x8 in New York: the running resolution clock keeps its snapshot...
    await t.request('PATCH', `/api/v1/calendars/${cal.id}`, {
      body: {
        alwaysOpen: false,
        timeZone: 'America/New_York',
        workingHours: [{ day: 'mon', from: '09:00', to: '10:00' }],
      },
    });
    const before = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla`)).json().clocks;
    const resolutionBefore = before.find((x: { metric: string }) => x.metric === 'resolution');
    expect(Date.parse(resolutionBefore.dueAt) - Date.parse(incident.reportedAt)).toBe(8 * 3_600_000);
    // ...until recompute, which leaves the met response clock alone.
    const recomputed = await post(`/api/v1/slas/${agreement.id}/recompute`, {});
    expect(recomputed.statusCode, recomputed.body).toBe(200);
    expect(recomputed.json()).toMatchObject({ tickets: 1, clocks: 1 });
    const after = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla`)).json().clocks;
    expect(after.find((x: { metric: string }) => x.metric === 'response').state).toBe('met');
    const resolutionAfter = after.find((x: { metric: string }) => x.metric === 'resolution');
    expect(Date.parse(resolutionAfter.dueAt) - Date.parse(incident.reportedAt)).toBeGreaterThan(
      8 * 3_600_000,
    );

    const compliance = (await t.request('GET', `/api/v1/slas/${agreement.id}/compliance`)).json();
    const response = compliance.targets.find((x: { metric: string }) => x.metric === 'response');
    expect(response).toMatchObject({ measured: 1, met: 1, breached: 0, percentMet: 100, target: 'PT1H' });
  });

  it('seeds a 5x8 calendar and a default 2h/24h SLA that applies to customers without their own', async () => {
    const { seedDefaults } = await import('../../../src/modules/sla/index.ts');
    const fresh = await startTestApp();
    try {
      expect(await seedDefaults(fresh.db)).toBe(true);
      expect(await seedDefaults(fresh.db)).toBe(false);
      const c = (
        await fresh.request('POST', '/api/v1/customers', { body: { name: 'New Co', code: 'NEW' } })
      ).json().id;
      const incident = (
        await fresh.request('POST', '/api/v1/incidents', { body: { title: '第一张单', customerId: c } })
      ).json();
      const clocks = (await fresh.request('GET', `/api/v1/incidents/${incident.id}/sla`)).json().clocks;
      expect(clocks.map((x: { metric: string; target: string }) => `${x.metric}:${x.target}`).sort()).toEqual(
        ['resolution:PT24H', 'response:PT2H'],
      );
      expect(clocks[0].agreementName).toContain('Default SLA');
    } finally {
      await fresh.close();
    }
  });
});

describe('service requests', () => {
  it('have clocks too, measured as P4, met by the first decision and by fulfilment', async () => {
    const c = (await post('/api/v1/customers', { name: 'Req Co', code: 'REQCO' })).json().id;
    const cal = (
      await post('/api/v1/calendars', { name: '24x7 req', timeZone: 'UTC', alwaysOpen: true })
    ).json().id;
    const agreement = (
      await post('/api/v1/slas', {
        name: 'Request SLA',
        kind: 'sla',
        customerId: c,
        calendarId: cal,
        validFrom: '2026-01-01',
        targets: [
          { priority: '*', metric: 'response', duration: 'PT4H' },
          { priority: 'P4', metric: 'resolution', duration: 'P2D' },
        ],
      })
    ).json();
    await post(`/api/v1/slas/${agreement.id}/activate`, {});
    const item = (
      await post('/api/v1/request-items', {
        code: 'laptop',
        name: '笔记本申请',
        formSchema: { type: 'object' },
      })
    ).json();
    expect(item.id).toBeDefined();
    const request = await post('/api/v1/service-requests', { itemId: item.id, customerId: c, answers: {} });
    expect(request.statusCode, request.body).toBe(201);
    const id = request.json().id;
    let clocks = (await t.request('GET', `/api/v1/service-requests/${id}/sla`)).json().clocks;
    expect(
      clocks
        .map((x: { metric: string; state: string; target: string }) => `${x.metric}:${x.state}:${x.target}`)
        .sort(),
    ).toEqual(['resolution:running:PT48H', 'response:running:PT4H']);
    await post(`/api/v1/service-requests/${id}/start`, {});
    await post(`/api/v1/service-requests/${id}/fulfil`, { notes: '已发放' });
    clocks = (await t.request('GET', `/api/v1/service-requests/${id}/sla`)).json().clocks;
    expect(clocks.every((x: { state: string }) => x.state === 'met')).toBe(true);
    const explain = await t.request('GET', `/api/v1/service-requests/${id}/sla/explain`);
    expect(explain.statusCode).toBe(200);
  });
});

describe('reopen policy in the running app', () => {
  it('resume: a reopened incident continues its met resolution clock', async () => {
    const c = (await post('/api/v1/customers', { name: 'Reopen Co', code: 'REOP' })).json().id;
    const cal = (await post('/api/v1/calendars', { name: 'r24', timeZone: 'UTC', alwaysOpen: true })).json()
      .id;
    const agreement = (
      await post('/api/v1/slas', {
        name: 'Reopen SLA',
        kind: 'sla',
        customerId: c,
        calendarId: cal,
        validFrom: '2026-01-01',
        targets: [{ priority: '*', metric: 'resolution', duration: 'PT8H' }],
      })
    ).json();
    await post(`/api/v1/slas/${agreement.id}/activate`, {});
    const incident = (await post('/api/v1/incidents', { title: '重开', customerId: c })).json();
    const { createClockEngine } = await import('../../../src/modules/sla/index.ts');
    const engine = createClockEngine({ db: t.db });
    await post(`/api/v1/incidents/${incident.id}/resolve`, {
      resolutionCode: 'fixed',
      resolutionNotes: 'ok',
    });
    await engine.recompute('incident', incident.id, 'test');
    let clock = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla`)).json().clocks[0];
    expect(clock.state).toBe('met');
    await post(`/api/v1/incidents/${incident.id}/reopen`, { reason: '没修好' });
    await engine.recompute('incident', incident.id, 'test');
    clock = (await t.request('GET', `/api/v1/incidents/${incident.id}/sla`)).json().clocks[0];
    expect(clock.state).toBe('running');
    expect(clock.metAt).toBeNull();
  });
});
