import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suggestArticles } from '../../../src/modules/service-desk/index.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { customer, problem } from './fixtures.ts';

let t: TestApp;
let tokens: Record<'agent' | 'requester' | 'integration', string>;

interface Seed {
  title: string;
  body: string;
  category?: string;
  keywords?: string[];
  publish?: boolean;
}

const ARTICLES = {
  mailLogin: {
    title: '邮箱无法登录的处理方法',
    body: '当员工的邮箱无法登录企业邮件系统时，先确认密码是否正确；提示密码错误时在自助门户重置密码。',
    category: 'software.email',
    keywords: ['邮箱', '登录', '密码'],
    publish: true,
  },
  mailQuota: {
    title: '邮箱空间已满',
    body: '清理已发送邮件和附件，或申请扩容。',
    category: 'software.email',
    keywords: ['邮箱', '容量'],
    publish: true,
  },
  printer: {
    title: '打印机卡纸处理',
    body: '打开打印机前盖，取出卡住的纸张，然后重新打印。',
    category: 'hardware.printer',
    keywords: ['打印机', '卡纸'],
    publish: true,
  },
  vpn: {
    title: 'VPN 连接失败排查',
    body: '检查网络连接与客户端证书；证书过期时重新申请。',
    category: 'network.vpn',
    keywords: ['VPN', '证书'],
    publish: true,
  },
  resetPassword: {
    title: 'How to reset an e-mail password',
    body: 'Open the self-service portal, choose "Forgot password" and follow the link sent by SMS.',
    category: 'account.password',
    keywords: ['password', 'email'],
    publish: true,
  },
  paperJam: {
    title: 'Printer paper jam',
    body: 'Open the front cover and remove the jammed paper.',
    category: 'hardware.printer',
    keywords: ['printer'],
    publish: true,
  },
  exchangeAuth: {
    title: 'Exchange 认证问题排查',
    body: '现象：Outlook 一直提示输入密码，输入后仍然弹出。处理：检查 Exchange 的认证方式和客户端缓存的凭据。',
    category: 'software.email',
    keywords: ['Exchange'],
    publish: true,
  },
  draftMail: {
    title: '邮件草稿：新邮件网关迁移',
    body: '内部草稿，尚未发布。',
    category: 'software.email',
    keywords: ['邮件'],
    publish: false,
  },
} satisfies Record<string, Seed>;
const ids = {} as Record<keyof typeof ARTICLES, string>;

beforeAll(async () => {
  t = await startTestApp();
  const acme = await customer(t);
  tokens = {
    agent: await t.key('agent'),
    requester: await t.key('requester', acme.id),
    integration: await t.key('integration'),
  };
  for (const [name, seed] of Object.entries(ARTICLES) as [keyof typeof ARTICLES, Seed][]) {
    const res = await t.request('POST', '/api/v1/knowledge', {
      token: tokens.agent,
      body: { title: seed.title, body: seed.body, category: seed.category, keywords: seed.keywords },
    });
    if (res.statusCode !== 201) throw new Error(res.body);
    ids[name] = res.json().id;
    if (seed.publish) {
      const published = await t.request('POST', `/api/v1/knowledge/${ids[name]}/publish`, {
        token: tokens.agent,
      });
      if (published.statusCode !== 200) throw new Error(published.body);
    }
  }
});
afterAll(async () => {
  await t?.close();
});

async function search(q: string, token = tokens.agent, extra = ''): Promise<string[]> {
  const res = await t.request('GET', `/api/v1/knowledge?q=${encodeURIComponent(q)}${extra}`, { token });
  expect(res.statusCode, res.body).toBe(200);
  const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  return res.json().items.map((a: { id: string }) => names[a.id] ?? a.id);
}

