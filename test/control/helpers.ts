/**
 * Control-API tests: a whole vmodem (startVmodem with `control`, fast timing, its own broker port
 * and link) plus a python firmware on the PTY, and a small HTTP client that shows every status,
 * header and body as the API sent them.
 */
import { expect } from 'vitest';
import type { VmodemOptions } from '../../src/vmodem.js';
import { ControlClient } from '../../src/control/ctl-client.js';
import type { Firmware } from '../helpers/firmware.js';
import { startE2e, urc, type E2e } from '../helpers/e2e-harness.js';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined when the body is empty or not JSON). */
  json: any;
  text: string;
}

export interface Controlled extends E2e {
  url: string;
  token: string;
  /** A raw request; `body` is JSON-encoded unless it is a string (sent as is). */
  api(method: string, path: string, body?: unknown, opts?: { token?: string | null; headers?: Record<string, string> }): Promise<ApiAnswer>;
  /** The typed client (modem 0). */
  client: ControlClient;
  /** POST …/modems/0/<op> and expect 200. */
  op(op: string, body?: unknown): Promise<any>;
}

export async function startControlled(opts: VmodemOptions = {}): Promise<Controlled> {
  const e2e = await startE2e({ control: { port: 0 }, ...opts });
  const control = e2e.vm.control!;
  const api: Controlled['api'] = async (method, path, body, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? control.token : o.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`${control.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };
  return {
    ...e2e,
    url: control.url,
    token: control.token,
    api,
    client: new ControlClient({ url: control.url, token: control.token }),
    op: async (op, body = {}) => {
      const r = await api('POST', `/v1/modems/0/${op}`, body);
      expect(r.status, `POST ${op} ${JSON.stringify(body)} → ${r.text}`).toBe(200);
      return r.json;
    },
  };
}

/** Read until exactly this URC (and expect nothing else before it). */
export async function expectUrc(fw: Firmware, line: string, timeoutMs = 10_000): Promise<void> {
  const u = urc(line);
  expect((await fw.readUntil(u, timeoutMs)).text, `URC ${line}`).toBe(u);
}
