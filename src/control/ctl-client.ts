/**
 * A client of the control API (src/control/API.md), used by `vmodem ctl` and usable from any
 * Node program: one method per endpoint, errors as ControlApiError with the API's stable code.
 */
import http from 'node:http';
import type { ControlEvent } from './controller.js';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { connectWebSocket, messageText, WebSocketHandshakeError } from './websocket.js';

export class ControlApiError extends Error {
  constructor(
    /** The API's error code (`unknown-modem`, `bad-json`, …), or `unreachable` / `bad-response`. */
    readonly code: string,
    message: string,
    /** HTTP status; 0 when no answer came. */
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ControlApiError';
  }
}

export interface PublishedMessage {
  clientId: string;
  topic: string;
  /** The payload as text when it is valid UTF-8, else null. */
  payload: string | null;
  payloadHex: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Milliseconds since the modem started. */
  t: number;
}

export interface ModemSummary {
  index: number;
  name: string;
  profile: string;
  module: string;
  device: string;
  link?: string;
  imei: string;
}

/** A payload as text, hex or base64 (exactly one). */
export type PayloadInput = { payload?: string; payloadHex?: string; payloadBase64?: string };

export interface ControlClientOptions {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
  /** Modem index or name for the per-modem calls. Default 0. */
  modem?: string | number;
  /** Per-request timeout (wait-for-publish adds its own wait). Default 15 s. */
  timeoutMs?: number;
}

export class ControlClient {
  readonly url: string;
  private readonly token: string;
  private readonly modemRef: string;
  private readonly timeoutMs: number;