describe('knowledge articles', () => {
  it('creates drafts, publishes and retires, refusing other transitions with 409', async () => {
    const created = await t.request('POST', '/api/v1/knowledge', {
      token: tokens.agent,
      body: { title: 'Temp 临时', body: '# Heading\n\ntext', keywords: ['temp'] },
    });
    expect(created.statusCode).toBe(201);
    const article = created.json();
    expect(article).toMatchObject({
      status: 'draft',
      allowedActions: ['publish'],
      links: [],
      version: 1,
      publishedAt: null,
    });
    expect(article.ref).toMatch(/^KB-\d{6,}$/);

    const retireDraft = problem(await t.request('POST', `/api/v1/knowledge/${article.id}/retire`), 409);
    expect(retireDraft).toMatchObject({
      code: 'SERVICE_DESK_ARTICLE_TRANSITION_NOT_ALLOWED',
      currentStatus: 'draft',
      allowedActions: ['publish'],
    });
    const stale = await t.request('POST', `/api/v1/knowledge/${article.id}/publish`, {
      headers: { 'if-match': '"2"' },
    });
    expect(problem(stale, 412).code).toBe('VERSION_MISMATCH');
    const published = await t.request('POST', `/api/v1/knowledge/${article.id}/publish`, {
      headers: { 'if-match': '"1"' },
      body: {},
    });
    expect(published.json()).toMatchObject({ status: 'published', allowedActions: ['retire'], version: 2 });
    expect(published.json().publishedAt).toMatch(/Z$/);
    expect(published.headers.etag).toBe('"2"');
    const again = problem(await t.request('POST', `/api/v1/knowledge/${article.id}/publish`), 409);
    expect(again).toMatchObject({ currentStatus: 'published', allowedActions: ['retire'] });

    const patched = await t.request('PATCH', `/api/v1/knowledge/${article.id}`, {
      body: { body: 'updated 更新', keywords: ['temp', '临时'] },
      headers: { 'if-match': '"2"' },
    });
    expect(patched.json()).toMatchObject({ body: 'updated 更新', version: 3, status: 'published' });

    const retired = await t.request('POST', `/api/v1/knowledge/${article.id}/retire`);
    expect(retired.json()).toMatchObject({ status: 'retired', allowedActions: [] });
    for (const action of ['publish', 'retire']) {
      const res = problem(await t.request('POST', `/api/v1/knowledge/${article.id}/${action}`), 409);
      expect(res).toMatchObject({ currentStatus: 'retired', allowedActions: [] });
    }
    const events = await t.db
      .selectFrom('outbox')
      .select('type')
      .where('aggregate_id', '=', article.id)
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.type)).toEqual([
      'knowledge_article.created',
      'knowledge_article.published',
      'knowledge_article.updated',
      'knowledge_article.retired',
    ]);
    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('record_id', '=', article.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'knowledge_article.create',
      'knowledge_article.publish',
      'knowledge_article.update',
      'knowledge_article.retire',
    ]);
  });

  it('links articles to incidents and lists the links', async () => {
    const incidentId = randomUUID();
    const first = await t.request('POST', `/api/v1/knowledge/${ids.mailLogin}/links`, {
      token: tokens.agent,
      body: { incidentId },
    });
    expect(first.statusCode).toBe(201);
    expect(first.json().links).toEqual([
      { incidentId, linkedAt: expect.stringMatching(/Z$/), linkedBy: expect.stringMatching(/^agent-/) },
    ]);
    const repeat = await t.request('POST', `/api/v1/knowledge/${ids.mailLogin}/links`, {
      body: { incidentId },
    });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json().links).toHaveLength(1);
    const bad = problem(
      await t.request('POST', `/api/v1/knowledge/${ids.mailLogin}/links`, { body: { incidentId: 'INC-1' } }),
      400,
    );
    expect(bad.errors?.[0]?.pointer).toBe('/incidentId');

    const got = await t.request('GET', `/api/v1/knowledge/${ids.mailLogin}`);
    expect(got.json().links.map((l: { incidentId: string }) => l.incidentId)).toEqual([incidentId]);
    const byIncident = await t.request('GET', `/api/v1/knowledge?incidentId=${incidentId}`);
    expect(byIncident.json().items.map((a: { id: string }) => a.id)).toEqual([ids.mailLogin]);
    // Links name incidents (customer records): requesters do not see them.
    const asRequester = await t.request('GET', `/api/v1/knowledge/${ids.mailLogin}`, {
      token: tokens.requester,
    });
    expect(asRequester.json().links).toEqual([]);
    const requesterLink = await t.request('POST', `/api/v1/knowledge/${ids.mailLogin}/links`, {
      token: tokens.requester,
      body: { incidentId: randomUUID() },
    });
    expect(problem(requesterLink, 403).code).toBe('AUTH_FORBIDDEN');

    const removed = await t.request('DELETE', `/api/v1/knowledge/${ids.mailLogin}/links/${incidentId}`);
    expect(removed.statusCode).toBe(204);
    const removedAgain = await t.request('DELETE', `/api/v1/knowledge/${ids.mailLogin}/links/${incidentId}`);
    expect(problem(removedAgain, 404).code).toBe('SERVICE_DESK_LINK_NOT_FOUND');
    const missing = await t.request('POST', `/api/v1/knowledge/${randomUUID()}/links`, {
      body: { incidentId },
    });
    expect(problem(missing, 404).code).toBe('SERVICE_DESK_ARTICLE_NOT_FOUND');
  });

  it('shows requesters published articles only, and refuses integration keys', async () => {
    const draft = await t.request('GET', `/api/v1/knowledge/${ids.draftMail}`, { token: tokens.requester });
    expect(problem(draft, 404).code).toBe('SERVICE_DESK_ARTICLE_NOT_FOUND');
    expect(
      (await t.request('GET', `/api/v1/knowledge/${ids.draftMail}`, { token: tokens.agent })).statusCode,
    ).toBe(200);
    const list = await t.request('GET', '/api/v1/knowledge?limit=500', { token: tokens.requester });
    expect(list.json().items.length).toBeGreaterThan(0);
    expect(list.json().items.every((a: { status: string }) => a.status === 'published')).toBe(true);
    const drafts = await t.request('GET', '/api/v1/knowledge?status=draft', { token: tokens.requester });
    expect(drafts.json().items).toEqual([]);
    expect(await search('邮件', tokens.requester)).not.toContain('draftMail');

    for (const [method, url, body] of [
      ['POST', '/api/v1/knowledge', { title: 'x' }],
      ['PATCH', `/api/v1/knowledge/${ids.printer}`, { title: 'x' }],
      ['POST', `/api/v1/knowledge/${ids.draftMail}/publish`, {}],
      ['POST', `/api/v1/knowledge/${ids.printer}/retire`, {}],
      ['POST', `/api/v1/knowledge/${ids.printer}/links`, { incidentId: randomUUID() }],
    ] as const) {
      for (const token of [tokens.requester, tokens.integration]) {
        const res = await t.request(method, url, { token, body });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
      }
    }
    const unlink = await t.request('DELETE', `/api/v1/knowledge/${ids.printer}/links/${randomUUID()}`, {
      token: tokens.requester,
    });
    expect(unlink.statusCode).toBe(403);
    for (const url of ['/api/v1/knowledge', `/api/v1/knowledge/${ids.printer}`, '/api/v1/knowledge?q=VPN']) {
      expect((await t.request('GET', url, { token: tokens.integration })).statusCode).toBe(403);
    }
  });
});

