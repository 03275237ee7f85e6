import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateOpenApi, OPENAPI_FILE } from '../../scripts/openapi.ts';
import { startTestApp } from '../helpers/app.ts';

/** The committed OpenAPI document is current, valid OpenAPI 3.1, and every operation is named and secured. */
interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  tags?: string[];
  responses?: Record<string, unknown>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> } & Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
let generated: string;
let committed: string;
let doc: Doc;

beforeAll(async () => {
  generated = await generateOpenApi();
  committed = readFileSync(OPENAPI_FILE, 'utf8');
  doc = JSON.parse(generated);
});

function operations(document: Doc): [string, string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => [path, method, op] as [string, string, Operation]),
  );
}

async function expectValid(document: unknown, name: string) {
  const result = await new Validator().validate(document as Record<string, unknown>);
  if (!result.valid) console.error(`${name} is not valid OpenAPI:`, JSON.stringify(result.errors, null, 2));
  expect(result.errors ?? [], `${name} validation errors`).toEqual([]);
  expect(result.valid).toBe(true);
}

describe('openapi/openapi.json', () => {
  it('equals the document generated from the routes', () => {
    if (committed !== generated) {
      expect.fail('openapi/openapi.json is stale: run `npm run openapi` and commit the result.');
    }
  });

  it('is valid OpenAPI 3.1 (committed and generated)', async () => {
    expect(JSON.parse(committed).openapi).toBe('3.1.0');
    await expectValid(JSON.parse(committed), 'openapi/openapi.json');
    await expectValid(doc, 'the generated document');
  });

  it('names every operation with a unique verbNoun operationId', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(10);
    const missing = ops.filter(([, , op]) => !op.operationId).map(([p, m]) => `${m.toUpperCase()} ${p}`);
    expect(missing, 'operations without operationId').toEqual([]);
    const ids = ops.map(([, , op]) => op.operationId!);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(dupes, 'duplicate operationIds').toEqual([]);
    const badNames = ids.filter((id) => !/^[a-z]+[A-Z][A-Za-z]*$/.test(id));
    expect(badNames, 'operationIds not in verbNoun form').toEqual([]);
  });

  it('secures every /api/ operation with the bearer scheme and documents its problems', () => {
    expect(doc.components).toMatchObject({
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
    });
    const api = operations(doc).filter(([path]) => path.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(10);
    // Every operation states its security: the bearer scheme, or `[]` for routes declared `public`
    // (confirmation links, inbound endpoints with their own auth). The next test checks each claim.
    const unstated = api
      .filter(([, , op]) => !Array.isArray(op.security))
      .map(([p, m]) => `${m.toUpperCase()} ${p}`);
    expect(unstated, 'API operations without a security requirement').toEqual([]);
    const secured = api.filter(([, , op]) => op.security?.some((requirement) => 'bearerAuth' in requirement));
    expect(secured.length).toBeGreaterThan(api.length / 2);
    const odd = api
      .filter(([, , op]) => !secured.some(([, , s]) => s === op) && op.security?.length !== 0)
      .map(([p, m]) => `${m.toUpperCase()} ${p}`);
    expect(odd, 'requirements other than bearerAuth or explicitly none').toEqual([]);
    const undocumented = api
      .filter(([, , op]) => !op.responses || !('4XX' in op.responses))
      .map(([p, m]) => `${m.toUpperCase()} ${p}`);
    expect(undocumented, 'API operations without a 4XX problem response').toEqual([]);
    const untagged = api.filter(([, , op]) => !op.tags?.length).map(([p, m]) => `${m.toUpperCase()} ${p}`);
    expect(untagged, 'API operations without tags').toEqual([]);
  });

  it("states each /api/ operation's security truthfully: 401 without a key exactly when it requires one", async () => {
    const t = await startTestApp();
    try {
      const mismatches: string[] = [];
      for (const [path, method, op] of operations(doc).filter(([p]) => p.startsWith('/api/'))) {
        const url = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
        const res = await t.request(method.toUpperCase(), url, {
          token: null,
          ...(['post', 'put', 'patch'].includes(method) ? { body: {} } : {}),
        });
        const requiresKey = Boolean(op.security?.some((requirement) => 'bearerAuth' in requirement));
        if ((res.statusCode === 401) !== requiresKey) {
          mismatches.push(
            `${method.toUpperCase()} ${path}: documented ${requiresKey ? 'secured' : 'public'}, got ${res.statusCode}`,
          );
        }
      }
      expect(mismatches).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('documents the operations endpoints without security and hides internal ones', () => {
    expect(doc.paths['/healthz']?.get?.security).toBeUndefined();
    expect(doc.paths['/readyz']?.get?.operationId).toBe('getReadiness');
    expect(doc.paths['/metrics']).toBeUndefined();
    expect(doc.paths['/openapi.json']).toBeUndefined();
  });
});
