import type { JobsOptions } from 'bullmq';
import pg from 'pg';
import type { Database } from '../db/db.ts';
import {
  type EventRoute,
  eventMatches,
  type JobDefinition,
  type QueueRegistry,
  type RoutedEvent,
} from './jobs.ts';
import type { Logger } from './logger.ts';
import { OUTBOX_CHANNEL } from './outbox.ts';

const BATCH = 200;
/** How long a NOTIFY waits for more commits before the relay drains (bounded event latency). */
const COALESCE_MS = 20;

/** The payload of a job made from a domain event: ids only; processors re-read the outbox row. */
export interface EventJobData {
  eventId: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
}

/**
 * The deterministic BullMQ job id of an event's job. BullMQ 6 rejects custom ids containing `:`
 * ("Custom Id cannot contain :"), so the parts are joined with `.` (event ids are UUIDs).
 */
export const eventJobId = (eventId: string, jobName: string): string => `${eventId}.${jobName}`;

export interface RelayOptions {
  db: Database;
  databaseUrl: string;
  queues: QueueRegistry;
  routes: EventRoute[];
  jobs: Map<string, JobDefinition>;
  pollMs: number;
  log: Logger;
}

/**
 * Moves committed outbox rows to BullMQ. Each event becomes one job per matching route with the job
 * id `<eventId>.<job name>` (`eventJobId`), so a batch re-sent after a crash or a Redis error between
 * "added" and "marked sent" is deduplicated by BullMQ: every event reaches each queue exactly once.
 * Rows are claimed with SKIP LOCKED, so several workers can relay side by side.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private listener: pg.Client | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failures = 0;
  /** Redis is back: catch up now rather than when the (up to 30 s) backoff ends. */
  private readonly onRedisReady = () => {
    this.failures = 0;
    this.wake();
  };

  constructor(private readonly options: RelayOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.options.queues.connection.on('ready', this.onRedisReady);
    await this.listen().catch((err) =>
      this.options.log.warn({ err }, 'outbox LISTEN unavailable; polling only'),
    );
    this.schedule(0);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'tessera-outbox',
    });
    client.on('error', () => {
      this.listener = null;
      if (!this.stopped) setTimeout(() => this.listen().catch(() => {}), 1000);
    });
    client.on('notification', () => this.wakeSoon());
    await client.connect();
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.listener = client;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), delay);
  }

  /**
   * A commit notified new rows: drain after COALESCE_MS, so that the commits of a busy moment are
   * relayed in one batch (a few statements per batch instead of per event).
   */
  private wakeSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.wake();
    }, COALESCE_MS);
  }

  /** Runs a drain now, or right after the one in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err) => this.options.log.error({ err }, 'outbox relay failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.relayBatch()) === BATCH) {}
      this.failures = 0;
      this.schedule(this.options.pollMs);
    } catch (err) {
      this.failures++;
      const backoff = Math.min(this.options.pollMs * 2 ** this.failures, 30_000);
      if (this.failures === 1 || this.failures % 20 === 0) {
        this.options.log.warn(
          { err: String(err), retryInMs: backoff },
          'outbox relay cannot reach the queue; will retry',
        );
      }
      this.schedule(backoff);
    }
  }

  /** Relays one batch; returns how many rows it marked sent. */
  async relayBatch(): Promise<number> {
    const { db, queues, routes, jobs } = this.options;
    if (queues.connection.status !== 'ready') {
      if (queues.connection.status === 'wait') queues.connection.connect().catch(() => {});
      throw new Error(`Redis connection is ${queues.connection.status}`);
    }
    let claimedIds: number[] = [];
    try {
      return await db.transaction().execute(async (trx) => {
        // Claims and marks a batch in one statement; the mark counts only if the jobs were added
        // (a failure rolls the transaction back and the rows stay unsent).
        const rows = (
          await trx
            .updateTable('outbox')
            .set((eb) => ({ sent_at: new Date(), attempts: eb('attempts', '+', 1), last_error: null }))
            .where(
              'id',
              'in',
              trx
                .selectFrom('outbox')
                .select('id')
                .where('sent_at', 'is', null)
                .orderBy('id')
                .limit(BATCH)
                .forUpdate()
                .skipLocked(),
            )
            .returning(['id', 'event_id', 'type', 'aggregate_type', 'aggregate_id', 'customer_id'])
            .execute()
        ).sort((a, b) => a.id - b.id);
        if (rows.length === 0) return 0;
        claimedIds = rows.map((r) => r.id);
        const byQueue = new Map<string, { name: string; data: EventJobData; opts: JobsOptions }[]>();
        const filters = new Map<EventRoute, (event: RoutedEvent) => boolean>();
        for (const route of routes) {
          if (route.wanted && rows.some((row) => eventMatches(route.events, row.type)))
            filters.set(route, await route.wanted(trx));
        }
        for (const row of rows) {
          for (const route of routes) {
            if (!eventMatches(route.events, row.type)) continue;
            const filter = filters.get(route);
            if (filter && !filter({ type: row.type, customerId: row.customer_id })) continue;
            const job = jobs.get(route.job)!;
            const list = byQueue.get(job.queue) ?? [];
            list.push({
              name: job.name,
              data: {
                eventId: row.event_id,
                type: row.type,
                aggregateType: row.aggregate_type,
                aggregateId: row.aggregate_id,
              },
              opts: {
                // Ids are kept an hour: long enough to absorb a batch re-sent after a failed commit.
                removeOnComplete: { age: 3600 },
                removeOnFail: { age: 7 * 86_400 },
                attempts: 5,
                backoff: { type: 'exponential', delay: 1000 },
                ...job.options,
                jobId: eventJobId(row.event_id, job.name),
              },
            });
            byQueue.set(job.queue, list);
          }
        }
        for (const [queue, list] of byQueue) await queues.get(queue).addBulk(list);
        return rows.length;
      });
    } catch (err) {
      if (claimedIds.length > 0) {
        await db
          .updateTable('outbox')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: String(err).slice(0, 500) }))
          .where('id', 'in', claimedIds)
          .execute()
          .catch(() => {});
      }
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.options.queues.connection.off('ready', this.onRedisReady);
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.running;
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
  }
}
