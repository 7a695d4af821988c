/**
 * The minimal RFC 6455 implementation in src/control/websocket.ts, on the wire: the handshake's
 * accept key (the RFC's own example), frame lengths (7-bit, 16-bit, 64-bit), masking, ping/pong,
 * fragmented messages, the closing handshake, and protocol errors.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptKey, acceptWebSocket, connectWebSocket, type WebSocketConnection } from '../../src/control/websocket.js';

const servers: http.Server[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A server that accepts every upgrade and hands the connection to `onConn`. */
async function server(onConn: (ws: WebSocketConnection) => void): Promise<number> {
  const s = http.createServer((_req, res) => res.end());
  s.on('upgrade', (req, socket, head) => {
    sockets.push(socket);
    const ws = acceptWebSocket(req, socket, head);
    if (ws) onConn(ws);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
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

/** Raw handshake over TCP; resolves with the socket and everything read after the 101 headers. */
async function rawConnect(port: number): Promise<{ sock: net.Socket; read: () => Buffer; waitBytes: (n: number) => Promise<Buffer> }> {
  const sock = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  await new Promise((r) => sock.once('connect', r));
  sock.write('GET /x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const deadline = Date.now() + 3000;
  while (!buf.includes('\r\n\r\n')) {
    if (Date.now() > deadline) throw new Error('no handshake answer');
    await new Promise((r) => setTimeout(r, 5));
  }
  const end = buf.indexOf('\r\n\r\n') + 4;
  const headers = buf.subarray(0, end).toString();
  expect(headers).toContain('HTTP/1.1 101 Switching Protocols');
  expect(headers).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  buf = buf.subarray(end);
  return {
    sock,
    read: () => buf,
    waitBytes: async (n) => {
      const dl = Date.now() + 3000;
      while (buf.length < n) {
        if (Date.now() > dl) throw new Error(`wanted ${n} bytes, have ${buf.length}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
  };
}

describe('websocket (RFC 6455, minimal)', () => {
  it('computes the accept key of RFC 6455 §1.3', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('sends text frames of every length encoding, unmasked, to a client', async () => {
    const sizes = [0, 5, 125, 126, 65535, 65536, 200_000];
    const port = await server((ws) => {
      for (const n of sizes) ws.send('x'.repeat(n));
    });
    const ws = await connectWebSocket(`ws://127.0.0.1:${port}/`);
    const got: number[] = [];
    await new Promise<void>((resolve) =>
      ws.on('message', (t) => {
        got.push(t.length);
        if (got.length === sizes.length) resolve();
      }),
    );
    expect(got).toEqual(sizes);
    ws.close();
  });

  it('answers ping with pong (same payload), reassembles fragments, ignores binary', async () => {
    const messages: string[] = [];
    const port = await server((ws) => ws.on('message', (t) => messages.push(t)));
    const c = await rawConnect(port);
    c.sock.write(clientFrame(0x9, Buffer.from('hi')));
    const pong = await c.waitBytes(4);
    expect([...pong]).toEqual([0x8a, 2, 0x68, 0x69]);
    c.sock.write(Buffer.concat([clientFrame(0x1, Buffer.from('hel'), false), clientFrame(0x9, Buffer.from('')), clientFrame(0x0, Buffer.from('lo'), true)]));
    expect([...(await c.waitBytes(2))]).toEqual([0x8a, 0]); // the ping between fragments is answered
    c.sock.write(clientFrame(0x2, Buffer.from([1, 2, 3])));
    // A frame split across writes.
    const f = clientFrame(0x1, Buffer.from('split'));
    c.sock.write(f.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    c.sock.write(f.subarray(3));
    await new Promise((r) => setTimeout(r, 50));
    expect(messages).toEqual(['hello', 'split']);
    c.sock.destroy();
  });

  it('completes the closing handshake: echoes the code, then closes TCP', async () => {
    let serverSide: WebSocketConnection | undefined;
    const closed = new Promise<[number, string]>((resolve) =>
      server((ws) => {
        serverSide = ws;
        ws.once('close', (code, reason) => resolve([code, reason]));
      }).then((port) => rawConnect(port).then(async (c) => {
        const body = Buffer.alloc(2 + 3);
        body.writeUInt16BE(1000, 0);
        body.write('bye', 2);
        c.sock.write(clientFrame(0x8, body));
        expect([...(await c.waitBytes(4))]).toEqual([0x88, 2, 0x03, 0xe8]);
        await new Promise((r) => c.sock.once('close', r));
      })),
    );
    expect(await closed).toEqual([1000, 'bye']);
    expect(serverSide!.open).toBe(false);
  });

  it('closes with 1002 on an unmasked client frame and 1009 on a message over the limit', async () => {
    const port = await server(() => {});
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
    const port = await server(() => {});
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', path: '/', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '8' } });
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
