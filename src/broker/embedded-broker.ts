/**
 * The embedded MQTT broker (Aedes 1.x over plain TCP, and optionally over TLS), used when vmodem
 * is not pointed at an external broker. Later code installs sign-in checks with
 * `setAuthenticator` and reaches the other Aedes hooks through `aedes` (the virtual cloud in
 * src/cloud does both).
 *
 * The TLS listener uses a CA and server certificate kept in `<stateDir>/tls/` (created on first
 * start, see tls-material.ts). It asks every client for a certificate but does not require one:
 * secret-based sign-ins run over TLS without one, and certificate sign-ins (Tencent's certificate
 * mode) are judged by the authenticator from `AuthRequest.peerCertificate`.
 *
 * With `cluster` the broker is one node of a cluster (issue 12 §1): Aedes with a Redis-stream
 * message bus (redis-stream-bus.ts: messages between nodes, kept across outages, where
 * mqemitter-redis' pub/sub lost them) and aedes-persistence-redis (retained messages, sessions,
 * subscriptions, QoS 1/2 in flight), as Aedes documents for horizontal scaling. Every node uses
 * the same Redis; a client may connect to any node.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Redis } from 'ioredis';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import type { RedisEndpoint } from '../util/redis-url.js';
import { ensureTlsMaterial } from './tls-material.js';

/**
 * What only a cluster node needs (ioredis, aedes-persistence-redis, the stream bus), loaded with
 * --cluster only: every module loaded up front is paid by every cold `vmodem start` (issue 12 §3).
 */
const clusterModules = async () => ({
  persistenceRedis: (await import('aedes-persistence-redis')).default,
  ...(await import('../util/redis-conn.js')),
  ...(await import('./redis-stream-bus.js')),
});

/** The client certificate a TLS client presented. */
export interface PeerCertificate {
  /** SHA-256 fingerprint, `AB:CD:…` as node:tls reports it. */
  fingerprint256: string;
  /** Subject common name, when present. */
  commonName: string | undefined;
  /** True when the certificate chains to the broker's CA (`<stateDir>/tls/ca.pem`). */
  authorized: boolean;
  /** DER bytes. */
  raw: Buffer;
}

/** What a client asked to sign in with. */
export interface AuthRequest {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  /** Peer address of the TCP connection, when known. */
  remoteAddress: string | undefined;
  /** Which listener the connection came in on. */
  transport: 'tcp' | 'tls';
  /** TLS only: the client certificate, when the client presented one. */
  peerCertificate: PeerCertificate | undefined;
  /**
   * The Aedes client being signed in. The same object reaches the authorize hooks, so it is the
   * key for per-connection state. Treat it as read-only here.
   */
  client: Client;
}

/**
 * Decides a sign-in. `true` (or 0) accepts; `false` refuses with CONNACK 5 (not authorized);
 * a number 2–5 refuses with that CONNACK return code (Aedes turns any other code into 5).
 * A thrown error / rejected promise refuses with 5 (or the error's numeric `returnCode`).
 */
export type Authenticator = (req: AuthRequest) => boolean | number | Promise<boolean | number>;

/** A PUBLISH a client sent to the broker ($SYS traffic and broker-internal publishes excluded). */
export interface BrokerPublish {
  clientId: string;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  /** 0 for QoS 0. */
  messageId: number;
}

export interface EmbeddedBrokerEvents {
  publish: [msg: BrokerPublish];
}

