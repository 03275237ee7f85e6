import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import {
  type AllowList,
  normalHost,
  pinnedLookup,
  type Resolver,
  resolveTarget,
  TargetRefusedError,
} from './webhooks.targets.ts';

/** The result of one HTTP attempt; never throws. */
export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  /** The target was refused by the internal-address guard (no request was sent). */
  refused: boolean;
  durationMs: number;
  excerpt: string | null;
}

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true });

const EXCERPT_CHARS = 1024;
const MAX_READ_BYTES = 64 * 1024;

export interface PostOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allow: AllowList;
  resolve?: Resolver;
}

/**
 * POSTs one webhook: resolves and checks the target (see `webhooks.targets.ts`), then connects to
 * exactly the checked addresses. The whole attempt (lookup, connect, request, answer) must finish
 * within `timeoutMs`. Redirects are not followed (a 3xx is a failed attempt).
 */
export async function postWebhook(options: PostOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const deadline = Date.now() + options.timeoutMs;
  const url = new URL(options.url);
  const host = normalHost(url.hostname);

  let timer: NodeJS.Timeout | undefined;
  let addresses: Awaited<ReturnType<typeof resolveTarget>>;
  try {
    addresses = await Promise.race([
      resolveTarget(host, options.allow, options.resolve ?? systemResolver),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${options.timeoutMs} ms (resolving ${host})`)),
          options.timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    return {
      statusCode: null,
      error: err instanceof Error ? err.message : String(err),
      refused: err instanceof TargetRefusedError,
      durationMs: elapsed(),
      excerpt: null,
    };
  } finally {
    clearTimeout(timer);
  }

  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<AttemptResult>((resolve) => {
    let done = false;
    const finish = (result: Omit<AttemptResult, 'durationMs' | 'refused'>) => {
      if (done) return;
      done = true;
      clearTimeout(timeout);
      resolve({ ...result, refused: false, durationMs: elapsed() });
    };
    const request = transport.request(
      {
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: {
          ...options.headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(options.body),
          'user-agent': 'Tessera-Webhooks/1',
        },
        lookup: pinnedLookup(addresses) as unknown as http.RequestOptions['lookup'],
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const result = () => ({
          statusCode: response.statusCode ?? null,
          error: null,
          excerpt: Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS) || null,
        });
        response.on('data', (chunk: Buffer) => {
          if (size < EXCERPT_CHARS * 4) chunks.push(chunk);
          size += chunk.length;
          if (size > MAX_READ_BYTES) {
            finish(result());
            response.destroy();
          }
        });
        response.on('end', () => finish(result()));
        response.on('error', (err) =>
          finish({
            statusCode: response.statusCode ?? null,
            error: `reading the answer: ${err.message}`,
            excerpt: null,
          }),
        );
      },
    );
    const timeout = setTimeout(
      () => {
        finish({ statusCode: null, error: `timed out after ${options.timeoutMs} ms`, excerpt: null });
        request.destroy();
      },
      Math.max(0, deadline - Date.now()),
    );
    request.on('error', (err) =>
      finish({ statusCode: null, error: err.message || String(err), excerpt: null }),
    );
    request.end(options.body);
  });
}
