import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Config } from '../config.ts';
import type { Database } from '../db/db.ts';
import type { KeyCache } from './auth/auth.plugin.ts';
import type { EnumLabels } from './i18n.ts';
import type { EventRoute, JobDefinition, QueueRegistry, ScheduleDefinition } from './jobs.ts';

/** The Fastify instance routes are written against: TypeBox schemas type the handlers. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export const API_PREFIX = '/api/v1';

/** What a module may use. Services take narrower slices of it. */
export interface ModuleDeps {
  db: Database;
  config: Config;
  keys: KeyCache;
  queues: QueueRegistry;
}

/**
 * A process module (`src/modules/<name>/index.ts` exports one). The API registers its routes under
 * `/api/v1`; the worker runs its jobs, schedules and event routes; its enumerations get labels.
 */
export interface TesseraModule {
  name: string;
  routes?: (app: App, deps: ModuleDeps) => Promise<void> | void;
  /** Routes outside `/api/v1` (e.g. the PagerDuty-compatible `/v2/enqueue`); full paths. */
  rootRoutes?: (app: App, deps: ModuleDeps) => Promise<void> | void;
  jobs?: JobDefinition[];
  schedules?: ScheduleDefinition[];
  eventRoutes?: EventRoute[];
  enums?: Record<string, EnumLabels>;
}
