/**
 * The HTTP + WebSocket control API (`vmodem start --control-port <n>`): one JSON endpoint per
 * ModemController operation, and a WebSocket stream of ControlEvents (the `ws` package). Bound to
 * 127.0.0.1 only; every request carries the token (`Authorization: Bearer <token>`; the
 * WebSocket also takes `?token=` or the subprotocol `token.<token>`, since browsers cannot set
 * headers there). The WebSocket refuses other origins and hosts: a page on another site must not
 * read the stream (the HTTP side is protected the same way by its header-only token). Errors are
 * `{ "error": { "code", "message" } }` with a stable code. Endpoints are documented in
 * src/control/API.md.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../util/logger.js';
import type { AckFault } from './broker-faults.js';
import { ControlError, type ControlEvent, type DevicePublish, type ModemController, type Override } from './controller.js';
import type { OpenFault } from './network-faults.js';
import type { DeviceRegistry } from '../cloud/registry.js';
import type { ClusterDirectory } from './cluster-directory.js';
import { defaultDashboardDir, loadDashboardFiles, pageHeaders, registryEntriesFor, type DashboardFiles } from './dashboard.js';
import type { HostAccess } from './host-access.js';
import { EVENTS_PROTOCOL, MAX_BUFFERED, MAX_FROM_CLIENT, rejectUpgrade, TOKEN_PROTOCOL_PREFIX } from './websocket.js';

export const CONTROL_HOST = '127.0.0.1';
/** Largest request body accepted (a publish payload travels in it, base64 or hex). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest `wait-for-publish`. */
const MAX_WAIT_MS = 600_000;

/** What the API needs of a running modem (vmodem's ModemInstance has all of it). */
export interface ControlledModem {
  readonly name: string;
  readonly index: number;
  readonly controller: ModemController;
  readonly profile: { readonly id: string; readonly module: string; readonly identity?: { readonly manufacturer?: string; readonly model?: string; readonly revision?: string } };
  readonly devicePath: string;
  readonly linkPath?: string;
  readonly imei: string;
  /** Typing on the port from the dashboard, and who holds it (issue 11). */
  readonly host?: HostAccess;
}

export interface ControlTarget {
  readonly modems: readonly ControlledModem[];
  find(ref: string): ControlledModem | undefined;
  readonly brokerUrl?: string;
  /** The virtual cloud's device registry, for a modem's `about` (its platform entry). */
  readonly registry?: DeviceRegistry;
  /**
   * A recording (.jsonl) as a transcript (.at), for the dashboard's export: src/record's
   * recordingToTranscript, passed in by the composition root (record and control are siblings).
   */
  readonly toTranscript?: (recording: string) => string | Promise<string>;
  /** With `vmodem start --cluster`: every node's modems, from Redis (cluster-directory.ts). */
  readonly cluster?: Pick<ClusterDirectory, 'nodeId' | 'listModems' | 'listNodes'>;
}

export interface ControlServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The token every request must carry; generated when absent. */
  token?: string;
  log?: Logger;
  /**
   * Serve the dashboard (`vmodem start --ui`): `true` for the bundle in dist/ui, or a directory.
   * Without it `/` is a 404 like any unknown path.
   */
  ui?: boolean | string;
}

export interface ControlServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The dashboard with the token in the fragment (`http://127.0.0.1:<port>/#token=…`), when served. */
  readonly uiUrl?: string;
  /** Close the event streams and the listener. Idempotent. */
  close(): Promise<void>;
}

/** An error the API answers with: HTTP status, stable code, one-line message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Whether a token can travel in a header and a query string unchanged. */
export function validToken(token: string): boolean {
  return /^[A-Za-z0-9._~+/=-]{8,256}$/.test(token);
}

/**
 * 24 base64url characters, never starting with '-': a token such as "-V…" after `--token` was
 * taken by commander for the -V (version) flag, so `vmodem ctl --token <it> …` printed the version
 * (seen once in the system suite), and a leading dash is a trap in any shell command line.
 */
export function generateToken(): string {
  for (;;) {
    const token = randomBytes(18).toString('base64url');
    if (!token.startsWith('-')) return token;
  }
}

// ---- request bodies ----

type Json = Record<string, unknown>;

/** Typed access to a JSON body's fields; `end()` refuses fields nobody asked for (typos). */
class Fields {
  private readonly used = new Set<string>();
  constructor(private readonly obj: Json) {}

