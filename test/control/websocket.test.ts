/**
 * The control API's WebSocket (`ws` underneath) on the wire: the handshake's accept key (the RFC's
 * own example), the subprotocol, frame lengths (7-bit, 16-bit, 64-bit), ping/pong, the closing
 * handshake, protocol errors and limits; and who may connect — the token (header, query or
 * subprotocol), Host and Origin. In process, against a control server whose modem is a stub.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ControlEvent, ModemController } from '../../src/control/controller.js';
import { startControlServer, type ControlledModem, type ControlServer } from '../../src/control/http-api.js';
import { connectWebSocket, messageText, WebSocketHandshakeError } from '../../src/control/websocket.js';

const TOKEN = 'test-token-123';
const servers: ControlServer[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
});

/** A control server with one stub modem whose events the test pushes. */
async function server(): Promise<{ port: number; push: (e: ControlEvent) => void; watchers: () => number }> {
  const listeners = new Set<(e: ControlEvent) => void>();
  const controller = {
    watch(l: (e: ControlEvent) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as ModemController;
  const modem: ControlledModem = { name: 'modem0', index: 0, controller, profile: { id: 'stub', module: 'stub' }, devicePath: '/dev/null', imei: '000000000000000' };
  const s = await startControlServer({ modems: [modem], find: (r) => (r === '0' || r === 'modem0' ? modem : undefined) }, { port: 0, token: TOKEN });
  servers.push(s);
  return { port: s.port, push: (e) => [...listeners].forEach((l) => l(e)), watchers: () => listeners.size };
}

function stateEvent(detail: string): ControlEvent {
  return { type: 'state', modem: 'modem0', what: 'x', detail, t: 0 } as ControlEvent;
}

/** A masked client frame, by hand. */
function clientFrame(opcode: number, payload: Buffer, fin = true, mask = true): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext);
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i & 3]!));
  return Buffer.concat([head, key, body]);
}

/** Raw handshake over TCP; resolves with the socket, the 101 headers and what is read after them. */
async function rawConnect(port: number, extra = ''): Promise<{ sock: net.Socket; headers: string; waitBytes: (n: number) => Promise<Buffer> }> {
  const sock = net.connect(port, '127.0.0.1');
  sockets.push(sock);
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  const until = (cond: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (cond()) return resolve();
      const t = setTimeout(() => reject(new Error(`${what}; have ${JSON.stringify(buf.toString('latin1'))}`)), 3000);
      wake = () => {
        if (!cond()) return;
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });
  await new Promise((r) => sock.once('connect', r));
  sock.write(
    `GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  await until(() => buf.includes('\r\n\r\n'), 'no handshake answer');
  const end = buf.indexOf('\r\n\r\n') + 4;
  const headers = buf.subarray(0, end).toString();
  buf = buf.subarray(end);
  return {
    sock,
    headers,
    waitBytes: async (n) => {
      await until(() => buf.length >= n, `wanted ${n} bytes`);
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
  };
}

/** The answer to a handshake the server refuses. */
async function refused(url: string, opts: Parameters<typeof connectWebSocket>[1] = {}): Promise<{ status: number; error: { code: string; message: string } }> {
  const err = await connectWebSocket(url, opts).then(
    (ws) => {
      ws.terminate();
      throw new Error('the handshake was accepted');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebSocketHandshakeError);
  const e = err as WebSocketHandshakeError;
  return { status: e.status, error: (JSON.parse(e.body) as { error: { code: string; message: string } }).error };
}

describe('control API WebSocket: the wire', () => {
  it('answers the handshake with the accept key of RFC 6455 §1.3 and selects vmodem.v1', async () => {
    const { port } = await server();
    const c = await rawConnect(port, 'Sec-WebSocket-Protocol: vmodem.v1, token.x\r\n');
    expect(c.headers).toContain('HTTP/1.1 101 Switching Protocols');
    expect(c.headers).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(c.headers).toMatch(/Sec-WebSocket-Protocol: vmodem\.v1\r\n/);
  });

  it('sends text frames of every length encoding, unmasked, to a client', async () => {
    const sizes = [0, 5, 125, 126, 65535, 65536, 200_000];
    const { port, push } = await server();
    const ws = await connectWebSocket(`ws://127.0.0.1:${port}/v1/events`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    sockets.push({ destroy: () => ws.terminate() });
    expect(ws.protocol).toBe('vmodem.v1');
    const events = sizes.map((n) => JSON.stringify(stateEvent('x'.repeat(n))));
    const got: number[] = [];
    const all = new Promise<void>((resolve) =>
      ws.on('message', (t) => {
        got.push(messageText(t).length);
        if (got.length === sizes.length) resolve();
      }),
    );
    for (const n of sizes) push(stateEvent('x'.repeat(n)));
    await all;
    expect(got).toEqual(events.map((e) => e.length));
    ws.close();
  });

  it('answers ping with pong (same payload), also between the fragments of a message', async () => {
    const { port, push } = await server();
    const c = await rawConnect(port);
    c.sock.write(clientFrame(0x9, Buffer.from('hi')));
    const pong = await c.waitBytes(4);
    expect([...pong]).toEqual([0x8a, 2, 0x68, 0x69]);
    c.sock.write(Buffer.concat([clientFrame(0x1, Buffer.from('hel'), false), clientFrame(0x9, Buffer.from('')), clientFrame(0x0, Buffer.from('lo'), true)]));
    expect([...(await c.waitBytes(2))]).toEqual([0x8a, 0]); // the ping between fragments is answered
    c.sock.write(clientFrame(0x2, Buffer.from([1, 2, 3])));
    // Client messages are ignored (the stream is one-way) and the stream goes on.
    const f = clientFrame(0x1, Buffer.from('split'));
    c.sock.write(f.subarray(0, 3));
    c.sock.write(f.subarray(3));
    push(stateEvent('after'));
    const text = JSON.stringify(stateEvent('after'));
    const frame = await c.waitBytes(2 + text.length);
    expect([frame[0], frame[1]]).toEqual([0x81, text.length]);
    expect(frame.subarray(2).toString()).toBe(text);
  });

  it('completes the closing handshake: echoes the code, closes TCP and stops watching', async () => {
    const { port, watchers } = await server();
    const c = await rawConnect(port);
    expect(watchers()).toBe(1);
    const body = Buffer.alloc(2 + 3);
    body.writeUInt16BE(1000, 0);
    body.write('bye', 2);
    c.sock.write(clientFrame(0x8, body));
    // The code comes back (ws echoes the reason too: RFC 6455 §5.5.1 allows either).
    const echo = await c.waitBytes(2);
    expect(echo[0]).toBe(0x88);
    const payload = await c.waitBytes(echo[1]!);
    expect(payload.readUInt16BE(0)).toBe(1000);
    await new Promise((r) => c.sock.once('close', r));
    // The server's side of the close lands on its own turn of the event loop.
    await vi.waitFor(() => expect(watchers()).toBe(0));
  });

  it('closes with 1002 on an unmasked client frame and 1009 on a message over the limit', async () => {
    const { port } = await server();
    const a = await rawConnect(port);
    a.sock.write(clientFrame(0x1, Buffer.from('x'), true, false));
    const close = await a.waitBytes(4);
    expect([close[0], close.readUInt16BE(2)]).toEqual([0x88, 1002]);
    a.sock.destroy();

    const b = await rawConnect(port);
    const head = Buffer.alloc(10);
    head[0] = 0x81;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(10n ** 9n, 2);
    b.sock.write(head);
    const close2 = await b.waitBytes(4);
    expect([close2[0], close2.readUInt16BE(2)]).toEqual([0x88, 1009]);
    b.sock.destroy();
  });

  it('refuses a request that is not a version-13 handshake', async () => {
    const { port } = await server();
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({
        port,
        host: '127.0.0.1',
        path: '/v1/events',
        headers: { Authorization: `Bearer ${TOKEN}`, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '7' },
      });
      req.on('response', resolve);
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(res.statusCode).toBe(426);
    expect(res.headers['sec-websocket-version']).toBe('13');
    res.resume();
  });
});

