import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

let t: TestApp;
let customerA: string;
let customerB: string;
let tier1: string;
let tier2: string;
let agent: string;
let contactA: string;

async function post(url: string, body: unknown, token?: string) {
  return t.request('POST', url, { body, token });
}

async function newIncident(extra: Record<string, unknown> = {}, token?: string) {
  const res = await post(
    '/api/v1/incidents',
    {
      title: '邮箱无法登录',
      description: '用户反映邮箱无法登录，提示密码错误',
      customerId: customerA,
      channel: 'wechat',
      impact: 'high',
      urgency: 'high',
      ...extra,
    },
    token,
  );
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

beforeAll(async () => {
  t = await startTestApp();
  customerA = (await post('/api/v1/customers', { name: 'Acme 甲方', code: 'ACME' })).json().id;
  customerB = (await post('/api/v1/customers', { name: 'Beta 乙方', code: 'BETA' })).json().id;
  agent = (
    await post('/api/v1/people', { name: '张三', email: 'zhangsan@example.com', kind: 'agent' })
  ).json().id;
  contactA = (
    await post('/api/v1/people', {
      name: '李四',
      email: 'lisi@example.com',
      kind: 'contact',
      customerId: customerA,
    })
  ).json().id;
  tier1 = (await post('/api/v1/groups', { name: '一线服务台', tier: 1, memberIds: [agent] })).json().id;
  tier2 = (await post('/api/v1/groups', { name: '二线网络组', tier: 2 })).json().id;
});
afterAll(async () => {
  await t?.close();
});

describe('incident contract', () => {
  it('creates with matrix priority, ref and status new', async () => {
    const incident = await newIncident();
    expect(incident).toMatchObject({
      status: 'new',
      priority: 'P1',
      channel: 'wechat',
      version: 1,
      customerId: customerA,
    });
    expect(incident.ref).toMatch(/^INC-\d+$/);
    expect(incident.id).toMatch(/[0-9a-f-]{36}/);
    const low = await newIncident({ impact: 'low', urgency: 'low' });
    expect(low.priority).toBe('P5');
  });

  it('walks the whole lifecycle through action endpoints', async () => {
    const incident = await newIncident({ requesterId: contactA });
    const act = (action: string, body: unknown) => post(`/api/v1/incidents/${incident.id}/${action}`, body);

    let res = await act('assign', { groupId: tier1, assigneeId: agent });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'assigned', groupId: tier1, tier: 1, assigneeId: agent });
    res = await act('start', {});
    expect(res.json()).toMatchObject({ status: 'in_progress' });
    expect(res.json().acknowledgedAt).not.toBeNull();
    res = await act('pend', { reason: 'customer' });
    expect(res.json()).toMatchObject({ status: 'pending', pendingReason: 'customer' });
    res = await act('resume', {});
    expect(res.json()).toMatchObject({ status: 'in_progress', pendingReason: null });
    res = await act('resolve', { resolutionCode: 'fixed', resolutionNotes: '重置密码后恢复' });
    expect(res.json()).toMatchObject({ status: 'resolved', resolutionCode: 'fixed' });
    res = await act('reopen', { reason: '又出现了' });
    expect(res.json()).toMatchObject({ status: 'in_progress', reopenCount: 1 });
    res = await act('resolve', { resolutionCode: 'workaround', resolutionNotes: '临时方案' });
    expect(res.statusCode).toBe(200);
    res = await act('close', {});
    expect(res.json()).toMatchObject({ status: 'closed', closeReason: 'closed', allowedActions: [] });

    const timeline = (await t.request('GET', `/api/v1/incidents/${incident.id}/timeline`)).json().items;
    const types = timeline.map((i: { type: string }) => i.type);
    expect(types).toEqual(
      expect.arrayContaining(['created', 'assigned', 'status_changed', 'callback_requested']),
    );
    for (const item of timeline) {
      expect(item).toHaveProperty('at');
      expect(item.actor).toHaveProperty('name');
    }
  });

  it('answers 409 with the current status and allowed actions for a disallowed transition', async () => {
    const incident = await newIncident();
    const res = await post(`/api/v1/incidents/${incident.id}/close`, {});
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'INCIDENT_TRANSITION_NOT_ALLOWED',
      status: 409,
      allowedActions: ['assign', 'start', 'resolve', 'escalate', 'cancel'],
    });
    expect(res.json().detail).toContain('new');
  });

  it('requires a known resolution code and notes', async () => {
    const incident = await newIncident();
    let res = await post(`/api/v1/incidents/${incident.id}/resolve`, {
      resolutionCode: 'magic',
      resolutionNotes: 'x',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].pointer).toBe('/resolutionCode');
    res = await post(`/api/v1/incidents/${incident.id}/resolve`, { resolutionCode: 'fixed' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].pointer).toBe('/resolutionNotes');
    for (const code of ['fixed', 'workaround', 'no_fault_found', 'duplicate', 'auto_resolved']) {
      const other = await newIncident();
      const ok = await post(`/api/v1/incidents/${other.id}/resolve`, {
        resolutionCode: code,
        resolutionNotes: 'n',
      });
      expect(ok.statusCode, code).toBe(200);
    }
  });

  it('cancels with a reason; a cancelled incident takes no more actions', async () => {
    const incident = await newIncident();
    expect((await post(`/api/v1/incidents/${incident.id}/cancel`, {})).statusCode).toBe(400);
    const res = await post(`/api/v1/incidents/${incident.id}/cancel`, { reason: '重复报障' });
    expect(res.json()).toMatchObject({ status: 'cancelled' });
    expect((await post(`/api/v1/incidents/${incident.id}/start`, {})).statusCode).toBe(409);
  });

  it('escalates to the next tier and records it as a functional escalation', async () => {
    const incident = await newIncident();
    await post(`/api/v1/incidents/${incident.id}/assign`, { groupId: tier1 });
    const res = await post(`/api/v1/incidents/${incident.id}/escalate`, { reason: '一线无法解决' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'assigned', groupId: tier2, tier: 2, escalationCount: 1 });
    const again = await post(`/api/v1/incidents/${incident.id}/escalate`, { reason: 'no tier 3' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('INCIDENT_NO_NEXT_TIER');
    const timeline = (await t.request('GET', `/api/v1/incidents/${incident.id}/timeline`)).json().items;
    expect(timeline.find((i: { type: string }) => i.type === 'escalated')).toMatchObject({
      kind: 'functional',
      fromTier: 1,
      tier: 2,
      reason: '一线无法解决',
    });
  });

  it('honours If-Match on actions', async () => {
    const incident = await newIncident();
    const stale = await t.request('POST', `/api/v1/incidents/${incident.id}/start`, {
      body: {},
      headers: { 'if-match': '"7"' },
    });
    expect(stale.statusCode).toBe(412);
    const ok = await t.request('POST', `/api/v1/incidents/${incident.id}/start`, {
      body: {},
      headers: { 'if-match': '"1"' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).toBe('"2"');
  });

  it('overrides priority only with a reason, and records it', async () => {
    const incident = await newIncident({ impact: 'low', urgency: 'low' });
    let res = await t.request('PATCH', `/api/v1/incidents/${incident.id}`, { body: { priority: 'P2' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].pointer).toBe('/priorityReason');
    res = await t.request('PATCH', `/api/v1/incidents/${incident.id}`, {
      body: { priority: 'P2', priorityReason: 'VIP 用户' },
    });
    expect(res.json()).toMatchObject({
      priority: 'P2',
      priorityOverridden: true,
      priorityReason: 'VIP 用户',
    });
    res = await t.request('PATCH', `/api/v1/incidents/${incident.id}`, { body: { impact: 'high' } });
    expect(res.json().priority).toBe('P2');
    const timeline = (await t.request('GET', `/api/v1/incidents/${incident.id}/timeline`)).json().items;
    expect(timeline.find((i: { type: string }) => i.type === 'priority_changed')).toMatchObject({
      from: 'P5',
      to: 'P2',
      reason: 'VIP 用户',
    });
  });

  it('comments: the first public agent reply acknowledges; internal ones do not', async () => {
    const incident = await newIncident();
    let res = await post(`/api/v1/incidents/${incident.id}/comments`, {
      body: '内部备注',
      visibility: 'internal',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().acknowledgedAt).toBeNull();
    res = await post(`/api/v1/incidents/${incident.id}/comments`, {
      body: '您好，正在处理',
      visibility: 'public',
    });
    expect(res.json().acknowledgedAt).not.toBeNull();
  });
});

describe('roles and isolation', () => {
  it('lets a requester create and read only its own customer, with public comments only', async () => {
    const requesterA = await t.key('requester', customerA);
    const mine = await newIncident({}, requesterA);
    const theirs = await post('/api/v1/incidents', { title: 'x', customerId: customerB }, requesterA);
    expect(theirs.statusCode).toBe(400);
    expect(theirs.json().errors[0].pointer).toBe('/customerId');
    const other = (await post('/api/v1/incidents', { title: 'B 的事件', customerId: customerB })).json();
    expect((await t.request('GET', `/api/v1/incidents/${other.id}`, { token: requesterA })).statusCode).toBe(
      404,
    );
    expect(
      (await t.request('GET', `/api/v1/incidents/${other.id}/timeline`, { token: requesterA })).statusCode,
    ).toBe(404);
    expect(
      (await post(`/api/v1/incidents/${other.id}/comments`, { body: 'hi' }, requesterA)).statusCode,
    ).toBe(404);
    const list = (await t.request('GET', '/api/v1/incidents?limit=500', { token: requesterA })).json();
    expect(list.items.every((i: { customerId: string }) => i.customerId === customerA)).toBe(true);
    expect(list.items.some((i: { id: string }) => i.id === mine.id)).toBe(true);

    await post(`/api/v1/incidents/${mine.id}/comments`, {
      body: '内部: 怀疑是密码策略',
      visibility: 'internal',
    });
    await post(`/api/v1/incidents/${mine.id}/work-notes`, { body: '查看了 AD 日志' });
    await post(`/api/v1/incidents/${mine.id}/comments`, { body: '正在处理', visibility: 'public' });
    const seen = (
      await t.request('GET', `/api/v1/incidents/${mine.id}/timeline`, { token: requesterA })
    ).json().items;
    expect(seen.every((i: { visibility: string }) => i.visibility === 'public')).toBe(true);
    expect(seen.some((i: { body?: string }) => i.body === '正在处理')).toBe(true);
    expect(seen.some((i: { body?: string }) => i.body?.startsWith('内部'))).toBe(false);
    // A requester's "internal" comment is stored as public.
    const own = await post(
      `/api/v1/incidents/${mine.id}/comments`,
      { body: '补充信息', visibility: 'internal' },
      requesterA,
    );
    expect(own.statusCode).toBe(201);
    const after = (
      await t.request('GET', `/api/v1/incidents/${mine.id}/timeline`, { token: requesterA })
    ).json().items;
    expect(after.some((i: { body?: string }) => i.body === '补充信息')).toBe(true);
  });

  it('denies requesters the agent actions and integration keys everything', async () => {
    const requesterA = await t.key('requester', customerA);
    const integration = await t.key('integration');
    const incident = await newIncident();
    for (const action of ['assign', 'start', 'resolve', 'close', 'escalate', 'cancel']) {
      const res = await post(`/api/v1/incidents/${incident.id}/${action}`, {}, requesterA);
      expect(res.statusCode, action).toBe(403);
    }
    expect(
      (
        await t.request('PATCH', `/api/v1/incidents/${incident.id}`, {
          body: { title: 'x' },
          token: requesterA,
        })
      ).statusCode,
    ).toBe(403);
    expect((await t.request('GET', '/api/v1/incidents', { token: integration })).statusCode).toBe(403);
    expect(
      (await post('/api/v1/incidents', { title: 'x', customerId: customerA }, integration)).statusCode,
    ).toBe(403);
    expect((await t.request('GET', `/api/v1/incidents/${incident.id}`, { token: null })).statusCode).toBe(
      401,
    );
  });
});

describe('lists and search', () => {
  it('filters, sorts, pages and searches Chinese and English text', async () => {
    const c = (await post('/api/v1/customers', { name: 'Search Co', code: 'SRCH' })).json().id;
    const make = (title: string, description: string, extra: Record<string, unknown> = {}) =>
      post('/api/v1/incidents', { title, description, customerId: c, ...extra });
    await make('服务器告警', '生产环境数据库服务器磁盘空间不足，写入失败', {
      channel: 'monitoring',
      impact: 'high',
      urgency: 'high',
      category: 'hardware',
    });
    await make('Mail outage', 'Users cannot send mail: SMTP relay down', {
      channel: 'email',
      category: 'software.email',
    });
    await make('打印机卡纸', '三楼打印机卡纸', { channel: 'phone', category: 'hardware.printer' });

    const search = async (q: string) =>
      (await t.request('GET', `/api/v1/incidents?customerId=${c}&q=${encodeURIComponent(q)}`))
        .json()
        .items.map((i: { title: string }) => i.title);
    expect(await search('磁盘空间不足')).toEqual(['服务器告警']);
    expect(await search('磁盘')).toEqual(['服务器告警']);
    expect(await search('smtp relay')).toEqual(['Mail outage']);
    expect(await search('打印')).toEqual(['打印机卡纸']);
    expect(await search('不存在的词')).toEqual([]);

    const byChannel = (await t.request('GET', `/api/v1/incidents?customerId=${c}&channel=monitoring`)).json()
      .items;
    expect(byChannel).toHaveLength(1);
    const byCategory = (await t.request('GET', `/api/v1/incidents?customerId=${c}&category=hardware`)).json()
      .items;
    expect(byCategory.map((i: { title: string }) => i.title).sort()).toEqual(['打印机卡纸', '服务器告警']);
    const p1 = (await t.request('GET', `/api/v1/incidents?customerId=${c}&priority=P1&status=new`)).json()
      .items;
    expect(p1.map((i: { title: string }) => i.title)).toEqual(['服务器告警']);

    const page1 = (await t.request('GET', `/api/v1/incidents?customerId=${c}&limit=2&sort=createdAt`)).json();
    expect(page1.items.map((i: { title: string }) => i.title)).toEqual(['服务器告警', 'Mail outage']);
    const page2 = (
      await t.request(
        'GET',
        `/api/v1/incidents?customerId=${c}&limit=2&sort=createdAt&cursor=${page1.nextCursor}`,
      )
    ).json();
    expect(page2.items.map((i: { title: string }) => i.title)).toEqual(['打印机卡纸']);
    expect(page2.nextCursor).toBeNull();
  });

  it('rejects unknown categories and bad filters', async () => {
    const res = await post('/api/v1/incidents', { title: 'x', customerId: customerA, category: 'nope' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].pointer).toBe('/category');
    const bad = await t.request('GET', '/api/v1/incidents?status=open');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].in).toBe('query');
  });
});

describe('major incidents, attachments, statistics', () => {
  it('flags a major incident, links children and logs communications', async () => {
    const major = await newIncident();
    const child = await newIncident();
    expect((await post(`/api/v1/incidents/${major.id}/children`, { childId: child.id })).statusCode).toBe(
      409,
    );
    const flagged = await post(`/api/v1/incidents/${major.id}/major`, { reason: '全公司邮件中断' });
    expect(flagged.json()).toMatchObject({ major: true, majorReason: '全公司邮件中断' });
    expect((await post(`/api/v1/incidents/${major.id}/children`, { childId: child.id })).statusCode).toBe(
      200,
    );
    expect(
      (
        await post(`/api/v1/incidents/${major.id}/communications`, {
          message: '已通知管理层',
          audience: 'management',
        })
      ).statusCode,
    ).toBe(200);
    const children = (await t.request('GET', `/api/v1/incidents?parentId=${major.id}`)).json().items;
    expect(children.map((i: { id: string }) => i.id)).toEqual([child.id]);
    const majors = (await t.request('GET', '/api/v1/incidents?major=true')).json().items;
    expect(majors.map((i: { id: string }) => i.id)).toContain(major.id);
    const timeline = (await t.request('GET', `/api/v1/incidents/${major.id}/timeline`)).json().items;
    expect(timeline.map((i: { type: string }) => i.type)).toEqual(
      expect.arrayContaining(['major_declared', 'child_linked', 'communication']),
    );
  });

  it('stores attachments with size, content type and SHA-256, and serves them back', async () => {
    const incident = await newIncident();
    const boundary = 'tesseraboundary';
    const content = Buffer.from('截图内容 screenshot bytes');
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="错误截图.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${incident.id}/attachments`,
      headers: {
        authorization: `Bearer ${t.adminToken}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(201);
    const attachment = res.json();
    expect(attachment).toMatchObject({
      filename: '错误截图.png',
      contentType: 'image/png',
      sizeBytes: content.length,
    });
    expect(attachment.sha256).toMatch(/^[0-9a-f]{64}$/);
    const download = await t.request('GET', `/api/v1/incidents/${incident.id}/attachments/${attachment.id}`);
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(content)).toBe(true);
    expect(download.headers['content-type']).toContain('image/png');
    const list = (await t.request('GET', `/api/v1/incidents/${incident.id}/attachments`)).json().items;
    expect(list).toHaveLength(1);
    const missing = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${incident.id}/attachments`,
      headers: {
        authorization: `Bearer ${t.adminToken}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      payload: Buffer.from(`--${boundary}--\r\n`),
    });
    expect(missing.statusCode).toBe(400);
  });

  it('computes statistics', async () => {
    const c = (await post('/api/v1/customers', { name: 'Stats Co', code: 'STAT' })).json().id;
    const ids: string[] = [];
    for (const channel of ['phone', 'phone', 'email']) {
      ids.push(
        (
          await post('/api/v1/incidents', {
            title: 's',
            customerId: c,
            channel,
            impact: 'high',
            urgency: 'high',
          })
        ).json().id,
      );
    }
    // #1: resolved at first contact by tier 1; #2: escalated then resolved, reopened; #3 open.
    await post(`/api/v1/incidents/${ids[0]}/assign`, { groupId: tier1 });
    await post(`/api/v1/incidents/${ids[0]}/start`, {});
    await post(`/api/v1/incidents/${ids[0]}/resolve`, { resolutionCode: 'fixed', resolutionNotes: 'ok' });
    await post(`/api/v1/incidents/${ids[1]}/assign`, { groupId: tier1 });
    await post(`/api/v1/incidents/${ids[1]}/escalate`, { reason: 'hard' });
    await post(`/api/v1/incidents/${ids[1]}/start`, {});
    await post(`/api/v1/incidents/${ids[1]}/resolve`, { resolutionCode: 'fixed', resolutionNotes: 'ok' });
    await post(`/api/v1/incidents/${ids[1]}/reopen`, { reason: 'again' });
    await post(`/api/v1/incidents/${ids[1]}/resolve`, { resolutionCode: 'fixed', resolutionNotes: 'ok' });
    const stats = (await t.request('GET', `/api/v1/incidents/stats?customerId=${c}`)).json();
    expect(stats.total).toBe(3);
    expect(stats.byChannel).toEqual({ phone: 2, email: 1 });
    expect(stats.byStatus).toEqual({ resolved: 2, new: 1 });
    expect(stats.byPriority).toEqual({ P1: 3 });
    expect(stats.timeToResolve.count).toBe(2);
    expect(stats.timeToAcknowledge.count).toBe(2);
    expect(stats.firstContactResolutionRate).toBe(0.5);
    expect(stats.reopenRate).toBe(0.5);
    expect(stats.escalationRate).toBeCloseTo(1 / 3);
  });
});

describe('call-back confirmation', () => {
  async function resolved() {
    const incident = await newIncident({ requesterId: contactA });
    await post(`/api/v1/incidents/${incident.id}/start`, {});
    await post(`/api/v1/incidents/${incident.id}/resolve`, {
      resolutionCode: 'fixed',
      resolutionNotes: '已修复',
    });
    const requesterA = await t.key('requester', customerA);
    const confirmation = (
      await t.request('GET', `/api/v1/incidents/${incident.id}/confirmation`, { token: requesterA })
    ).json();
    return { incident, token: confirmation.token as string };
  }

  it('confirming closes the ticket with the rating recorded; the token works without an API key once', async () => {
    const { incident, token } = await resolved();
    const view = await t.request('GET', `/api/v1/confirmations/${token}`, { token: null });
    expect(view.json()).toMatchObject({ incidentId: incident.id, resolutionNotes: '已修复', outcome: null });
    const res = await t.request('POST', `/api/v1/confirmations/${token}`, {
      token: null,
      body: { outcome: 'confirmed', rating: 5, comment: '很满意' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'closed', outcome: 'confirmed' });
    const got = (await t.request('GET', `/api/v1/incidents/${incident.id}`)).json();
    expect(got).toMatchObject({ status: 'closed', closeReason: 'confirmed' });
    const again = await t.request('POST', `/api/v1/confirmations/${token}`, {
      token: null,
      body: { outcome: 'rejected' },
    });
    expect(again.statusCode).toBe(409);
    const timeline = (await t.request('GET', `/api/v1/incidents/${incident.id}/timeline`)).json().items;
    expect(timeline.find((i: { type: string }) => i.type === 'callback')).toMatchObject({
      outcome: 'confirmed',
      rating: 5,
      comment: '很满意',
    });
  });

  it('rejecting reopens the ticket', async () => {
    const { incident, token } = await resolved();
    const res = await t.request('POST', `/api/v1/confirmations/${token}`, {
      token: null,
      body: { outcome: 'rejected', rating: 2, comment: '还是不行' },
    });
    expect(res.json()).toMatchObject({ status: 'in_progress' });
    expect((await t.request('GET', `/api/v1/incidents/${incident.id}`)).json().reopenCount).toBe(1);
  });

  it('rejects unknown tokens and bad ratings', async () => {
    expect(
      (
        await t.request('POST', '/api/v1/confirmations/nonexistent-token', {
          token: null,
          body: { outcome: 'confirmed' },
        })
      ).statusCode,
    ).toBe(404);
    const { token } = await resolved();
    const bad = await t.request('POST', `/api/v1/confirmations/${token}`, {
      token: null,
      body: { outcome: 'confirmed', rating: 9 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].pointer).toBe('/rating');
  });

  it('auto-closes an unconfirmed incident after the configured days, recorded as such', async () => {
    const { incident } = await resolved();
    const { createIncidentService } = await import('../../../src/modules/incident/index.ts');
    const service = createIncidentService({ db: t.db });
    expect((await service.autoCloseExpired(new Date())).closed).toBe(0);
    const threeDaysLater = new Date(Date.now() + 3 * 86_400_000 + 1000);
    const result = await service.autoCloseExpired(threeDaysLater);
    expect(result.closed).toBeGreaterThanOrEqual(1);
    const got = (await t.request('GET', `/api/v1/incidents/${incident.id}`)).json();
    expect(got).toMatchObject({ status: 'closed', closeReason: 'auto_closed' });
    const timeline = (await t.request('GET', `/api/v1/incidents/${incident.id}/timeline`)).json().items;
    expect(timeline.find((i: { type: string }) => i.type === 'callback')).toMatchObject({
      outcome: 'auto_closed',
    });
  });
});