describe('knowledge search', () => {
  it('finds a 2-character Chinese query (ILIKE fallback)', async () => {
    const found = await search('邮件');
    expect(found.sort()).toEqual(['draftMail', 'mailLogin', 'mailQuota']);
    expect(await search('卡纸')).toEqual(['printer']);
  });

  it('finds a Chinese phrase inside a longer sentence (trigram index)', async () => {
    expect(await search('无法登录企业邮件')).toEqual(['mailLogin']);
    expect(await search('证书过期')).toEqual(['vpn']);
    expect(await search('打印机 纸张')).toEqual(['printer']);
  });

  it('finds English case-insensitively, all terms in any order', async () => {
    expect(await search('PASSWORD')).toEqual(['resetPassword']);
    expect(await search('password forgot')).toEqual(['resetPassword']);
    expect(await search('paper jam')).toEqual(['paperJam']);
    expect(await search('vpn')).toEqual(['vpn']);
    expect(await search('kubernetes')).toEqual([]);
  });

  it('ranks title matches first and pages by relevance', async () => {
    const ranked = await t.request('GET', `/api/v1/knowledge?q=${encodeURIComponent('邮箱')}`);
    const items = ranked.json().items as { id: string; score: number }[];
    expect(
      items
        .map((a) => a.id)
        .slice(0, 2)
        .sort(),
    ).toEqual([ids.mailLogin, ids.mailQuota].sort());
    expect(items.every((a, i) => i === 0 || items[i - 1]!.score >= a.score)).toBe(true);
    const page1 = await t.request('GET', `/api/v1/knowledge?q=${encodeURIComponent('邮')}&limit=1`);
    const page2 = await t.request(
      'GET',
      `/api/v1/knowledge?q=${encodeURIComponent('邮')}&limit=5&cursor=${page1.json().nextCursor}`,
    );
    const all = [...page1.json().items, ...page2.json().items].map((a: { id: string }) => a.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual([ids.mailLogin, ids.mailQuota, ids.draftMail].sort());
    const noQuery = problem(await t.request('GET', '/api/v1/knowledge?sort=-relevance'), 400);
    expect(noQuery.code).toBe('SERVICE_DESK_RELEVANCE_NEEDS_QUERY');
    const byTitle = await t.request('GET', '/api/v1/knowledge?sort=title&category=hardware.printer');
    expect(byTitle.json().items.map((a: { title: string }) => a.title)).toEqual([
      'Printer paper jam',
      '打印机卡纸处理',
    ]);
  });

  it('can serve 3+ character queries from the trigram index', async () => {
    const plan = await t.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      return sql<{ 'QUERY PLAN': string }>`
        EXPLAIN SELECT id FROM knowledge_articles WHERE search_text ILIKE ${'%无法登录%'}`.execute(trx);
    });
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('knowledge_articles_search_idx');
  });
});

