/**
 * WebSocket pieces of the control API's event stream, on the `ws` package (RFC 6455 framing,
 * masking, fragmentation, ping/pong and the closing handshake are its job): the subprotocol and
 * the limits both sides use, the JSON refusal of a handshake, and the client `vmodem ctl events`
 * and the tests use. The server side lives in http-api.ts (a `WebSocketServer` with
 * `verifyClient` and `handleProtocols`).
 */
import type { Duplex } from 'node:stream';
import http from 'node:http';
import WebSocket from 'ws';

/** The subprotocol of the event stream; the server selects it whenever the client offers it. */
export const EVENTS_PROTOCOL = 'vmodem.v1';
/**
 * A second subprotocol `token.<token>` carries the token for browsers, which cannot set
 * `Authorization` on a WebSocket. It is never selected (only {@link EVENTS_PROTOCOL} is echoed).
 */
export const TOKEN_PROTOCOL_PREFIX = 'token.';
/** Largest message a server accepts from a client (the stream is one-way: control frames only). */
export const MAX_FROM_CLIENT = 64 * 1024;
/** Largest message a client accepts (an event carries up to a whole serial write, hex and text). */
export const MAX_FROM_SERVER = 64 * 1024 * 1024;
/** A peer that lets this much output pile up is too slow to follow the stream: it is closed. */
export const MAX_BUFFERED = 8 * 1024 * 1024;

/** Answer an upgrade request with a plain HTTP error (JSON body) and close the socket. */
export function rejectUpgrade(socket: Duplex, status: number, error: { code: string; message: string }, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error });
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    body,
  ];
  socket.end(lines.join('\r\n'));
}

/** An HTTP error answered instead of the handshake (status and the body, JSON when it is). */
export class WebSocketHandshakeError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`WebSocket handshake refused: HTTP ${status}${body ? ` ${body}` : ''}`);
    this.name = 'WebSocketHandshakeError';
  }
}

/** The text of a message as `ws` delivers it. */
export function messageText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/**
 * Open a WebSocket to a `ws://` (or `http://`) URL, offering {@link EVENTS_PROTOCOL} (and any
 * `protocols` given). Resolves once open; a refused handshake rejects with a
 * {@link WebSocketHandshakeError} carrying the server's status and body.
 */
export function connectWebSocket(
  url: string,
  opts: { headers?: Record<string, string>; protocols?: string[]; timeoutMs?: number } = {},
): Promise<WebSocket> {
  const u = new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol !== 'ws:') return Promise.reject(new Error(`${url}: only ws:// (plain) is supported`));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, [EVENTS_PROTOCOL, ...(opts.protocols ?? [])], {
      headers: opts.headers ?? {},
      handshakeTimeout: opts.timeoutMs ?? 10_000,
      maxPayload: MAX_FROM_SERVER,
      perMessageDeflate: false,
    });
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => {
        fail(new WebSocketHandshakeError(res.statusCode ?? 0, body));
        ws.terminate();
      });
      res.on('error', fail);
    });
    ws.once('error', fail);
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      // Errors after the open surface as 'close' (code 1006); keep them from being unhandled.
      ws.on('error', () => {});
      resolve(ws);
    });
  });
}