  constructor(opts: ControlClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.modemRef = String(opts.modem ?? 0);
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  /** A client for another modem of the same vmodem. */
  forModem(modem: string | number): ControlClient {
    return new ControlClient({ url: this.url, token: this.token, modem, timeoutMs: this.timeoutMs });
  }

  /** One request; resolves with the JSON answer, rejects with ControlApiError. */
  async request<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    // node:http rather than fetch: fetch refuses "bad ports" (6000, 6665–6669, …) a user may pick.
    const u = new URL(`${this.url}${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string | number> = { Authorization: `Bearer ${this.token}` };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port || 80, path: `${u.pathname}${u.search}`, method, headers });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new ControlApiError('timeout', `${method} ${path}: no answer from ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ControlApiError('unreachable', `cannot reach the control API at ${this.url} (${err.code ?? err.message}); is \`vmodem start --control-port\` running?`));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(new ControlApiError('unreachable', `${method} ${path}: the answer broke off (${err.message})`));
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(payload);
    });
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ControlApiError('bad-response', `${method} ${path}: HTTP ${status} with a body that is not JSON`, status);
    }
    if (status < 200 || status >= 300) {
      const err = (json as { error?: { code?: string; message?: string } }).error;
      throw new ControlApiError(err?.code ?? `http-${status}`, err?.message ?? `HTTP ${status}`, status);
    }
    return json as T;
  }

  private m(op = ''): string {
    return `/v1/modems/${encodeURIComponent(this.modemRef)}${op ? `/${op}` : ''}`;
  }

  private post(op: string, body: unknown = {}): Promise<Record<string, unknown>> {
    return this.request('POST', this.m(op), body);
  }

  // ---- inspection ----

  modems(): Promise<ModemSummary[]> {
    return this.request<{ modems: ModemSummary[] }>('GET', '/v1/modems').then((r) => r.modems);
  }

  inspect(): Promise<Record<string, unknown>> {
    return this.request('GET', this.m());
  }

  // ---- cloud side ----

  publish(msg: { topic: string; qos?: 0 | 1 | 2; retain?: boolean } & PayloadInput): Promise<Record<string, unknown>> {
    return this.post('publish', msg);
  }

  published(topicFilter?: string): Promise<PublishedMessage[]> {
    const q = topicFilter ? `?topic=${encodeURIComponent(topicFilter)}` : '';
    return this.request<{ publishes: PublishedMessage[] }>('GET', `${this.m('published')}${q}`).then((r) => r.publishes);
  }

  waitForPublish(match: { topic?: string; qos?: number } & PayloadInput, timeoutMs = 5000): Promise<PublishedMessage> {
    return this.request<{ publish: PublishedMessage }>('POST', this.m('wait-for-publish'), { ...match, timeoutMs }, this.timeoutMs + timeoutMs).then(
      (r) => r.publish,
    );
  }

  drop(): Promise<{ dropped: number }> {
    return this.post('drop') as Promise<{ dropped: number }>;
  }

  stall(on: boolean) {
    return this.post('stall', { on });
  }

  refuseConnect(returnCode: number) {
    return this.post('refuse-connect', { returnCode });
  }

  refuseSubscribe(filter: string | null) {
    return this.post('refuse-subscribe', { filter });
  }

  refusePublish(filter: string | null) {
    return this.post('refuse-publish', { filter });
  }

  /** delayMs: milliseconds, null = withhold, 'normal' = acknowledge normally again. */
  ackFault(kind: 'puback' | 'suback', delayMs: number | null | 'normal') {
    return this.post('ack-fault', { kind, delayMs });
  }

  broker(up: boolean) {
    return this.post('broker', { up });
  }

  // ---- network side ----

  registration(registered: boolean) {
    return this.post('registration', { registered });
  }

  /** What the network grants (issue 13): `AT+CEREG?` stat 1/5/3/0; `rejectCause` with denied (default 15). */
  registrationState(state: 'home' | 'roaming' | 'denied' | 'none', rejectCause?: number) {
    return this.post('registration-state', rejectCause === undefined ? { state } : { state, rejectCause });
  }

  /** Pull (`false`) or insert (`true`) the SIM: the profile's +CPIN URCs, registration lost / searched again. */
  sim(present: boolean) {
    return this.post('sim', { present });
  }

  /** The network deactivates a data context (default 1): the vendor's URC, links over it end. */
  deactivateContext(cid?: number) {
    return this.post('deactivate-context', cid === undefined ? {} : { cid });
  }

  signal(rssi: number, ber?: number) {
    return this.post('signal', ber === undefined ? { rssi } : { rssi, ber });
  }

  /** Wi-Fi modules: take the access point away (`ap: false`), bring it back, set its signal (dBm). */
  wifi(change: { ap?: boolean; rssi?: number }) {
    return this.post('wifi', change);
  }

  failNextOpen(reason: 'dns' | 'refused' | 'timeout') {
    return this.post('fail-next-open', { reason });
  }

  latency(ms: number) {
    return this.post('latency', { ms });
  }

  // ---- serial side ----

  override(o: { command: string; response: string[]; once?: boolean; form?: 'test' | 'read' | 'set' | 'exec' }) {
    return this.post('override', o);
  }

  clearOverrides() {
    return this.request('DELETE', this.m('overrides'));
  }

  responseDelay(ms: number) {
    return this.post('response-delay', { ms });
  }

  baud(baud: number) {
    return this.post('baud', { baud });
  }

  inject(bytes: { text?: string; hex?: string; base64?: string }) {
    return this.post('inject', bytes);
  }

  reboot() {
    return this.post('reboot');
  }

  /** Offer a firmware image on the device's OTA topic (served by the virtual cloud). */
  firmware(version: string, image: Buffer, name?: string): Promise<Record<string, unknown>> {
    return this.post('firmware', { version, base64: image.toString('base64'), ...(name ? { name } : {}) });
  }

  /**
   * Tencent data template: send a `control` (or `action`) from the cloud to the device and get
   * the device's reply (`reply: null` when none came within `timeoutMs`).
   */
  dataTemplate(o: { method?: 'control' | 'action'; params: Record<string, unknown>; actionId?: string; productId?: string; deviceName?: string; timeoutMs?: number }): Promise<Record<string, unknown>> {
    return this.post('data-template', o);
  }

  // ---- events ----

  /**
   * Open the event stream (all modems, or one). `onEvent` gets every event; the returned
   * connection's `close` event says when the stream ended.
   */
  async events(opts: { modem?: string | number | 'all'; types?: ControlEvent['type'][] }, onEvent: (e: ControlEvent) => void): Promise<EventStream> {
    const q = new URLSearchParams();
    if (opts.modem !== undefined && opts.modem !== 'all') q.set('modem', String(opts.modem));
    if (opts.types && opts.types.length > 0) q.set('types', opts.types.join(','));
    const wsUrl = `${this.url.replace(/^http/, 'ws')}/v1/events${q.size ? `?${q}` : ''}`;
    let ws: WebSocket;
    try {
      ws = await connectWebSocket(wsUrl, { headers: { Authorization: `Bearer ${this.token}` }, timeoutMs: this.timeoutMs });
    } catch (err) {
      if (err instanceof WebSocketHandshakeError) {
        let e: { code?: string; message?: string } | undefined;
        try {
          e = (JSON.parse(err.body) as { error?: { code?: string; message?: string } }).error;
        } catch {
          /* not JSON */
        }
        throw new ControlApiError(e?.code ?? `http-${err.status}`, e?.message ?? err.message, err.status);
      }
      const e = err as Error & { code?: string };
      throw new ControlApiError('unreachable', `cannot reach the control API at ${this.url} (${e.code ?? e.message}); is \`vmodem start --control-port\` running?`);
    }
    ws.on('message', (data) => {
      let e: ControlEvent;
      try {
        e = JSON.parse(messageText(data)) as ControlEvent;
      } catch {
        return; // a frame that is not an event
      }
      onEvent(e);
    });
    return new EventStream(ws);
  }
}

/** An open event stream: `close` fires once with the close code and reason. */
export class EventStream extends EventEmitter<{ close: [code: number, reason: string] }> {
  constructor(readonly socket: WebSocket) {
    super();
    socket.once('close', (code, reason) => this.emit('close', code, reason.toString('utf8')));
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Start the closing handshake. */
  close(code = 1000, reason = ''): void {
    this.socket.close(code, reason);
  }

  /** Drop the connection without a closing handshake. */
  terminate(): void {
    this.socket.terminate();
  }
}
