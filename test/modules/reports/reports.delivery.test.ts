import { createServer, type Server } from 'node:http';
import ExcelJS from 'exceljs';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previousCompletePeriod } from '../../../src/modules/reports/index.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { freePort } from '../../helpers/redis-server.ts';

/**
 * The whole pipeline with the real worker: a run requested over HTTP is computed by the BullMQ
 * worker, e-mailed through SMTP (a local sink this test starts) and announced as `report.generated`
 * to webhook subscriptions (a local receiver); a definition's job scheduler fires for real.
 */
let t: TestApp;
let smtp: SMTPServer;
let receiver: Server;
let customerId: string;
const mails: { to: string[]; raw: Buffer }[] = [];
const hooks: { type: string; data: Record<string, unknown> }[] = [];

const post = (url: string, body: unknown) => t.request('POST', url, { body });

beforeAll(async () => {
  const smtpPort = await freePort();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
  const hookPort = await freePort();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      hooks.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(hookPort, '127.0.0.1', resolve));
  t = await startTestApp({
    worker: true,
    env: {
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      SMTP_FROM: 'Tessera Reports <reports@example.com>',
      PUBLIC_URL: 'https://itsm.example.com/',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    },
  });
  customerId = (await post('/api/v1/customers', { name: 'Acme 甲方', code: 'ACME' })).json().id;
  const subscription = await post('/api/v1/webhook-subscriptions', {
    url: `http://127.0.0.1:${hookPort}/hooks`,
    eventTypes: ['*'],
    customerId,
  });
  expect(subscription.statusCode, subscription.body).toBe(201);
  const definition = await post('/api/v1/report-definitions', {
    name: 'ACME 服务月报',
    customerId,
    period: 'monthly',
    schedule: { cron: '0 8 1 * *', timeZone: 'Asia/Shanghai' },
    locale: 'zh-CN',
    recipients: {
      emails: ['ops@example.com', 'cio@example.com'],
      webhookSubscriptionIds: [subscription.json().id],
    },
  });
  expect(definition.statusCode, definition.body).toBe(201);
  const accepted = await post(`/api/v1/report-definitions/${definition.json().id}/run`, {
    period: '2026-10',
  });
  expect(accepted.statusCode).toBe(202);
  runId = accepted.json().runId;
}, 60_000);
let runId: string;
afterAll(async () => {
  await t?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('delivery of a completed run', () => {
  it('the worker completes the run requested over HTTP', async () => {
    await expect
      .poll(async () => (await t.request('GET', `/api/v1/reports/${runId}`)).json().status, {
        timeout: 20_000,
      })
      .toBe('completed');
    const run = (await t.request('GET', `/api/v1/reports/${runId}`)).json();
    expect(Object.keys(run.sections)).toEqual([
      'slaPerformance',
      'nonconformities',
      'workload',
      'majorIncidents',
      'kpis',
      'satisfaction',
    ]);
    expect(run.links.html).toBe(`https://itsm.example.com/api/v1/reports/${runId}?format=html`);
  });

  it('e-mails the recipients through SMTP with the HTML and the XLSX attached', async () => {
    await expect.poll(() => mails.length, { timeout: 20_000 }).toBe(1);
    const [mail] = mails;
    expect(mail!.to.sort()).toEqual(['cio@example.com', 'ops@example.com']);
    const parsed = await simpleParser(mail!.raw);
    expect(parsed.subject).toBe('【服务报告】ACME 服务月报 2026年10月');
    expect(parsed.from?.text).toContain('reports@example.com');
    expect(parsed.text).toContain(`https://itsm.example.com/api/v1/reports/${runId}?format=html`);
    expect(parsed.html).toContain('<svg');
    const names = parsed.attachments.map((a) => a.filename);
    expect(names).toEqual([
      expect.stringMatching(/^RPT-\d+-2026-10\.html$/),
      expect.stringMatching(/^RPT-\d+-2026-10\.xlsx$/),
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(parsed.attachments[1]!.content as unknown as ArrayBuffer);
    expect(wb.worksheets.length).toBeGreaterThan(6);
    await expect
      .poll(async () => (await t.request('GET', `/api/v1/reports/${runId}`)).json().email.sentAt, {
        timeout: 5000,
      })
      .toEqual(expect.any(String));
  });

  it('delivers report.generated to the webhook subscription, with absolute links', async () => {
    await expect
      .poll(() => hooks.find((h) => h.type === 'report.generated'), { timeout: 20_000 })
      .toBeDefined();
    const hook = hooks.find((h) => h.type === 'report.generated')!;
    expect(hook.data).toMatchObject({
      report: { runId, period: '2026-10', revision: 1, name: 'ACME 服务月报' },
      links: { xlsx: `https://itsm.example.com/api/v1/reports/${runId}?format=xlsx` },
      aggregateType: 'report_run',
      aggregateId: runId,
    });
  });

  it("a definition's job scheduler fires for real and reports the last complete period once", async () => {
    const definition = await post('/api/v1/report-definitions', {
      name: '每秒',
      customerId,
      period: 'monthly',
      schedule: { cron: '* * * * * *', timeZone: 'Asia/Shanghai' },
      sections: ['workload'],
    });
    const id = definition.json().id;
    const expected = previousCompletePeriod('monthly', new Date(), 'Asia/Shanghai').key;
    const runs = async () => (await t.request('GET', `/api/v1/report-definitions/${id}/runs`)).json().items;
    await expect.poll(async () => (await runs())[0]?.status, { timeout: 15_000 }).toBe('completed');
    // It keeps firing every second; the period keeps its one run.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await t.request('PATCH', `/api/v1/report-definitions/${id}`, { body: { active: false } });
    const items = await runs();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ period: expected, trigger: 'schedule', revision: 1 });
  });
});
