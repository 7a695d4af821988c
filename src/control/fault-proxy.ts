/**
 * A TCP proxy between one modem and its broker that can make the network misbehave on cue:
 * added latency, a stall (the broker "stops answering": nothing passes either way, so the
 * device's keepalive runs out), dropping every connection (the device sees the broker close),
 * and refusing the next CONNECT with a chosen CONNACK return code. It works the same in front of
 * the embedded broker and an external one, since it only touches bytes (and, for the refusal,
 * the first packet).
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import type { Logger } from 'pino';
import { silentLogger } from '../util/logger.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface ProxyFaults {
  /** Milliseconds added to every chunk, each way. */
  latencyMs: number;
  /** The broker is "down": connections are refused (accepted and closed at once). */
  down: boolean;
  /** Nothing passes either way; connections stay open. */
  stalled: boolean;
  /** Answer the next CONNECT with this CONNACK return code (1–5) instead of forwarding it. */
  refuseNextConnect?: number;
}

interface Pair {
  device: net.Socket;
  broker?: net.Socket;
  observers: { up: (chunk: Buffer) => void; down: (chunk: Buffer) => void };
}

/** An MQTT packet seen on the wire: `up` = device → broker, `down` = broker → device. */
export interface ObservedPacket {
  dir: 'up' | 'down';
  packet: Packet;
}

export interface FaultProxyEvents {
  connection: [];
  /** Every PUBLISH that passed, by direction (found by the packets' fixed headers alone). */
  publish: [dir: 'up' | 'down'];
  /** Emitted only while someone listens (decoding costs): packets that began while listened to. */
  packet: [observed: ObservedPacket];
}

const PUBLISH = 3;

/**
 * Finds packet boundaries in one direction of an MQTT stream from the fixed headers alone (type
 * nibble, Remaining Length varint: MQTT 3.1.1 §2.2), and hands whole packets out only when asked
 * to: a proxy that decoded every packet of every link spent a few per cent of a 1,000-modem
 * fleet's CPU on packets nobody looked at (issue 12 §3).
 */
export class PacketFramer {
  /** Fixed-header bytes of the packet being read (type byte, then up to 4 length bytes). */
  private header: number[] = [];
  /** Body bytes still to come of the current packet. */
  private left = 0;
  private inBody = false;
  /** The current packet's bytes, when it is wanted whole. */
  private parts: Buffer[] | undefined;

  constructor(
    /** Whether the packet that begins now is wanted whole (asked at its first byte). */
    private readonly wantWhole: () => boolean,
    private readonly onPacket: (type: number, whole: Buffer | undefined) => void,
    /** A Remaining Length longer than 4 bytes: the stream is not MQTT; the framer stops. */
    private readonly onError: () => void,
  ) {}

  private broken = false;

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.broken) {
      if (this.inBody) {
        const take = Math.min(this.left, chunk.length - i);
        this.parts?.push(chunk.subarray(i, i + take));
        i += take;
        this.left -= take;
        if (this.left === 0) this.done();
        continue;
      }
      const b = chunk[i++]!;
      if (this.header.length === 0) {
        this.header.push(b);
        this.parts = this.wantWhole() ? [] : undefined;
        continue;
      }
      this.header.push(b);
      if (b & 0x80) {
        if (this.header.length === 5) {
          this.broken = true;
          this.onError();
        }
        continue;
      }
      let len = 0;
      for (let k = this.header.length - 1; k >= 1; k--) len = len * 128 + (this.header[k]! & 0x7f);
      this.left = len;
      this.inBody = true;
      if (len === 0) this.done();
    }
  }

  private done(): void {
    const type = this.header[0]! >> 4;
    let whole: Buffer | undefined;
    if (this.parts) whole = Buffer.concat([Buffer.from(this.header), ...this.parts]);
    this.header = [];
    this.parts = undefined;
    this.inBody = false;
    this.left = 0;
    this.onPacket(type, whole);
  }
}

