/**
 * `--cluster redis://[:password@]host[:port][/db]`: where the nodes of a vmodem cluster meet.
 * Parsed once here so the broker (src/broker), the virtual cloud (src/cloud) and the modem
 * directory (src/control) open their Redis connections with the same settings.
 */
export interface RedisEndpoint {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** The URL without the password, for banners and logs. */
  display: string;
}

export class RedisUrlError extends Error {}

export function parseRedisUrl(url: string): RedisEndpoint {
  const usage = 'use redis://host:port (optionally redis://:password@host:port/db)';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`--cluster "${url}" is not a valid URL; ${usage}`);
  }
  if (u.protocol !== 'redis:') throw new RedisUrlError(`--cluster "${url}": unsupported scheme ${u.protocol} (${usage})`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new RedisUrlError(`--cluster "${url}" names no host; ${usage}`);
  const port = Number(u.port || 6379);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RedisUrlError(`--cluster "${url}": port must be 1–65535`);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new RedisUrlError(`--cluster "${url}": the database (path) must be a whole number`);
  if (u.search || u.hash) throw new RedisUrlError(`--cluster "${url}": no query or fragment; ${usage}`);
  const out: RedisEndpoint = { host, port, db, display: `redis://${u.host}${db ? `/${db}` : ''}` };
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  return out;
}

/** ioredis connection options for an endpoint (no secrets in what is logged: use `display`). */
export function redisOptions(ep: RedisEndpoint): { host: string; port: number; db: number; username?: string; password?: string } {
  return {
    host: ep.host,
    port: ep.port,
    db: ep.db,
    ...(ep.username !== undefined ? { username: ep.username } : {}),
    ...(ep.password !== undefined ? { password: ep.password } : {}),
  };
}
