/** Monitoring intake in tests: the public example payloads and the inbound endpoints. */
import { readFileSync } from 'node:fs';
import type { App } from '../../src/platform/module.ts';

const FIXTURES = new URL('../fixtures/webhooks/', import.meta.url);

/** Where a payload of `test/fixtures/webhooks/` is. */
export const fixtureUrl = (name: string) => new URL(name, FIXTURES);
/** A payload of `test/fixtures/webhooks/` as its exact bytes. */
export const fixtureBytes = (name: string) => readFileSync(fixtureUrl(name));
/** A payload of `test/fixtures/webhooks/`, parsed (a fresh copy each call). */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely by the tests
export const fixture = (name: string): any => JSON.parse(fixtureBytes(name).toString('utf8'));

/** POST /api/v1/inbound/{type} with the key as a Bearer token; a string body is sent as is. */
export const postInbound = (
  app: App,
  type: string,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/inbound/${type}`,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** POST /v2/enqueue (PagerDuty Events API v2: the key travels in the body as `routing_key`). */
export const enqueueEvent = (app: App, body: unknown) =>
  app.inject({
    method: 'POST',
    url: '/v2/enqueue',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
