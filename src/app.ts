import { createHash, randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import { default as addFormatsModule } from 'ajv-formats';
import Fastify from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Database } from './db/db.ts';
import { modules as processModules } from './modules/index.ts';
import { KeyCache, registerAuth } from './platform/auth/auth.plugin.ts';
import { DomainError } from './platform/errors.ts';
import { registerHealth } from './platform/health.ts';
import { EnumRegistry } from './platform/i18n.ts';
import { registerIdempotency } from './platform/idempotency.ts';
import type { QueueRegistry } from './platform/jobs.ts';
import { loggerOptions } from './platform/logger.ts';
import { registerMetrics } from './platform/metrics.ts';
import { API_PREFIX, type App, type TesseraModule } from './platform/module.ts';
import { mayHoldNul, nulInput, nulPointer } from './platform/nul.ts';
import { platformModule } from './platform/platform.module.ts';
import { registerProblems } from './platform/problems.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export { API_PREFIX } from './platform/module.ts';

function createAjv(coerceTypes: false | 'array'): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The shared connections an app (and a worker) runs on; their owner closes them. */
export interface Resources {
  db: Database;
  redis: Redis;
  queues: QueueRegistry;
}

/** Every module of this build: the platform's own plus the process modules. */
export function allModules(enums = new EnumRegistry()): TesseraModule[] {
  return [platformModule(enums), ...processModules];
}

export interface BuildOptions {
  /** Log to pino with the config's level (default); `false` for silence. */
  logger?: boolean;
}

/** The Fastify instance with platform plugins and every module's routes. Not yet listening. */
export async function buildApp(
  config: Config,
  resources: Resources,
  options: BuildOptions = {},
): Promise<App> {
  const app = Fastify({
    logger:
      options.logger === false || config.LOG_LEVEL === 'silent' ? false : loggerOptions(config.LOG_LEVEL),
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: true,
    // Swagger UI reads its static files at start; on a loaded machine that can take a while.
    pluginTimeout: 60_000,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON bodies are validated as sent (a number is not a string); query strings, path params and
  // headers arrive as text and are coerced to their schema types.
  const bodyAjv = createAjv(false);
  const textAjv = createAjv('array');
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema),
  );

  // Only JSON bodies by default: anything else is a 415 (modules add multipart where they take files).
  app.removeContentTypeParser('text/plain');
  // PostgreSQL stores no NUL character: a body, query or path value holding one is a 400 naming it.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    parseJson(request, body as string, (err, value) => {
      const at = !err && mayHoldNul(body as string) ? nulPointer(value) : null;
      if (at !== null) return done(nulInput('body', at), undefined);
      return err ? done(err, undefined) : done(null, value);
    }),
  );
  app.addHook('preValidation', async (request) => {
    if (!request.url.includes('%00')) return;
    for (const part of ['query', 'params'] as const) {
      const at = nulPointer(request[part]);
      if (at !== null) throw nulInput(part, at);
    }
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });

  const enums = new EnumRegistry();
  const modules = allModules(enums);
  for (const module of modules)
    for (const [name, labels] of Object.entries(module.enums ?? {})) enums.add(name, labels);

  registerProblems(app);
  const keys = new KeyCache(resources.db, config.AUTH_CACHE_MS);
  registerAuth(app, keys);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/') || !route.schema) return;
    route.schema.response ??= {};
    const response = route.schema.response as Record<string, unknown>;
    response['4XX'] ??= { $ref: 'Problem#' };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '0.1.0',
        description:
          'Headless IT service management backend (ISO/IEC 20000, ITSS). Errors are RFC 9457 problem+json; ' +
          'lists page with `limit` and `cursor`; POSTs accept `Idempotency-Key`; records carry `version` ' +
          '(ETag) and changes accept `If-Match`.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key token' } },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (config.RATE_LIMIT_PER_MINUTE > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.RATE_LIMIT_PER_MINUTE,
      timeWindow: 60_000,
      // Inbound monitoring endpoints have their own per-integration limit (503/429 as senders expect).
      allowList: (request) =>
        !request.url.startsWith('/api/') || request.url.startsWith(`${API_PREFIX}/inbound/`),
      keyGenerator: (request) => {
        const auth = request.headers.authorization;
        return auth ? createHash('sha1').update(auth).digest('base64url') : request.ip;
      },
      errorResponseBuilder: (_request, context) =>
        new DomainError(
          'RATE_LIMITED',
          'rate_limited',
          `Rate limit of ${context.max} requests per minute exceeded`,
          {
            retryAfterSeconds: Math.ceil(context.ttl / 1000),
          },
        ),
    });
  }

  registerIdempotency(app, resources.db, config.IDEMPOTENCY_TTL_HOURS);
  registerHealth(app, resources);
  const queueNames = [...new Set(modules.flatMap((m) => (m.jobs ?? []).map((j) => j.queue)))];
  registerMetrics(app, { db: resources.db, queues: resources.queues, queueNames: () => queueNames });

  await app.register(
    async (api) => {
      for (const module of modules)
        await module.routes?.(api as unknown as App, {
          db: resources.db,
          config,
          keys,
          queues: resources.queues,
        });
    },
    { prefix: API_PREFIX },
  );
  for (const module of modules) {
    await module.rootRoutes?.(app as unknown as App, {
      db: resources.db,
      config,
      keys,
      queues: resources.queues,
    });
  }

  return app as unknown as App;
}
