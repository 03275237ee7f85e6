/**
 * The bare endpoint Tessera is compared with: Fastify + TypeBox + Kysely/pg, no auth, no audit,
 * no outbox, no logger. `POST /items` is one `INSERT ... RETURNING`, `GET /items/:id` one SELECT by
 * primary key. Run: `node --import tsx bench/baseline.ts [port]` (or PORT=...), with DATABASE_URL.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { type Generated, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { Type } from 'typebox';

interface BenchItemsTable {
  id: Generated<string>;
  title: string;
  description: string;
  created_at: Generated<Date>;
}
interface BenchDb {
  bench_items: BenchItemsTable;
}
interface BenchItem {
  id: string;
  title: string;
  description: string;
  created_at: Date;
}

const port = Number(process.argv[2] ?? process.env.PORT ?? 18082);
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tessera_bench';
const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? 10);

const db = new Kysely<BenchDb>({
  dialect: new PostgresDialect({
    pool: new pg.Pool({ connectionString: databaseUrl, max: poolSize, application_name: 'bench-baseline' }),
  }),
});

await sql`
  CREATE TABLE IF NOT EXISTS bench_items (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title text,
    description text,
    created_at timestamptz DEFAULT now()
  )
`.execute(db);

const Item = Type.Object({
  id: Type.String({ format: 'uuid' }),
  title: Type.String(),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
const ItemCreate = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 300 }),
    description: Type.Optional(Type.String({ maxLength: 20000 })),
  },
  { additionalProperties: false },
);
const toItem = (row: BenchItem) => ({
  id: row.id,
  title: row.title,
  description: row.description,
  createdAt: row.created_at.toISOString(),
});

const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();

app.get('/readyz', async () => ({ status: 'ok' }));

app.post('/items', { schema: { body: ItemCreate, response: { 201: Item } } }, async (request, reply) => {
  const row = await db
    .insertInto('bench_items')
    .values({ title: request.body.title, description: request.body.description ?? '' })
    .returningAll()
    .executeTakeFirstOrThrow();
  return reply.code(201).send(toItem(row));
});

app.get(
  '/items/:id',
  {
    schema: {
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: Item, 404: Type.Object({ error: Type.String() }) },
    },
  },
  async (request, reply) => {
    const row = await db
      .selectFrom('bench_items')
      .selectAll()
      .where('id', '=', request.params.id)
      .executeTakeFirst();
    if (!row) return reply.code(404).send({ error: 'not found' });
    return toItem(row);
  },
);

const stop = async () => {
  await app.close();
  await db.destroy();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`baseline listening on http://127.0.0.1:${port}\n`);
