import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REQUEST_ACTIONS,
  type RequestAction,
  type RequestStatus,
  requestActions,
} from '../../../src/modules/service-desk/service-desk.workflow.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { agent, contact, customer, item, problem } from './fixtures.ts';

let t: TestApp;
let acme: { id: string };
let globex: { id: string };
let approver: { id: string };
let plainItem: { id: string }; // no approval
let approvalItem: { id: string }; // needs approval
let tokens: Record<'manager' | 'agent' | 'requesterAcme' | 'requesterGlobex' | 'integration', string>;

const laptopForm = {
  type: 'object',
  required: ['model', 'quantity'],
  additionalProperties: false,
  properties: {
    model: { type: 'string', enum: ['T14', 'X1'] },
    quantity: { type: 'integer', minimum: 1, maximum: 5 },
    delivery: {
      type: 'object',
      required: ['city'],
      properties: { city: { type: 'string', minLength: 1 }, floor: { type: 'integer' } },
    },
  },
};
const goodAnswers = { model: 'T14', quantity: 1 };

beforeAll(async () => {
  t = await startTestApp();
  acme = await customer(t, 'Acme 甲方');
  globex = await customer(t, 'Globex 乙方');
  approver = await agent(t);
  plainItem = await item(t, { name: 'Software install 软件安装', formSchema: laptopForm });
  approvalItem = await item(t, {
    name: 'Laptop 笔记本电脑',
    category: 'hardware.pc',
    formSchema: laptopForm,
    approvalRequired: true,
    approverIds: [approver.id],
  });
  tokens = {
    manager: await t.key('manager'),
    agent: await t.key('agent'),
    requesterAcme: await t.key('requester', acme.id),
    requesterGlobex: await t.key('requester', globex.id),
    integration: await t.key('integration'),
  };
});
afterAll(async () => {
  await t?.close();
});

async function submit(
  itemId: string,
  options: {
    customerId?: string;
    token?: string;
    answers?: unknown;
    title?: string;
    requesterId?: string;
  } = {},
) {
  return t.request('POST', '/api/v1/service-requests', {
    token: options.token,
    body: {
      itemId,
      ...(options.customerId === undefined && !options.token ? { customerId: acme.id } : {}),
      ...(options.customerId ? { customerId: options.customerId } : {}),
      answers: options.answers ?? goodAnswers,
      ...(options.title ? { title: options.title } : {}),
      ...(options.requesterId ? { requesterId: options.requesterId } : {}),
    },
  });
}

async function act(id: string, action: RequestAction, body?: unknown, headers?: Record<string, string>) {
  return t.request('POST', `/api/v1/service-requests/${id}/${action}`, {
    token: tokens.agent,
    body: body ?? defaultBody(action),
    ...(headers ? { headers } : {}),
  });
}

function defaultBody(action: RequestAction): unknown {
  switch (action) {
    case 'reject':
      return { comment: 'not budgeted' };
    case 'cancel':
      return { reason: 'no longer needed' };
    case 'fulfil':
      return { notes: 'delivered' };
    default:
      return {};
  }
}

/** Paths that reach each status (approval needed?, actions from submitted). */
const PATHS: Record<RequestStatus, [boolean, RequestAction[]][]> = {
  submitted: [
    [true, []],
    [false, []],
  ],
  approved: [[true, ['approve']]],
  rejected: [[true, ['reject']]],
  in_fulfilment: [
    [true, ['approve', 'start']],
    [false, ['start']],
  ],
  fulfilled: [[false, ['start', 'fulfil']]],
  closed: [[false, ['start', 'fulfil', 'close']]],
  cancelled: [[false, ['cancel']]],
};

async function requestIn(approval: boolean, path: RequestAction[]): Promise<{ id: string; status: string }> {
  const res = await submit(approval ? approvalItem.id : plainItem.id);
  expect(res.statusCode, res.body).toBe(201);
  let request = res.json();
  for (const action of path) {
    const next = await act(request.id, action);
    expect(next.statusCode, `${action}: ${next.body}`).toBe(200);
    request = next.json();
  }
  return request;
}

