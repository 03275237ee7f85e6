import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp } from '../../helpers/app.ts';

/** Small factories for the service-desk tests: each creates through the API as the admin. */
const suffix = () => randomBytes(3).toString('hex');

async function created(t: TestApp, url: string, body: unknown) {
  const res = await t.request('POST', url, { body });
  if (res.statusCode !== 201) throw new Error(`POST ${url} failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

export async function customer(t: TestApp, name = `Customer ${suffix()}`): Promise<{ id: string }> {
  return created(t, '/api/v1/customers', { name, code: `C${suffix()}` });
}

export async function group(
  t: TestApp,
  name: string,
  tier: number,
  active = true,
): Promise<{ id: string; tier: number }> {
  return created(t, '/api/v1/groups', { name, tier, active });
}

export async function agent(t: TestApp): Promise<{ id: string }> {
  return created(t, '/api/v1/people', {
    name: `Agent ${suffix()}`,
    email: `a${suffix()}@example.com`,
    kind: 'agent',
  });
}

export async function contact(t: TestApp, customerId: string): Promise<{ id: string }> {
  return created(t, '/api/v1/people', {
    name: `Contact ${suffix()}`,
    email: `c${suffix()}@example.com`,
    kind: 'contact',
    customerId,
  });
}

export async function item(
  t: TestApp,
  fields: Record<string, unknown> = {},
): Promise<{ id: string; version: number }> {
  return created(t, '/api/v1/request-items', {
    code: `ITEM-${suffix()}`,
    name: 'Laptop 笔记本电脑',
    ...fields,
  });
}

/** Asserts a problem+json answer and returns its body. */
export function problem(
  res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  return res.json() as Record<string, unknown> & {
    code: string;
    errors?: { pointer: string; detail: string }[];
  };
}
