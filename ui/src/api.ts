/**
 * The control API from the page: the token (from the URL fragment, then sessionStorage — never
 * sent in a URL), JSON requests with `Authorization: Bearer`, and the event stream with the token
 * as the subprotocol `token.<t>` (browsers cannot set headers on a WebSocket; src/control/API.md).
 */

const KEY = 'vmodem.token';

/** Take the token from `#token=…` (then remove it from the address bar), or from this tab's storage. */
export function initialToken(): string | undefined {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (m) {
    const t = decodeURIComponent(m[1]!);
    sessionStorage.setItem(KEY, t);
    history.replaceState(null, '', location.pathname + location.search);
    return t;
  }
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(t: string | undefined): void {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(readonly token: string) {}

  async call<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `vmodem is not reachable (${(err as Error).message})`);
    }
    const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'error', json.error?.message ?? `HTTP ${res.status}`);
    return json as T;
  }

  modem(ref: string, op = '', method: 'GET' | 'POST' | 'DELETE' = 'POST', body?: unknown) {
    return this.call(method, `/v1/modems/${encodeURIComponent(ref)}${op ? `/${op}` : ''}`, body);
  }

  events(onEvent: (e: VmEvent) => void, onState: (open: boolean) => void): () => void {
    let ws: WebSocket | undefined;
    let closed = false;
    let retry: number | undefined;
    const connect = () => {
      ws = new WebSocket(`ws://${location.host}/v1/events`, ['vmodem.v1', `token.${this.token}`]);
      ws.onopen = () => onState(true);
      ws.onmessage = (m) => {
        try {
          onEvent(JSON.parse(String(m.data)) as VmEvent);
        } catch {
          /* not an event */
        }
      };
      ws.onclose = () => {
        onState(false);
        if (!closed) retry = window.setTimeout(connect, 1500);
      };
    };
    connect();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      ws?.close();
    };
  }
}

export type VmEvent =
  | { type: 'serial'; modem: string; dir: 'in' | 'out'; kind?: string; hex: string; text: string; t: number }
  | { type: 'urc'; modem: string; text: string; t: number }
  | { type: 'mqtt'; modem: string; dir: 'up' | 'down'; cmd: string; topic?: string; messageId?: number; qos?: number; retain?: boolean; payloadHex?: string; t: number }
  | { type: 'state'; modem: string; what: string; detail?: unknown; t: number };

export interface ModemSummary {
  index: number;
  name: string;
  profile: string;
  module: string;
  device: string;
  link?: string;
  imei: string;
}

export interface HostState {
  watched: boolean;
  open: boolean | null;
  takenOver: boolean;
}

export interface About {
  name: string;
  profile: string;
  module: string;
  identity: { manufacturer?: string; model?: string; revision?: string; imei: string };
  device: string;
  link: string | null;
  host: HostState | null;
  registry: Record<string, unknown>[];
}

export interface DemoStatus {
  state: string;
  detail?: string;
  /** The drive script the demo runs (src/demo/drive-demo.ts). */
  script?: string;
  clientId: string;
  topics: { telemetry: string; command: string; state: string };
  published: number;
  commands: number;
  intervalMs: number;
}

/** Bytes of a hex string. */
export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** UTF-8 text of bytes, or undefined when they are not UTF-8. */
export function utf8(b: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}

export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