describe('suggestArticles', () => {
  it('suggests the Chinese mail-login article for a Chinese incident, not unrelated ones', async () => {
    const suggestions = await suggestArticles(t.db, {
      text: '用户反映邮箱无法登录，提示密码错误',
      category: null,
      limit: 5,
    });
    expect(suggestions[0]).toMatchObject({ id: ids.mailLogin, title: '邮箱无法登录的处理方法' });
    expect(suggestions[0]!.score).toBeGreaterThan(0.3);
    const found = suggestions.map((s) => s.id);
    expect(found).not.toContain(ids.printer);
    expect(found).not.toContain(ids.vpn);
    expect(found).not.toContain(ids.paperJam);
    expect(found).not.toContain(ids.draftMail);
  });

  it('suggests for English text, and the category reorders close candidates', async () => {
    const english = await suggestArticles(t.db, {
      text: 'User cannot log in to e-mail: password error after the weekend',
      category: null,
      limit: 5,
    });
    expect(english[0]?.id).toBe(ids.resetPassword);
    expect(english.map((s) => s.id)).not.toContain(ids.paperJam);

    const text = '邮箱问题';
    const plain = await suggestArticles(t.db, { text, category: null, limit: 5 });
    const boosted = await suggestArticles(t.db, { text, category: 'software.email', limit: 5 });
    const child = await suggestArticles(t.db, { text, category: 'software.email.outlook', limit: 5 });
    const mailIds = [ids.mailLogin, ids.mailQuota].sort();
    expect(
      boosted
        .map((s) => s.id)
        .slice(0, 2)
        .sort(),
    ).toEqual(mailIds);
    const score = (list: typeof plain, id: string) => list.find((s) => s.id === id)?.score ?? 0;
    expect(score(boosted, ids.mailQuota)).toBeCloseTo(score(plain, ids.mailQuota) + 0.1, 4);
    expect(score(child, ids.mailQuota)).toBeCloseTo(score(plain, ids.mailQuota) + 0.05, 4);
    // The bonus only reorders: it never brings in an article with no textual match.
    const printerCategory = await suggestArticles(t.db, { text, category: 'hardware.printer', limit: 5 });
    expect(printerCategory.map((s) => s.id)).not.toContain(ids.printer);
  });

  it('finds an article through its body when title and keywords do not match', async () => {
    const found = await suggestArticles(t.db, { text: 'Outlook 一直提示输入密码', category: null, limit: 5 });
    expect(found[0]?.id).toBe(ids.exchangeAuth);
  });

  it("runs inside a caller's transaction without leaking settings or disturbing its work", async () => {
    await t.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('knowledge_articles')
        .set({ title: '邮箱无法登录怎么办' })
        .where('id', '=', ids.printer)
        .execute();
      const found = await suggestArticles(trx, { text: '用户反映邮箱无法登录', category: null, limit: 5 });
      expect(found.map((s) => s.id)).toContain(ids.printer); // sees the transaction's own change
      const settings = await sql<{ seq: string; threshold: string }>`
        SELECT current_setting('enable_seqscan') AS seq,
               current_setting('pg_trgm.word_similarity_threshold') AS threshold`.execute(trx);
      expect(settings.rows[0]).toEqual({ seq: 'on', threshold: '0.6' });
      const still = await trx
        .selectFrom('knowledge_articles')
        .select('title')
        .where('id', '=', ids.printer)
        .executeTakeFirst();
      expect(still?.title).toBe('邮箱无法登录怎么办');
      await trx
        .updateTable('knowledge_articles')
        .set({ title: '打印机卡纸处理' })
        .where('id', '=', ids.printer)
        .execute();
    });
  });

  it('honours the limit and leaves out retired articles', async () => {
    const one = await suggestArticles(t.db, { text: '邮箱无法登录', category: null, limit: 1 });
    expect(one).toHaveLength(1);
    expect(await suggestArticles(t.db, { text: '   ', category: null, limit: 5 })).toEqual([]);
    await t.request('POST', `/api/v1/knowledge/${ids.mailQuota}/retire`);
    const after = await suggestArticles(t.db, { text: '邮箱空间已满', category: null, limit: 5 });
    expect(after.map((s) => s.id)).not.toContain(ids.mailQuota);
  });
});