describe('request catalogue', () => {
  it('checks the form schema when an item is saved', async () => {
    const notObject = problem(
      await t.request('POST', '/api/v1/request-items', {
        body: { code: 'BAD1', name: 'Bad', formSchema: { type: 'string' } },
      }),
      400,
    );
    expect(notObject.code).toBe('SERVICE_DESK_INVALID_FORM_SCHEMA');
    expect(notObject.errors).toEqual([expect.objectContaining({ pointer: '/formSchema' })]);

    const invalid = problem(
      await t.request('POST', '/api/v1/request-items', {
        body: {
          code: 'BAD2',
          name: 'Bad',
          formSchema: { type: 'object', properties: { a: { type: 'strng' } } },
        },
      }),
      400,
    );
    expect(invalid.errors?.[0]?.detail).toContain('not a valid JSON Schema');

    const typo = problem(
      await t.request('POST', '/api/v1/request-items', {
        body: { code: 'BAD3', name: 'Bad', formSchema: { type: 'object', requird: ['a'] } },
      }),
      400,
    );
    expect(typo.errors?.[0]?.detail).toContain('requird');

    const noApprover = problem(
      await t.request('POST', '/api/v1/request-items', {
        body: { code: 'BAD4', name: 'Bad', approvalRequired: true },
      }),
      400,
    );
    expect(noApprover.code).toBe('SERVICE_DESK_APPROVER_REQUIRED');
    const someContact = await contact(t, acme.id);
    const nobody = '00000000-0000-4000-8000-000000000000';
    const notAgents = problem(
      await t.request('POST', '/api/v1/request-items', {
        body: {
          code: 'BAD5',
          name: 'Bad',
          approvalRequired: true,
          approverIds: [approver.id, someContact.id, nobody],
        },
      }),
      400,
    );
    expect(notAgents.code).toBe('SERVICE_DESK_APPROVER_NOT_AGENT');
    expect(notAgents.errors?.map((e) => e.pointer)).toEqual(['/approverIds/1', '/approverIds/2']);
    const patchNotAgent = await t.request('PATCH', `/api/v1/request-items/${approvalItem.id}`, {
      body: { approverIds: [someContact.id] },
    });
    expect(problem(patchNotAgent, 400).errors?.[0]?.pointer).toBe('/approverIds/0');
    const list = await t.request('GET', '/api/v1/request-items?q=BAD');
    expect(list.json().items).toEqual([]);
  });

  it('creates, patches with If-Match, rejects duplicate codes and hides inactive items from requesters', async () => {
    const created = await t.request('POST', '/api/v1/request-items', {
      token: tokens.manager,
      body: { code: 'vpn-access', name: 'VPN access VPN 开通', category: 'network.vpn' },
    });
    expect(created.statusCode).toBe(201);
    const vpn = created.json();
    expect(vpn).toMatchObject({
      code: 'vpn-access',
      formSchema: { type: 'object' },
      approvalRequired: false,
      approverIds: [],
      active: true,
      version: 1,
    });
    expect(vpn.ref).toMatch(/^ITM-\d{6,}$/);
    expect(created.headers.etag).toBe('"1"');

    const dup = problem(
      await t.request('POST', '/api/v1/request-items', {
        body: { code: 'VPN-ACCESS', name: 'Again' },
      }),
      409,
    );
    expect(dup.code).toBe('SERVICE_DESK_ITEM_CODE_TAKEN');

    const badPatch = await t.request('PATCH', `/api/v1/request-items/${vpn.id}`, {
      body: { formSchema: { type: 'array' } },
      headers: { 'if-match': '"1"' },
    });
    expect(problem(badPatch, 400).code).toBe('SERVICE_DESK_INVALID_FORM_SCHEMA');
    const patched = await t.request('PATCH', `/api/v1/request-items/${vpn.id}`, {
      body: { active: false },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ active: false, version: 2 });
    const stale = await t.request('PATCH', `/api/v1/request-items/${vpn.id}`, {
      body: { active: true },
      headers: { 'if-match': '"1"' },
    });
    expect(problem(stale, 412).code).toBe('VERSION_MISMATCH');

    // Requesters see the active catalogue only; staff see everything.
    const asRequester = await t.request('GET', '/api/v1/request-items?limit=500', {
      token: tokens.requesterAcme,
    });
    expect(asRequester.statusCode).toBe(200);
    expect(asRequester.json().items.map((i: { id: string }) => i.id)).not.toContain(vpn.id);
    expect(
      (await t.request('GET', `/api/v1/request-items/${vpn.id}`, { token: tokens.requesterAcme })).statusCode,
    ).toBe(404);
    expect(
      (await t.request('GET', `/api/v1/request-items/${vpn.id}`, { token: tokens.agent })).statusCode,
    ).toBe(200);
    const inactive = await submit(vpn.id, { answers: {} });
    expect(problem(inactive, 400).code).toBe('SERVICE_DESK_ITEM_INACTIVE');
  });

  it('lets only admins and managers change the catalogue', async () => {
    for (const token of [tokens.agent, tokens.requesterAcme, tokens.integration]) {
      const res = await t.request('POST', '/api/v1/request-items', { token, body: { code: 'X', name: 'X' } });
      expect(problem(res, 403).code).toBe('AUTH_FORBIDDEN');
      const patch = await t.request('PATCH', `/api/v1/request-items/${plainItem.id}`, {
        token,
        body: { name: 'X' },
      });
      expect(patch.statusCode).toBe(403);
    }
    expect((await t.request('GET', '/api/v1/request-items', { token: tokens.integration })).statusCode).toBe(
      403,
    );
  });
});

