/**
 * The module's HTTP(S) client, for dynamic registration (§2.7) and OTA firmware downloads (§4):
 * real requests to the virtual cloud's HTTP side (src/modem/cloud-endpoints.ts), with the
 * SDK's QCLOUD_ERR_HTTP_* codes (§6.1) for what goes wrong.
 */
import http from 'node:http';
import https from 'node:https';
import type { CloudEndpoints } from '../../modem/cloud-endpoints.js';
import { SDK } from './errors.js';

export class HttpFailure extends Error {
  constructor(
    /** §6.1 QCLOUD_ERR_HTTP_* (or -703 for a TLS handshake that failed). */
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

export interface HttpOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** CA to trust for HTTPS (the virtual cloud's). */
  ca?: string;
  /** Give up when nothing arrives for this long. */
  timeoutMs: number;
  /** Refuse bodies longer than this (the module's buffer). */
  maxBytes: number;
  /** Called as body bytes arrive (with the announced length when there is one). */
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface HttpReply {
  status: number;
  body: Buffer;
}

function failureFor(err: NodeJS.ErrnoException, tls: boolean): HttpFailure {
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') return new HttpFailure(SDK.httpDns, err.message);
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new HttpFailure(SDK.httpConnect, err.message);
  if (code === 'ECONNRESET' || code === 'EPIPE') return new HttpFailure(SDK.httpClosed, err.message);
  if (tls && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT')) {
    return new HttpFailure(SDK.sslConnect, err.message);
  }
  return new HttpFailure(SDK.http, err.message);
}

/** One request; rejects with an HttpFailure. Any status is a reply (the caller judges it). */
export function httpRequest(url: URL, opts: HttpOptions): Promise<HttpReply> {
  const tls = url.protocol === 'https:';
  if (!tls && url.protocol !== 'http:') return Promise.reject(new HttpFailure(SDK.httpUrl, `unsupported URL scheme ${url.protocol}`));
  const mod = tls ? https : http;
  return new Promise<HttpReply>((resolve, reject) => {
    let settled = false;
    const fail = (e: HttpFailure) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(e);
    };
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    const req = mod.request(
      url,
      { method: opts.method ?? 'GET', headers, ...(tls && opts.ca ? { ca: opts.ca } : {}), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        const announced = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
        if (announced !== undefined && announced > opts.maxBytes) {
          fail(new HttpFailure(SDK.http, `body of ${announced} bytes is larger than ${opts.maxBytes}`));
          return;
        }
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received > opts.maxBytes) {
            fail(new HttpFailure(SDK.http, `body larger than ${opts.maxBytes} bytes`));
            return;
          }
          chunks.push(c);
          opts.onProgress?.(received, announced);
        });
        res.on('end', () => {
          if (settled) return;
          if (announced !== undefined && received !== announced) {
            fail(new HttpFailure(SDK.httpClosed, `connection closed after ${received} of ${announced} bytes`));
            return;
          }
          settled = true;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
        res.on('aborted', () => fail(new HttpFailure(SDK.httpClosed, 'response aborted')));
        res.on('error', (err: NodeJS.ErrnoException) => fail(failureFor(err, tls)));
      },
    );
    req.setTimeout(opts.timeoutMs, () => fail(new HttpFailure(SDK.httpTimeout, `no data for ${opts.timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => fail(failureFor(err, tls)));
    req.end(opts.body);
  });
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Where a URL the cloud gave (a firmware download) really goes: a URL on this machine as it is;
 * a production host (Tencent's COS buckets, …) to the virtual cloud's firmware service, by the
 * last segment of its path, keeping the scheme when the cloud serves it.
 */
export function cloudUrl(given: string, cloud: CloudEndpoints | undefined): URL | undefined {
  let u: URL;
  try {
    u = new URL(given);
  } catch {
    return undefined;
  }
  if (LOCAL_HOSTS.has(u.hostname) || !cloud) return u;
  const base = u.protocol === 'https:' ? (cloud.httpsUrl ?? cloud.httpUrl) : (cloud.httpUrl ?? cloud.httpsUrl);
  if (!base) return u;
  let name = u.pathname.split('/').filter(Boolean).pop() ?? '';
  try {
    name = decodeURIComponent(name);
  } catch {
    // Kept as it is.
  }
  return new URL(`/firmware/${encodeURIComponent(name)}`, base);
}