export interface EmbeddedBroker extends EventEmitter<EmbeddedBrokerEvents> {
  readonly port: number;
  readonly host: string;
  /** `mqtt://HOST:PORT` */
  readonly url: string;
  /** The TLS listener's port, when one was asked for. */
  readonly tlsPort: number | undefined;
  /** `mqtts://HOST:TLSPORT`, when there is a TLS listener. */
  readonly tlsUrl: string | undefined;
  /** The CA certificate clients must trust to reach the TLS listener (`<stateDir>/tls/ca.pem`). */
  readonly caPath: string | undefined;
  /** That CA certificate's PEM text. */
  readonly ca: string | undefined;
  /** The Aedes instance, for hooks (authorizePublish, authorizeSubscribe, …). */
  readonly aedes: Aedes;
  /** Listen for client publishes; returns a function that removes the listener. */
  onPublish(listener: (msg: BrokerPublish) => void): () => void;
  /** Install (or with null, remove) the sign-in check. Without one every client is accepted. */
  setAuthenticator(fn: Authenticator | null): void;
  /** Stop listening, drop every connection and close Aedes. Idempotent; never hangs. */
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  /** 0 = an ephemeral port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  log?: Logger;
  authenticate?: Authenticator;
  /** Also serve MQTT over TLS on this port (0 = an ephemeral port). Needs `stateDir`. */
  tlsPort?: number;
  /** Where the TLS CA and server certificate are kept (`<stateDir>/tls/`); created when missing. */
  stateDir?: string;
  /** Be one node of a cluster meeting in this Redis (issue 12 §1). */
  cluster?: { redis: RedisEndpoint; nodeId: string };
}

/**
 * The Redis side of a cluster node's broker: the message bus (a Redis stream, see
 * redis-stream-bus.ts), the persistence, and their connections.
 */
async function clusterParts(cluster: NonNullable<EmbeddedBrokerOptions['cluster']>, log: Logger): Promise<{ aedesOpts: Record<string, unknown>; conns: Redis[] }> {
  const { openRedis, openRedisStreamBus, persistenceRedis } = await clusterModules();
  const ep = cluster.redis;
  const readConn = openRedis(ep, 'broker-bus-read', log);
  // Auto-pipelining sends the XADDs of one event-loop turn as one write.
  const pubConn = openRedis(ep, 'broker-bus-write', log, { enableAutoPipelining: true });
  const dbConn = openRedis(ep, 'broker-persistence', log);
  const conns = [readConn, pubConn, dbConn];
  try {
    const mq = await openRedisStreamBus({ pubConn, readConn, log });
    const persistence = persistenceRedis({ conn: dbConn });
    return { aedesOpts: { id: cluster.nodeId, mq, persistence }, conns };
  } catch (err) {
    for (const c of conns) c.disconnect();
    throw err;
  }
}

const CLOSE_TIMEOUT_MS = 2000;

type ErrnoError = Error & { code?: string };

function authError(returnCode: number, message: string): Error & { returnCode: number } {
  const err = new Error(message) as Error & { returnCode: number };
  err.returnCode = returnCode;
  return err;
}

function ignore(): void {}

type Listener = net.Server | tls.Server;

/** Listen, or reject with a message that names the port and the option to change. */
async function listen(server: Listener, port: number, host: string, what: string, option: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: ErrnoError): void => {
        server.removeListener('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        server.removeListener('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
  } catch (e) {
    const err = e as ErrnoError;
    let message = `cannot start the embedded ${what === 'MQTT' ? 'MQTT broker' : `${what} listener`} on ${host}:${port}: ${err.message}`;
    if (err.code === 'EADDRINUSE') {
      message = `${what} port ${port} on ${host} is already in use; choose another ${option}`;
    } else if (err.code === 'EACCES') {
      message = `no permission to listen on ${what} port ${port} on ${host}; choose another ${option} (above 1023)`;
    }
    const wrapped: ErrnoError = new Error(message, { cause: err });
    if (err.code !== undefined) wrapped.code = err.code;
    throw wrapped;
  }
}

