import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/db/migrator.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The template global setup built and holds for this run. */
    tesseraTemplate: string;
  }
}

/** Where tests find PostgreSQL and Redis: the usual variables, else the local defaults. */
export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The template's name follows the migrations' content, so a changed migration gets a fresh one. */
export function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
    hash.update(file).update(readFileSync(path.join(MIGRATIONS_DIR, file)));
  }
  return `tessera_tpl_${hash.digest('hex').slice(0, 12)}`;
}

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The template of this run: the one global setup built (a migration edited while the run goes on
 * must not send later files to a template nobody built), else computed from the migrations.
 */
function runTemplate(): string {
  try {
    const provided = inject('tesseraTemplate');
    if (provided) return provided;
  } catch {
    // not inside a vitest worker
  }
  return templateName();
}

/** A fresh database cloned from the migrated template (fast: a file copy inside PostgreSQL). */
export async function createTestDatabase(): Promise<{
  name: string;
  url: string;
  drop: () => Promise<void>;
}> {
  const name = `tessera_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${runTemplate()}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () =>
      withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