export class FaultProxy extends EventEmitter<FaultProxyEvents> {
  private readonly pairs = new Set<Pair>();
  /** Broker connections opened ahead of the device's (see offerUpstream). */
  private readonly offered: net.Socket[] = [];
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    readonly upstream: Upstream,
    private readonly log: Logger,
    readonly faults: ProxyFaults,
    private readonly opaque: boolean,
  ) {
    super();
  }

  /**
   * @param opts.faults share one fault state between proxies (a modem's plain and TLS links)
   * @param opts.opaque the bytes are not MQTT in the clear (TLS): no packet parsing, so no
   *   refused CONNECT and no packet events; latency, stall, drop and broker-down still apply.
   */
  static async start(
    upstream: Upstream,
    log: Logger = silentLogger(),
    opts: { faults?: ProxyFaults; opaque?: boolean } = {},
  ): Promise<FaultProxy> {
    const server = net.createServer();
    const proxy = new FaultProxy(server, upstream, log, opts.faults ?? { latencyMs: 0, down: false, stalled: false }, opts.opaque ?? false);
    server.on('connection', (s) => proxy.accept(s));
    // A Unix socket in a private directory: no TCP port is opened, nobody else can connect.
    const dir = mkdtempSync(join(tmpdir(), 'vmodem-'));
    proxy.dir = dir;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(join(dir, 'broker.sock'), () => resolve());
    });
    return proxy;
  }

  private dir = '';

  /** The Unix socket the modem's links connect to. */
  get path(): string {
    return join(this.dir, 'broker.sock');
  }

  get connectionCount(): number {
    return this.pairs.size;
  }

  /**
   * A broker connection opened ahead of the device's own, so that the device's open fails the
   * way the broker's does (refused, unreachable) instead of succeeding against the proxy. Any
   * offered connection serves any device connection: they all lead to the same broker.
   */
  offerUpstream(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      const i = this.offered.indexOf(socket);
      if (i >= 0) this.offered.splice(i, 1);
    });
    this.offered.push(socket);
  }

  /** Close every connection from the broker's side: the device sees the peer close. */
  dropAll(): number {
    const n = this.pairs.size;
    for (const p of this.pairs) this.end(p);
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropAll();
    for (const s of this.offered.splice(0)) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(device: net.Socket): void {
    if (this.faults.down) {
      device.destroy();
      return;
    }
    const pair: Pair = { device, observers: { up: this.observer('up'), down: this.observer('down') } };
    this.pairs.add(pair);
    this.emit('connection');
    device.setNoDelay(true);
    device.on('error', () => this.end(pair));
    device.on('close', () => this.end(pair));

    if (this.opaque) {
      this.connectUpstream(pair, Buffer.alloc(0));
      device.on('data', (chunk: Buffer) => this.forward(pair, 'up', chunk));
      return;
    }
    // Hold the device's bytes until the first packet is known (CONNECT may have to be refused).
    let firstPacketSeen = false;
    const pending: Buffer[] = [];
    const parser = mqttParser();
    parser.on('packet', (packet: Packet) => {
      if (firstPacketSeen) return;
      firstPacketSeen = true;
      const code = this.faults.refuseNextConnect;
      if (packet.cmd === 'connect' && code !== undefined) {
        this.faults.refuseNextConnect = undefined;
        this.log.info({ returnCode: code }, 'refusing CONNECT');
        this.forward(pair, 'down', generate({ cmd: 'connack', returnCode: code, sessionPresent: false }));
        // [MQTT-3.2.2-5]: the server closes the connection after a refusal.
        setTimeout(() => this.end(pair), Math.max(20, this.faults.latencyMs + 20));
        return;
      }
      this.connectUpstream(pair, Buffer.concat(pending));
      pending.length = 0;
    });
    parser.on('error', () => this.end(pair));
    device.on('data', (chunk: Buffer) => {
      if (!firstPacketSeen) {
        pending.push(chunk);
        parser.parse(chunk);
        return;
      }
      if (pair.broker) this.forward(pair, 'up', chunk);
    });
  }

  private connectUpstream(pair: Pair, first: Buffer): void {
    const offered = this.offered.shift();
    const broker = offered ?? net.connect(this.upstream.port, this.upstream.host);
    pair.broker = broker;
    broker.setNoDelay(true);
    if (offered) this.forward(pair, 'up', first);
    else broker.on('connect', () => this.forward(pair, 'up', first));
    broker.on('data', (chunk: Buffer) => this.forward(pair, 'down', chunk));
    broker.on('error', () => this.end(pair));
    broker.on('close', () => {
      // A stalled link is a black hole: the broker giving up on it is not seen by the device.
      if (!this.faults.stalled) this.end(pair);
    });
  }

  /**
   * Per direction: a framer that reports every PUBLISH, and decodes the packets that begin while
   * anyone listens for 'packet' (whole packets only, so a decoder started mid-stream stays in step).
   */
  private observer(dir: 'up' | 'down'): (chunk: Buffer) => void {
    if (this.opaque) return () => undefined;
    let decoder: ReturnType<typeof mqttParser> | undefined;
    const framer = new PacketFramer(
      () => this.listenerCount('packet') > 0,
      (type, whole) => {
        if (type === PUBLISH) this.emit('publish', dir);
        if (!whole) return;
        if (!decoder) {
          decoder = mqttParser();
          decoder.on('packet', (packet: Packet) => this.emit('packet', { dir, packet }));
          decoder.on('error', () => {
            decoder = undefined;
          });
        }
        decoder.parse(whole);
      },
      () => undefined,
    );
    return (chunk) => framer.push(chunk);
  }

  private forward(pair: Pair, dir: 'up' | 'down', chunk: Buffer): void {
    if (chunk.length === 0) return;
    const send = () => {
      if (this.faults.stalled) return;
      const to = dir === 'up' ? pair.broker : pair.device;
      if (to && !to.destroyed) {
        pair.observers[dir](chunk);
        to.write(chunk);
      }
    };
    if (this.faults.stalled) return;
    if (this.faults.latencyMs > 0) setTimeout(send, this.faults.latencyMs);
    else send();
  }

  private end(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.device.destroy();
    pair.broker?.destroy();
  }
}
