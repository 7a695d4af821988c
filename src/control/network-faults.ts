/**
 * The network side of a modem as tests can bend it: every MQTT link goes through a FaultProxy
 * (latency, stall, drop, refused CONNECT), and the next open can be made to fail the way a
 * module reports it (DNS failure, connection refused, timeout).
 */
import type { Logger } from 'pino';
import type { LinkOpener } from '../modem/device.js';
import { LinkOpenError, type OpenFailure } from '../mqtt/types.js';
import net from 'node:net';
import { FaultProxy, type ProxyFaults, type Upstream } from './fault-proxy.js';

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
  private readonly clientIdListeners = new Set<(clientId: string) => void>();

  private constructor(
    /** The proxy of plain MQTT links (packets visible: refused CONNECT, packet events). */
    readonly proxy: FaultProxy,
    /** The proxy of TLS links, when there is a TLS broker (bytes only). */
    readonly tlsProxy: FaultProxy | undefined,
    private readonly inner: LinkOpener,
    private readonly log: Logger,
  ) {}

  /**
   * Put proxies in front of `upstream` (the plain broker) and `tlsUpstream` (its TLS listener, if
   * any), sharing one fault state, and wrap `inner`.
   */
  static async create(inner: LinkOpener, upstream: Upstream, log: Logger, tlsUpstream?: Upstream): Promise<NetworkFaults> {
    const plog = log.child({ component: 'fault-proxy' });
    const proxy = await FaultProxy.start(upstream, plog);
    const tlsProxy = tlsUpstream ? await FaultProxy.start(tlsUpstream, plog, { faults: proxy.faults, opaque: true }) : undefined;
    return new NetworkFaults(proxy, tlsProxy, inner, log);
  }

  /** The fault state both proxies share (latency, stall, broker down, refused CONNECT). */
  get settings(): ProxyFaults {
    return this.proxy.faults;
  }

  get connectionCount(): number {
    return this.proxy.connectionCount + (this.tlsProxy?.connectionCount ?? 0);
  }

  /** Close every link from the broker's side. */
  dropAll(): number {
    return this.proxy.dropAll() + (this.tlsProxy?.dropAll() ?? 0);
  }

  /** Hear of each client id the first time one of this modem's links uses it in CONNECT. */
  onNewClientId(listener: (clientId: string) => void): () => void {
    this.clientIdListeners.add(listener);
    return () => this.clientIdListeners.delete(listener);
  }

  /** Make the next open(s) fail with this reason, as many times as called. */
  failNextOpen(reason: OpenFault): void {
    this.nextOpen.push(reason);
  }

  private proxyFor(tls: boolean): FaultProxy | undefined {
    return tls ? this.tlsProxy : this.proxy;
  }

  /** The LinkOpener the modem uses. */
  get opener(): LinkOpener {
    return {
      resolve: (requested) => {
        const target = this.inner.resolve(requested);
        // Links go through this modem's proxy; host and port stay for TLS name checks and logs.
        const proxy = this.proxyFor(target.tls);
        return proxy ? { ...target, path: proxy.path } : target;
      },
      open: async (opts) => {
        const fault = this.nextOpen.shift();
        if (fault) {
          this.log.info({ fault }, 'failing open as asked');
          throw new LinkOpenError(fault, `injected ${fault} failure`);
        }
        const proxy = this.proxyFor(opts.target.tls);
        if (proxy) {
          if (proxy.faults.down) throw new LinkOpenError('refused', 'broker down (test fault)');
          // Reach the broker first, so the device's open fails the way the broker's would.
          proxy.offerUpstream(await dial(proxy.upstream, opts.timeoutMs));
        }
        const link = await this.inner.open(opts);
        const connect = link.connect.bind(link);
        link.connect = (o) => {
          if (!this.clientIds.has(o.clientId)) {
            this.clientIds.add(o.clientId);
            for (const l of this.clientIdListeners) l(o.clientId);
          }
          return connect(o);
        };
        return link;
      },
    };
  }

  async close(): Promise<void> {
    await this.proxy.close();
    await this.tlsProxy?.close();
  }
}
