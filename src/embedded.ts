import type { Logger } from './platform/logger.ts';

/** A database server this process started for itself; `stop` ends it. */
export interface EmbeddedService {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(_dir: string, _log: Logger): Promise<EmbeddedService> {
  throw new Error('embedded PostgreSQL: not written yet');
}

export async function startEmbeddedRedis(_dir: string, _log: Logger): Promise<EmbeddedService> {
  throw new Error('embedded Redis: not written yet');
}
