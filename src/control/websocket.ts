/**
 * A minimal WebSocket (RFC 6455) for the control API's event stream: the server side of the
 * opening handshake, text frames out, and the client's frames in (text/binary ignored, ping →
 * pong, close → close), plus a small client for `vmodem ctl events` and the tests. No
 * extensions, no subprotocols. Messages from clients are capped (the stream is one-way).
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Largest message a server accepts from a client (the stream is one-way: control frames only). */
const MAX_FROM_CLIENT = 64 * 1024;
/** Largest message a client accepts (an event carries up to a whole serial write, hex and text). */
const MAX_FROM_SERVER = 64 * 1024 * 1024;
/** A peer that lets this much output pile up is too slow to follow the stream: it is closed. */
const MAX_BUFFERED = 8 * 1024 * 1024;

const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface WebSocketEvents {
  /** A whole text message from the peer. */
  message: [text: string];
  /** The connection ended (close frame, error or socket closed), once. */
  close: [code: number, reason: string];
}

/** One open WebSocket connection, on either side (`masked` = we are the client). */
export class WebSocketConnection extends EventEmitter<WebSocketEvents> {
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentsLen = 0;
  private fragmentOp = 0;
  private closeSent = false;
  private ended = false;
  private readonly maxIncoming: number;

  constructor(
    private readonly socket: Duplex,
    private readonly masked: boolean,
    head?: Buffer,
  ) {
    super();
    this.maxIncoming = masked ? MAX_FROM_SERVER : MAX_FROM_CLIENT;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.finish(1006, 'socket error'));
    socket.on('close', () => this.finish(1006, 'connection lost'));
    // Bytes that came with the handshake are parsed on the next turn, so that the caller can
    // attach its listeners first; data arriving meanwhile is appended after them.
    if (head && head.length > 0) {
      this.buf = Buffer.from(head);
      setImmediate(() => this.onData(Buffer.alloc(0)));
    }
  }

  get open(): boolean {
    return !this.closeSent && !this.ended;
  }

  /** Send a text message. Returns false when the connection is closed (or was closed as too slow). */
  send(text: string): boolean {
    if (!this.open) return false;
    if (this.socket.writableLength > MAX_BUFFERED) {
      this.close(1008, 'reader too slow: events were piling up');
      return false;
    }
    this.frame(OP.text, Buffer.from(text, 'utf8'));
    return true;
  }

  ping(data: Buffer = Buffer.alloc(0)): void {
    if (this.open) this.frame(OP.ping, data);
  }

  /** Start the closing handshake; the socket ends when the peer answers (or after 2 s). */
  close(code = 1000, reason = ''): void {
    if (!this.open) return;
    const r = Buffer.from(reason, 'utf8').subarray(0, 123);
    const body = Buffer.alloc(2 + r.length);
    body.writeUInt16BE(code, 0);
    r.copy(body, 2);
    this.frame(OP.close, body);
    this.closeSent = true;
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Send a close frame and end the connection at once, without waiting for the peer's answer. */
  shutdown(code = 1001, reason = ''): void {
    this.close(code, reason);
    this.socket.end();
    this.finish(code, reason);
  }

  /** Drop the connection without a closing handshake. */
  terminate(): void {
    this.socket.destroy();
    this.finish(1006, 'terminated');
  }

  private finish(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('close', code, reason);
  }

  private frame(opcode: number, payload: Buffer): void {
    const len = payload.length;
    const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
    const head = Buffer.alloc(2 + ext + (this.masked ? 4 : 0));
    head[0] = 0x80 | opcode;
    head[1] = (this.masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
    if (ext === 2) head.writeUInt16BE(len, 2);
    else if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
    let body = payload;
    if (this.masked) {
      const mask = randomBytes(4);
      mask.copy(head, 2 + ext);
      body = Buffer.from(payload);
      for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
    }
    this.socket.write(Buffer.concat([head, body]));
  }

  private protocolError(reason: string, code = 1002): void {
    this.close(code, reason);
    this.buf = Buffer.alloc(0);
    this.socket.pause();
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0]! & 0x80) !== 0;
      const rsv = b[0]! & 0x70;
      const opcode = b[0]! & 0x0f;
      const isMasked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.maxIncoming)) return this.protocolError('message too big', 1009);
        len = Number(big);
        off = 10;
      }
      if (rsv !== 0) return this.protocolError('no extension was negotiated');
      // [RFC 6455 §5.1]: client frames are masked, server frames are not.
      if (isMasked === this.masked) return this.protocolError(this.masked ? 'server frames must not be masked' : 'client frames must be masked');
      if (len > this.maxIncoming) return this.protocolError('message too big', 1009);
      const maskLen = isMasked ? 4 : 0;
      if (b.length < off + maskLen + len) return;
      const payload = Buffer.from(b.subarray(off + maskLen, off + maskLen + len));
      if (isMasked) {
        const mask = b.subarray(off, off + 4);
        for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      }
      this.buf = b.subarray(off + maskLen + len);
      if (opcode >= 0x8) {
        if (!fin || len > 125) return this.protocolError('bad control frame');
        this.onControl(opcode, payload);
        if (this.ended) return;
        continue;
      }
      if (opcode === OP.continuation) {
        if (this.fragmentOp === 0) return this.protocolError('continuation without a message');
      } else if (opcode === OP.text || opcode === OP.binary) {
        if (this.fragmentOp !== 0) return this.protocolError('new message inside a fragmented one');
        this.fragmentOp = opcode;
      } else {
        return this.protocolError(`unknown opcode ${opcode}`);
      }
      this.fragments.push(payload);
      this.fragmentsLen += payload.length;
      if (this.fragmentsLen > this.maxIncoming) return this.protocolError('message too big', 1009);
      if (fin) {
        const msg = Buffer.concat(this.fragments);
        const op = this.fragmentOp;
        this.fragments = [];
        this.fragmentsLen = 0;
        this.fragmentOp = 0;
        if (op === OP.text) this.emit('message', msg.toString('utf8'));
      }
    }
  }

  private onControl(opcode: number, payload: Buffer): void {
    if (opcode === OP.ping) {
      if (this.open) this.frame(OP.pong, payload);
      return;
    }
    if (opcode === OP.pong) return;
    // close
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
    if (!this.closeSent) {
      // Echo the code back ([RFC 6455 §5.5.1]); 1005 is never sent on the wire.
      this.close(code === 1005 ? 1000 : code, '');
    }
    this.finish(code, reason);
    // The server closes the TCP connection first ([RFC 6455 §7.1.1]).
    if (!this.masked) this.socket.end();
  }
}

