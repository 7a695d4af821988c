/**
 * The in-memory broker link: MQTT links that reach an Aedes broker through a pair of in-process
 * streams instead of a TCP socket. Aedes handles any duplex stream (`broker.handle(stream)`), so
 * the broker sees an ordinary client; the modem sees an ordinary link. Vendor and session-core
 * tests use it to run without ports and on a clock they control. TLS targets are carried the same
 * way (the handshake is not simulated: there is nothing to verify in memory).
 */
import { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { silentLogger } from '../util/logger.js';
import { linkOverStream } from './link.js';
import { LinkOpenError, type LinkOpener, type MqttLink, type OpenOptions } from './types.js';

/** What the link needs of a broker: Aedes's `handle`. */
export interface StreamBroker {
  handle(stream: Duplex): unknown;
}

/** Two connected duplex streams: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  // Each stream reaches its peer through a closure, called only once both exist.
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      // As a TCP socket: when the input ends, the output ends too and the stream closes.
      allowHalfOpen: false,
      read() {},
      write(chunk: Buffer, _enc, cb) {
        const p = peer();
        if (!p.destroyed && !p.readableEnded) p.push(chunk);
        cb();
      },
      final(cb) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb();
      },
      destroy(err, cb) {
        // The peer reads what is already on its way, then sees the end of its input (FIN/RST).
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb(err);
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}

export interface MemoryLinkOptions {
  log?: Logger;
  /** When this returns a reason, opens fail with it (network faults in tests). */
  refuse?: () => LinkOpenError | undefined;
}

/** A {@link LinkOpener} whose every link goes to `broker` in memory, whatever host is named. */
export function memoryLinkOpener(broker: StreamBroker, opts: MemoryLinkOptions = {}): LinkOpener {
  const log = opts.log ?? silentLogger();
  return {
    resolve: (requested) => ({ host: requested.host, port: requested.port, tls: requested.tls }),
    open: (o: OpenOptions): Promise<MqttLink> => {
      const refusal = opts.refuse?.();
      if (refusal) return Promise.reject(refusal);
      const [client, server] = duplexPair();
      broker.handle(server);
      return Promise.resolve(linkOverStream(client, `memory:${o.target.host}:${o.target.port}`, log, o.clock));
    },
  };
}
