import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';

export type Logger = FastifyBaseLogger;

/** pino options: JSON lines, pretty only on a terminal (and only when pino-pretty is installed). */
export function loggerOptions(level: string): pino.LoggerOptions {
  const pretty = process.stdout.isTTY && hasPrettyPrinter();
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  };
}

function hasPrettyPrinter(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export function createLogger(level: string): Logger {
  return pino(loggerOptions(level)) as Logger;
}
