import { sql } from 'kysely';
import { expect } from 'vitest';
import { createIncidentService } from '../../../src/modules/incident/index.ts';
import { createClockEngine } from '../../../src/modules/sla/index.ts';
import type { TestApp } from '../../helpers/app.ts';

/**
 * A small, hand-computed data set for October 2026 in Asia/Shanghai (the period runs from
 * 2026-09-30T16:00Z to 2026-10-31T16:00Z). Tickets are made through the API and moved through their
 * actions; each action is a "step" with the instant it should have happened, and `retime` then
 * moves the timeline entries and the ticket's timestamps to those instants with SQL. SLA clocks are
 * computed afterwards from the retimed history. The expected figures are in reports.routes.test.ts.
 *
 * SLA "ACME 邮件 SLA" covers service S1 only (24x7 UTC calendar, response 1 h, resolution 8 h, pause
 * on pending(customer)), so only I1, I2, I3, I4, I8 and I9 have clocks.
 */
export const D = (day: number, hour: number, minute = 0) => new Date(Date.UTC(2026, 9, day, hour, minute));
const utc = (text: string) => new Date(text);

interface Step {
  maxId: number;
  at: Date;
}

export class Ticket {
  readonly steps: Step[] = [];
  constructor(
    readonly kind: 'incident' | 'request',
    readonly id: string,
  ) {}
}

export interface Dataset {
  customerId: string;
  otherCustomerId: string;
  s1: string;
  s2: string;
  g1: string;
  g1b: string;
  g2: string;
  agentA: string;
  agentB: string;
  agreementId: string;
  incidents: Record<string, Ticket>;
  requests: Record<string, Ticket>;
}

