import { type Expression, type Insertable, type Selectable, type SqlBool, sql } from 'kysely';
import type { Database, Executor, Tx } from '../../db/db.ts';
import type {
  KnowledgeArticleLinksTable,
  KnowledgeArticlesTable,
  RequestItemsTable,
  RoutingRulesTable,
  ServiceRequestEventsTable,
  ServiceRequestsTable,
} from '../../db/schema.ts';
import type { Scope } from '../../platform/context.ts';
import { paginate } from '../../platform/paging.ts';
import { iso, isoOrNull } from '../../platform/schemas.ts';
import { inScope, withinScope } from '../../platform/scope.ts';
import type {
  Article,
  ArticleLink,
  ArticleListQuery,
  ArticleSuggestion,
  RequestItem,
  RequestItemListQuery,
  RoutingCriteria,
  RoutingRule,
  RoutingRuleListQuery,
  ServiceRequest,
  ServiceRequestEvent,
  ServiceRequestListQuery,
  TimelineQuery,
} from './service-desk.schemas.ts';
import { articleActions, requestActions } from './service-desk.workflow.ts';

type RuleRow = Selectable<RoutingRulesTable>;
type ItemRow = Selectable<RequestItemsTable>;
type RequestRow = Selectable<ServiceRequestsTable>;
type RequestEventRow = Selectable<ServiceRequestEventsTable>;
type ArticleRow = Omit<Selectable<KnowledgeArticlesTable>, 'search_text'>;
type LinkRow = Selectable<KnowledgeArticleLinksTable>;
type Managed = 'id' | 'ref' | 'version' | 'created_at' | 'updated_at';

