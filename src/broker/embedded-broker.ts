/**
 * The embedded MQTT broker (Aedes 1.x over plain TCP), used when vmodem is not pointed at an
 * external broker. Later code installs sign-in checks with `setAuthenticator` and reaches the
 * other Aedes hooks through `aedes`.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';

/** What a client asked to sign in with. */
export interface AuthRequest {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  /** Peer address of the TCP connection, when known. */
  remoteAddress: string | undefined;
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
}

const CLOSE_TIMEOUT_MS = 2000;

type ErrnoError = Error & { code?: string };

function authError(returnCode: number, message: string): Error & { returnCode: number } {
  const err = new Error(message) as Error & { returnCode: number };
  err.returnCode = returnCode;
  return err;
}

function ignore(): void {}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = (opts.log ?? silentLogger()).child({ component: 'broker' });
  const host = opts.host ?? '127.0.0.1';
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });

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
      server.listen(opts.port, host);
    });
  } catch (e) {
    const err = e as ErrnoError;
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    let message = `cannot start the embedded MQTT broker on ${host}:${opts.port}: ${err.message}`;
    if (err.code === 'EADDRINUSE') {
      message = `MQTT port ${opts.port} on ${host} is already in use; choose another --mqtt-port`;
    } else if (err.code === 'EACCES') {
      message = `no permission to listen on MQTT port ${opts.port} on ${host}; choose another --mqtt-port (above 1023)`;
    }
    const wrapped: ErrnoError = new Error(message, { cause: err });
    if (err.code !== undefined) wrapped.code = err.code;
    throw wrapped;
  }
  server.on('error', (err) => log.warn({ err }, 'broker listener error'));

  const address = server.address() as net.AddressInfo;
  const broker = new Broker(aedes, server, sockets, host, address.port, log);
  if (opts.authenticate) broker.setAuthenticator(opts.authenticate);
  log.debug({ host, port: address.port }, 'embedded broker listening');
  return broker;
}

class Broker extends EventEmitter<EmbeddedBrokerEvents> implements EmbeddedBroker {
  readonly url: string;
  private closing: Promise<void> | null = null;

  constructor(
    readonly aedes: Aedes,
    private readonly server: net.Server,
    private readonly sockets: Set<net.Socket>,
    readonly host: string,
    readonly port: number,
    private readonly log: Logger,
  ) {
    super();
    this.url = `mqtt://${host}:${port}`;

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
      const req: AuthRequest = {
        clientId: client.id,
        username: username ?? undefined,
        password: password ? Buffer.from(password) : undefined,
        remoteAddress: (client.conn as net.Socket).remoteAddress,
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
    this.log.debug({ port: this.port }, 'embedded broker closing');
    const aedesClosed = new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
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
      this.log.debug({ port: this.port }, 'embedded broker closed');
    });
    return this.closing;
  }
}