describe('service requests', () => {
  it('validates answers against the form and points at each bad one', async () => {
    const res = await submit(plainItem.id, {
      answers: { model: 'Mac', quantity: 9, delivery: { floor: 'two' }, colour: 'red' },
    });
    const body = problem(res, 400);
    expect(body.code).toBe('SERVICE_DESK_INVALID_ANSWERS');
    expect(body.errors?.map((e) => e.pointer).sort()).toEqual([
      '/answers/colour',
      '/answers/delivery/city',
      '/answers/delivery/floor',
      '/answers/model',
      '/answers/quantity',
    ]);
    const missing = problem(await submit(plainItem.id, { answers: {} }), 400);
    expect(missing.errors).toEqual([
      { in: 'body', pointer: '/answers/model', detail: 'is required' },
      { in: 'body', pointer: '/answers/quantity', detail: 'is required' },
    ]);
    const unknownItem = problem(await submit('00000000-0000-4000-8000-000000000000'), 400);
    expect(unknownItem.errors?.[0]?.pointer).toBe('/itemId');
    const globexContact = await contact(t, globex.id);
    const foreignRequester = problem(await submit(plainItem.id, { requesterId: globexContact.id }), 400);
    expect(foreignRequester).toMatchObject({ code: 'SERVICE_DESK_UNKNOWN_REQUESTER' });
    expect(foreignRequester.errors?.[0]?.pointer).toBe('/requesterId');
    const noCustomer = await t.request('POST', '/api/v1/service-requests', {
      body: { itemId: plainItem.id, answers: goodAnswers },
    });
    expect(problem(noCustomer, 400).code).toBe('SERVICE_DESK_CUSTOMER_REQUIRED');
    const count = await t.db
      .selectFrom('service_requests')
      .select(t.db.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(Number(count?.n)).toBe(0);
  });

  it('runs the approval flow with timeline, audit and outbox events', async () => {
    const created = await submit(approvalItem.id, { requesterId: approver.id, title: '新员工笔记本' });
    expect(created.statusCode).toBe(201);
    const req = created.json();
    expect(req).toMatchObject({
      status: 'submitted',
      approvalRequired: true,
      allowedActions: ['approve', 'reject', 'cancel'],
      customerId: acme.id,
      title: '新员工笔记本',
      answers: goodAnswers,
      version: 1,
    });
    expect(req.ref).toMatch(/^REQ-\d{6,}$/);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe(`/api/v1/service-requests/${req.id}`);

    const early = problem(await act(req.id, 'start'), 409);
    expect(early).toMatchObject({
      code: 'SERVICE_DESK_TRANSITION_NOT_ALLOWED',
      status: 409,
      currentStatus: 'submitted',
      allowedActions: ['approve', 'reject', 'cancel'],
    });
    expect(early.detail).toContain('submitted');

    const stale = await act(req.id, 'approve', { comment: 'ok' }, { 'if-match': '"7"' });
    expect(problem(stale, 412).currentVersion).toBe(1);

    const approved = await act(req.id, 'approve', { comment: '同意' }, { 'if-match': '"1"' });
    expect(approved.statusCode).toBe(200);
    expect(approved.headers.etag).toBe('"2"');
    expect(approved.json()).toMatchObject({
      status: 'approved',
      decisionComment: '同意',
      allowedActions: ['start', 'cancel'],
      version: 2,
    });
    expect(approved.json().decidedBy).toMatch(/^agent-/);
    expect(approved.json().decidedAt).toMatch(/Z$/);

    expect((await act(req.id, 'start', undefined, { 'if-match': '"2"' })).json().status).toBe(
      'in_fulfilment',
    );
    const fulfilled = await act(req.id, 'fulfil', { notes: '已发放 T14' });
    expect(fulfilled.json()).toMatchObject({ status: 'fulfilled', fulfilmentNotes: '已发放 T14' });
    const closed = await t.request('POST', `/api/v1/service-requests/${req.id}/close`, {
      token: tokens.requesterAcme,
    });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json()).toMatchObject({ status: 'closed', allowedActions: [], version: 5 });
    expect(closed.json().closedAt).toMatch(/Z$/);

    const timeline = await t.request('GET', `/api/v1/service-requests/${req.id}/timeline`, {
      token: tokens.requesterAcme,
    });
    expect(timeline.statusCode).toBe(200);
    expect(
      timeline
        .json()
        .items.map((e: { type: string; fromStatus: string | null; toStatus: string | null }) => [
          e.type,
          e.fromStatus,
          e.toStatus,
        ]),
    ).toEqual([
      ['created', null, 'submitted'],
      ['approved', 'submitted', 'approved'],
      ['started', 'approved', 'in_fulfilment'],
      ['fulfilled', 'in_fulfilment', 'fulfilled'],
      ['closed', 'fulfilled', 'closed'],
    ]);
    expect(timeline.json().items[1]).toMatchObject({ comment: '同意', actor: { role: 'agent' } });
    expect(timeline.json().items[4].actor.role).toBe('requester');
    const page = await t.request('GET', `/api/v1/service-requests/${req.id}/timeline?limit=2`);
    const rest = await t.request(
      'GET',
      `/api/v1/service-requests/${req.id}/timeline?limit=10&cursor=${page.json().nextCursor}`,
    );
    expect(rest.json().items.map((e: { type: string }) => e.type)).toEqual([
      'started',
      'fulfilled',
      'closed',
    ]);

    const events = await t.db
      .selectFrom('outbox')
      .select(['type', 'customer_id'])
      .where('aggregate_id', '=', req.id)
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.type)).toEqual([
      'service_request.created',
      'service_request.approved',
      'service_request.updated',
      'service_request.fulfilled',
      'service_request.closed',
    ]);
    expect(events.every((e) => e.customer_id === acme.id)).toBe(true);
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'actor_role'])
      .where('record_id', '=', req.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'service_request.create',
      'service_request.approve',
      'service_request.start',
      'service_request.fulfil',
      'service_request.close',
    ]);
  });

  it('rejects with a required comment, and records cancellations', async () => {
    const req = await requestIn(true, []);
    const noComment = await act(req.id, 'reject', {});
    expect(problem(noComment, 400).errors?.[0]?.pointer).toBe('/comment');
    const rejected = await act(req.id, 'reject', { comment: '预算不足' });
    expect(rejected.json()).toMatchObject({
      status: 'rejected',
      decisionComment: '预算不足',
      allowedActions: [],
    });

    const other = await requestIn(false, ['start']);
    expect(problem(await act(other.id, 'cancel', {}), 400).errors?.[0]?.pointer).toBe('/reason');
    const cancelled = await act(other.id, 'cancel', { reason: '重复提交' });
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelReason: '重复提交' });
    const types = await t.db
      .selectFrom('outbox')
      .select('type')
      .where('aggregate_id', 'in', [req.id, other.id])
      .orderBy('id')
      .execute();
    expect(types.map((e) => e.type)).toContain('service_request.rejected');
    expect(types.map((e) => e.type)).toContain('service_request.cancelled');
  });

  it('refuses approval when the item needs none, and lets it start directly', async () => {
    const req = await requestIn(false, []);
    for (const action of ['approve', 'reject'] as const) {
      const res = problem(await act(req.id, action), 409);
      expect(res).toMatchObject({
        code: 'SERVICE_DESK_APPROVAL_NOT_REQUIRED',
        status: 409,
        currentStatus: 'submitted',
        allowedActions: ['start', 'cancel'],
      });
    }
    const started = await act(req.id, 'start');
    expect(started.json()).toMatchObject({ status: 'in_fulfilment', decidedBy: null });
  });

  // Every status x every action: allowed ones succeed, all others are 409 naming status and actions.
  for (const [status, paths] of Object.entries(PATHS) as [RequestStatus, [boolean, RequestAction[]][]][]) {
    for (const [approval, path] of paths) {
      it(`from ${status} (${approval ? 'approval' : 'no approval'}): each action allowed or 409`, async () => {
        const allowed = requestActions(status, approval);
        for (const action of REQUEST_ACTIONS) {
          const req = await requestIn(approval, path);
          expect(req.status).toBe(status);
          const res = await act(req.id, action);
          if (allowed.includes(action)) {
            expect(res.statusCode, `${action}: ${res.body}`).toBe(200);
          } else {
            const body = problem(res, 409);
            expect(body.status).toBe(409);
            expect(body).toMatchObject({ currentStatus: status, allowedActions: allowed });
            expect(body.detail).toContain(status);
            // The record is untouched.
            const after = await t.request('GET', `/api/v1/service-requests/${req.id}`);
            expect(after.json()).toMatchObject({ status, version: path.length + 1 });
          }
        }
      });
    }
  }

  it('lets staff change the title (service_request.updated) but not requesters', async () => {
    const req = await requestIn(false, []);
    const patched = await t.request('PATCH', `/api/v1/service-requests/${req.id}`, {
      token: tokens.agent,
      body: { title: '改名' },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.json()).toMatchObject({ title: '改名', version: 2 });
    const acmeContact = await contact(t, acme.id);
    const withRequester = await t.request('PATCH', `/api/v1/service-requests/${req.id}`, {
      body: { requesterId: acmeContact.id },
    });
    expect(withRequester.json()).toMatchObject({ requesterId: acmeContact.id, version: 3 });
    const foreign = await t.request('PATCH', `/api/v1/service-requests/${req.id}`, {
      body: { requesterId: (await contact(t, globex.id)).id },
    });
    expect(problem(foreign, 400).code).toBe('SERVICE_DESK_UNKNOWN_REQUESTER');
    const denied = await t.request('PATCH', `/api/v1/service-requests/${req.id}`, {
      token: tokens.requesterAcme,
      body: { title: 'x' },
    });
    expect(problem(denied, 403).code).toBe('AUTH_FORBIDDEN');
    const last = await t.db
      .selectFrom('outbox')
      .select('type')
      .where('aggregate_id', '=', req.id)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    expect(last?.type).toBe('service_request.updated');
  });

  it('lists with filters and cursor paging', async () => {
    const mine = await submit(plainItem.id, { requesterId: approver.id });
    const all = await t.request('GET', `/api/v1/service-requests?requesterId=${approver.id}`);
    expect(all.json().items.map((r: { id: string }) => r.id)).toContain(mine.json().id);
    const byItem = await t.request('GET', `/api/v1/service-requests?itemId=${approvalItem.id}&limit=500`);
    expect(byItem.json().items.length).toBeGreaterThan(0);
    expect(byItem.json().items.every((r: { itemId: string }) => r.itemId === approvalItem.id)).toBe(true);
    const closed = await t.request('GET', '/api/v1/service-requests?status=closed&limit=500');
    expect(closed.json().items.length).toBeGreaterThan(0);
    expect(closed.json().items.every((r: { status: string }) => r.status === 'closed')).toBe(true);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.request(
        'GET',
        `/api/v1/service-requests?customerId=${acme.id}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().items.map((r: { id: string }) => r.id));
      cursor = res.json().nextCursor;
    } while (cursor);
    const total = await t.db
      .selectFrom('service_requests')
      .select(t.db.fn.countAll().as('n'))
      .where('customer_id', '=', acme.id)
      .executeTakeFirst();
    expect(seen).toHaveLength(Number(total?.n));
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('isolation and roles', () => {
  it('keeps requester keys to their own customer', async () => {
    const own = await submit(plainItem.id, { token: tokens.requesterAcme });
    expect(own.statusCode, own.body).toBe(201);
    expect(own.json()).toMatchObject({
      customerId: acme.id,
      createdBy: expect.stringMatching(/^requester-/),
    });
    const explicitOwn = await submit(plainItem.id, { token: tokens.requesterAcme, customerId: acme.id });
    expect(explicitOwn.statusCode).toBe(201);

    const before = await t.db
      .selectFrom('service_requests')
      .select(t.db.fn.countAll().as('n'))
      .executeTakeFirst();
    const foreign = await submit(plainItem.id, { token: tokens.requesterAcme, customerId: globex.id });
    expect(problem(foreign, 400).code).toBe('SERVICE_DESK_UNKNOWN_CUSTOMER');
    const after = await t.db
      .selectFrom('service_requests')
      .select(t.db.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(after?.n).toBe(before?.n);

    const theirs = (await submit(plainItem.id, { customerId: globex.id })).json();
    for (const url of [
      `/api/v1/service-requests/${theirs.id}`,
      `/api/v1/service-requests/${theirs.id}/timeline`,
    ]) {
      expect(problem(await t.request('GET', url, { token: tokens.requesterAcme }), 404).code).toBe(
        'SERVICE_DESK_REQUEST_NOT_FOUND',
      );
    }
    const cancel = await t.request('POST', `/api/v1/service-requests/${theirs.id}/cancel`, {
      token: tokens.requesterAcme,
      body: { reason: 'not mine' },
    });
    expect(cancel.statusCode).toBe(404);
    expect((await t.request('GET', `/api/v1/service-requests/${theirs.id}`)).json().status).toBe('submitted');

    for (const query of ['', `?customerId=${globex.id}`, '?limit=500']) {
      const list = await t.request('GET', `/api/v1/service-requests${query}`, {
        token: tokens.requesterAcme,
      });
      expect(list.statusCode).toBe(200);
      expect(list.json().items.every((r: { customerId: string }) => r.customerId === acme.id)).toBe(true);
      expect(list.json().items.map((r: { id: string }) => r.id)).not.toContain(theirs.id);
    }
    const globexView = await t.request('GET', `/api/v1/service-requests/${theirs.id}`, {
      token: tokens.requesterGlobex,
    });
    expect(globexView.statusCode).toBe(200);
    const ownCancel = await t.request('POST', `/api/v1/service-requests/${own.json().id}/cancel`, {
      token: tokens.requesterAcme,
      body: { reason: '不需要了' },
    });
    expect(ownCancel.json().status).toBe('cancelled');
  });

  it('lets requesters cancel and close only, and agents and managers see all', async () => {
    const req = await requestIn(true, []);
    for (const action of ['approve', 'reject', 'start', 'fulfil'] as const) {
      const res = await t.request('POST', `/api/v1/service-requests/${req.id}/${action}`, {
        token: tokens.requesterAcme,
        body: defaultBody(action),
      });
      expect(problem(res, 403).code).toBe('AUTH_FORBIDDEN');
    }
    for (const token of [tokens.agent, tokens.manager]) {
      const list = await t.request('GET', '/api/v1/service-requests?limit=500', { token });
      const customers = new Set(list.json().items.map((r: { customerId: string }) => r.customerId));
      expect(customers).toEqual(new Set([acme.id, globex.id]));
    }
    const managerApproves = await t.request('POST', `/api/v1/service-requests/${req.id}/approve`, {
      token: tokens.manager,
    });
    expect(managerApproves.json()).toMatchObject({
      status: 'approved',
      decidedBy: expect.stringMatching(/^manager-/),
    });
  });

  it('answers integration keys 403 everywhere', async () => {
    const req = await requestIn(false, []);
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/v1/service-requests'],
      [
        'POST',
        '/api/v1/service-requests',
        { itemId: plainItem.id, customerId: acme.id, answers: goodAnswers },
      ],
      ['GET', `/api/v1/service-requests/${req.id}`],
      ['GET', `/api/v1/service-requests/${req.id}/timeline`],
      ['PATCH', `/api/v1/service-requests/${req.id}`, { title: 'x' }],
      ...REQUEST_ACTIONS.map(
        (a) =>
          ['POST', `/api/v1/service-requests/${req.id}/${a}`, defaultBody(a)] as [string, string, unknown],
      ),
      ['GET', '/api/v1/request-items'],
      ['GET', `/api/v1/request-items/${plainItem.id}`],
    ];
    for (const [method, url, body] of calls) {
      const res = await t.request(method, url, { token: tokens.integration, ...(body ? { body } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    expect((await t.request('GET', `/api/v1/service-requests/${req.id}`)).json().version).toBe(1);
  });

  it('labels statuses in English and Chinese', async () => {
    const zh = await t.request('GET', '/api/v1/enumerations', {
      token: tokens.requesterAcme,
      headers: { 'accept-language': 'zh-CN' },
    });
    expect(zh.json().serviceRequestStatus).toEqual([
      { code: 'submitted', label: '已提交' },
      { code: 'approved', label: '已审批' },
      { code: 'rejected', label: '已驳回' },
      { code: 'in_fulfilment', label: '处理中' },
      { code: 'fulfilled', label: '已完成' },
      { code: 'closed', label: '已关闭' },
      { code: 'cancelled', label: '已取消' },
    ]);
    expect(zh.json().knowledgeArticleStatus.map((l: { label: string }) => l.label)).toEqual([
      '草稿',
      '已发布',
      '已废止',
    ]);
    const en = await t.request('GET', '/api/v1/enumerations');
    expect(en.json().serviceRequestStatus[3]).toEqual({ code: 'in_fulfilment', label: 'In fulfilment' });
  });
});
