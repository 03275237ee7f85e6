import ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportSections } from '../../../src/modules/reports/index.ts';
import { runJob } from '../../../src/modules/reports/reports.jobs.ts';
import type { JobContext } from '../../../src/platform/jobs.ts';
import type { Logger } from '../../../src/platform/logger.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { buildDataset, type Dataset } from './fixtures.ts';

/**
 * The report of October 2026 for ACME over the hand-built data set of fixtures.ts. Every expected
 * figure below is worked out by hand from the tickets described there.
 */
let t: TestApp;
let ds: Dataset;
let definition: Record<string, unknown> & { id: string };
let runId: string;
let report: {
  status: string;
  period: string;
  generatedAt: string;
  // biome-ignore lint/suspicious/noExplicitAny: the sections are checked against their schemas below
  sections: Record<string, any>;
};

const SECTIONS = ['slaPerformance', 'nonconformities', 'workload', 'majorIncidents', 'kpis', 'satisfaction'];
const post = (url: string, body: unknown, token?: string) => t.request('POST', url, { body, token });
const jobContext = (): JobContext => ({
  db: t.db,
  config: t.config,
  queues: t.resources.queues,
  log: t.app.log as unknown as Logger,
  attempt: 1,
  jobId: 'test',
});
const pointers = (res: { json(): { errors?: { pointer: string }[] } }) =>
  (res.json().errors ?? []).map((e) => e.pointer);

/** Requests a run and processes its job (the worker's processor, called directly). */
async function runNow(definitionId: string, period: string) {
  const accepted = await post(`/api/v1/report-definitions/${definitionId}/run`, { period });
  expect(accepted.statusCode, accepted.body).toBe(202);
  await runJob.process({ runId: accepted.json().runId }, jobContext());
  return accepted.json() as { runId: string; revision: number };
}