  has(k: string): boolean {
    return this.obj[k] !== undefined;
  }

  raw(k: string): unknown {
    this.used.add(k);
    return this.obj[k];
  }

  private required<T>(k: string, what: string, v: T | undefined): T {
    if (v === undefined) throw bad(`missing "${k}" (${what})`);
    return v;
  }

  boolean(k: string, def?: boolean): boolean {
    const v = this.raw(k);
    if (v === undefined) return this.required(k, 'true or false', def);
    if (typeof v !== 'boolean') throw bad(`"${k}" must be true or false`);
    return v;
  }

  number(k: string, def?: number): number {
    const v = this.raw(k);
    if (v === undefined) return this.required(k, 'a number', def);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`"${k}" must be a number`);
    return v;
  }

  string(k: string, def?: string): string {
    const v = this.raw(k);
    if (v === undefined) return this.required(k, 'a string', def);
    if (typeof v !== 'string') throw bad(`"${k}" must be a string`);
    return v;
  }

  optionalString(k: string): string | undefined {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw bad(`"${k}" must be a string`);
    return v;
  }

  oneOf<T extends string>(k: string, values: readonly T[], def?: T): T {
    const v = this.raw(k);
    if (v === undefined) return this.required(k, values.join(', '), def);
    if (typeof v !== 'string' || !values.includes(v as T)) throw bad(`"${k}" must be one of ${values.join(', ')}`);
    return v as T;
  }

  end(): void {
    const extra = Object.keys(this.obj).filter((k) => !this.used.has(k));
    if (extra.length > 0) throw bad(`unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}`);
  }
}

function bad(message: string, code = 'bad-request'): ApiError {
  return new ApiError(400, code, message);
}

/** Exactly one of the byte encodings a request may use (`text` / `hex` / `base64` style names). */
function bytesField(f: Fields, names: { text: string; hex: string; base64: string }, required: boolean): Buffer {
  const given = [names.text, names.hex, names.base64].filter((k) => f.has(k));
  if (given.length > 1) throw bad(`give only one of ${given.map((k) => `"${k}"`).join(', ')}`);
  if (given.length === 0) {
    if (required) throw bad(`missing "${names.text}", "${names.hex}" or "${names.base64}"`);
    return Buffer.alloc(0);
  }
  const k = given[0]!;
  const v = f.string(k);
  if (k === names.text) return Buffer.from(v, 'utf8');
  if (k === names.hex) {
    const clean = v.replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw bad(`"${k}" must be hex digits, two per byte`, 'bad-hex');
    return Buffer.from(clean, 'hex');
  }
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v) || v.replace(/=+$/, '').length % 4 === 1) throw bad(`"${k}" must be base64`, 'bad-base64');
  return Buffer.from(v, 'base64');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A device publish as JSON: the payload as text when it is UTF-8, and always as hex. */
export function publishJson(p: DevicePublish): Json {
  let text: string | null;
  try {
    text = utf8.decode(p.payload);
  } catch {
    text = null;
  }
  return { clientId: p.clientId, topic: p.topic, payload: text, payloadHex: p.payload.toString('hex'), qos: p.qos, retain: p.retain, t: p.t };
}

// ---- routes ----

interface Ctx {
  target: ControlTarget;
  modem: ControlledModem;
  body: Fields;
  query: URLSearchParams;
}

type Handler = (ctx: Ctx) => unknown;

interface Route {
  /** Path after /v1/modems/{ref}/ (or the whole path for top-level routes). */
  path: string;
  methods: Partial<Record<'GET' | 'POST' | 'DELETE', Handler>>;
}

const OK = { ok: true };

