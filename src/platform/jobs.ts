import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TSchema } from 'typebox';
import type { Config } from '../config.ts';
import type { Database, Executor } from '../db/db.ts';
import type { Logger } from './logger.ts';

/** What a job processor gets: the shared resources, never the HTTP layer. */
export interface JobContext {
  db: Database;
  config: Config;
  queues: QueueRegistry;
  log: Logger;
  /** Job attempt number, starting at 1. */
  attempt: number;
  jobId: string | undefined;
}

/** A BullMQ job owned by a module: queue `module`, name `module.verb`, payload of ids only. */
export interface JobDefinition<T = unknown> {
  queue: string;
  name: string;
  payload: TSchema;
  process(data: T, ctx: JobContext): Promise<unknown>;
  options?: JobsOptions;
}

/** A repeating job: cron (seconds allowed) in an IANA time zone. */
export interface ScheduleDefinition {
  id: string;
  job: string;
  cron: string;
  timeZone: string;
  data?: Record<string, unknown>;
}

/** Domain events of `type` (exact, or a `prefix.*` pattern) become jobs `job` on its queue. */
export interface EventRoute {
  events: string;
  job: string;
  /**
   * Optional: asked once per relayed batch (in the relay's transaction) for a predicate that tells
   * which of the batch's events the job has any work for; the others make no job at all. It must
   * read committed state only, so that nothing an event needs is skipped (e.g. the webhook fan-out
   * relays only the events that some active subscription wants).
   */
  wanted?: (db: Executor) => Promise<(event: RoutedEvent) => boolean>;
}

/** What a route's `wanted` predicate sees of an event. */
export interface RoutedEvent {
  type: string;
  customerId: string | null;
}

export function eventMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** One BullMQ Queue per module queue name, sharing one fail-fast producer connection. */
export class QueueRegistry {
  private readonly queues = new Map<string, Queue>();
  constructor(
    readonly connection: Redis,
    readonly prefix: string,
  ) {}

  get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => {});
      this.queues.set(name, queue);
    }
    return queue;
  }

  names(): string[] {
    return [...this.queues.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
