import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem } from '../../helpers/problems.ts';

/**
 * Keyset paging over more records than one page, for each sort: every record exactly once, in order.
 * Half the records are inserted in one statement so they share `created_at` and names repeat, which
 * makes the id tie-break carry the paging.
 */
let t: TestApp;
const LIMIT = 4;

interface Item {
  id: string;
  name: string;
  createdAt: string;
  tier?: number;
  code?: string;
}

beforeAll(async () => {
  t = await startTestApp();
  // Same created_at (one statement, one transaction timestamp) and repeated names.
  const tied = await t.db
    .insertInto('customers')
    .values(
      Array.from({ length: 7 }, (_, i) => ({ code: `TIE-${i}`, name: i % 2 ? 'Same name' : `Tied ${i}` })),
    )
    .returning('id')
    .execute();
  await t.db
    .insertInto('people')
    .values(
      Array.from({ length: 7 }, (_, i) => ({
        name: i % 2 ? 'Same name' : `Tied ${i}`,
        email: `tied${i}@paging.example`,
        kind: 'contact',
        customer_id: tied[0]!.id,
      })),
    )
    .execute();
  await t.db
    .insertInto('assignment_groups')
    .values(Array.from({ length: 7 }, (_, i) => ({ name: `Tied group ${i}`, tier: (i % 3) + 1 })))
    .execute();
  // And some through the API, one after another.
  for (let i = 0; i < 6; i++) {
    await t.request('POST', '/api/v1/customers', { body: { code: `API-${i}`, name: `Api ${5 - i}` } });
    await t.request('POST', '/api/v1/people', {
      body: { name: `Api ${5 - i}`, email: `api${i}@paging.example`, kind: 'agent' },
    });
    await t.request('POST', '/api/v1/groups', { body: { name: `Api group ${5 - i}`, tier: (i % 3) + 1 } });
  }
});
afterAll(async () => {
  await t?.close();
});

async function walk(path: string, sort: string): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `${path}?sort=${sort}&limit=${LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await t.request('GET', url);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.items.length).toBeLessThanOrEqual(LIMIT);
    if (body.nextCursor) expect(body.items).toHaveLength(LIMIT);
    items.push(...body.items);
    cursor = body.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { items, pages };
}

const byteCompare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function expectedOrder(items: Item[], sort: string): string[] {
  const descending = sort.startsWith('-');
  const key = (descending ? sort.slice(1) : sort) as keyof Item;
  const sign = descending ? -1 : 1;
  return [...items]
    .sort((a, b) => {
      const x = a[key]!;
      const y = b[key]!;
      const primary = typeof x === 'number' ? x - (y as number) : byteCompare(String(x), String(y));
      return sign * (primary || byteCompare(a.id, b.id));
    })
    .map((i) => i.id);
}

const cases: [string, string[]][] = [
  ['/api/v1/customers', ['createdAt', '-createdAt', 'name', '-name', 'code', '-code']],
  ['/api/v1/people', ['createdAt', '-createdAt', 'name', '-name']],
  ['/api/v1/groups', ['createdAt', '-createdAt', 'name', '-name', 'tier', '-tier']],
];

describe.each(cases)('%s', (path, sorts) => {
  it.each(sorts)('sort=%s pages through every record once, in order', async (sort) => {
    const everything = (await t.request('GET', `${path}?limit=500`)).json().items as Item[];
    expect(everything.length).toBeGreaterThan(2 * LIMIT);
    const { items, pages } = await walk(path, sort);
    const ids = items.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length); // no duplicates
    expect([...ids].sort()).toEqual(everything.map((i) => i.id).sort()); // no gaps
    expect(ids).toEqual(expectedOrder(everything, sort)); // in order, ties broken by id
    expect(pages).toBe(Math.ceil(everything.length / LIMIT));
  });
});

describe('cursors', () => {
  it('the last page has nextCursor null; a page of exactly the remaining rows too', async () => {
    const total = (await t.request('GET', '/api/v1/groups?limit=500')).json().items.length;
    const all = await t.request('GET', `/api/v1/groups?limit=${total}`);
    expect(all.json().nextCursor).toBeNull();
    const short = await t.request('GET', `/api/v1/groups?limit=${total - 1}`);
    expect(short.json().nextCursor).not.toBeNull();
  });

  it('filters apply across pages', async () => {
    const tier1 = (await t.request('GET', '/api/v1/groups?tier=1&limit=500')).json().items;
    const first = (await t.request('GET', '/api/v1/groups?tier=1&limit=2')).json();
    const second = (
      await t.request('GET', `/api/v1/groups?tier=1&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)
    ).json();
    expect([...first.items, ...second.items].map((g: Item) => g.id)).toEqual(
      tier1.slice(0, 4).map((g: Item) => g.id),
    );
    expect([...first.items, ...second.items].every((g: Item) => g.tier === 1)).toBe(true);
  });

  it('a garbage cursor -> 400 INVALID_CURSOR at query /cursor', async () => {
    for (const path of ['/api/v1/customers', '/api/v1/people', '/api/v1/groups']) {
      const res = await t.request('GET', `${path}?cursor=not-a-cursor`);
      expectProblem(res, 400, 'INVALID_CURSOR', [{ in: 'query', pointer: '/cursor' }]);
    }
  });

  it("another sort's cursor -> 400", async () => {
    const page = (await t.request('GET', '/api/v1/customers?sort=name&limit=2')).json();
    const res = await t.request('GET', `/api/v1/customers?sort=-createdAt&cursor=${page.nextCursor}`);
    expectProblem(res, 400, 'INVALID_CURSOR', [{ in: 'query', pointer: '/cursor' }]);
  });

  it('a forged cursor with values of the wrong type -> 400, never a 500', async () => {
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      forge(['createdAt', 'not a date', '00000000-0000-0000-0000-000000000000']),
      forge(['createdAt', '2026-01-01T00:00:00.000Z', 'not-a-uuid']),
      forge(['createdAt', { a: 1 }, '00000000-0000-0000-0000-000000000000']),
      forge(['createdAt', null, null]),
      forge(['createdAt', [1, 2], 'x']),
      forge({ sort: 'createdAt' }),
    ]) {
      const res = await t.request('GET', `/api/v1/customers?cursor=${cursor}`);
      expect(res.statusCode, `${Buffer.from(cursor, 'base64url')}: ${res.body}`).toBe(400);
      expectProblem(res, 400, res.json().code);
      expect(['INVALID_CURSOR', 'INVALID_VALUE']).toContain(res.json().code);
    }
  });
});