const MODEM_ROUTES: Route[] = [
  { path: '', methods: { GET: ({ modem }) => modem.controller.inspect() } },
  {
    path: 'publish',
    methods: {
      POST: async ({ modem, body }) => {
        const topic = body.string('topic');
        const payload = bytesField(body, { text: 'payload', hex: 'payloadHex', base64: 'payloadBase64' }, false);
        const qos = body.number('qos', 0);
        if (qos !== 0 && qos !== 1 && qos !== 2) throw bad('"qos" must be 0, 1 or 2', 'bad-qos');
        const retain = body.boolean('retain', false);
        body.end();
        await modem.controller.publish({ topic, payload, qos, retain });
        return { ok: true, bytes: payload.length };
      },
    },
  },
  {
    path: 'published',
    methods: {
      GET: ({ modem, query }) => {
        const topic = query.get('topic') ?? undefined;
        return { publishes: modem.controller.published(topic || undefined).map(publishJson) };
      },
    },
  },
  {
    path: 'wait-for-publish',
    methods: {
      POST: async ({ modem, body }) => {
        const topic = body.optionalString('topic');
        const hasPayload = body.has('payload') || body.has('payloadHex') || body.has('payloadBase64');
        const payload = hasPayload ? bytesField(body, { text: 'payload', hex: 'payloadHex', base64: 'payloadBase64' }, true) : undefined;
        const qos = body.has('qos') ? body.number('qos') : undefined;
        const timeoutMs = body.number('timeoutMs', 5000);
        body.end();
        if (timeoutMs < 0 || timeoutMs > MAX_WAIT_MS) throw bad(`"timeoutMs" must be 0–${MAX_WAIT_MS}`, 'bad-timeout');
        const p = await modem.controller.waitForPublish({ topic, payload, qos }, timeoutMs);
        return { publish: publishJson(p) };
      },
    },
  },
  {
    path: 'drop',
    methods: {
      POST: ({ modem, body }) => {
        body.end();
        return { ok: true, ...modem.controller.dropSession() };
      },
    },
  },
  {
    path: 'stall',
    methods: {
      POST: ({ modem, body }) => {
        const on = body.boolean('on', true);
        body.end();
        modem.controller.stall(on);
        return OK;
      },
    },
  },
  {
    path: 'refuse-connect',
    methods: {
      POST: ({ modem, body }) => {
        const returnCode = body.number('returnCode');
        body.end();
        modem.controller.refuseNextConnect(returnCode);
        return OK;
      },
    },
  },
  ...(['subscribe', 'publish'] as const).map(
    (what): Route => ({
      path: `refuse-${what}`,
      methods: {
        POST: ({ modem, body }) => {
          const raw = body.raw('filter');
          body.end();
          if (raw !== null && (typeof raw !== 'string' || raw === '')) throw bad('"filter" must be a topic filter, or null to stop refusing');
          if (what === 'subscribe') modem.controller.refuseSubscribe(raw);
          else modem.controller.refusePublish(raw);
          return OK;
        },
      },
    }),
  ),
  {
    path: 'ack-fault',
    methods: {
      POST: ({ modem, body }) => {
        const kind = body.oneOf('kind', ['puback', 'suback'] as const);
        // null is a value here (withhold); only a missing field is missing.
        if (!body.has('delayMs')) throw bad('missing "delayMs" (milliseconds, null to withhold, or "normal")');
        const d = body.raw('delayMs');
        body.end();
        let fault: AckFault | undefined;
        if (d === 'normal') fault = undefined;
        else if (d === null) fault = { delayMs: null };
        else if (typeof d === 'number') fault = { delayMs: d };
        else throw bad('"delayMs" must be milliseconds, null (withhold) or "normal"');
        modem.controller.ackFault(kind, fault);
        return OK;
      },
    },
  },
  {
    path: 'broker',
    methods: {
      POST: ({ modem, body }) => {
        const up = body.boolean('up');
        body.end();
        if (up) modem.controller.brokerUp();
        else modem.controller.brokerDown();
        return OK;
      },
    },
  },
  {
    path: 'registration',
    methods: {
      POST: ({ modem, body }) => {
        const registered = body.boolean('registered');
        body.end();
        modem.controller.setRegistration(registered);
        return OK;
      },
    },
  },
  {
    path: 'registration-state',
    methods: {
      POST: ({ modem, body }) => {
        const state = body.string('state');
        const cause = body.has('rejectCause') ? body.number('rejectCause') : undefined;
        body.end();
        modem.controller.setRegistrationState(state as 'home', cause);
        return OK;
      },
    },
  },
  {
    path: 'sim',
    methods: {
      POST: ({ modem, body }) => {
        const present = body.boolean('present');
        body.end();
        modem.controller.setSim(present);
        return OK;
      },
    },
  },
  {
    path: 'deactivate-context',
    methods: {
      POST: ({ modem, body }) => {
        const cid = body.number('cid', 1);
        body.end();
        modem.controller.deactivateContext(cid);
        return OK;
      },
    },
  },
  {
    path: 'signal',
    methods: {
      POST: ({ modem, body }) => {
        const rssi = body.number('rssi');
        const ber = body.number('ber', 99);
        body.end();
        modem.controller.setSignal(rssi, ber);
        return OK;
      },
    },
  },
  {
    path: 'wifi',
    methods: {
      POST: ({ modem, body }) => {
        const ap = body.has('ap') ? body.boolean('ap') : undefined;
        const rssi = body.has('rssi') ? body.number('rssi') : undefined;
        body.end();
        modem.controller.setWifi({ ...(ap !== undefined ? { ap } : {}), ...(rssi !== undefined ? { rssi } : {}) });
        return OK;
      },
    },
  },
  {
    path: 'fail-next-open',
    methods: {
      POST: ({ modem, body }) => {
        const reason = body.oneOf('reason', ['dns', 'refused', 'timeout'] as const satisfies readonly OpenFault[]);
        body.end();
        modem.controller.failNextOpen(reason);
        return OK;
      },
    },
  },
  {
    path: 'latency',
    methods: {
      POST: ({ modem, body }) => {
        const ms = body.number('ms');
        body.end();
        modem.controller.setLatency(ms);
        return OK;
      },
    },
  },
  {
    path: 'override',
    methods: {
      POST: ({ modem, body }) => {
        const command = body.string('command');
        const r = body.raw('response');
        const response = typeof r === 'string' ? [r] : r;
        if (!Array.isArray(response) || response.length === 0 || !response.every((l) => typeof l === 'string')) {
          throw bad('"response" must be a list of lines (strings), the last one the final result code', 'bad-override');
        }
        if (response.some((l) => /[\r\n]/.test(l))) throw bad('"response" lines must not contain CR or LF (give one string per line)', 'bad-override');
        const once = body.boolean('once', false);
        const form = body.has('form') ? body.oneOf('form', ['test', 'read', 'set', 'exec'] as const) : undefined;
        body.end();
        const o: Override = { command, response, once };
        if (form) o.form = form;
        modem.controller.override(o);
        return OK;
      },
    },
  },
  {
    path: 'overrides',
    methods: {
      DELETE: ({ modem, body }) => {
        body.end();
        modem.controller.clearOverrides();
        return OK;
      },
    },
  },
  {
    path: 'response-delay',
    methods: {
      POST: ({ modem, body }) => {
        const ms = body.number('ms');
        body.end();
        modem.controller.setResponseDelay(ms);
        return OK;
      },
    },
  },
  {
    path: 'baud',
    methods: {
      POST: ({ modem, body }) => {
        const baud = body.number('baud');
        body.end();
        modem.controller.setBaud(baud);
        return OK;
      },
    },
  },
  {
    path: 'inject',
    methods: {
      POST: ({ modem, body }) => {
        const bytes = bytesField(body, { text: 'text', hex: 'hex', base64: 'base64' }, true);
        body.end();
        if (bytes.length === 0) throw bad('nothing to inject');
        modem.controller.inject(bytes);
        return { ok: true, bytes: bytes.length };
      },
    },
  },
  {
    path: 'about',
    methods: {
      GET: ({ modem, target }) => {
        const clientIds = (modem.controller.inspect().clientIds as string[] | undefined) ?? [];
        return {
          name: modem.name,
          index: modem.index,
          profile: modem.profile.id,
          module: modem.profile.module,
          identity: { ...modem.profile.identity, imei: modem.imei },
          device: modem.devicePath,
          link: modem.linkPath ?? null,
          host: modem.host?.state ?? null,
          registry: registryEntriesFor(target.registry, clientIds),
        };
      },
    },
  },
  {
    path: 'host-input',
    methods: {
      POST: ({ modem, body }) => {
        const bytes = bytesField(body, { text: 'text', hex: 'hex', base64: 'base64' }, true);
        body.end();
        if (!modem.host) throw new ApiError(409, 'no-host-access', 'this modem takes no typing from the control API');
        modem.host.write(bytes);
        return { ok: true, bytes: bytes.length };
      },
    },
  },
  {
    path: 'takeover',
    methods: {
      POST: ({ modem, body }) => {
        const on = body.boolean('on', true);
        body.end();
        if (!modem.host) throw new ApiError(409, 'no-host-access', 'this modem takes no typing from the control API');
        modem.host.takeOver(on);
        return { ok: true, host: modem.host.state };
      },
    },
  },
  {
    path: 'firmware',
    methods: {
      POST: async ({ modem, body }) => {
        const version = body.string('version');
        const image = bytesField(body, { text: 'text', hex: 'hex', base64: 'base64' }, true);
        const name = body.optionalString('name');
        body.end();
        return { ok: true, ...(await modem.controller.pushFirmware({ version, image, ...(name ? { name } : {}) })) };
      },
    },
  },
  {
    // Tencent IoT Explorer data template: a control or action from the cloud, and the device's reply.
    path: 'data-template',
    methods: {
      POST: async ({ modem, body }) => {
        const method = body.oneOf('method', ['control', 'action'] as const, 'control');
        const params = body.raw('params') ?? {};
        if (typeof params !== 'object' || params === null || Array.isArray(params)) throw bad('"params" must be a JSON object');
        const actionId = body.optionalString('actionId');
        const productId = body.optionalString('productId');
        const deviceName = body.optionalString('deviceName');
        const timeoutMs = body.number('timeoutMs', 5000);
        body.end();
        const r = await modem.controller.dataTemplate({
          method,
          params: params as Record<string, unknown>,
          timeoutMs,
          ...(actionId !== undefined ? { actionId } : {}),
          ...(productId !== undefined ? { productId } : {}),
          ...(deviceName !== undefined ? { deviceName } : {}),
        });
        return { ok: true, ...r };
      },
    },
  },
  {
    path: 'reboot',
    methods: {
      POST: ({ modem, body }) => {
        body.end();
        modem.controller.reboot();
        return OK;
      },
    },
  },
];