function closeServer(server: Listener): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = (opts.log ?? silentLogger()).child({ component: 'broker' });
  const host = opts.host ?? '127.0.0.1';
  if (opts.tlsPort !== undefined && !opts.stateDir) {
    throw new Error('the embedded broker needs a state directory (stateDir) to keep its TLS certificates');
  }
  // Certificates first: nothing is listening yet if they cannot be made.
  const material =
    opts.tlsPort !== undefined ? await ensureTlsMaterial(opts.stateDir!, opts.log ? { log: opts.log } : {}) : undefined;

  const cluster = opts.cluster ? await clusterParts(opts.cluster, log) : undefined;
  let aedes: Aedes;
  try {
    aedes = await Aedes.createBroker(cluster?.aedesOpts ?? {});
  } catch (err) {
    for (const c of cluster?.conns ?? []) c.disconnect();
    throw err;
  }
  const sockets = new Set<net.Socket>();
  const track = (sock: net.Socket): void => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  };
  // No Nagle: a PUBLISH to a subscriber goes out at once, not after the ACK of the previous
  // segment (up to a delayed-ACK timeout of 40 ms on Linux; issue 12 §3, downlink p99).
  const server = net.createServer({ noDelay: true }, aedes.handle);
  server.on('connection', track);
  const servers: Listener[] = [server];

  let tlsServer: tls.Server | undefined;
  if (material) {
    tlsServer = tls.createServer(
      // Ask for a client certificate, verify it against our CA, but let the authenticator decide.
      { key: material.key, cert: material.cert, ca: [material.ca], requestCert: true, rejectUnauthorized: false },
      (sock) => aedes.handle(sock),
    );
    // 'connection' carries the raw TCP socket: destroying it also ends a stalled handshake.
    tlsServer.on('connection', track);
    tlsServer.on('tlsClientError', (err: ErrnoError) => log.debug({ err: err.message, code: err.code }, 'TLS handshake failed'));
    servers.push(tlsServer);
  }

  try {
    await listen(server, opts.port, host, 'MQTT', '--mqtt-port');
    if (tlsServer) await listen(tlsServer, opts.tlsPort!, host, 'MQTT TLS', 'TLS port');
  } catch (err) {
    await Promise.all(servers.filter((s) => s.listening).map(closeServer));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const c of cluster?.conns ?? []) c.disconnect();
    throw err;
  }
  for (const s of servers) s.on('error', (err) => log.warn({ err }, 'broker listener error'));

  const address = server.address() as net.AddressInfo;
  const tlsInfo = tlsServer && material
    ? { port: (tlsServer.address() as net.AddressInfo).port, caPath: material.caPath, ca: material.ca }
    : undefined;
  const broker = new Broker(aedes, servers, sockets, host, address.port, tlsInfo, log, cluster?.conns ?? []);
  if (opts.authenticate) broker.setAuthenticator(opts.authenticate);
  log.debug({ host, port: address.port, tlsPort: tlsInfo?.port, caPath: tlsInfo?.caPath }, 'embedded broker listening');
  return broker;
}

function peerCertificateOf(conn: unknown): PeerCertificate | undefined {
  if (!(conn instanceof tls.TLSSocket)) return undefined;
  const cert = conn.getPeerCertificate(false);
  // An empty object means no certificate was presented.
  if (!cert || !cert.raw) return undefined;
  const cn = cert.subject?.CN;
  return {
    fingerprint256: cert.fingerprint256,
    commonName: Array.isArray(cn) ? cn[0] : cn,
    authorized: conn.authorized,
    raw: cert.raw,
  };
}

class Broker extends EventEmitter<EmbeddedBrokerEvents> implements EmbeddedBroker {
  readonly url: string;
  readonly tlsPort: number | undefined;
  readonly tlsUrl: string | undefined;
  readonly caPath: string | undefined;
  readonly ca: string | undefined;
  private closing: Promise<void> | null = null;

