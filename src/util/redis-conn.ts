/**
 * One Redis connection of a cluster node, with the outage logged once and clearly: the first
 * error of an outage at error level ("lost the connection to Redis …; retrying"), the retries at
 * debug, and the return at info. ioredis reconnects by itself and queues commands meanwhile; an
 * 'error' listener must exist or a Redis restart is an unhandled error event.
 */
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { redisOptions, type RedisEndpoint } from './redis-url.js';

/** Log an emitter's Redis outage (ioredis connections). */
export function logRedisOutages(
  emitter: { on(event: 'error', fn: (err: Error) => void): unknown; on(event: string, fn: () => void): unknown },
  what: string,
  ep: RedisEndpoint,
  log: Logger,
  readyEvent = 'ready',
): void {
  let down = false;
  emitter.on('error', (err: Error) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (!down) {
      down = true;
      log.error({ redis: ep.display, what, code, err: err.message }, `cluster: lost the connection to Redis (${what}); retrying`);
    } else {
      log.debug({ redis: ep.display, what, code, err: err.message }, 'cluster: Redis still unreachable');
    }
  });
  emitter.on(readyEvent, () => {
    if (!down) return;
    down = false;
    log.info({ redis: ep.display, what }, `cluster: Redis connection restored (${what})`);
  });
}

/** A connection that retries forever (every 50 ms … 1 s) and keeps commands queued meanwhile. */
export function openRedis(ep: RedisEndpoint, what: string, log: Logger, extra: { lazyConnect?: boolean; enableAutoPipelining?: boolean } = {}): Redis {
  const conn = new Redis({
    ...redisOptions(ep),
    connectionName: `vmodem-${what}`,
    retryStrategy: (times: number) => Math.min(times * 50, 1000),
    // Commands wait for the connection to come back rather than failing after 20 retries.
    maxRetriesPerRequest: null,
    ...extra,
  });
  logRedisOutages(conn, what, ep, log);
  return conn;
}

/** Reject with a one-line reason when Redis cannot be reached within `timeoutMs` (checked before a node starts). */
export async function checkRedis(ep: RedisEndpoint, timeoutMs = 3000): Promise<void> {
  const conn = new Redis({ ...redisOptions(ep), lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  conn.on('error', () => {});
  try {
    await conn.connect();
    await conn.ping();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot reach Redis at ${ep.display} (${e.code ?? e.message})`, { cause: err });
  } finally {
    conn.disconnect();
  }
}
