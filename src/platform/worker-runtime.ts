import { UnrecoverableError, Worker } from 'bullmq';
import { Value } from 'typebox/value';
import type { Config } from '../config.ts';
import type { Database } from '../db/db.ts';
import type { EventRoute, JobContext, JobDefinition, QueueRegistry, ScheduleDefinition } from './jobs.ts';
import type { Logger } from './logger.ts';
import type { TesseraModule } from './module.ts';
import { OutboxRelay } from './outbox-relay.ts';
import { createRedis } from './redis.ts';

export interface JobCatalogue {
  jobs: Map<string, JobDefinition>;
  schedules: ScheduleDefinition[];
  routes: EventRoute[];
}

/**
 * Collects every module's jobs, schedules and event routes, and refuses a set in which a schedule or
 * event route names a job that nobody processes, or a job appears twice.
 */
export function jobCatalogue(modules: TesseraModule[]): JobCatalogue {
  const jobs = new Map<string, JobDefinition>();
  const problems: string[] = [];
  for (const module of modules) {
    for (const job of module.jobs ?? []) {
      if (jobs.has(job.name)) problems.push(`job ${job.name} is defined twice`);
      if (typeof job.process !== 'function') problems.push(`job ${job.name} has no processor`);
      jobs.set(job.name, job);
    }
  }
  const schedules = modules.flatMap((m) => m.schedules ?? []);
  const routes = modules.flatMap((m) => m.eventRoutes ?? []);
  for (const s of schedules)
    if (!jobs.has(s.job)) problems.push(`schedule ${s.id} names job ${s.job}, which has no processor`);
  for (const r of routes)
    if (!jobs.has(r.job)) problems.push(`event route ${r.events} names job ${r.job}, which has no processor`);
  if (problems.length > 0) throw new Error(`Refusing to start the worker:\n  ${problems.join('\n  ')}`);
  return { jobs, schedules, routes };
}

export interface WorkerRuntime {
  relay: OutboxRelay;
  close(): Promise<void>;
}

export interface WorkerOptions {
  config: Config;
  databaseUrl: string;
  redisUrl: string;
  db: Database;
  queues: QueueRegistry;
  modules: TesseraModule[];
  log: Logger;
}

/** Starts one BullMQ worker per queue, the job schedulers and the outbox relay. */
export async function startWorkers(options: WorkerOptions): Promise<WorkerRuntime> {
  const { config, db, queues, log } = options;
  const catalogue = jobCatalogue(options.modules);
  const byQueue = new Map<string, JobDefinition[]>();
  for (const job of catalogue.jobs.values()) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);

  const workers: Worker[] = [];
  for (const [queueName, definitions] of byQueue) {
    const handlers = new Map(definitions.map((d) => [d.name, d]));
    const worker = new Worker(
      queueName,
      async (job) => {
        const definition = handlers.get(job.name);
        if (!definition)
          throw new UnrecoverableError(`No processor for job ${job.name} on queue ${queueName}`);
        if (!Value.Check(definition.payload, job.data)) {
          throw new UnrecoverableError(`Job ${job.name} ${job.id} has an invalid payload`);
        }
        const ctx: JobContext = {
          db,
          config,
          queues,
          log: log.child({ job: job.name, jobId: job.id }),
          attempt: job.attemptsMade + 1,
          jobId: job.id,
        };
        return definition.process(job.data, ctx);
      },
      {
        connection: createRedis(options.redisUrl, 'worker', `tessera-worker-${queueName}`),
        prefix: queues.prefix,
        concurrency: config.WORKER_CONCURRENCY,
        autorun: true,
      },
    );
    worker.on('failed', (job, err) =>
      log.warn({ job: job?.name, jobId: job?.id, err: err.message }, 'job failed'),
    );
    worker.on('error', (err) => log.debug({ err: err.message }, 'worker connection error'));
    workers.push(worker);
  }

  for (const schedule of catalogue.schedules) {
    const job = catalogue.jobs.get(schedule.job)!;
    await queues
      .get(job.queue)
      .upsertJobScheduler(
        schedule.id,
        { pattern: schedule.cron, tz: schedule.timeZone },
        { name: job.name, data: schedule.data ?? {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
  }

  const relay = new OutboxRelay({
    db,
    databaseUrl: options.databaseUrl,
    queues,
    routes: catalogue.routes,
    jobs: catalogue.jobs,
    pollMs: config.OUTBOX_POLL_MS,
    log,
  });
  await relay.start();
  log.info({ queues: [...byQueue.keys()], schedules: catalogue.schedules.length }, 'workers started');

  return {
    relay,
    async close() {
      await relay.stop();
      await Promise.allSettled(
        workers.map(async (w) => {
          await w.close();
          await w.disconnect();
        }),
      );
    },
  };
}