const MODEM_ROUTE_MAP = new Map(MODEM_ROUTES.map((r) => [r.path, r]));

function modemSummary(m: ControlledModem): Json {
  return { index: m.index, name: m.name, profile: m.profile.id, module: m.profile.module, device: m.devicePath, link: m.linkPath, imei: m.imei };
}

function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError): void {
  send(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ControlError) return new ApiError(err.status, err.code, err.message);
  return new ApiError(500, 'internal', `internal error: ${(err as Error)?.message ?? String(err)}`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      reject(new ApiError(413, 'body-too-large', `request body is ${declared} bytes; the limit is ${MAX_BODY_BYTES}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(new ApiError(413, 'body-too-large', `request body is over the limit of ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
      failed = true;
    });
  });
}

function parseJsonBody(raw: Buffer): Json {
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'bad-json', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'bad-json', 'the body must be a JSON object');
  return v as Json;
}

interface Resolved {
  modem?: ControlledModem;
  route?: Route;
  top?: 'modems' | 'events' | 'root' | 'transcript' | 'cluster-modems' | 'cluster-nodes';
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad(`bad percent-encoding in the path: ${s}`);
  }
}

function resolvePath(target: ControlTarget, pathname: string): Resolved {
  const parts = pathname.replace(/\/+$/, '').split('/').slice(1);
  if (parts[0] !== 'v1') throw notFound(pathname);
  if (parts.length === 1) return { top: 'root' };
  if (parts[1] === 'events' && parts.length === 2) return { top: 'events' };
  if (parts[1] === 'transcript' && parts.length === 2) return { top: 'transcript' };
  if (parts[1] === 'cluster' && parts.length === 3 && parts[2] === 'modems') return { top: 'cluster-modems' };
  if (parts[1] === 'cluster' && parts.length === 3 && parts[2] === 'nodes') return { top: 'cluster-nodes' };
  if (parts[1] !== 'modems') throw notFound(pathname);
  if (parts.length === 2) return { top: 'modems' };
  if (parts.length > 4) throw notFound(pathname);
  const route = MODEM_ROUTE_MAP.get(parts[3] ?? '');
  if (!route) throw notFound(pathname);
  return { modem: findModem(target, decodeSegment(parts[2]!)), route };
}

