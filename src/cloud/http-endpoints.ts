/**
 * The virtual cloud's HTTP(S) side, served by the same process as the broker:
 *
 * - `POST /device/register` — Tencent dynamic registration (X-TC-* signed), and the older
 *   `POST /register/dev` (schemes/tencent-dynreg.ts);
 * - `GET|HEAD /firmware/<name>` — OTA image downloads from the firmware catalog, with single
 *   byte-range requests (`Range: bytes=a-b`, `a-`, `-n` → 206; unsatisfiable → 416).
 *
 * The same handler listens on plain HTTP and/or HTTPS (with the broker's TLS server certificate).
 */
import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import type { FirmwareCatalog, FirmwareImage } from './firmware-catalog.js';
import type { DeviceRegistry } from './registry.js';
import {
  registerTencentDevice,
  tencentDynregResponse,
  tencentLegacyResponse,
  verifyTencentDynregSignature,
  verifyTencentLegacySignature,
  type DynregOutcome,
} from './schemes/tencent-dynreg.js';

export interface CloudHttpOptions {
  registry: DeviceRegistry;
  firmware?: FirmwareCatalog;
  /** Default 127.0.0.1. */
  host?: string;
  /** Serve plain HTTP on this port (0 = ephemeral). */
  httpPort?: number;
  /** Serve HTTPS on this port (0 = ephemeral); needs `tls`. */
  httpsPort?: number;
  tls?: { key: string; cert: string };
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Host names devices may sign (Tencent registration) besides the Host header and Tencent's gateway. */
  signedHosts?: string[];
  log?: Logger;
}

export interface CloudHttp {
  readonly httpPort: number | undefined;
  readonly httpsPort: number | undefined;
  /** `http://HOST:PORT` */
  readonly httpUrl: string | undefined;
  /** `https://HOST:PORT` */
  readonly httpsUrl: string | undefined;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Parse a single `bytes=` range against `size`; undefined = serve the whole file, null = unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multiple ranges or unknown units: a server may ignore Range and send everything (RFC 9110 §14.2).
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (size === 0) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || (m[2] !== '' && Number(m[2]) < start)) return null;
  return { start, end };
}

export async function startCloudHttp(opts: CloudHttpOptions): Promise<CloudHttp> {
  const log = (opts.log ?? silentLogger()).child({ component: 'cloud-http' });
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? Date.now;
  if (opts.httpsPort !== undefined && !opts.tls) throw new Error('HTTPS needs the TLS key and certificate');

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log.warn({ err }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, status, { error: (err as Error).message });
      else res.destroy();
    });
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://cloud');
    const route = url.pathname;
    if (route === '/device/register' || route === '/register/dev') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      const body = await readBody(req);
      const outcome = route === '/device/register' ? tencentRegister(req, body) : tencentLegacyRegister(body);
      log.info(
        outcome.ok
          ? { platform: 'tencent', productId: outcome.device.productId, deviceName: outcome.device.deviceName }
          : { platform: 'tencent', error: outcome.error, reason: outcome.message },
        outcome.ok ? 'device registered (Tencent dynamic registration)' : 'Tencent dynamic registration refused',
      );
      sendJson(res, 200, route === '/device/register' ? tencentDynregResponse(outcome) : tencentLegacyResponse(outcome));
      return;
    }
    if (route.startsWith('/firmware/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
      let name: string;
      try {
        name = decodeURIComponent(route.slice('/firmware/'.length));
      } catch {
        throw new HttpError(404, 'no such firmware');
      }
      const image = opts.firmware ? await opts.firmware.get(name) : undefined;
      if (!image) throw new HttpError(404, `no firmware named ${name}`);
      serveImage(req, res, image);
      return;
    }
    throw new HttpError(404, 'not found');
  }

  function tencentRegister(req: http.IncomingMessage, body: Buffer): DynregOutcome {
    let parsed: { ProductId?: unknown; DeviceName?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      return { ok: false, error: 'InvalidParam', message: 'body is not JSON' };
    }
    if (typeof parsed?.ProductId !== 'string' || typeof parsed.DeviceName !== 'string' || !parsed.ProductId || !parsed.DeviceName) {
      return { ok: false, error: 'InvalidParam', message: 'body needs ProductId and DeviceName' };
    }
    return registerTencentDevice({ registry: opts.registry, nowMs: now() }, parsed.ProductId, parsed.DeviceName, (secret) =>
      verifyTencentDynregSignature(req.headers, body, secret, opts.signedHosts),
    );
  }

  function tencentLegacyRegister(body: Buffer): DynregOutcome {
    let p: Record<string, unknown>;
    try {
      p = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return { ok: false, error: 'InvalidParam', message: 'body is not JSON' };
    }
    const fields = ['deviceName', 'nonce', 'productId', 'timestamp', 'signature'] as const;
    if (!p || fields.some((f) => typeof p[f] !== 'string' && typeof p[f] !== 'number')) {
      return { ok: false, error: 'InvalidParam', message: `body needs ${fields.join(', ')}` };
    }
    const s = Object.fromEntries(fields.map((f) => [f, String(p[f])])) as Record<(typeof fields)[number], string>;
    return registerTencentDevice({ registry: opts.registry, nowMs: now() }, s.productId, s.deviceName, (secret) =>
      verifyTencentLegacySignature(s, secret),
    );
  }

  function serveImage(req: http.IncomingMessage, res: http.ServerResponse, image: FirmwareImage): void {
    const range = parseRange(req.headers.range, image.size);
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ETag: `"${image.md5}"`,
    };
    if (range === null) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${image.size}` });
      res.end();
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? image.size - 1;
    const length = Math.max(0, end - start + 1);
    headers['Content-Length'] = length;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${image.size}`;
    res.writeHead(range ? 206 : 200, headers);
    log.debug({ firmware: image.name, start, length, remote: req.socket.remoteAddress }, 'firmware download');
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    if (image.data) {
      res.end(image.data.subarray(start, end + 1));
      return;
    }
    const stream = createReadStream(image.path!, { start, end });
    stream.on('error', (err) => {
      log.warn({ err, firmware: image.name }, 'firmware read failed');
      res.destroy();
    });
    stream.pipe(res);
  }

  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const listen = async (server: http.Server | https.Server, port: number, what: string): Promise<number> => {
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'EADDRINUSE' ? `${what} port ${port} on ${host} is already in use` : `cannot listen for ${what} on ${host}:${port}: ${err.message}`)),
      );
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => log.warn({ err }, `${what} listener error`));
    servers.push(server);
    return (server.address() as net.AddressInfo).port;
  };

  const closeAll = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  };

  let httpPort: number | undefined;
  let httpsPort: number | undefined;
  try {
    if (opts.httpPort !== undefined) httpPort = await listen(http.createServer(handler), opts.httpPort, 'HTTP');
    if (opts.httpsPort !== undefined) {
      httpsPort = await listen(https.createServer({ key: opts.tls!.key, cert: opts.tls!.cert }, handler), opts.httpsPort, 'HTTPS');
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  log.debug({ httpPort, httpsPort }, 'cloud HTTP endpoints listening');

  let closing: Promise<void> | undefined;
  return {
    httpPort,
    httpsPort,
    httpUrl: httpPort !== undefined ? `http://${host}:${httpPort}` : undefined,
    httpsUrl: httpsPort !== undefined ? `https://${host}:${httpsPort}` : undefined,
    close: () => (closing ??= closeAll()),
  };
}