beforeAll(async () => {
  t = await startTestApp();
  ds = await buildDataset(t);
  const created = await post('/api/v1/report-definitions', {
    name: 'ACME 服务月报',
    customerId: ds.customerId,
    period: 'monthly',
    schedule: { cron: '0 8 1 * *', timeZone: 'Asia/Shanghai' },
    locale: 'zh-CN',
    trendPeriods: 2,
  });
  expect(created.statusCode, created.body).toBe(201);
  definition = created.json();
  const accepted = await post(`/api/v1/report-definitions/${definition.id}/run`, { period: '2026-10' });
  expect(accepted.statusCode, accepted.body).toBe(202);
  runId = accepted.json().runId;
  const queued = await t.request('GET', `/api/v1/reports/${runId}`);
  expect(queued.json()).toMatchObject({
    status: 'queued',
    period: '2026-10',
    generatedAt: null,
    sections: {},
  });
  await runJob.process({ runId }, jobContext());
  report = (await t.request('GET', `/api/v1/reports/${runId}`)).json();
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('report definitions', () => {
  it('takes the contract body: 201, every section by default, the schedule with its next firing', () => {
    expect(definition).toMatchObject({
      name: 'ACME 服务月报',
      customerId: ds.customerId,
      period: 'monthly',
      locale: 'zh-CN',
      sections: SECTIONS,
      allSections: true,
      active: true,
      version: 1,
      schedule: { cron: '0 8 1 * *', timeZone: 'Asia/Shanghai', synced: true, error: null },
    });
    expect(definition.ref).toMatch(/^RPT-\d{6}$/);
    const next = DateTime.fromISO((definition.schedule as { nextRunAt: string }).nextRunAt, {
      zone: 'Asia/Shanghai',
    });
    expect(next.toFormat('d HH:mm')).toBe('1 08:00');
  });

  it('answers bad definitions 400 with pointers: bad cron, unknown time zone, unknown section', async () => {
    const base = { name: 'x', customerId: ds.customerId, period: 'monthly' };
    const cron = await post('/api/v1/report-definitions', {
      ...base,
      schedule: { cron: '61 8 1 * *', timeZone: 'Asia/Shanghai' },
    });
    expect(cron.statusCode).toBe(400);
    expect(pointers(cron)).toEqual(['/schedule/cron']);
    const fields = await post('/api/v1/report-definitions', {
      ...base,
      schedule: { cron: '0 8 1 *', timeZone: 'Asia/Shanghai' },
    });
    expect(pointers(fields)).toEqual(['/schedule/cron']);
    const zone = await post('/api/v1/report-definitions', {
      ...base,
      schedule: { cron: '0 8 1 * *', timeZone: 'Mars/Olympus' },
    });
    expect(zone.statusCode).toBe(400);
    expect(pointers(zone)).toEqual(['/schedule/timeZone']);
    const section = await post('/api/v1/report-definitions', { ...base, sections: ['workload', 'bogus'] });
    expect(section.statusCode).toBe(400);
    expect(pointers(section)).toEqual(['/sections/1']);
    expect(section.json().code).toBe('REPORTS_INVALID_DEFINITION');
    const many = await post('/api/v1/report-definitions', {
      ...base,
      customerId: '00000000-0000-4000-8000-000000000000',
      serviceIds: [ds.s1, '00000000-0000-4000-8000-000000000001'],
      agreementIds: ['00000000-0000-4000-8000-000000000002'],
      recipients: { webhookSubscriptionIds: ['00000000-0000-4000-8000-000000000003'] },
    });
    expect(many.statusCode).toBe(400);
    expect(pointers(many).sort()).toEqual(
      ['/agreementIds/0', '/customerId', '/recipients/webhookSubscriptionIds/0', '/serviceIds/1'].sort(),
    );
    const shape = await post('/api/v1/report-definitions', { ...base, period: 'daily', locale: 'fr' });
    expect(shape.statusCode).toBe(400);
    expect(pointers(shape)).toEqual(expect.arrayContaining(['/period', '/locale']));
  });

  it('refuses a period of another kind or a malformed one with pointer /period', async () => {
    for (const period of ['2026-Q4', '2026-13', '2026', '2026-W43']) {
      const res = await post(`/api/v1/report-definitions/${definition.id}/run`, { period });
      expect(res.statusCode, period).toBe(400);
      expect(pointers(res)).toEqual(['/period']);
    }
  });

  it('keeps customers apart: a key bound to another customer sees nothing of ACME', async () => {
    const other = await t.key('manager', ds.otherCustomerId);
    expect(
      (await t.request('GET', `/api/v1/report-definitions/${definition.id}`, { token: other })).statusCode,
    ).toBe(404);
    expect((await t.request('GET', `/api/v1/reports/${runId}`, { token: other })).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v1/report-definitions', { token: other })).json().items).toEqual([]);
    const foreign = await post(
      '/api/v1/report-definitions',
      { name: 'x', customerId: ds.customerId, period: 'monthly' },
      other,
    );
    expect(foreign.statusCode).toBe(400);
    expect(pointers(foreign)).toEqual(['/customerId']);
    const own = await t.key('requester', ds.customerId);
    const read = await t.request('GET', `/api/v1/reports/${runId}`, { token: own });
    expect(read.statusCode).toBe(200);
    expect(
      (await post(`/api/v1/report-definitions/${definition.id}/run`, { period: '2026-10' }, own)).statusCode,
    ).toBe(403);
  });

  it('lists the registered sections with their schemas', async () => {
    const res = await t.request('GET', '/api/v1/report-sections');
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((s: { key: string }) => s.key)).toEqual(SECTIONS);
    expect(res.json().items[0].title).toEqual({ en: 'SLA performance', 'zh-CN': 'SLA 达成情况' });
  });
});

describe('the October report of the hand-built data set', () => {
  it('is completed, with every section valid against its schema', () => {
    expect(report).toMatchObject({ status: 'completed', period: '2026-10' });
    expect(report.generatedAt).toEqual(expect.any(String));
    expect(Object.keys(report.sections).sort()).toEqual([...SECTIONS].sort());
    for (const key of SECTIONS) {
      const section = reportSections.get(key)!;
      expect(Value.Check(section.schema, report.sections[key]), key).toBe(true);
    }
  });

  it('SLA performance: per target measured, met, breached, % met, mean and p90; the trend', () => {
    const s = report.sections.slaPerformance;
    const common = {
      agreementId: ds.agreementId,
      agreementName: 'ACME 邮件 SLA',
      priority: 'P3',
      agreedLevel: 95,
    };
    // Response: I1 30 min, I2 2 h (breached), I3 10 min, I4 20 min, I9 10 min.
    // Mean 190/5 = 38 min; p90 of [10,10,20,30,120] min = 30 + 0.6 × 90 = 84 min.
    // Resolution: I1 2 h, I2 4 h, I3 9 h (breached), I4 3 h; I9 paused (not measured).
    // Mean 18/4 = 4.5 h; p90 of [2,3,4,9] h = 4 + 0.7 × 5 = 7.5 h.
    expect(s.targets).toEqual([
      {
        ...common,
        agreementRef: expect.any(String),
        metric: 'response',
        targetSeconds: 3600,
        measured: 5,
        met: 4,
        breached: 1,
        percentMet: 80,
        meetsAgreedLevel: false,
        meanSeconds: 2280,
        p90Seconds: 5040,
      },
      {
        ...common,
        agreementRef: expect.any(String),
        metric: 'resolution',
        targetSeconds: 28800,
        measured: 4,
        met: 3,
        breached: 1,
        percentMet: 75,
        meetsAgreedLevel: false,
        meanSeconds: 16200,
        p90Seconds: 27000,
      },
    ]);
    expect(s.totals).toEqual({ measured: 9, met: 7, breached: 2, percentMet: 77.78 });
    // I8 was reported on 30 September in Shanghai: its two met clocks count for September.
    expect(s.periods).toEqual(['2026-08', '2026-09', '2026-10']);
    expect(
      s.trend.map((r: { period: string; measured: number; percentMet: number | null }) => [
        r.period,
        r.measured,
        r.percentMet,
      ]),
    ).toEqual([
      ['2026-08', 0, null],
      ['2026-09', 2, 100],
      ['2026-10', 9, 77.78],
    ]);
  });

  it('nonconformities: every breach of the period with target, overrun, group and causes', () => {
    const s = report.sections.nonconformities;
    expect(s).toMatchObject({ total: 2, byMetric: { response: 1, resolution: 1 }, truncated: false });
    expect(s.breaches).toEqual([
      expect.objectContaining({
        ticketType: 'incident',
        ticketId: ds.incidents.I2!.id,
        title: 'I2 收件延迟',
        metric: 'response',
        targetSeconds: 3600,
        elapsedSeconds: 7200,
        overrunSeconds: 3600,
        breachedAt: '2026-10-06T02:00:00.000Z',
        group: '一线服务台',
        assignee: null,
        pauses: [],
        escalations: 0,
        reassignments: 0,
      }),
      expect.objectContaining({
        ticketId: ds.incidents.I3!.id,
        metric: 'resolution',
        targetSeconds: 28800,
        elapsedSeconds: 32400,
        overrunSeconds: 3600,
        breachedAt: '2026-10-07T13:00:00.000Z',
        group: '二线网络组',
        pauses: [{ reason: 'customer', count: 1 }],
        escalations: 1,
        reassignments: 0,
      }),
    ]);
    expect(s.security).toEqual([
      expect.objectContaining({
        id: ds.incidents.I12!.id,
        category: 'security',
        priority: 'P2',
        resolvedAt: null,
      }),
    ]);
  });

  it('workload: opened, resolved and backlog by dimension, ageing and daily volume', () => {
    const s = report.sections.workload;
    // Opened: I1-I7, I9, I12 (I8 was reported in September, I10 is another customer's, I11 November's).
    // Resolved: I1-I5 and I8 (resolved at 02:00 on 1 October in Shanghai). Backlog: I6, I9, I12.
    // Backlog ages at period end: I6 21 d 13 h 40 min, I9 30 d 23 h, I12 16 d 15 h; R2 11 d 15 h.
    expect(s.totals).toEqual({
      incidents: { opened: 9, resolved: 6, backlog: 3, backlogMeanAgeSeconds: 1991600 },
      requests: { opened: 3, resolved: 2, backlog: 1, backlogMeanAgeSeconds: 1004400 },
    });
    const row = (dimension: string, key: string | null) => {
      const found = s.breakdown.find(
        (r: { dimension: string; key: string | null }) => r.dimension === dimension && r.key === key,
      );
      return found
        ? [
            found.label,
            found.incidentsOpened,
            found.incidentsResolved,
            found.incidentsBacklog,
            found.requestsOpened,
            found.requestsResolved,
            found.requestsBacklog,
            found.minutesSpent,
          ]
        : undefined;
    };
    expect(row('channel', 'phone')).toEqual(['电话', 4, 3, 2, 0, 0, 0, null]);
    expect(row('channel', 'email')).toEqual(['邮件', 2, 1, 0, 0, 0, 0, null]);
    expect(row('channel', 'portal')).toEqual(['门户', 1, 0, 1, 0, 0, 0, null]);
    expect(row('category', 'network')).toEqual(['网络', 4, 4, 1, 0, 0, 0, null]);
    expect(row('category', 'hardware')).toEqual(['硬件', 1, 0, 0, 1, 2, 0, null]);
    expect(row('category', 'network.vpn')).toEqual(['VPN', 0, 0, 0, 2, 0, 1, null]);
    expect(row('category', 'security')).toEqual(['信息安全', 1, 0, 1, 0, 0, 0, null]);
    expect(row('priority', 'P1')).toEqual(['P1 紧急', 1, 1, 0, 0, 0, 0, null]);
    expect(row('priority', 'P3')).toEqual(['P3 中', 7, 5, 2, 0, 0, 0, null]);
    expect(row('service', ds.s1)).toEqual(['邮件服务', 5, 5, 1, 0, 0, 0, null]);
    expect(row('service', ds.s2)).toEqual(['ERP', 3, 1, 2, 0, 0, 0, null]);
    expect(row('service', null)).toEqual(['（未指定）', 1, 0, 0, 0, 0, 0, null]);
    expect(row('group', ds.g1)).toEqual(['一线服务台', 5, 3, 2, 0, 0, 0, 30]);
    expect(row('group', ds.g2)).toEqual(['二线网络组', 2, 2, 0, 0, 0, 0, 45]);
    expect(row('group', ds.g1b)).toEqual(['一线桌面组', 1, 1, 0, 0, 0, 0, 0]);
    expect(row('agent', ds.agentA)).toEqual(['张三', 1, 1, 0, 0, 0, 0, 30]);
    expect(row('agent', null)).toEqual(['（未指定）', 7, 4, 3, 0, 0, 0, 45]);
    for (const dimension of ['category', 'channel', 'priority', 'service', 'group', 'agent']) {
      const rows = s.breakdown.filter((r: { dimension: string }) => r.dimension === dimension);
      const sum = (k: string) => rows.reduce((n: number, r: Record<string, number>) => n + r[k]!, 0);
      expect([sum('incidentsOpened'), sum('incidentsResolved'), sum('incidentsBacklog')], dimension).toEqual([
        9, 6, 3,
      ]);
    }
    expect(s.ageing).toEqual([
      { bucket: '0-1d', incidents: 0, requests: 0 },
      { bucket: '1-5d', incidents: 0, requests: 0 },
      { bucket: '5-10d', incidents: 0, requests: 0 },
      { bucket: '10-30d', incidents: 2, requests: 1 },
      { bucket: '30d+', incidents: 1, requests: 0 },
    ]);
    expect(s.daily).toHaveLength(31);
    const day = (date: string) => s.daily.find((d: { date: string }) => d.date === date);
    expect(day('2026-10-01')).toEqual({
      date: '2026-10-01',
      incidentsOpened: 1,
      incidentsResolved: 1,
      requestsOpened: 0,
      requestsResolved: 0,
    });
    expect(day('2026-10-10')).toMatchObject({ incidentsOpened: 2, incidentsResolved: 1 });
    expect(day('2026-10-04')).toMatchObject({ requestsResolved: 1 });
    expect(day('2026-10-31')).toEqual({
      date: '2026-10-31',
      incidentsOpened: 0,
      incidentsResolved: 0,
      requestsOpened: 0,
      requestsResolved: 0,
    });
  });

  it('major incidents: timeline summary, duration, impact', () => {
    const s = report.sections.majorIncidents;
    expect(s.total).toBe(1);
    const [major] = s.items;
    expect(major).toMatchObject({
      id: ds.incidents.I5!.id,
      priority: 'P1',
      impact: 'high',
      service: 'ERP',
      group: '二线网络组',
      majorReason: '全网邮件中断',
      reportedAt: '2026-10-10T02:00:00.000Z',
      resolvedAt: '2026-10-10T06:00:00.000Z',
      durationSeconds: 14400,
      ongoing: false,
      linkedIncidents: 1,
    });
    expect(
      major.timeline.map((e: { at: string; summary: string }) => `${e.at.slice(11, 16)} ${e.summary}`),
    ).toEqual([
      '02:00 创建（监控告警，P1）',
      '02:05 宣布为重大事件：全网邮件中断',
      '02:10 状态：新建 → 处理中',
      expect.stringMatching(/^02:25 关联事件 INC-\d+$/),
      '03:00 通报：已定位故障',
      '03:30 状态：处理中 → 已派单',
      '03:30 升级：1线 → 2线（核心交换机）',
      '04:00 状态：已派单 → 处理中',
      '06:00 状态：处理中 → 已解决',
      '08:00 状态：已解决 → 已关闭',
    ]);
  });

  it('service desk KPIs with their formulas and trend', () => {
    const s = report.sections.kpis;
    const kpi = (key: string) => s.kpis.find((k: { key: string }) => k.key === key);
    // Reported in October, not cancelled: I1-I6, I9, I12 (8). Acknowledged: 30+120+10+20+10+10 min.
    expect(kpi('mtta')).toMatchObject({
      value: 2000,
      numerator: 12000,
      denominator: 6,
      trend: [null, 1800, 2000],
    });
    // Resolved in October: I1 2 h, I2 4 h, I3 13 h, I4 4 h, I5 4 h, I8 3 h = 30 h over 6.
    expect(kpi('mttr')).toMatchObject({
      value: 18000,
      numerator: 108000,
      denominator: 6,
      trend: [null, null, 18000],
    });
    // First contact: I1, I2, I8 (tier 1, one group, no escalation).
    expect(kpi('firstContactResolution')).toMatchObject({ value: 50, numerator: 3, denominator: 6 });
    expect(kpi('reopenRate')).toMatchObject({ value: 16.67, numerator: 1, denominator: 6 });
    // Dispatched: all but I12 (7); returned: I4 (reassigned G1 -> G1b without an escalation).
    expect(kpi('firstDispatchSuccess')).toMatchObject({
      value: 85.71,
      numerator: 6,
      denominator: 7,
      trend: [null, 100, 85.71],
    });
    expect(kpi('escalationRate')).toMatchObject({
      value: 25,
      numerator: 2,
      denominator: 8,
      trend: [null, 0, 25],
    });
    expect(kpi('firstDispatchSuccess').name).toBe('一次派单成功率');
    expect(kpi('firstDispatchSuccess').formula).toContain('退回派单');
    expect(kpi('firstContactResolution').name).toBe('一次解决率');
  });

  it('customer satisfaction: call-back outcomes, ratings, comments, unconfirmed closures', () => {
    const s = report.sections.satisfaction;
    expect(s).toMatchObject({
      responses: 4,
      confirmed: 3,
      rejected: 1,
      unconfirmedClosures: 1,
      rated: 4,
      averageRating: 3.5,
      satisfiedPercent: 50,
      ratings: [
        { rating: 1, count: 0 },
        { rating: 2, count: 1 },
        { rating: 3, count: 1 },
        { rating: 4, count: 1 },
        { rating: 5, count: 1 },
      ],
      closedIncidents: 5,
      closedWithCallback: 4,
      callbackCoveragePercent: 80,
    });
    expect(s.comments.map((c: { comment: string; rating: number }) => [c.comment, c.rating])).toEqual([
      ['很好', 5],
      ['响应太慢', 3],
      ['问题依旧', 2],
    ]);
    expect(s.unconfirmed.map((c: { incidentId: string }) => c.incidentId)).toEqual([ds.incidents.I3!.id]);
  });

  it('narrows to the services of the definition (requests, which name no service, are left out)', async () => {
    const narrow = await post('/api/v1/report-definitions', {
      name: 'ERP 月报',
      customerId: ds.customerId,
      serviceIds: [ds.s2],
      period: 'monthly',
      locale: 'en',
      sections: ['workload', 'slaPerformance'],
      trendPeriods: 0,
    });
    expect(narrow.statusCode, narrow.body).toBe(201);
    const run = await runNow(narrow.json().id, '2026-10');
    const sections = (await t.request('GET', `/api/v1/reports/${run.runId}`)).json().sections;
    expect(Object.keys(sections)).toEqual(['workload', 'slaPerformance']);
    expect(sections.workload.totals).toEqual({
      incidents: { opened: 3, resolved: 1, backlog: 2, backlogMeanAgeSeconds: (1863600 + 1436400) / 2 },
      requests: { opened: 0, resolved: 0, backlog: 0, backlogMeanAgeSeconds: null },
    });
    expect(sections.slaPerformance.targets).toEqual([]);
    expect(sections.workload.breakdown.find((r: { key: string }) => r.key === 'phone').label).toBe('Phone');
  });
});

describe('renderings', () => {
  it('HTML: one self-contained page with inline SVG charts, print CSS, zh-CN labels and the formulas', async () => {
    const res = await t.request('GET', `/api/v1/reports/${runId}?format=html`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const html = res.body;
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('<svg');
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(6);
    expect(html).toContain('@media print');
    expect(html).toContain('2026年10月');
    expect(html).toContain('一次派单成功率 = (1 − 退回派单数 ÷ 派单总数) × 100%');
    expect(html).toContain('SLA 达成率趋势');
    expect(html).not.toMatch(/<script|<link |src="http/);
  });

  it('XLSX: a summary and a sheet per section table, typed cells, frozen headers', async () => {
    const res = await t.request('GET', `/api/v1/reports/${runId}?format=xlsx`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="RPT-\d+-2026-10-r1\.xlsx"$/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const names = wb.worksheets.map((w) => w.name);
    expect(names[0]).toBe('概览');
    expect(names).toEqual(
      expect.arrayContaining([
        'SLA 达成情况',
        '不符合项',
        '工作量',
        '重大事件',
        '服务台关键指标',
        '客户满意度',
      ]),
    );
    const sla = wb.getWorksheet('SLA 达成情况')!;
    expect(sla.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sla.getRow(1).getCell(1).value).toBe('协议');
    const header = (sheet: ExcelJS.Worksheet) => (sheet.getRow(1).values as unknown[]).slice(1);
    const col = (sheet: ExcelJS.Worksheet, label: string) => header(sheet).indexOf(label) + 1;
    const response = sla.getRow(2);
    expect(response.getCell(col(sla, '达成率')).value).toBe(0.8);
    expect(response.getCell(col(sla, '达成率')).numFmt).toBe('0.00%');
    // Durations are numbers of days with a [h]:mm:ss format; ExcelJS reads such a cell back as a date.
    const target = response.getCell(col(sla, '目标时限'));
    expect(target.numFmt).toBe('[h]:mm:ss');
    expect(((target.value as Date).getTime() - Date.UTC(1899, 11, 30)) / 1000).toBe(3600);
    expect(response.getCell(col(sla, '统计数')).value).toBe(5);
    const breaches = wb.getWorksheet('不符合项')!;
    const at = breaches.getRow(2).getCell(col(breaches, '违约时间')).value;
    expect(at).toBeInstanceOf(Date);
    // 02:00 UTC is 10:00 in Shanghai; Excel holds the wall-clock time.
    expect((at as Date).toISOString()).toBe('2026-10-06T10:00:00.000Z');
    expect(breaches.getRow(3).getCell(col(breaches, '原因')).value).toBe('挂起（等待用户）1次；升级1次');
  });

  it('CSV: one section table, labels in the locale, raw values', async () => {
    const res = await t.request('GET', `/api/v1/reports/${runId}?format=csv&section=workload`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = res.body
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe('维度,项目,事件新增,事件解决,事件积压,请求新增,请求完成,请求积压,投入工时（分钟）');
    expect(lines[1]).toBe('合计,,9,6,3,3,2,1,');
    expect(lines).toContain('渠道,电话,4,3,2,0,0,0,');
    const daily = await t.request('GET', `/api/v1/reports/${runId}?format=csv&section=workload&table=daily`);
    expect(daily.body.split('\r\n')).toHaveLength(33);
    const kpis = await t.request('GET', `/api/v1/reports/${runId}?format=csv&section=kpis&table=trend`);
    expect(kpis.body).toContain('2026-10,2000,18000,50,16.67,85.71,25');
    expect((await t.request('GET', `/api/v1/reports/${runId}?format=csv`)).statusCode).toBe(400);
    const unknown = await t.request('GET', `/api/v1/reports/${runId}?format=csv&section=bogus`);
    expect(unknown.statusCode).toBe(400);
    expect(pointers(unknown)).toEqual(['/section']);
    expect(
      (await t.request('GET', `/api/v1/reports/${runId}?format=csv&section=kpis&table=bogus`)).statusCode,
    ).toBe(400);
  });

  it('renderings of a run that has not completed answer 409; unknown runs 404', async () => {
    const accepted = await post(`/api/v1/report-definitions/${definition.id}/run`, { period: '2026-09' });
    const res = await t.request('GET', `/api/v1/reports/${accepted.json().runId}?format=html`);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'REPORTS_RUN_NOT_READY', status: 409 });
    expect((await t.request('GET', '/api/v1/reports/00000000-0000-4000-8000-000000000000')).statusCode).toBe(
      404,
    );
  });
});

describe('runs of a period', () => {
  it('a re-run adds a revision and makes it current; the older one stays readable', async () => {
    const again = await runNow(definition.id, '2026-10');
    expect(again.revision).toBe(2);
    const list = (
      await t.request('GET', `/api/v1/report-definitions/${definition.id}/runs?period=2026-10&sort=queuedAt`)
    ).json();
    expect(
      list.items.map((r: { revision: number; current: boolean; status: string }) => [
        r.revision,
        r.current,
        r.status,
      ]),
    ).toEqual([
      [1, false, 'completed'],
      [2, true, 'completed'],
    ]);
    const old = (await t.request('GET', `/api/v1/reports/${runId}`)).json();
    expect(old).toMatchObject({ revision: 1, current: false, status: 'completed' });
    expect(old.sections.workload.totals).toEqual(report.sections.workload.totals);
    const current = (
      await t.request('GET', `/api/v1/report-definitions/${definition.id}/runs?period=2026-10&current=true`)
    ).json();
    expect(current.items.map((r: { id: string }) => r.id)).toEqual([again.runId]);
  });

  it('runs requested at once get distinct revisions, exactly one current', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => post(`/api/v1/report-definitions/${definition.id}/run`, { period: '2026-08' })),
    );
    expect(results.map((r) => r.statusCode)).toEqual([202, 202, 202]);
    expect(results.map((r) => r.json().revision).sort()).toEqual([1, 2, 3]);
    const runs = await t.db
      .selectFrom('report_runs')
      .select(['revision', 'current'])
      .where('definition_id', '=', definition.id)
      .where('period', '=', '2026-08')
      .orderBy('revision')
      .execute();
    expect(runs).toEqual([
      { revision: 1, current: false },
      { revision: 2, current: false },
      { revision: 3, current: true },
    ]);
    // The database holds the rule too: a second current run of a period or a duplicate revision is refused.
    await expect(
      t.db
        .updateTable('report_runs')
        .set({ current: true })
        .where('definition_id', '=', definition.id)
        .where('period', '=', '2026-08')
        .execute(),
    ).rejects.toThrow(/report_runs_current_key/);
  });

  it('announces a completed run as report.generated in the outbox, with links', async () => {
    const event = await t.db
      .selectFrom('outbox')
      .selectAll()
      .where('type', '=', 'report.generated')
      .where('aggregate_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({ aggregate_type: 'report_run', customer_id: ds.customerId });
    expect(event.payload).toMatchObject({
      report: { runId, period: '2026-10', revision: 1, definitionId: definition.id, name: 'ACME 服务月报' },
      links: { html: `/api/v1/reports/${runId}?format=html`, xlsx: `/api/v1/reports/${runId}?format=xlsx` },
    });
  });

  it('a processed run is not computed twice (job retries and duplicates are no-ops)', async () => {
    const before = (await t.request('GET', `/api/v1/reports/${runId}`)).json().generatedAt;
    expect(await runJob.process({ runId }, jobContext())).toMatchObject({ skipped: 'completed' });
    expect((await t.request('GET', `/api/v1/reports/${runId}`)).json().generatedAt).toBe(before);
  });
});