export async function buildDataset(t: TestApp): Promise<Dataset> {
  const post = async (url: string, body: unknown = {}) => {
    const res = await t.request('POST', url, { body });
    expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(300);
    return res.json();
  };
  const maxEventId = async (ticket: Ticket) => {
    const row =
      ticket.kind === 'incident'
        ? await t.db
            .selectFrom('incident_events')
            .select(sql<number>`coalesce(max(id), 0)::int`.as('n'))
            .where('incident_id', '=', ticket.id)
            .executeTakeFirstOrThrow()
        : await t.db
            .selectFrom('service_request_events')
            .select(sql<number>`coalesce(max(id), 0)::int`.as('n'))
            .where('request_id', '=', ticket.id)
            .executeTakeFirstOrThrow();
    return row.n;
  };
  /** Runs `work` and records that its timeline entries on `tickets` happened at `at`. */
  const step = async <T>(tickets: Ticket | Ticket[], at: Date, work: () => Promise<T>): Promise<T> => {
    const result = await work();
    for (const ticket of Array.isArray(tickets) ? tickets : [tickets])
      ticket.steps.push({ maxId: await maxEventId(ticket), at });
    return result;
  };
  const incident = async (at: Date, body: Record<string, unknown>) => {
    const created = await post('/api/v1/incidents', { customerId, ...body });
    const ticket = new Ticket('incident', created.id);
    ticket.steps.push({ maxId: await maxEventId(ticket), at });
    return ticket;
  };
  const request = async (at: Date, itemId: string) => {
    const created = await post('/api/v1/service-requests', { itemId, customerId, answers: {} });
    const ticket = new Ticket('request', created.id);
    ticket.steps.push({ maxId: await maxEventId(ticket), at });
    return ticket;
  };
  const act = (ticket: Ticket, at: Date, action: string, body: unknown = {}) =>
    step(ticket, at, () =>
      post(
        `/api/v1/${ticket.kind === 'incident' ? 'incidents' : 'service-requests'}/${ticket.id}/${action}`,
        body,
      ),
    );
  const answer = async (ticket: Ticket, at: Date, body: Record<string, unknown>) => {
    const open = await t.db
      .selectFrom('incident_confirmations')
      .select('token')
      .where('incident_id', '=', ticket.id)
      .where('answered_at', 'is', null)
      .executeTakeFirstOrThrow();
    await step(ticket, at, async () => {
      const res = await t.request('POST', `/api/v1/confirmations/${open.token}`, { token: null, body });
      expect(res.statusCode, res.body).toBe(200);
    });
  };
  const resolve = (ticket: Ticket, at: Date) =>
    act(ticket, at, 'resolve', { resolutionCode: 'fixed', resolutionNotes: '已处理' });

  // ---- parties, catalogue, SLA ----
  const customerId = (await post('/api/v1/customers', { name: 'Acme 甲方', code: 'ACME' })).id as string;
  const otherCustomerId = (await post('/api/v1/customers', { name: 'Other 乙方', code: 'OTHER' }))
    .id as string;
  const agentA = (
    await post('/api/v1/people', { name: '张三', email: 'zhangsan@example.com', kind: 'agent' })
  ).id;
  const agentB = (await post('/api/v1/people', { name: '李四', email: 'lisi@example.com', kind: 'agent' }))
    .id;
  const g1 = (await post('/api/v1/groups', { name: '一线服务台', tier: 1, memberIds: [agentA] })).id;
  const g1b = (await post('/api/v1/groups', { name: '一线桌面组', tier: 1, memberIds: [agentB] })).id;
  const g2 = (await post('/api/v1/groups', { name: '二线网络组', tier: 2 })).id;
  const s1 = (await post('/api/v1/services', { code: 'mail', name: '邮件服务' })).id;
  const s2 = (await post('/api/v1/services', { code: 'erp', name: 'ERP' })).id;
  await post('/api/v1/categories', { code: 'security', name: 'Information security', nameZh: '信息安全' });
  const calendar = await post('/api/v1/calendars', { name: '24x7 UTC', timeZone: 'UTC', alwaysOpen: true });
  const agreement = await post('/api/v1/slas', {
    name: 'ACME 邮件 SLA',
    kind: 'sla',
    customerId,
    serviceIds: [s1],
    calendarId: calendar.id,
    validFrom: '2026-01-01',
    targets: [
      { priority: '*', metric: 'response', duration: 'PT1H' },
      { priority: '*', metric: 'resolution', duration: 'PT8H' },
    ],
    pauseOn: [{ status: 'pending', reason: 'customer' }],
  });
  await post(`/api/v1/slas/${agreement.id}/activate`);
  const laptop = (
    await post('/api/v1/request-items', { code: 'laptop', name: '笔记本申请', category: 'hardware' })
  ).id;
  const vpn = (
    await post('/api/v1/request-items', { code: 'vpn', name: 'VPN 开通', category: 'network.vpn' })
  ).id;

  const mid = { impact: 'medium', urgency: 'medium' };
  // I1: phone, network, S1, G1 + agent A; ack 30 min, resolved after 2 h, confirmed 5 with a comment.
  const I1 = await incident(D(5, 1), {
    title: 'I1 邮件发送失败',
    channel: 'phone',
    category: 'network',
    serviceId: s1,
    groupId: g1,
    ...mid,
  });
  await act(I1, D(5, 1, 5), 'assign', { groupId: g1, assigneeId: agentA });
  await act(I1, D(5, 1, 30), 'start');
  await act(I1, D(5, 2), 'work-notes', { body: '排查', minutesSpent: 30 });
  await resolve(I1, D(5, 3));
  await answer(I1, D(5, 4), { outcome: 'confirmed', rating: 5, comment: '很好' });

  // I2: email, network, S1, G1; ack after 2 h (response breached at 02:00), resolved after 4 h, confirmed 3.
  const I2 = await incident(D(6, 1), {
    title: 'I2 收件延迟',
    channel: 'email',
    category: 'network',
    serviceId: s1,
    groupId: g1,
    ...mid,
  });
  await act(I2, D(6, 3), 'start');
  await resolve(I2, D(6, 5));
  await answer(I2, D(6, 6), { outcome: 'confirmed', rating: 3, comment: '响应太慢' });

  // I3: wechat, software, S1, G1 -> escalated to G2; pending(customer) 02:00-06:00; resolved 14:00
  // (9 h business time: resolution breached at 13:00); closed without an answer.
  const I3 = await incident(D(7, 1), {
    title: 'I3 客户端崩溃',
    channel: 'wechat',
    category: 'software',
    serviceId: s1,
    groupId: g1,
    ...mid,
  });
  await act(I3, D(7, 1, 10), 'start');
  await act(I3, D(7, 2), 'pend', { reason: 'customer' });
  await act(I3, D(7, 6), 'resume');
  await act(I3, D(7, 7), 'escalate', { reason: '需要二线', groupId: g2 });
  await act(I3, D(7, 8), 'start');
  await act(I3, D(7, 9), 'work-notes', { body: '二线处理', minutesSpent: 45 });
  await resolve(I3, D(7, 14));

  // I4: phone, software, S1, G1 -> reassigned to G1b + agent B (a returned dispatch); resolved 02:00,
  // rejected (rated 2) and reopened 03:00, resolved again 05:00, closed by the agent 06:00.
  const I4 = await incident(D(8, 1), {
    title: 'I4 打印异常',
    channel: 'phone',
    category: 'software',
    serviceId: s1,
    groupId: g1,
    ...mid,
  });
  await act(I4, D(8, 1, 5), 'assign', { groupId: g1b, assigneeId: agentB });
  await act(I4, D(8, 1, 20), 'start');
  await resolve(I4, D(8, 2));
  await answer(I4, D(8, 3), { outcome: 'rejected', rating: 2, comment: '问题依旧' });
  await resolve(I4, D(8, 5));
  await act(I4, D(8, 6), 'close', { note: '电话确认' });

  // I5: P1 major, monitoring, network, S2 (no SLA), G1 -> G2; resolved after 4 h; confirmed 4.
  const I5 = await incident(D(10, 2), {
    title: 'I5 全网邮件中断',
    channel: 'monitoring',
    category: 'network',
    serviceId: s2,
    groupId: g1,
    impact: 'high',
    urgency: 'high',
  });
  await act(I5, D(10, 2, 5), 'major', { reason: '全网邮件中断' });
  await act(I5, D(10, 2, 10), 'start');
  // I6: phone, network, S2, G1; linked to I5; stays open (backlog).
  const I6 = await incident(D(10, 2, 20), {
    title: 'I6 无法收邮件',
    channel: 'phone',
    category: 'network',
    serviceId: s2,
    groupId: g1,
    ...mid,
  });
  await step([I5, I6], D(10, 2, 25), () => post(`/api/v1/incidents/${I5.id}/children`, { childId: I6.id }));
  await act(I5, D(10, 3), 'communications', { message: '已定位故障' });
  await act(I5, D(10, 3, 30), 'escalate', { reason: '核心交换机', groupId: g2 });
  await act(I5, D(10, 4), 'start');
  await resolve(I5, D(10, 6));
  await answer(I5, D(10, 8), { outcome: 'confirmed', rating: 4 });

  // I3's confirmation runs out: closed automatically (an unconfirmed closure) on 10 October.
  await t.db
    .updateTable('incident_confirmations')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .where('incident_id', '=', I3.id)
    .where('answered_at', 'is', null)
    .execute();
  await step(I3, D(10, 14), () => createIncidentService({ db: t.db }).autoCloseExpired(new Date()));

  // I7: email, hardware, no service, G1; cancelled after 30 min.
  const I7 = await incident(D(12, 1), {
    title: 'I7 重复报障',
    channel: 'email',
    category: 'hardware',
    groupId: g1,
    ...mid,
  });
  await act(I7, D(12, 1, 30), 'cancel', { reason: '重复' });

  // I8: reported in September (23:00 on 30 September in Shanghai), resolved in October (02:00 on 1 October).
  const I8 = await incident(utc('2026-09-30T15:00:00Z'), {
    title: 'I8 跨月工单',
    channel: 'phone',
    category: 'network',
    serviceId: s1,
    groupId: g1,
    ...mid,
  });
  await act(I8, utc('2026-09-30T15:30:00Z'), 'start');
  await resolve(I8, utc('2026-09-30T18:00:00Z'));

  // I9: reported 01:00 on 1 October in Shanghai; portal, account.password, S1, G1; waits for the customer.
  const I9 = await incident(utc('2026-09-30T17:00:00Z'), {
    title: 'I9 密码重置',
    channel: 'portal',
    category: 'account.password',
    serviceId: s1,
    groupId: g1,
    ...mid,
  });
  await act(I9, utc('2026-09-30T17:10:00Z'), 'start');
  await act(I9, utc('2026-09-30T17:20:00Z'), 'pend', { reason: 'customer' });

  // I12: P2 security incident, phone, S2, no group; open.
  const I12 = await incident(D(15, 1), {
    title: 'I12 可疑登录',
    channel: 'phone',
    category: 'security',
    serviceId: s2,
    impact: 'high',
    urgency: 'medium',
  });

  // Outside the report: another customer's incident in October, and an ACME incident in November.
  const I10 = await incident(D(5, 1), {
    title: 'I10 别人的',
    customerId: otherCustomerId,
    channel: 'phone',
    category: 'network',
    groupId: g1,
    ...mid,
  });
  await act(I10, D(5, 2), 'start');
  await resolve(I10, D(5, 3));
  const I11 = await incident(utc('2026-11-02T01:00:00Z'), {
    title: 'I11 十一月',
    channel: 'phone',
    category: 'network',
    serviceId: s1,
    groupId: g1,
    ...mid,
  });

  // Service requests: R1 laptop (3 Oct, fulfilled 4 Oct), R2 vpn (20 Oct, open), R3 laptop (20 Sep,
  // fulfilled 2 Oct), R4 vpn (15 Oct, cancelled).
  const R1 = await request(D(3, 1), laptop);
  await act(R1, D(3, 1, 30), 'start');
  await act(R1, D(4, 1), 'fulfil', { notes: '已发放' });
  const R2 = await request(D(20, 1), vpn);
  const R3 = await request(utc('2026-09-20T01:00:00Z'), laptop);
  await act(R3, utc('2026-09-20T01:30:00Z'), 'start');
  await act(R3, D(2, 1), 'fulfil', {});
  const R4 = await request(D(15, 1), vpn);
  await act(R4, D(15, 2), 'cancel', { reason: '不需要了' });

  const incidents = { I1, I2, I3, I4, I5, I6, I7, I8, I9, I10, I11, I12 };
  const requests = { R1, R2, R3, R4 };
  for (const ticket of Object.values(incidents)) await retime(t, ticket);
  for (const ticket of Object.values(requests)) await retime(t, ticket);
  const engine = createClockEngine({ db: t.db });
  for (const ticket of Object.values(incidents)) await engine.recompute('incident', ticket.id, 'test');
  for (const ticket of Object.values(requests)) await engine.recompute('service_request', ticket.id, 'test');
  return {
    customerId,
    otherCustomerId,
    s1,
    s2,
    g1,
    g1b,
    g2,
    agentA,
    agentB,
    agreementId: agreement.id,
    incidents,
    requests,
  };
}

