/** Shared pieces of the virtual-cloud tests: temp dirs, MQTT links, HTTPS requests. */
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { openLink } from '../../src/mqtt/link.js';
import type { ConnectOutcome, IncomingMessage, MqttLink } from '../../src/mqtt/types.js';

/** A fixed "now" so expiry checks do not depend on the wall clock: 2024-05-01T12:34:56Z. */
export const NOW_MS = Date.UTC(2024, 4, 1, 12, 34, 56);
export const NOW_S = Math.floor(NOW_MS / 1000);

export class Cleanup {
  private readonly dirs: string[] = [];
  private readonly links: MqttLink[] = [];
  private readonly closers: (() => Promise<unknown> | unknown)[] = [];

  tempDir(prefix = 'vmodem-cloud-'): string {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  link(l: MqttLink): MqttLink {
    this.links.push(l);
    return l;
  }

  add(fn: () => Promise<unknown> | unknown): void {
    this.closers.push(fn);
  }

  async run(): Promise<void> {
    for (const l of this.links.splice(0)) l.destroy();
    for (const fn of this.closers.splice(0).reverse()) await fn();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export interface Creds {
  clientId: string;
  username?: string;
  password?: string;
}

export interface TlsTarget {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Open a link (TCP, or TLS when `tls` is given) and send CONNECT; messages are collected from the start. */
export async function connect(
  cleanup: Cleanup,
  port: number,
  creds: Creds,
  tls?: TlsTarget,
): Promise<{ link: MqttLink; outcome: ConnectOutcome; messages: IncomingMessage[]; closed: Promise<void> }> {
  const target = tls ? { host: '127.0.0.1', port, tls: true, ...tls } : { host: '127.0.0.1', port, tls: false };
  const link = cleanup.link(await openLink({ target, timeoutMs: 5000 }));
  const messages: IncomingMessage[] = [];
  link.on('message', (m) => messages.push(m));
  const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
  const opts: Parameters<MqttLink['connect']>[0] = { clientId: creds.clientId, protocolVersion: 4, keepalive: 0, clean: true, timeoutMs: 5000 };
  if (creds.username !== undefined) opts.username = creds.username;
  if (creds.password !== undefined) opts.password = creds.password;
  const outcome = await link.connect(opts);
  return { link, outcome, messages, closed };
}

export const RETRY = { timeoutMs: 3000, retries: 0 };

export async function waitFor(cond: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP(S) request; `ca` makes it HTTPS-trusting that CA. */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      { method: opts.method ?? 'GET', headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
