// Minimal types for the parts of autocannon's programmatic API the benchmarks use
// (autocannon ships none; @types/autocannon describes an older major).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    sent?: number;
    p2_5: number;
    p50: number;
    p75: number;
    p90: number;
    p97_5: number;
    p99: number;
    p99_9: number;
  }

  export interface RawRequest {
    method?: string;
    path?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
  }

  export interface RequestSpec extends RawRequest {
    setupRequest?: (request: RawRequest, context: Record<string, unknown>) => RawRequest | undefined;
    onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  }

  /** The per-connection client handed to `setupClient` (autocannon 9's lib/httpClient.js; internal). */
  export interface Client extends EventEmitter {
    destroyed: boolean;
    /** Requests per second of this connection (`overallRate` / connections); unset = unthrottled. */
    rate?: number;
    /** Sends the next request (called on connect and after each response). */
    _doRequest: () => void;
  }

  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    timeout?: number;
    pipelining?: number;
    method?: string;
    title?: string;
    body?: string;
    headers?: Record<string, string>;
    requests?: RequestSpec[];
    excludeErrorStats?: boolean;
    /** Requests per second over all connections; autocannon 9 sends each connection's share in a burst at the start of each second. */
    overallRate?: number;
    connectionRate?: number;
    setupClient?: (client: Client) => void;
  }

  export interface Result {
    title?: string;
    url: string;
    requests: Histogram;
    latency: Histogram;
    throughput: Histogram;
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    statusCodeStats: Record<string, { count: number }>;
    start: Date;
    finish: Date;
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void;
  }

  function autocannon(options: Options): Instance;
  export default autocannon;
}