  constructor(
    readonly aedes: Aedes,
    private readonly servers: Listener[],
    private readonly sockets: Set<net.Socket>,
    readonly host: string,
    readonly port: number,
    tlsInfo: { port: number; caPath: string; ca: string } | undefined,
    private readonly log: Logger,
    /** A cluster node's Redis connections, ended after Aedes closes. */
    private readonly redisConns: Redis[] = [],
  ) {
    super();
    this.url = `mqtt://${host}:${port}`;
    this.tlsPort = tlsInfo?.port;
    this.tlsUrl = tlsInfo ? `mqtts://${host}:${tlsInfo.port}` : undefined;
    this.caPath = tlsInfo?.caPath;
    this.ca = tlsInfo?.ca;

    aedes.on('client', (client: Client) => {
      log.debug({ clientId: client.id }, 'client connected');
    });
    aedes.on('clientDisconnect', (client: Client) => {
      log.debug({ clientId: client.id }, 'client disconnected');
    });
    aedes.on('clientError', (client: Client, err: Error) => {
      log.debug({ clientId: client.id, err: err.message }, 'client error');
    });
    aedes.on('connectionError', (_client: Client, err: Error) => {
      log.debug({ err: err.message }, 'connection error');
    });
    aedes.on('keepaliveTimeout', (client: Client) => {
      log.debug({ clientId: client.id }, 'client keepalive timeout');
    });
    aedes.on('subscribe', (subs, client: Client) => {
      log.debug({ clientId: client?.id, subscriptions: subs.map((s) => ({ topic: s.topic, qos: s.qos })) }, 'client subscribed');
    });
    aedes.on('unsubscribe', (topics: string[], client: Client) => {
      log.debug({ clientId: client?.id, topics }, 'client unsubscribed');
    });
    aedes.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
      if (!client || packet.topic.startsWith('$SYS')) return;
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : Buffer.from(packet.payload);
      this.emit('publish', {
        clientId: client.id,
        topic: packet.topic,
        payload,
        qos: packet.qos,
        retain: packet.retain,
        dup: packet.dup,
        messageId: packet.messageId ?? 0,
      });
    });
  }

  onPublish(listener: (msg: BrokerPublish) => void): () => void {
    this.on('publish', listener);
    return () => {
      this.removeListener('publish', listener);
    };
  }

  setAuthenticator(fn: Authenticator | null): void {
    if (!fn) {
      this.aedes.authenticate = (_client, _username, _password, done) => done(null, true);
      return;
    }
    const log = this.log;
    this.aedes.authenticate = (client, username, password, done) => {
      const peerCertificate = peerCertificateOf(client.conn);
      const req: AuthRequest = {
        clientId: client.id,
        username: username ?? undefined,
        password: password ? Buffer.from(password) : undefined,
        remoteAddress: (client.conn as net.Socket).remoteAddress,
        transport: client.conn instanceof tls.TLSSocket ? 'tls' : 'tcp',
        peerCertificate,
        client,
      };
      Promise.resolve()
        .then(() => fn(req))
        .then(
          (decision) => {
            if (decision === true || decision === 0) {
              log.debug({ clientId: client.id, username }, 'sign-in accepted');
              done(null, true);
              return;
            }
            const code = decision === false ? 5 : decision;
            log.debug({ clientId: client.id, username, returnCode: code }, 'sign-in refused');
            done(authError(code, 'sign-in refused') as Parameters<typeof done>[0], false);
          },
          (err: unknown) => {
            const rc = (err as { returnCode?: unknown })?.returnCode;
            const code = typeof rc === 'number' ? rc : 5;
            log.debug({ clientId: client.id, username, returnCode: code, err: String(err) }, 'sign-in check failed');
            done(authError(code, 'sign-in refused') as Parameters<typeof done>[0], false);
          },
        );
    };
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.log.debug({ port: this.port, tlsPort: this.tlsPort }, 'embedded broker closing');
    const aedesClosed = new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    const serverClosed = Promise.all(this.servers.map(closeServer));
    for (const sock of this.sockets) sock.destroy();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn('embedded broker did not close in time; giving up waiting');
        resolve();
      }, CLOSE_TIMEOUT_MS);
    });
    this.closing = Promise.race([Promise.all([aedesClosed, serverClosed]).then(ignore), deadline]).then(() => {
      clearTimeout(timer);
      for (const sock of this.sockets) sock.destroy();
      for (const c of this.redisConns) c.disconnect();
      this.log.debug({ port: this.port }, 'embedded broker closed');
    });
    return this.closing;
  }
}
