/**
 * The network side of a modem as tests can bend it: every MQTT link goes through a FaultProxy
 * (latency, stall, drop, refused CONNECT), and the next open can be made to fail the way a
 * module reports it (DNS failure, connection refused, timeout).
 */
import type { Logger } from 'pino';
import type { LinkOpener } from '../modem/device.js';
import { LinkOpenError, type OpenFailure } from '../mqtt/types.js';
import net from 'node:net';
import { FaultProxy, type Upstream } from './fault-proxy.js';

/** Open a TCP connection to the broker, failing with the reason a module would report. */
function dial(up: Upstream, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(up.port, up.host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new LinkOpenError('timeout', `no answer from ${up.host}:${up.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const reason = err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'dns' : err.code === 'ENETUNREACH' || err.code === 'EHOSTUNREACH' ? 'network-down' : 'error';
      reject(new LinkOpenError(reason, `${up.host}:${up.port}: ${err.code ?? err.message}`));
    });
  });
}

export type OpenFault = Extract<OpenFailure, 'dns' | 'refused' | 'timeout'>;

export class NetworkFaults {
  private nextOpen: OpenFault[] = [];
  /** Client ids this modem's links used in CONNECT (to tell its traffic on a shared broker). */
  readonly clientIds = new Set<string>();

  private constructor(
    readonly proxy: FaultProxy,
    private readonly inner: LinkOpener,
    private readonly log: Logger,
  ) {}

  /** Put a proxy in front of `upstream` (the plain-TCP broker) and wrap `inner`. */
  static async create(inner: LinkOpener, upstream: { host: string; port: number }, log: Logger): Promise<NetworkFaults> {
    const proxy = await FaultProxy.start(upstream, log.child({ component: 'fault-proxy' }));
    return new NetworkFaults(proxy, inner, log);
  }

  /** Make the next open(s) fail with this reason, as many times as called. */
  failNextOpen(reason: OpenFault): void {
    this.nextOpen.push(reason);
  }

  /** The LinkOpener the modem uses. */
  get opener(): LinkOpener {
    return {
      resolve: (requested) => {
        const target = this.inner.resolve(requested);
        // Plain links go through the proxy; TLS links go straight to the TLS broker.
        return target.tls ? target : { host: target.host, port: target.port, path: this.proxy.path, tls: false };
      },
      open: async (opts) => {
        const fault = this.nextOpen.shift();
        if (fault) {
          this.log.info({ fault }, 'failing open as asked');
          throw new LinkOpenError(fault, `injected ${fault} failure`);
        }
        if (!opts.target.tls) {
          if (this.proxy.faults.down) throw new LinkOpenError('refused', 'broker down (test fault)');
          // Reach the broker first, so the device's open fails the way the broker's would.
          this.proxy.offerUpstream(await dial(this.proxy.upstream, opts.timeoutMs));
        }
        const link = await this.inner.open(opts);
        const connect = link.connect.bind(link);
        link.connect = (o) => {
          this.clientIds.add(o.clientId);
          return connect(o);
        };
        return link;
      },
    };
  }

  close(): Promise<void> {
    return this.proxy.close();
  }
}
