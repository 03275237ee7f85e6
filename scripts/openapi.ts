import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { defaultConfig } from '../src/config.ts';
import { closeResources, openResources } from '../src/runtime.ts';

/**
 * `write`: regenerate openapi/openapi.json from the route schemas. `check`: fail when the committed
 * copy differs. Needs no running database or Redis (connections are lazy and never used).
 */
export const OPENAPI_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../openapi/openapi.json',
);

export async function generateOpenApi(): Promise<string> {
  const config = defaultConfig({ LOG_LEVEL: 'silent' });
  const resources = openResources(config, {
    databaseUrl: 'postgres://openapi@127.0.0.1:1/none',
    redisUrl: 'redis://127.0.0.1:1',
  });
  try {
    const app = await buildApp(config, resources, { logger: false });
    await app.ready();
    const document = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    await app.close();
    return document;
  } finally {
    await closeResources(resources);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mode = process.argv[2];
  const document = await generateOpenApi();
  if (mode === 'write') {
    writeFileSync(OPENAPI_FILE, document);
    process.stdout.write(`Wrote ${path.relative(process.cwd(), OPENAPI_FILE)}\n`);
  } else {
    let committed = '';
    try {
      committed = readFileSync(OPENAPI_FILE, 'utf8');
    } catch {}
    if (committed !== document) {
      process.stderr.write('openapi/openapi.json is stale: run `npm run openapi` and commit the result.\n');
      process.exit(1);
    }
    process.stdout.write('openapi/openapi.json is up to date.\n');
  }
}