/**
 * Complete the server side of the opening handshake on an HTTP `upgrade`. Returns undefined
 * (after answering 400) when the request is not a WebSocket handshake this server speaks.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): WebSocketConnection | undefined {
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (req.method !== 'GET' || upgrade !== 'websocket' || typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) {
    rejectUpgrade(socket, 400, { code: 'bad-request', message: 'not a WebSocket handshake (RFC 6455)' });
    return undefined;
  }
  if (version !== '13') {
    rejectUpgrade(socket, 426, { code: 'bad-request', message: 'WebSocket version 13 only' }, { 'Sec-WebSocket-Version': '13' });
    return undefined;
  }
  socket.write(
    ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key)}`, '', ''].join('\r\n'),
  );
  if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
  return new WebSocketConnection(socket, false, head);
}

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

/** Open a WebSocket to a `ws://` (or `http://`) URL. */
export function connectWebSocket(url: string, opts: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<WebSocketConnection> {
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'http:') return Promise.reject(new Error(`${url}: only ws:// (plain) is supported`));
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: u.port || 80,
      path: `${u.pathname}${u.search}`,
      headers: { ...opts.headers, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
      timeout: opts.timeoutMs ?? 10_000,
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer to the WebSocket handshake`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => reject(new WebSocketHandshakeError(res.statusCode ?? 0, body)));
      res.on('error', reject);
    });
    req.on('upgrade', (res, socket, head) => {
      if (res.headers['sec-websocket-accept'] !== acceptKey(key)) {
        socket.destroy();
        reject(new Error(`${url}: bad Sec-WebSocket-Accept in the handshake`));
        return;
      }
      socket.setNoDelay(true);
      resolve(new WebSocketConnection(socket, true, head));
    });
    req.end();
  });
}
