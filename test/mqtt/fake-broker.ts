/**
 * A scriptable raw MQTT server for wire-level tests (lost acks, silent PINGRESP, …): it decodes
 * every packet with mqtt-packet and lets the test decide what to answer.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';

export interface FakeConn {
  socket: Duplex;
  send(packet: Packet): void;
}

export interface FakeBrokerOptions {
  /** CONNACK return code to answer CONNECT with; null = never answer. Default 0. */
  connack?: number | null;
  /** Answer PINGREQ with PINGRESP. Default true. */
  answerPings?: boolean;
  /**
   * Called for every packet after CONNECT. Return true when handled; otherwise the default
   * behaviour answers like a broker (PUBACK/PUBREC/PUBCOMP/SUBACK/UNSUBACK).
   */
  onPacket?: (packet: Packet, conn: FakeConn, seen: Packet[]) => boolean | void;
  /** Close the connection as soon as CONNECT arrives. */
  closeOnConnect?: boolean;
}

export interface FakeBroker {
  port: number;
  /** Serve one connection over any duplex stream (the in-memory link's broker side). */
  handle(stream: Duplex): void;
  /** Every packet received, in order, across connections. */
  received: Packet[];
  connections: FakeConn[];
  close(): Promise<void>;
}

export async function startFakeBroker(opts: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const received: Packet[] = [];
  const connections: FakeConn[] = [];
  const sockets = new Set<Duplex>();
  // Any duplex stream: a TCP socket from the listener, or the in-memory link (`handle`).
  const handle = (socket: Duplex): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const conn: FakeConn = {
      socket,
      send: (packet) => {
        if (!socket.destroyed) socket.write(generate(packet));
      },
    };
    connections.push(conn);
    const parser = mqttParser({ protocolVersion: 4 });
    parser.on('error', () => socket.destroy());
    parser.on('packet', (packet: Packet) => {
      received.push(packet);
      if (packet.cmd === 'connect') {
        if (opts.closeOnConnect) {
          socket.destroy();
          return;
        }
        const rc = opts.connack === undefined ? 0 : opts.connack;
        if (rc !== null) conn.send({ cmd: 'connack', returnCode: rc, sessionPresent: false });
        return;
      }
      if (opts.onPacket?.(packet, conn, received)) return;
      switch (packet.cmd) {
        case 'pingreq':
          if (opts.answerPings ?? true) conn.send({ cmd: 'pingresp' });
          break;
        case 'publish':
          if (packet.qos === 1) conn.send({ cmd: 'puback', messageId: packet.messageId });
          if (packet.qos === 2) conn.send({ cmd: 'pubrec', messageId: packet.messageId });
          break;
        case 'pubrel':
          conn.send({ cmd: 'pubcomp', messageId: packet.messageId });
          break;
        case 'subscribe':
          conn.send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) });
          break;
        case 'unsubscribe':
          conn.send({ cmd: 'unsuback', messageId: packet.messageId, granted: [] });
          break;
        case 'disconnect':
          socket.end();
          break;
        default:
          break;
      }
    });
    socket.on('data', (buf: Buffer) => parser.parse(buf));
  };
  const server = net.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    handle,
    received,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP server that accepts connections and never says anything. */
export async function startSilentServer(
  onConnection?: (socket: net.Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection?.(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
