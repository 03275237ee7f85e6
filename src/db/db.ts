import { Kysely, PostgresDialect, type RawBuilder, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.ts';

export type Database = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Anything a repository can run a query on: the pool or an open transaction. */
export type Executor = Kysely<DB> | Transaction<DB>;

const INT8 = 20;
const DATE = 1082;

/** Per-pool type parsers: bigint counts and ids as numbers, `date` columns as plain `YYYY-MM-DD`. */
const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8) return (value: string) => Number(value);
    if (oid === DATE) return (value: string) => value;
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format
    return pg.types.getTypeParser(oid, format as any);
  },
};

const PREPARED = '/* prepared:';

/**
 * Marks a hot statement to be prepared once per connection under `name` (parsed and planned once;
 * PostgreSQL keeps a generic plan after a few executions) instead of being parsed and planned on
 * every execution: put it first in a `sql` template. For statements whose text never varies (the
 * values all parameters) and whose result columns are listed, not `*`, so that a migration cannot
 * change the result type of a statement that a running process holds prepared.
 */
export const prepared = (name: string): RawBuilder<unknown> => sql.raw(`${PREPARED}${name} */ `);

/** A pg client that runs statements marked by `prepared` as named prepared statements. */
class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query overloads
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && config.startsWith(PREPARED)) {
      const name = config.slice(PREPARED.length, config.indexOf(' */'));
      return super.query({ name, text: config, values }, callback);
    }
    return super.query(config, values, callback);
  }
}

export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    Client: PreparingClient,
    connectionString,
    max,
    types: typeParsers,
    application_name: 'tessera',
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client that loses its server (PostgreSQL restart, admin termination, network) is
  // dropped by the pool, which then emits 'error'; without a listener that would crash the process.
  // The next query simply opens a new connection.
  pool.on('error', () => {});
  return pool;
}

export function createDb(connectionString: string, max = 10): Database {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: createPool(connectionString, max) }) });
}

/**
 * Runs `work` in one transaction: the change, its timeline, its audit entry and its outbox events
 * commit together or not at all.
 */
export function inTransaction<T>(db: Database, work: (trx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(work);
}
