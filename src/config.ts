import path from 'node:path';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

/**
 * Every setting Tessera reads from the environment, in one place. `loadConfig` parses them once at
 * start; a bad value stops the process with a message naming the variable. The README's
 * configuration table is this list.
 */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port of the API' }),
  HOST: Type.String({ default: '0.0.0.0', description: 'Interface the API listens on' }),
  DATABASE_URL: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description: 'PostgreSQL URL; unset = embedded PostgreSQL under DATA_DIR',
    }),
  ),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'pg pool size' }),
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: '^rediss?://',
      description: 'Redis URL; unset = a private redis-server started from PATH',
    }),
  ),
  QUEUE_PREFIX: Type.String({
    default: 'tessera',
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'BullMQ key prefix (lets several installations share one Redis)',
  }),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info', description: 'pino log level' },
  ),
  DATA_DIR: Type.String({
    default: './.tessera',
    description: 'Embedded PostgreSQL and Redis data, generated admin token',
  }),
  BOOTSTRAP_ADMIN_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      maxLength: 200,
      description: 'When set, an admin API key with exactly this token exists after start',
    }),
  ),
  TESSERA_ROLE: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')], {
    default: 'all',
    description: 'all = API and workers in one process; api or worker = one side',
  }),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1024,
    maximum: 10 * 1024 * 1024,
    default: 1024 * 1024,
    description: 'Largest accepted request body (bytes), at most 10 MB',
  }),
  ATTACHMENT_MAX_BYTES: Type.Integer({
    minimum: 1024,
    maximum: 100 * 1024 * 1024,
    default: 10 * 1024 * 1024,
    description: 'Largest accepted attachment (bytes); stored in PostgreSQL',
  }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({
    minimum: 0,
    default: 6000,
    description: 'Requests per minute per API key (or per IP without a key); 0 turns it off',
  }),
  IDEMPOTENCY_TTL_HOURS: Type.Integer({
    minimum: 1,
    maximum: 720,
    default: 24,
    description: 'How long an Idempotency-Key answer is replayed',
  }),
  OUTBOX_POLL_MS: Type.Integer({
    minimum: 10,
    maximum: 60000,
    default: 1000,
    description: 'Outbox relay poll interval (it also wakes on NOTIFY)',
  }),
  WORKER_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 5,
    description: 'Jobs processed at once per queue per worker process',
  }),
  MIGRATE_ON_START: Type.Boolean({
    default: true,
    description: 'Apply pending migrations at start (always on with the embedded database)',
  }),
  SEED_DEFAULTS: Type.Boolean({
    default: true,
    description:
      'On first start, create a 5x8 Asia/Shanghai calendar with China holidays and the default SLA (2h/24h)',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 10000,
    description: 'Grace period for draining requests and jobs on SIGTERM',
  }),
  AUTH_CACHE_MS: Type.Integer({
    minimum: 0,
    maximum: 300000,
    default: 5000,
    description: 'How long a verified API key stays cached in a process (revocation delay)',
  }),
  WEBHOOK_ALLOWED_HOSTS: Type.String({
    default: '',
    maxLength: 4000,
    description:
      'Outbound webhooks: comma-separated host names, IP addresses or CIDR ranges that may be targeted although ' +
      'they are loopback, private, link-local or otherwise internal (e.g. `127.0.0.1,hooks.internal,10.8.0.0/16`); ' +
      'empty = only public addresses',
  }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60000,
    default: 10000,
    description:
      'Outbound webhooks: time allowed for one delivery attempt (connect, send, response); longer = failed',
  }),
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 30,
    default: 15,
    description: 'Outbound webhooks: attempts per delivery (15 with a 5 s base spans about 23 hours)',
  }),
  WEBHOOK_RETRY_BASE_MS: Type.Integer({
    minimum: 10,
    maximum: 3600000,
    default: 5000,
    description: 'Outbound webhooks: delay before the first retry; each further retry waits twice as long',
  }),
  WEBHOOK_LOG_RETENTION_DAYS: Type.Integer({
    minimum: 1,
    maximum: 3650,
    default: 30,
    description: 'Outbound webhooks: finished deliveries and their attempts are kept this many days',
  }),
  SMTP_URL: Type.Optional(
    Type.String({
      pattern: '^smtps?://',
      maxLength: 2000,
      description:
        'Reports: SMTP server that e-mails generated reports to their recipients, e.g. ' +
        '`smtp://user:password@mail.example.com:587` (STARTTLS when offered) or `smtps://...:465`; unset = no e-mail',
    }),
  ),
  SMTP_FROM: Type.String({
    default: 'Tessera <tessera@localhost>',
    minLength: 3,
    maxLength: 320,
    description: 'Reports: the From address of report e-mails',
  }),
  PUBLIC_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      maxLength: 2000,
      description:
        'Base URL under which users reach this API (e.g. `https://itsm.example.com`), for the links in report ' +
        'e-mails and `report.generated` events; unset = the links are paths (`/api/v1/reports/...`)',
    }),
  ),
});

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment (or an override map, used by tests) into a typed, validated config. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, converted)) {
    const name = error.instancePath.replace(/^\//, '');
    if (seen.has(name)) continue;
    seen.add(name);
    const schema = (ConfigSchema.properties as Record<string, { anyOf?: { const: string }[] }>)[name];
    const message = schema?.anyOf
      ? `must be one of ${schema.anyOf.map((option) => option.const).join(', ')}`
      : error.message;
    const given = env[name] !== undefined ? ` (got ${JSON.stringify(env[name])})` : '';
    problems.push(`${name}: ${message}${given}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = converted as Config;
  return { ...config, DATA_DIR: path.resolve(config.DATA_DIR) };
}

/** A config for code paths that need one without reading the environment (OpenAPI generation). */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), ...overrides };
}
