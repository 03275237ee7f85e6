import { describe, expect, it } from 'vitest';
import {
  answerErrors,
  compileForm,
  FormCache,
} from '../../../src/modules/service-desk/service-desk.forms.ts';
import {
  ARTICLE_ACTIONS,
  ARTICLE_STATUSES,
  articleActions,
  checkRequestAction,
  REQUEST_ACTIONS,
  REQUEST_STATUSES,
  type RequestAction,
  type RequestStatus,
  requestActions,
} from '../../../src/modules/service-desk/service-desk.workflow.ts';

describe('service request state machine', () => {
  // status -> [actions with approval, actions without approval]
  const table: Record<RequestStatus, [RequestAction[], RequestAction[]]> = {
    submitted: [
      ['approve', 'reject', 'cancel'],
      ['start', 'cancel'],
    ],
    approved: [
      ['start', 'cancel'],
      ['start', 'cancel'],
    ],
    rejected: [[], []],
    in_fulfilment: [
      ['fulfil', 'cancel'],
      ['fulfil', 'cancel'],
    ],
    fulfilled: [['close'], ['close']],
    closed: [[], []],
    cancelled: [[], []],
  };

  it.each(REQUEST_STATUSES)('allows exactly the listed actions from %s', (status) => {
    const [withApproval, without] = table[status];
    expect(requestActions(status, true)).toEqual(withApproval);
    expect(requestActions(status, false)).toEqual(without);
    for (const [approval, allowed] of [
      [true, withApproval],
      [false, without],
    ] as const) {
      for (const action of REQUEST_ACTIONS) {
        const check = checkRequestAction(status, approval, action);
        expect(check.ok, `${status} ${approval} ${action}`).toBe(allowed.includes(action));
        if (!check.ok) expect(check.allowed).toEqual(allowed);
      }
    }
  });

  it('leads each action to its status', () => {
    expect(checkRequestAction('submitted', true, 'approve')).toEqual({ ok: true, to: 'approved' });
    expect(checkRequestAction('submitted', true, 'reject')).toEqual({ ok: true, to: 'rejected' });
    expect(checkRequestAction('submitted', false, 'start')).toEqual({ ok: true, to: 'in_fulfilment' });
    expect(checkRequestAction('approved', true, 'start')).toEqual({ ok: true, to: 'in_fulfilment' });
    expect(checkRequestAction('in_fulfilment', true, 'fulfil')).toEqual({ ok: true, to: 'fulfilled' });
    expect(checkRequestAction('fulfilled', false, 'close')).toEqual({ ok: true, to: 'closed' });
    expect(checkRequestAction('approved', true, 'cancel')).toEqual({ ok: true, to: 'cancelled' });
  });

  it('says why approving is refused when the item needs no approval', () => {
    expect(checkRequestAction('submitted', false, 'approve')).toMatchObject({
      ok: false,
      reason: 'approval_not_required',
    });
    expect(checkRequestAction('submitted', false, 'reject')).toMatchObject({
      ok: false,
      reason: 'approval_not_required',
    });
    expect(checkRequestAction('approved', true, 'approve')).toMatchObject({
      ok: false,
      reason: 'not_allowed',
    });
    expect(checkRequestAction('submitted', true, 'start')).toMatchObject({
      ok: false,
      reason: 'not_allowed',
    });
  });
});

describe('knowledge article state machine', () => {
  it.each([
    ['draft', ['publish']],
    ['published', ['retire']],
    ['retired', []],
  ] as const)('%s allows %j', (status, allowed) => {
    expect(articleActions(status)).toEqual(allowed);
  });
  it('covers every status and action', () => {
    expect(ARTICLE_STATUSES).toHaveLength(3);
    expect(ARTICLE_ACTIONS).toEqual(['publish', 'retire']);
  });
});

describe('request forms', () => {
  const schema = {
    type: 'object',
    required: ['model', 'quantity'],
    additionalProperties: false,
    properties: {
      model: { type: 'string', enum: ['T14', 'X1'] },
      quantity: { type: 'integer', minimum: 1, maximum: 5 },
      email: { type: 'string', format: 'email' },
      delivery: {
        type: 'object',
        required: ['city'],
        properties: { city: { type: 'string', minLength: 1 } },
      },
      tags: { type: 'array', items: { type: 'string' } },
    },
  };

  it('compiles a JSON Schema and reports each bad answer at /answers/<path>', () => {
    const compiled = compileForm(schema);
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    expect(answerErrors(compiled.validate, { model: 'T14', quantity: 2 })).toEqual([]);
    const errors = answerErrors(compiled.validate, {
      model: 'Mac',
      quantity: 0,
      email: 'nope',
      delivery: {},
      tags: ['ok', 3],
      colour: 'red',
    });
    const pointers = errors.map((e) => e.pointer).sort();
    expect(pointers).toEqual([
      '/answers/colour',
      '/answers/delivery/city',
      '/answers/email',
      '/answers/model',
      '/answers/quantity',
      '/answers/tags/1',
    ]);
    expect(errors.every((e) => e.in === 'body' && e.detail.length > 0)).toBe(true);
    const missing = answerErrors(compiled.validate, {});
    expect(missing.map((e) => [e.pointer, e.detail])).toEqual([
      ['/answers/model', 'is required'],
      ['/answers/quantity', 'is required'],
    ]);
  });

  it.each([
    [{ type: 'string' }, 'type": "object'],
    [{ properties: {} }, 'type": "object'],
    [{ type: 'object', properties: { a: { type: 'strng' } } }, 'not a valid JSON Schema'],
    [{ type: 'object', requird: ['a'] }, 'unknown keyword'],
    [{ type: 'object', properties: { a: { $ref: 'https://example.com/x.json' } } }, "can't resolve"],
    [{ type: 'object', properties: { a: { type: 'string', format: 'no-such-format' } } }, 'unknown format'],
  ])('rejects %j', (bad, detail) => {
    const compiled = compileForm(bad);
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) expect(compiled.detail).toContain(detail);
  });

  it('allows schemas with their own $id more than once, and caches by item version', () => {
    const withId = { $id: 'https://tessera.example/forms/laptop', ...schema };
    expect(compileForm(withId).ok).toBe(true);
    expect(compileForm(withId).ok).toBe(true);
    const cache = new FormCache(2);
    const a = cache.get('item', 1, schema);
    const b = cache.get('item', 1, { type: 'object', required: ['other'] });
    expect(a.ok && b.ok && a.validate === b.validate).toBe(true);
    const c = cache.get('item', 2, { type: 'object', required: ['other'] });
    expect(c.ok && !c.validate({})).toBe(true);
  });
});
