import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * The real Prometheus Alertmanager (Debian package prometheus-alertmanager; .ci/run installs it)
 * posting to Tessera through a webhook receiver with the integration key as Bearer token.
 */
const binary = (() => {
  for (const name of ['prometheus-alertmanager', 'alertmanager']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {}
  }
  return null;
})();

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

let t: TestApp;
let alertmanager: ChildProcess | null = null;
let dir: string;
let amUrl: string;
let customerId: string;

async function waitFor<T>(probe: () => Promise<T>, ok: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    value = await probe();
  }
  return value;
}

const incidents = async () =>
  (await t.request('GET', `/api/v1/incidents?source=alertmanager&customerId=${customerId}`)).json().items as {
    id: string;
    status: string;
  }[];

async function postAlerts(alerts: unknown[]) {
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  expect(res.status).toBe(200);
}

describe.skipIf(!binary)('a real Alertmanager', () => {
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const tesseraPort = (t.app.server.address() as { port: number }).port;
    customerId = (
      await t.request('POST', '/api/v1/customers', { body: { name: 'Prom Co', code: 'PROM' } })
    ).json().id;
    const integration = (
      await t.request('POST', '/api/v1/integrations', {
        body: { type: 'alertmanager', name: 'prod alertmanager', customerId, autoResolve: true },
      })
    ).json();
    dir = mkdtempSync(path.join(tmpdir(), 'tessera-am-'));
    writeFileSync(
      path.join(dir, 'alertmanager.yml'),
      [
        'route:',
        '  receiver: tessera',
        '  group_by: [alertname]',
        '  group_wait: 1s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: tessera',
        '    webhook_configs:',
        `      - url: http://127.0.0.1:${tesseraPort}/api/v1/inbound/alertmanager`,
        '        send_resolved: true',
        '        http_config:',
        '          authorization:',
        '            type: Bearer',
        `            credentials: ${integration.key}`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    alertmanager = spawn(
      binary!,
      [
        `--config.file=${path.join(dir, 'alertmanager.yml')}`,
        `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      () =>
        fetch(`${amUrl}/-/ready`)
          .then((r) => r.status)
          .catch(() => 0),
      (status) => status === 200,
    );
  }, 60_000);

  afterAll(async () => {
    alertmanager?.kill('SIGKILL');
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens one incident for an alert, none for a repeat, and resolves it when Alertmanager resolves it', async () => {
    const startsAt = new Date().toISOString();
    const alert = {
      labels: { alertname: 'DiskFull', instance: 'db-01:9100', severity: 'critical' },
      annotations: { summary: '数据库服务器磁盘空间不足', description: 'db-01 /var 99%' },
      startsAt,
    };
    await postAlerts([alert]);
    const opened = await waitFor(incidents, (list) => list.length > 0);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.status).toBe('new');

    await postAlerts([alert]);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await incidents()).toHaveLength(1);

    await postAlerts([{ ...alert, endsAt: new Date().toISOString() }]);
    const resolved = await waitFor(incidents, (list) => list[0]?.status === 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.status).toBe('resolved');
    const alerts = (await t.request('GET', `/api/v1/incidents/${resolved[0]!.id}/alerts`)).json().items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ status: 'resolved', summary: '数据库服务器磁盘空间不足' });
  }, 60_000);
});
