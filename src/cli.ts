import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { createDb, inTransaction } from './db/db.ts';
import { migrateToLatest } from './db/migrator.ts';
import { writeAudit } from './platform/audit.ts';
import { generateToken, hashToken, tokenPrefix } from './platform/auth/tokens.ts';
import { ROLES, type Role, systemContext } from './platform/context.ts';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  migrate                                  apply pending migrations (DATABASE_URL)
  keys create --role <role> [--name N] [--customer <uuid>]
                                           create an API key and print its token once
  keys list                                list API keys (never their tokens)
  keys revoke <id>                         revoke an API key

Roles: ${ROLES.join(', ')}`;

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  if (!config.DATABASE_URL) {
    process.stderr.write('Set DATABASE_URL (the CLI works on a running database; `npm start` embeds one).\n');
    return 2;
  }
  const db = createDb(config.DATABASE_URL, 2);
  try {
    if (command === 'migrate') {
      const applied = await migrateToLatest(db);
      process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date.\n');
      return 0;
    }
    if (command === 'keys' && sub === 'create') {
      const { values } = parseArgs({
        args: rest,
        options: { role: { type: 'string' }, name: { type: 'string' }, customer: { type: 'string' } },
      });
      if (!values.role || !ROLES.includes(values.role as Role)) {
        process.stderr.write(`--role must be one of ${ROLES.join(', ')}\n`);
        return 2;
      }
      const token = generateToken();
      const row = await inTransaction(db, async (trx) => {
        const key = await trx
          .insertInto('api_keys')
          .values({
            name: values.name ?? `${values.role}-cli`,
            role: values.role as Role,
            customer_id: values.customer ?? null,
            token_hash: hashToken(token),
            token_prefix: tokenPrefix(token),
          })
          .returning(['id', 'name', 'role', 'customer_id'])
          .executeTakeFirstOrThrow();
        await writeAudit(
          trx,
          { ...systemContext, actor: { ...systemContext.actor, name: 'cli' } },
          {
            action: 'api_key.create',
            recordType: 'api_key',
            recordId: key.id,
            after: key,
          },
        );
        return key;
      });
      process.stdout.write(`${token}\n`);
      process.stderr.write(
        `Created ${row.role} key ${row.id} (${row.name}). The token above is shown only now.\n`,
      );
      return 0;
    }
    if (command === 'keys' && sub === 'list') {
      const rows = await db
        .selectFrom('api_keys')
        .select(['id', 'name', 'role', 'customer_id', 'token_prefix', 'created_at', 'revoked_at'])
        .orderBy('created_at')
        .execute();
      for (const r of rows) {
        process.stdout.write(
          `${r.id}  ${r.role.padEnd(11)} ${r.token_prefix}…  ${r.name}${r.customer_id ? `  customer=${r.customer_id}` : ''}${r.revoked_at ? '  (revoked)' : ''}\n`,
        );
      }
      return 0;
    }
    if (command === 'keys' && sub === 'revoke' && rest[0]) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: new Date() })
        .where('id', '=', rest[0])
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      process.stdout.write(result.numUpdatedRows > 0n ? 'Revoked.\n' : 'No such active key.\n');
      return result.numUpdatedRows > 0n ? 0 : 1;
    }
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(
      `${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