function findModem(target: ControlTarget, ref: string): ControlledModem {
  const m = target.find(ref);
  if (!m) {
    const names = target.modems.map((x) => `${x.index} (${x.name})`).join(', ');
    throw new ApiError(404, 'unknown-modem', `no modem "${ref}"; modems: ${names}`);
  }
  return m;
}

function notFound(pathname: string): ApiError {
  return new ApiError(404, 'not-found', `no endpoint ${pathname} (see GET /v1 for the list)`);
}

function methodNotAllowed(method: string, allowed: string[]): ApiError {
  return new ApiError(405, 'method-not-allowed', `${method} is not allowed here; use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
}

const ENDPOINTS = [
  'GET /v1',
  'GET /v1/modems',
  'GET /v1/cluster/modems (with --cluster: every node\'s modems {name, node, state, …})',
  'GET /v1/cluster/nodes (with --cluster: the live nodes)',
  'POST /v1/transcript ({recording: "<.jsonl text>"} → {transcript: "<.at text>"})',
  'GET /v1/events (WebSocket, subprotocol vmodem.v1; ?modem=<ref>&types=serial,urc,mqtt,state; token as Authorization, ?token= or subprotocol token.<token>)',
  ...MODEM_ROUTES.flatMap((r) => Object.keys(r.methods).map((m) => `${m} /v1/modems/{ref}${r.path ? `/${r.path}` : ''}`)),
];

const EVENT_TYPES = ['serial', 'urc', 'mqtt', 'state'] as const;

/** What an accepted event-stream handshake asked for. */
interface StreamRequest {
  modems: readonly ControlledModem[];
  types?: Set<string>;
}

/** The `token.<t>` subprotocol's token, if the client offered one. */
function protocolToken(req: IncomingMessage): string | undefined {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  const t = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return t === undefined ? undefined : t.slice(TOKEN_PROTOCOL_PREFIX.length);
}

/** Host is 127.0.0.1:<port> or localhost:<port>. */
function localHost(hostPort: string, port: number): boolean {
  const h = hostPort.toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
}

/** An `Origin` other than this server's own pages (none is fine: not a browser). */
function foreignOrigin(req: IncomingMessage, port: number): ApiError | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let u: URL | undefined;
  try {
    u = new URL(origin);
  } catch {
    u = undefined;
  }
  if (u && u.protocol === 'http:' && localHost(u.host, port)) return undefined;
  return new ApiError(403, 'forbidden-origin', `Origin "${origin}" may not use the control API; only pages of http://127.0.0.1:${port} or http://localhost:${port} may`);
}

/** A file of the dashboard (GET / is index.html), under this server's own Host only. */
function servePage(req: IncomingMessage, res: ServerResponse, files: DashboardFiles, pathname: string, port: number): void {
  const host = String(req.headers.host ?? '');
  if (!localHost(host, port)) {
    throw new ApiError(403, 'forbidden-host', `Host "${host}" is not this control API; open http://127.0.0.1:${port}/`);
  }
  const name = pathname === '/' ? 'index.html' : pathname.slice('/ui/'.length);
  const file = files.get(name);
  if (!file) throw new ApiError(404, 'not-found', `no dashboard file ${pathname}`);
  res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.body.length, ...pageHeaders(port) });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