const like = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// ---- routing rules (provider-side: no customer scope) ----------------------------------------
export function toRule(row: RuleRow): RoutingRule {
  return {
    id: row.id,
    ref: row.ref,
    position: row.position,
    description: row.description,
    customerId: row.customer_id,
    category: row.category,
    serviceId: row.service_id,
    channel: row.channel,
    groupId: row.group_id,
    active: row.active,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function findRule(db: Executor, id: string) {
  return db.selectFrom('routing_rules').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockRule(trx: Tx, id: string) {
  return trx.selectFrom('routing_rules').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function insertRule(db: Executor, values: Omit<RuleRow, Managed>) {
  return db.insertInto('routing_rules').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateRule(trx: Tx, id: string, values: Partial<RuleRow>) {
  return trx
    .updateTable('routing_rules')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listRules(db: Executor, f: RoutingRuleListQuery) {
  let q = db.selectFrom('routing_rules').selectAll();
  if (f.active !== undefined) q = q.where('active', '=', f.active);
  if (f.groupId) q = q.where('group_id', '=', f.groupId);
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  return paginate(q, {
    page: f,
    columns: { position: 'position', createdAt: 'created_at' },
    defaultSort: 'position',
    idColumn: 'id',
  });
}

/** A rule matches when each of its set fields equals the ticket's (codes case-insensitively). */
function ruleMatches(c: RoutingCriteria, table = 'routing_rules'): Expression<SqlBool> {
  const col = (name: string) => sql.ref(`${table}.${name}`);
  return sql<SqlBool>`(${col('customer_id')} IS NULL OR ${col('customer_id')} = ${c.customerId}::uuid)
    AND (${col('service_id')} IS NULL OR ${col('service_id')} = ${c.serviceId}::uuid)
    AND (${col('category')} IS NULL OR lower(${col('category')}) = lower(${c.category}::text))
    AND (${col('channel')} IS NULL OR lower(${col('channel')}) = lower(${c.channel}::text))`;
}

/** The target group of the first active matching rule (lowest position). */
export async function firstMatchingGroup(db: Executor, c: RoutingCriteria): Promise<string | null> {
  const row = await db
    .selectFrom('routing_rules')
    .select('group_id')
    .where('active', '=', true)
    .where(ruleMatches(c))
    .orderBy('position')
    .limit(1)
    .executeTakeFirst();
  return row?.group_id ?? null;
}

/*
 * Tier lookups for escalation. These are the module's only reads of the directory's
 * `assignment_groups` table (read-only): the directory exports no query by tier, and a join keeps
 * "first matching rule whose group has tier N" one query.
 */

/** The first active matching rule whose target group is active and of `tier`. */
export async function firstMatchingGroupOfTier(db: Executor, tier: number, c: RoutingCriteria) {
  return db
    .selectFrom('routing_rules')
    .innerJoin('assignment_groups as g', 'g.id', 'routing_rules.group_id')
    .select(['g.id', 'g.tier'])
    .where('routing_rules.active', '=', true)
    .where('g.active', '=', true)
    .where('g.tier', '=', tier)
    .where(ruleMatches(c))
    .orderBy('routing_rules.position')
    .limit(1)
    .executeTakeFirst();
}

/** The first active group (by name) of the lowest tier above `tier`. */
export async function firstGroupAboveTier(db: Executor, tier: number) {
  return db
    .selectFrom('assignment_groups')
    .select(['id', 'tier'])
    .where('active', '=', true)
    .where('tier', '>', tier)
    .orderBy('tier')
    .orderBy(sql`lower(name)`)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

// ---- request catalogue (provider-side: no customer scope) ------------------------------------
export function toItem(row: ItemRow): RequestItem {
  return {
    id: row.id,
    ref: row.ref,
    code: row.code,
    name: row.name,
    description: row.description,
    category: row.category,
    formSchema: row.form_schema,
    approvalRequired: row.approval_required,
    approverIds: row.approver_ids,
    active: row.active,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

type ItemValues = Omit<ItemRow, Managed | 'form_schema'> & { form_schema: Record<string, unknown> };

function itemColumns(values: Partial<ItemValues>) {
  const { form_schema, ...rest } = values;
  return form_schema === undefined ? rest : { ...rest, form_schema: JSON.stringify(form_schema) };
}

export function findItem(db: Executor, id: string, options: { activeOnly?: boolean } = {}) {
  let q = db.selectFrom('request_items').selectAll().where('id', '=', id);
  if (options.activeOnly) q = q.where('active', '=', true);
  return q.executeTakeFirst();
}

export function lockItem(trx: Tx, id: string) {
  return trx.selectFrom('request_items').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function insertItem(db: Executor, values: ItemValues) {
  return db
    .insertInto('request_items')
    .values(itemColumns(values) as Insertable<RequestItemsTable>)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function updateItem(trx: Tx, id: string, values: Partial<ItemValues>) {
  return trx
    .updateTable('request_items')
    .set((eb) => ({ ...itemColumns(values), version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listItems(db: Executor, f: RequestItemListQuery, options: { activeOnly: boolean }) {
  let q = db.selectFrom('request_items').selectAll();
  if (options.activeOnly) q = q.where('active', '=', true);
  if (f.active !== undefined) q = q.where('active', '=', f.active);
  if (f.category) q = q.where(sql`lower(category)`, '=', f.category.toLowerCase());
  if (f.q) q = q.where((eb) => eb.or([eb('name', 'ilike', like(f.q!)), eb('code', 'ilike', like(f.q!))]));
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', name: 'name', code: 'code' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

// ---- service requests (scope column: customer_id) --------------------------------------------
export function toRequest(row: RequestRow): ServiceRequest {
  return {
    id: row.id,
    ref: row.ref,
    itemId: row.item_id,
    customerId: row.customer_id,
    requesterId: row.requester_id,
    title: row.title,
    answers: row.answers,
    status: row.status,
    allowedActions: requestActions(row.status, row.approval_required),
    approvalRequired: row.approval_required,
    decidedBy: row.decided_by_name,
    decidedAt: isoOrNull(row.decided_at),
    decisionComment: row.decision_comment,
    fulfilmentNotes: row.fulfilment_notes,
    fulfilledAt: isoOrNull(row.fulfilled_at),
    closedAt: isoOrNull(row.closed_at),
    cancelReason: row.cancel_reason,
    cancelledAt: isoOrNull(row.cancelled_at),
    createdBy: row.created_by_name,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function findRequest(db: Executor, scope: Scope, id: string) {
  return withinScope(
    db.selectFrom('service_requests').selectAll().where('id', '=', id),
    scope,
    'customer_id',
  ).executeTakeFirst();
}

export function lockRequest(trx: Tx, scope: Scope, id: string) {
  return withinScope(
    trx.selectFrom('service_requests').selectAll().where('id', '=', id),
    scope,
    'customer_id',
  )
    .forUpdate()
    .executeTakeFirst();
}

type RequestValues = Pick<
  RequestRow,
  | 'item_id'
  | 'customer_id'
  | 'requester_id'
  | 'title'
  | 'approval_required'
  | 'created_by_key_id'
  | 'created_by_name'
> & { answers: Record<string, unknown> };

export function insertRequest(db: Executor, values: RequestValues) {
  return db
    .insertInto('service_requests')
    .values({ ...values, answers: JSON.stringify(values.answers) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export type RequestChanges = Partial<Omit<RequestRow, Managed | 'answers' | 'item_id' | 'customer_id'>>;

export function updateRequest(trx: Tx, scope: Scope, id: string, values: RequestChanges) {
  return trx
    .updateTable('service_requests')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .where(inScope(scope, 'customer_id'))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function listRequests(db: Executor, scope: Scope, f: ServiceRequestListQuery) {
  let q = withinScope(db.selectFrom('service_requests').selectAll(), scope, 'customer_id');
  if (f.status) q = q.where('status', '=', f.status);
  if (f.customerId) q = q.where('customer_id', '=', f.customerId);
  if (f.itemId) q = q.where('item_id', '=', f.itemId);
  if (f.requesterId) q = q.where('requester_id', '=', f.requesterId);
  return paginate(q, {
    page: f,
    columns: { createdAt: 'created_at', updatedAt: 'updated_at' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

// ---- service request timeline ----------------------------------------------------------------
export function toRequestEvent(row: RequestEventRow): ServiceRequestEvent {
  return {
    id: row.id,
    at: iso(row.at),
    type: row.type,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    actor: { keyId: row.actor_key_id, name: row.actor_name, role: row.actor_role },
    comment: row.comment,
    data: row.data,
  };
}

export async function insertRequestEvent(
  trx: Executor,
  values: Omit<RequestEventRow, 'id' | 'at' | 'data'> & { data?: Record<string, unknown> },
): Promise<void> {
  const { data, ...rest } = values;
  await trx
    .insertInto('service_request_events')
    .values({ ...rest, data: JSON.stringify(data ?? {}) })
    .execute();
}

/** A request's timeline, oldest first. The caller has checked the request is in scope. */
export function listRequestEvents(db: Executor, requestId: string, f: TimelineQuery) {
  return paginate(db.selectFrom('service_request_events').selectAll().where('request_id', '=', requestId), {
    page: { limit: f.limit, cursor: f.cursor, sort: 'id' },
    columns: { id: 'id' },
    defaultSort: 'id',
    idColumn: 'id',
  });
}

// ---- knowledge articles (provider content; visibility by status, not by customer) ------------
const ARTICLE_COLUMNS = [
  'id',
  'ref',
  'title',
  'body',
  'category',
  'keywords',
  'status',
  'published_at',
  'retired_at',
  'created_by_name',
  'version',
  'created_at',
  'updated_at',
] as const;

export function toArticle(row: ArticleRow, links: ArticleLink[], score?: number | null): Article {
  return {
    id: row.id,
    ref: row.ref,
    title: row.title,
    body: row.body,
    category: row.category,
    keywords: row.keywords,
    status: row.status,
    allowedActions: articleActions(row.status),
    publishedAt: isoOrNull(row.published_at),
    retiredAt: isoOrNull(row.retired_at),
    links,
    ...(score === undefined || score === null ? {} : { score }),
    createdBy: row.created_by_name,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export const toLink = (row: LinkRow): ArticleLink => ({
  incidentId: row.incident_id,
  linkedAt: iso(row.linked_at),
  linkedBy: row.linked_by,
});

export function findArticle(db: Executor, id: string, options: { publishedOnly: boolean }) {
  let q = db.selectFrom('knowledge_articles').select(ARTICLE_COLUMNS).where('id', '=', id);
  if (options.publishedOnly) q = q.where('status', '=', 'published');
  return q.executeTakeFirst();
}

export function lockArticle(trx: Tx, id: string) {
  return trx
    .selectFrom('knowledge_articles')
    .select(ARTICLE_COLUMNS)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export function insertArticle(
  db: Executor,
  values: Pick<ArticleRow, 'title' | 'body' | 'category' | 'keywords' | 'created_by_name'>,
) {
  return db
    .insertInto('knowledge_articles')
    .values(values)
    .returning(ARTICLE_COLUMNS)
    .executeTakeFirstOrThrow();
}

export function updateArticle(trx: Tx, id: string, values: Partial<Omit<ArticleRow, Managed>>) {
  return trx
    .updateTable('knowledge_articles')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: sql<Date>`now()` }))
    .where('id', '=', id)
    .returning(ARTICLE_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** Whitespace-separated search terms (at most 10). */
export const searchTerms = (q: string) => q.trim().split(/\s+/u).filter(Boolean).slice(0, 10);

/** Trigram matching needs 3+ characters; shorter queries rely on ILIKE alone. */
export const TRIGRAM_MIN_CHARS = 3;

/** Title and keywords: short, so trigram functions over them are cheap on every row. */
const TITLE_AND_KEYWORDS = sql<string>`(title || ' ' || array_to_string(keywords, ' '))`;

/**
 * Articles, optionally searched. With `q`, every whitespace-separated term must occur in the search
 * text (title, keywords, body) case-insensitively: ILIKE, which the GIN trigram index serves for
 * terms of 3+ characters; 1-2 character terms (common in Chinese: "邮件") cannot use trigrams and
 * scan, fine at knowledge-base sizes. `score` ranks a title containing the query, an exact keyword,
 * and (3+ characters) the trigram word similarity of the query to title and keywords. No fuzzy
 * match against bodies here: trigram functions over long bodies cost ~0.5 ms a row, and an OR
 * beside the ILIKE would keep the planner off the index.
 */
export function listArticles(
  db: Executor,
  f: ArticleListQuery,
  options: { publishedOnly: boolean; sort: string },
) {
  const q = f.q?.trim() ?? '';
  const terms = q ? searchTerms(q) : [];
  const trigram = [...q].length >= TRIGRAM_MIN_CHARS;
  let inner = db
    .selectFrom('knowledge_articles')
    .select(ARTICLE_COLUMNS)
    .select(
      q
        ? sql<number>`round((
            CASE WHEN title ILIKE ${like(q)} THEN 1 ELSE 0 END
            + CASE WHEN EXISTS (SELECT 1 FROM unnest(keywords) AS k WHERE lower(k) = lower(${q})) THEN 0.5 ELSE 0 END
            + ${trigram ? sql`word_similarity(${q}, ${TITLE_AND_KEYWORDS})` : sql`0`}
          )::numeric, 4)::double precision`.as('score')
        : sql<number | null>`NULL::double precision`.as('score'),
    );
  if (options.publishedOnly) inner = inner.where('status', '=', 'published');
  if (f.status) inner = inner.where('status', '=', f.status);
  if (f.category) inner = inner.where(sql`lower(category)`, '=', f.category.toLowerCase());
  if (f.incidentId) {
    inner = inner.where(
      'id',
      'in',
      db.selectFrom('knowledge_article_links').select('article_id').where('incident_id', '=', f.incidentId),
    );
  }
  for (const term of terms) inner = inner.where('search_text', 'ilike', like(term));
  return paginate(db.selectFrom(inner.as('a')).selectAll(), {
    page: { limit: f.limit, cursor: f.cursor, sort: options.sort },
    columns: { createdAt: 'created_at', updatedAt: 'updated_at', title: 'title', relevance: 'score' },
    defaultSort: 'createdAt',
    idColumn: 'id',
  });
}

/** Links per article, for a page of articles in one query. */
export async function linksOf(
  db: Executor,
  articleIds: readonly string[],
): Promise<Map<string, ArticleLink[]>> {
  const out = new Map<string, ArticleLink[]>(articleIds.map((id) => [id, []]));
  if (articleIds.length === 0) return out;
  const rows = await db
    .selectFrom('knowledge_article_links')
    .selectAll()
    .where('article_id', 'in', articleIds)
    .orderBy('linked_at')
    .orderBy('incident_id')
    .execute();
  for (const row of rows) out.get(row.article_id)?.push(toLink(row));
  return out;
}

/** Adds a link; undefined when it already existed. */
export function insertLink(db: Executor, values: Omit<LinkRow, 'linked_at'>) {
  return db
    .insertInto('knowledge_article_links')
    .values(values)
    .onConflict((oc) => oc.columns(['article_id', 'incident_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function deleteLink(db: Executor, articleId: string, incidentId: string) {
  return db
    .deleteFrom('knowledge_article_links')
    .where('article_id', '=', articleId)
    .where('incident_id', '=', incidentId)
    .returningAll()
    .executeTakeFirst();
}

/** Least text relevance (before the category bonus) for a suggestion. */
export const SUGGEST_MIN_SCORE = 0.15;
/** Added when the article's category equals the ticket's; half when one is a parent of the other. */
export const SUGGEST_CATEGORY_BONUS = 0.1;
/** Candidates taken from each source before the full (costlier) scoring. */
const SUGGEST_CANDIDATES = 50;
/** Word similarity of the ticket text within an article body that makes the article a candidate. */
const SUGGEST_BODY_THRESHOLD = 0.5;

/**
 * Published articles relevant to a ticket's text, in two steps so the cost stays flat as the
 * knowledge base grows:
 *
 * 1. Candidates: (a) articles whose title occurs in the text (trigram `word_similarity(title,
 *    text)` >= 0.1) or with a keyword found verbatim in the text (what finds 2-character Chinese
 *    keywords), best 50 (title and keywords are short: cheap on every row); (b) articles whose
 *    body contains much of the text (`text <% search_text` at 0.5), up to 100, through the GIN
 *    trigram index. A trigram function over a long body costs ~0.4 ms a row, and the planner
 *    prefers a sequential scan for `<%` on tables of a few thousand rows (3-4 s at 5,000 articles
 *    of 2.6 kB), so sequential scans are disabled for this statement.
 * 2. Score (0..1): 0.5 title similarity + 0.3 `word_similarity(text, search_text)` + 0.2 keyword
 *    hits (full at three). Below SUGGEST_MIN_SCORE is dropped; the category bonus then reorders.
 *
 * Measured at 5,000 published articles of 2.6 kB: 30-100 ms; ~430 ms when 1,000 of them share most
 * of the text's words (each such article is rechecked). Runs in its own transaction, or in a
 * savepoint of the caller's, so the planner and threshold settings end with it.
 */
export async function suggest(
  executor: Executor,
  input: { text: string; category: string | null; limit: number },
): Promise<ArticleSuggestion[]> {
  if (!executor.isTransaction) {
    return (executor as Database).transaction().execute((trx) => suggestIn(trx, input));
  }
  await sql`SAVEPOINT tessera_kb_suggest`.execute(executor);
  try {
    return await suggestIn(executor, input);
  } finally {
    // Also undoes the SET LOCALs (and an error's abort) without touching the caller's work.
    await sql`ROLLBACK TO SAVEPOINT tessera_kb_suggest`.execute(executor);
    await sql`RELEASE SAVEPOINT tessera_kb_suggest`.execute(executor);
  }
}

async function suggestIn(
  trx: Executor,
  input: { text: string; category: string | null; limit: number },
): Promise<ArticleSuggestion[]> {
  await sql`SELECT set_config('enable_seqscan', 'off', true),
                   set_config('pg_trgm.word_similarity_threshold', ${String(SUGGEST_BODY_THRESHOLD)}, true)`.execute(
    trx,
  );
  const text = input.text;
  const category = input.category?.toLowerCase() ?? null;
  const keywordHits = sql`(SELECT count(*) FROM unnest(a.keywords) AS k
                           WHERE char_length(k) >= 2 AND strpos(lower(${text}::text), lower(k)) > 0)`;
  const result = await sql<ArticleSuggestion>`
    WITH by_title AS (
      SELECT a.id FROM knowledge_articles a
      WHERE a.status = 'published'
        AND (word_similarity(a.title, ${text}::text) >= 0.1 OR ${keywordHits} > 0)
      ORDER BY 0.5 * word_similarity(a.title, ${text}::text) + 0.2 * least(3, ${keywordHits}) / 3.0 DESC, a.id
      LIMIT ${SUGGEST_CANDIDATES}
    ), by_body AS (
      -- Only the trigram condition here, so the GIN index is the one path (status is checked below).
      SELECT a.id FROM knowledge_articles a
      WHERE ${text}::text <% a.search_text
      LIMIT ${SUGGEST_CANDIDATES * 2}
    ), scored AS (
      SELECT a.id, a.ref, a.title, a.category,
             (0.5 * word_similarity(a.title, ${text}::text)
              + 0.3 * word_similarity(${text}::text, a.search_text)
              + 0.2 * least(3, ${keywordHits}) / 3.0)::numeric AS base
      FROM knowledge_articles a
      WHERE a.id IN (SELECT id FROM by_title UNION SELECT id FROM by_body) AND a.status = 'published'
    )
    SELECT id, ref, title, category,
           round((base + CASE
             WHEN ${category}::text IS NULL OR category IS NULL THEN 0
             WHEN lower(category) = ${category}::text THEN ${SUGGEST_CATEGORY_BONUS}::numeric
             WHEN starts_with(${category}::text, lower(category) || '.')
               OR starts_with(lower(category), ${category}::text || '.') THEN ${SUGGEST_CATEGORY_BONUS / 2}::numeric
             ELSE 0 END)::numeric, 4)::double precision AS score
    FROM scored
    WHERE base >= ${SUGGEST_MIN_SCORE}
    ORDER BY score DESC, ref
    LIMIT ${input.limit}
  `.execute(trx);
  return result.rows;
}
