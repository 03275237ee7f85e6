import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../../../src/modules/integrations/webhooks.http.ts';
import { parseAllowList, type Resolver } from '../../../src/modules/integrations/webhooks.targets.ts';

/** One attempt against a local server, with a stub resolver standing in for DNS. */
let server: http.Server;
let port: number;
const seen: { host: string | undefined; path: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ host: req.headers.host, path: req.url, body });
      if (req.url === '/silent') return;
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://127.0.0.1/' }).end();
        return;
      }
      res.writeHead(200).end('x'.repeat(5000));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

let lookups = 0;
const resolver: Resolver = async (host) => {
  lookups++;
  return host === 'hooks.test' ? [{ address: '127.0.0.1', family: 4 }] : [];
};

describe('postWebhook', () => {
  it('connects to the address it checked (one lookup, names kept for Host) and keeps 1 KB of the answer', async () => {
    lookups = 0;
    const result = await postWebhook({
      url: `http://hooks.test:${port}/in?x=1`,
      body: '{"a":1}',
      headers: { 'webhook-id': 'd1' },
      timeoutMs: 2000,
      allow: parseAllowList('hooks.test'),
      resolve: resolver,
    });
    expect(result).toMatchObject({ statusCode: 200, error: null, refused: false });
    expect(result.excerpt).toHaveLength(1024);
    expect(lookups).toBe(1);
    expect(seen.at(-1)).toEqual({ host: `hooks.test:${port}`, path: '/in?x=1', body: '{"a":1}' });
  });

  it('refuses a name resolving to an internal address without sending anything', async () => {
    const before = seen.length;
    const result = await postWebhook({
      url: `http://hooks.test:${port}/`,
      body: '{}',
      headers: {},
      timeoutMs: 2000,
      allow: parseAllowList(''),
      resolve: resolver,
    });
    expect(result).toMatchObject({ statusCode: null, refused: true });
    expect(result.error).toMatch(/hooks\.test resolves to 127\.0\.0\.1, a loopback address/);
    expect(seen.length).toBe(before);
  });

  it('reports a timeout, an unresolvable name and a redirect as failures, not refusals', async () => {
    const allow = parseAllowList('127.0.0.1');
    const silent = await postWebhook({
      url: `http://127.0.0.1:${port}/silent`,
      body: '{}',
      headers: {},
      timeoutMs: 200,
      allow,
    });
    expect(silent).toMatchObject({ statusCode: null, refused: false, error: 'timed out after 200 ms' });
    expect(silent.durationMs).toBeGreaterThanOrEqual(195);
    const unknown = await postWebhook({
      url: 'http://nowhere.test/',
      body: '{}',
      headers: {},
      timeoutMs: 500,
      allow,
      resolve: resolver,
    });
    expect(unknown).toMatchObject({ statusCode: null, refused: false, error: 'nowhere.test has no address' });
    const redirect = await postWebhook({
      url: `http://127.0.0.1:${port}/redirect`,
      body: '{}',
      headers: {},
      timeoutMs: 500,
      allow,
    });
    expect(redirect).toMatchObject({ statusCode: 302, refused: false });
  });
});