/**
 * Whether a WebSocket handshake comes from this server's own origin. Host must name the server
 * as 127.0.0.1 or localhost with its port (a page that rebinds its DNS name to 127.0.0.1 sends
 * its own name). Origin, which browsers always send, must be the same http://127.0.0.1:<port>
 * or http://localhost:<port>; clients that are not browsers send none.
 */
function sameOrigin(req: IncomingMessage, port: number): ApiError | undefined {
  const local = (hostPort: string) => hostPort === `127.0.0.1:${port}` || hostPort === `localhost:${port}`;
  const host = String(req.headers.host ?? '').toLowerCase();
  if (!local(host)) {
    return new ApiError(403, 'forbidden-host', `Host "${host}" is not this control API; connect to 127.0.0.1:${port} or localhost:${port}`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let u: URL | undefined;
  try {
    u = new URL(origin);
  } catch {
    u = undefined;
  }
  if (!u || u.protocol !== 'http:' || !local(u.host.toLowerCase())) {
    return new ApiError(403, 'forbidden-origin', `Origin "${origin}" may not open the event stream; only pages of http://127.0.0.1:${port} or http://localhost:${port} may`);
  }
  return undefined;
}

/** The HTTP status a malformed handshake gets (ws names the problem in its message). */
function handshakeStatus(message: string): { status: number; headers: Record<string, string> } {
  if (/method/i.test(message)) return { status: 405, headers: { Allow: 'GET' } };
  if (/Sec-WebSocket-Version/i.test(message)) return { status: 426, headers: { 'Sec-WebSocket-Version': '13' } };
  return { status: 400, headers: {} };
}

/** Start the control API on 127.0.0.1:<port> for these modems. */
export async function startControlServer(target: ControlTarget, opts: ControlServerOptions): Promise<ControlServer> {
  const log = (opts.log ?? silentLogger()).child({ component: 'control' });
  const token = opts.token ?? generateToken();
  if (!validToken(token)) throw new ApiError(400, 'bad-token', 'the control token must be 8–256 characters of A–Z a–z 0–9 . _ ~ + / = -');
  const streams = new Set<WebSocket>();
  let files: DashboardFiles | undefined;
  if (opts.ui) {
    const dir = typeof opts.ui === 'string' ? opts.ui : defaultDashboardDir();
    if (!dir) throw new ApiError(500, 'no-dashboard', 'the dashboard is not built (dist/ui is missing): run `npm run build`');
    files = loadDashboardFiles(dir);
  }

  /** Known once listening; the WebSocket's Host/Origin check compares against it. */
  let port = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      throw bad('bad request URL');
    }
    if (files && (method === 'GET' || method === 'HEAD') && (url.pathname === '/' || url.pathname.startsWith('/ui/'))) {
      return servePage(req, res, files, url.pathname, port);
    }
    // A page of another site may send requests here (with no token it gets 401, but it should
    // not even get that far): only this server's own pages, or clients that are not browsers
    // (no Origin), are answered.
    const foreign = foreignOrigin(req, port);
    if (foreign) throw foreign;
    if (!tokenMatches(bearer(req), token)) {
      throw new ApiError(401, 'unauthorized', 'missing or wrong token: send "Authorization: Bearer <token>" (the token is printed in the start banner)', {
        'WWW-Authenticate': 'Bearer realm="vmodem"',
      });
    }
    const r = resolvePath(target, url.pathname);
    if (r.top === 'root') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      return send(res, 200, { name: 'vmodem', api: 'v1', modems: target.modems.length, broker: target.brokerUrl, endpoints: ENDPOINTS });
    }
    if (r.top === 'modems') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      return send(res, 200, { modems: target.modems.map(modemSummary) });
    }
    if (r.top === 'cluster-modems' || r.top === 'cluster-nodes') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      const cluster = target.cluster;
      if (!cluster) throw new ApiError(404, 'not-clustered', 'this vmodem is not a cluster node (start it with --cluster redis://host:port)');
      if (r.top === 'cluster-nodes') return send(res, 200, { node: cluster.nodeId, nodes: await cluster.listNodes() } as unknown as Json);
      return send(res, 200, { node: cluster.nodeId, modems: await cluster.listModems() } as unknown as Json);
    }
    if (r.top === 'transcript') {
      if (method !== 'POST') throw methodNotAllowed(method, ['POST']);
      const f = new Fields(parseJsonBody(await readBody(req)));
      const recording = f.string('recording');
      f.end();
      if (!target.toTranscript) throw notFound(url.pathname);
      let transcript: string;
      try {
        transcript = await target.toTranscript(recording);
      } catch (err) {
        throw bad(`not a recording: ${(err as Error).message}`, 'bad-recording');
      }
      return send(res, 200, { transcript });
    }
    if (r.top === 'events') {
      if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
      throw new ApiError(426, 'upgrade-required', 'GET /v1/events is a WebSocket: connect with a WebSocket client (e.g. `vmodem ctl events`)', { Upgrade: 'websocket' });
    }
    const route = r.route!;
    const handler = route.methods[method as keyof Route['methods']];
    if (!handler) throw methodNotAllowed(method, Object.keys(route.methods));
    const body = method === 'GET' ? {} : parseJsonBody(await readBody(req));
    const result = await handler({ target, modem: r.modem!, body: new Fields(body), query: url.searchParams });
    send(res, 200, result);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = toApiError(err);
      if (e.status >= 500) log.error({ err, method: req.method, url: req.url?.replace(/token=[^&]*/, 'token=[redacted]') }, 'control request failed');
      // Unread request bodies must not stall the connection: close it after answering.
      if (!req.complete) res.setHeader('Connection', 'close');
      sendError(res, e);
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  // Checks run in verifyClient, before the handshake is answered: a refused client gets an
  // HTTP error with the usual JSON body instead of a WebSocket.
  const accepted = new WeakMap<IncomingMessage, StreamRequest>();
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: MAX_FROM_CLIENT,
    handleProtocols: (protocols) => (protocols.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false),
    verifyClient: ({ req }, done) => {
      try {
        accepted.set(req, checkUpgrade(req));
        done(true);
      } catch (err) {
        const e = toApiError(err);
        done(false, e.status, JSON.stringify({ error: { code: e.code, message: e.message } }), {
          ...e.headers,
          'Content-Type': 'application/json; charset=utf-8',
        });
      }
    },
  });
  wss.on('wsClientError', (err, socket) => {
    const { status, headers } = handshakeStatus(err.message);
    rejectUpgrade(socket, status, { code: 'bad-request', message: `not a WebSocket handshake this server speaks (RFC 6455, version 13): ${err.message}` }, headers);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (ws, r) => {
      const sub = accepted.get(r);
      if (sub) openStream(ws, sub);
      else ws.terminate();
    });
  });

  const checkUpgrade = (req: IncomingMessage): StreamRequest => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const fromElsewhere = sameOrigin(req, port);
    if (fromElsewhere) throw fromElsewhere;
    const given = bearer(req) ?? url.searchParams.get('token') ?? protocolToken(req);
    if (!tokenMatches(given, token)) {
      throw new ApiError(401, 'unauthorized', 'missing or wrong token: send "Authorization: Bearer <token>", add ?token=<token>, or offer the subprotocols vmodem.v1 and token.<token>');
    }
    if (protocolToken(req) !== undefined && !String(req.headers['sec-websocket-protocol']).split(',').some((p) => p.trim() === EVENTS_PROTOCOL)) {
      throw bad(`offer the subprotocol ${EVENTS_PROTOCOL} along with token.<token> (only ${EVENTS_PROTOCOL} is selected)`);
    }
    const r = resolvePath(target, url.pathname);
    if (r.top !== 'events') throw new ApiError(404, 'not-found', `no WebSocket at ${url.pathname}; the event stream is GET /v1/events`);
    const ref = url.searchParams.get('modem');
    const modems = ref === null || ref === '' ? target.modems : [findModem(target, ref)];
    const typesParam = url.searchParams.get('types');
    let types: Set<string> | undefined;
    if (typesParam) {
      types = new Set(typesParam.split(',').map((s) => s.trim()).filter(Boolean));
      const unknown = [...types].filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
      if (unknown.length > 0) throw bad(`unknown event type ${unknown.join(', ')}; types are ${EVENT_TYPES.join(', ')}`);
    }
    return types ? { modems, types } : { modems };
  };

  const openStream = (ws: WebSocket, { modems, types }: StreamRequest): void => {
    streams.add(ws);
    // Errors end in 'close' (1006); the stream is one-way, so messages from the client are ignored.
    ws.on('error', () => {});
    const listener = (e: ControlEvent) => {
      if (types && !types.has(e.type)) return;
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED) {
        ws.close(1008, 'reader too slow: events were piling up');
        return;
      }
      ws.send(JSON.stringify(e));
    };
    // Watching starts with the handshake answer: whatever happens after the client sees the
    // connection open is streamed.
    const unwatch = modems.map((m) => m.controller.watch(listener));
    ws.once('close', () => {
      streams.delete(ws);
      for (const u of unwatch) u();
    });
    log.debug({ modems: modems.map((m) => m.name), types: types && [...types] }, 'event stream opened');
  };

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new ApiError(409, 'port-in-use', `control port ${opts.port} on ${CONTROL_HOST} is already in use; choose another --control-port`)
          : err,
      );
    };
    server.once('error', onError);
    server.listen(opts.port, CONTROL_HOST, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'control server error'));
  port = (server.address() as AddressInfo).port;
  const url = `http://${CONTROL_HOST}:${port}`;
  // The token is not logged: the dashboard's URL carries it in the fragment, printed in the banner only.
  log.info({ url, ui: Boolean(files) }, 'control API listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    token,
    ...(files ? { uiUrl: `${url}/#token=${encodeURIComponent(token)}` } : {}),
    close: () =>
      (closing ??= (async () => {
        // Close frames first; peers that do not answer within a second are cut off.
        const closed = [...streams].map(
          (ws) =>
            new Promise<void>((r) => {
              ws.once('close', () => r());
              ws.close(1001, 'vmodem is stopping');
              setTimeout(() => {
                ws.terminate();
                r();
              }, 1000).unref();
            }),
        );
        await Promise.all(closed);
        wss.close();
        const done = new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections();
        await done;
      })()),
  };
}