/** Moves each step's timeline entries to its instant, then the ticket's timestamps to match them. */
export async function retime(t: TestApp, ticket: Ticket): Promise<void> {
  const table = ticket.kind === 'incident' ? 'incident_events' : 'service_request_events';
  const owner = ticket.kind === 'incident' ? 'incident_id' : 'request_id';
  let previous = 0;
  for (const s of ticket.steps) {
    await sql`UPDATE ${sql.table(table)} SET at = ${s.at} WHERE ${sql.ref(owner)} = ${ticket.id} AND id > ${previous} AND id <= ${s.maxId}`.execute(
      t.db,
    );
    previous = s.maxId;
  }
  const start = ticket.steps[0]!.at;
  if (ticket.kind === 'incident') {
    const last = (to: string) =>
      sql`(SELECT max(at) FROM incident_events WHERE incident_id = ${ticket.id} AND type = 'status_changed' AND data->>'to' = ${to})`;
    await sql`
      UPDATE incidents SET reported_at = ${start}, created_at = ${start},
        acknowledged_at = CASE WHEN acknowledged_at IS NULL THEN NULL ELSE
          (SELECT min(at) FROM incident_events WHERE incident_id = ${ticket.id} AND type = 'status_changed'
             AND data->>'to' IN ('in_progress', 'resolved')) END,
        resolved_at = CASE WHEN resolved_at IS NULL THEN NULL ELSE ${last('resolved')} END,
        closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE ${last('closed')} END,
        cancelled_at = CASE WHEN cancelled_at IS NULL THEN NULL ELSE ${last('cancelled')} END
      WHERE id = ${ticket.id}`.execute(t.db);
    // Answered call-backs take the instant of their `callback` timeline entry (in order).
    const answered = await t.db
      .selectFrom('incident_confirmations')
      .select('id')
      .where('incident_id', '=', ticket.id)
      .where('outcome', 'in', ['confirmed', 'rejected', 'auto_closed'])
      .orderBy('answered_at')
      .execute();
    const callbacks = await t.db
      .selectFrom('incident_events')
      .select('at')
      .where('incident_id', '=', ticket.id)
      .where('type', '=', 'callback')
      .orderBy('id')
      .execute();
    for (let i = 0; i < answered.length; i++)
      await t.db
        .updateTable('incident_confirmations')
        .set({ answered_at: callbacks[i]!.at })
        .where('id', '=', answered[i]!.id)
        .execute();
  } else {
    const last = (to: string) =>
      sql`(SELECT max(at) FROM service_request_events WHERE request_id = ${ticket.id} AND to_status = ${to})`;
    await sql`
      UPDATE service_requests SET created_at = ${start},
        fulfilled_at = CASE WHEN fulfilled_at IS NULL THEN NULL ELSE ${last('fulfilled')} END,
        cancelled_at = CASE WHEN cancelled_at IS NULL THEN NULL ELSE ${last('cancelled')} END,
        closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE ${last('closed')} END
      WHERE id = ${ticket.id}`.execute(t.db);
  }
}