describe('control API WebSocket: who may connect', () => {
  it('takes the token as a subprotocol (browsers cannot set Authorization) and selects only vmodem.v1', async () => {
    const { port } = await server();
    const url = `ws://127.0.0.1:${port}/v1/events`;
    const ws = await connectWebSocket(url, { protocols: [`token.${TOKEN}`] });
    sockets.push({ destroy: () => ws.terminate() });
    expect(ws.protocol).toBe('vmodem.v1');
    expect(await refused(url, { protocols: ['token.wrong-token-1'] })).toMatchObject({ status: 401, error: { code: 'unauthorized' } });
    expect(await refused(url)).toMatchObject({ status: 401, error: { code: 'unauthorized' } });
  });

  it('accepts its own origin (127.0.0.1 or localhost with its port) and clients that send none', async () => {
    const { port } = await server();
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const ws = await connectWebSocket(`ws://127.0.0.1:${port}/v1/events`, { headers: { Origin: origin, Authorization: `Bearer ${TOKEN}` } });
      expect(ws.protocol).toBe('vmodem.v1');
      ws.terminate();
    }
    const viaLocalhost = await connectWebSocket(`ws://localhost:${port}/v1/events?token=${TOKEN}`);
    viaLocalhost.terminate();
  });

  it('refuses another origin, even with the right token', async () => {
    const { port } = await server();
    const url = `ws://127.0.0.1:${port}/v1/events`;
    for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`, 'null']) {
      const r = await refused(url, { headers: { Origin: origin }, protocols: [`token.${TOKEN}`] });
      expect(r.status, origin).toBe(403);
      expect(r.error.code).toBe('forbidden-origin');
      expect(r.error.message).toContain(`http://127.0.0.1:${port}`);
    }
  });

  it('refuses a Host that is not this server (DNS rebinding), even with the right token', async () => {
    const { port } = await server();
    const r = await refused(`ws://127.0.0.1:${port}/v1/events`, { headers: { Host: `rebind.example:${port}`, Authorization: `Bearer ${TOKEN}` } });
    expect(r).toMatchObject({ status: 403, error: { code: 'forbidden-host' } });
  });
});
