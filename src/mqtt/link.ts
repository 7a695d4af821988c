/**
 * The real MQTT session behind the vendor command sets: one TCP/TLS transport (`openLink`) that
 * can carry one MQTT connection (`link.connect`).
 *
 * mqtt.js owns CONNECT/CONNACK, keepalive (PINGREQ/PINGRESP) and the acknowledgement of incoming
 * QoS 1/2 messages. Our own SUBSCRIBE, UNSUBSCRIBE and QoS>0 PUBLISH flows are written onto the
 * socket here (with mqtt-packet, the encoder mqtt.js itself uses) so that each request carries
 * the packet id the firmware chose, gets the module's per-request timeout/retransmission
 * behaviour (DUP=1 resends), and can be abandoned cleanly so the id is reusable. mqtt.js never
 * sees these packet ids, so it ignores the matching acks ("ack in error") and never queues,
 * stores or reconnects anything on our behalf.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { MqttClient, type IClientOptions } from 'mqtt';
import { generate, writeToStream, type Packet, type IPublishPacket } from 'mqtt-packet';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import {
  LinkOpenError,
  type AckOutcome,
  type CloseReason,
  type ConnectOptions,
  type ConnectOutcome,
  type LinkState,
  type MqttLink,
  type MqttLinkEvents,
  type OpenFailure,
  type OpenOptions,
  type RetryPolicy,
} from './types.js';

/**
 * Optional extras a caller may put on the {@link RetryPolicy} it passes to a request. This link
 * honours them; without them its behaviour is exactly the plain policy's.
 */
export interface RetryPolicyExtras extends RetryPolicy {
  /**
   * Multiply the wait by this factor after each retransmission (2 = the wait doubles, as modules
   * with "interval doubling" retransmission do). Default 1: every wait is `timeoutMs`.
   */
  backoff?: number;
  /** QoS 2 PUBLISH only: called once when the PUBREC arrives (before the PUBREL goes out). */
  onPubrec?: () => void;
}

/**
 * mqtt.js's keepalive timer (setInterval semantics) on our clock, so PINGREQ and the missing-
 * PINGRESP check run in the same time as everything else the module does (virtual in tests).
 */
function intervalTimer(clock: Clock): { set: (cb: () => void, ms: number) => number; clear: (id: number) => void } {
  const running = new Map<number, TimerHandle>();
  let next = 1;
  return {
    set: (cb, ms) => {
      const id = next++;
      const arm = (): void => {
        running.set(
          id,
          clock.setTimeout(() => {
            if (!running.has(id)) return;
            arm();
            cb();
          }, ms),
        );
      };
      arm();
      return id;
    },
    clear: (id) => {
      const t = running.get(id);
      if (t !== undefined) clock.clearTimeout(t);
      running.delete(id);
    },
  };
}

// mqtt-packet fills a 65,536-entry table of 2-byte buffers the first time it writes a number
// (packet id, keepalive) — inside the first AT+QMTCONN, whose OK it held back by 35 ms to 1 s.
// Allocating two bytes per packet costs nothing measurable, so the table is never built.
writeToStream.cacheNumbers = false;

const noLog = (): void => undefined;

/** How long `disconnect()` waits for the broker to close after DISCONNECT before destroying. */
const DISCONNECT_GRACE_MS = 3000;

type ErrnoError = Error & { code?: string | number };

function errorWithCode(message: string, code: string): ErrnoError {
  const err: ErrnoError = new Error(message);
  err.code = code;
  return err;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const NET_DOWN_CODES = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN']);

function classifyOpenError(err: ErrnoError, tlsTarget: boolean, tcpConnected: boolean): OpenFailure {
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (DNS_CODES.has(code)) return 'dns';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (NET_DOWN_CODES.has(code)) return 'network-down';
  // Anything failing after the TCP handshake of a TLS target is a TLS failure (bad certificate,
  // handshake alert, the server hanging up on our ClientHello, …).
  if (tlsTarget && (tcpConnected || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))) return 'tls';
  return 'error';
}

/**
 * Open the transport to `opts.target`. Resolves once TCP is connected (TLS: after the handshake
 * and certificate check); rejects with a {@link LinkOpenError}.
 */
export async function openLink(opts: OpenOptions & { log?: Logger; clock?: Clock }): Promise<MqttLink> {
  const log = (opts.log ?? silentLogger()).child({ component: 'mqtt' });
  const { target } = opts;
  const clock = opts.clock ?? realClock;
  const where = `${target.host}:${target.port}`;
  log.debug({ host: target.host, port: target.port, tls: target.tls }, 'opening transport');

  const socket = await new Promise<net.Socket>((resolve, reject) => {
    let settled = false;
    let tcpConnected = false;
    let sock: net.Socket;
    if (target.tls) {
      const tlsOpts: tls.ConnectionOptions = {
        host: target.host,
        port: target.port,
        // Through vmodem's fault proxy; the host still names the server for the certificate check.
        ...(target.path ? { path: target.path } : {}),
        rejectUnauthorized: target.rejectUnauthorized ?? true,
      };
      if (!net.isIP(target.host)) tlsOpts.servername = target.host;
      if (target.ca !== undefined) tlsOpts.ca = target.ca;
      if (target.cert !== undefined) tlsOpts.cert = target.cert;
      if (target.key !== undefined) tlsOpts.key = target.key;
      sock = tls.connect(tlsOpts);
      // 'connect' is the TCP handshake; 'secureConnect' the TLS one.
      sock.once('connect', () => {
        tcpConnected = true;
      });
    } else {
      sock = target.path ? net.connect({ path: target.path }) : net.connect({ host: target.host, port: target.port });
    }
    const fail = (reason: OpenFailure, message: string): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.on('error', () => {});
      sock.destroy();
      log.debug({ host: target.host, port: target.port, reason }, 'transport open failed');
      reject(new LinkOpenError(reason, message));
    };
    const timer = clock.setTimeout(() => {
      fail('timeout', `connecting to ${where} timed out after ${opts.timeoutMs} ms`);
    }, opts.timeoutMs);
    sock.once('error', (err: ErrnoError) => {
      const reason = classifyOpenError(err, target.tls, tcpConnected);
      fail(reason, `cannot open ${target.tls ? 'TLS' : 'TCP'} connection to ${where}: ${err.message}`);
    });
    sock.once('close', () => {
      fail(target.tls && tcpConnected ? 'tls' : 'error', `connection to ${where} closed while opening`);
    });
    sock.once(target.tls ? 'secureConnect' : 'connect', () => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.removeAllListeners('close');
      resolve(sock);
    });
  });

  socket.setNoDelay(true);
  return new Link(socket, where, log, clock);
}

/**
 * An MQTT link over a stream that is already connected (the in-memory broker link, a test
 * double). Same behaviour as a TCP link; timers run on `clock`.
 */
export function linkOverStream(stream: Duplex, where: string, log: Logger, clock: Clock = realClock): MqttLink {
  return new Link(stream, where, log.child({ component: 'mqtt' }), clock);
}

interface PendingRequest {
  messageId: number;
  kind: 'publish' | 'subscribe' | 'unsubscribe';
  /** The packet to resend on timeout (PUBLISH is resent with DUP=1). */
  packet: Packet;
  qos: 0 | 1 | 2;
  /** QoS 2 only: PUBREC arrived, PUBREL sent, waiting for PUBCOMP. */
  released: boolean;
  policy: RetryPolicy;
  retransmissions: number;
  timer: TimerHandle | null;
  // Outcome widened to unknown values; each caller narrows it back.
  finish: (outcome: AckOutcome<unknown>) => void;
}

function isValidId(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id <= 0xffff;
}

class Link extends EventEmitter<MqttLinkEvents> implements MqttLink {
  private _state: LinkState = 'open';
  private client: MqttClient | null = null;
  private protocolVersion: 3 | 4 = 4;
  private readonly pending = new Map<number, PendingRequest>();
  /** Set by whoever knows why the socket is going away, before it closes. */
  private closeReason: CloseReason | null = null;
  private sawError = false;
  private connectWaiter: ((outcome: ConnectOutcome) => void) | null = null;
  private disconnectPromise: Promise<void> | null = null;
  private readonly closed: Promise<void>;

  constructor(
    private readonly socket: Duplex,
    private readonly where: string,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    super();
    let markClosed!: () => void;
    this.closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    socket.on('error', (err: ErrnoError) => {
      this.sawError = true;
      this.log.debug({ err: err.message, code: err.code }, 'socket error');
    });
    socket.once('close', () => {
      this.onSocketClosed();
      markClosed();
    });
    this.log.debug({ broker: where }, 'link open');
  }

  get state(): LinkState {
    return this._state;
  }

  private setState(next: LinkState): void {
    if (next === this._state) return;
    this.log.debug({ from: this._state, to: next, broker: this.where }, 'link state');
    this._state = next;
  }

  // ---------------------------------------------------------------- CONNECT

  connect(opts: ConnectOptions): Promise<ConnectOutcome> {
    if (this._state === 'closed') return Promise.resolve({ kind: 'closed' });
    if (this._state !== 'open') {
      return Promise.reject(errorWithCode(`connect() is only valid in state 'open' (now '${this._state}')`, 'EBADSTATE'));
    }
    this.protocolVersion = opts.protocolVersion;
    this.setState('connecting');
    this.log.debug(
      {
        clientId: opts.clientId,
        username: opts.username,
        hasPassword: opts.password !== undefined,
        protocolVersion: opts.protocolVersion,
        keepalive: opts.keepalive,
        clean: opts.clean,
        will: opts.will ? { topic: opts.will.topic, qos: opts.will.qos, retain: opts.will.retain } : undefined,
      },
      'sending CONNECT',
    );

    const options: IClientOptions = {
      manualConnect: true,
      reconnectPeriod: 0,
      // Our own timer decides the CONNACK timeout; keep mqtt.js's out of the way.
      connectTimeout: opts.timeoutMs + 60_000,
      clientId: opts.clientId,
      protocolId: opts.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: opts.protocolVersion,
      keepalive: opts.keepalive,
      clean: opts.clean,
      resubscribe: false,
      queueQoSZero: false,
      timerVariant: intervalTimer(this.clock) as unknown as IClientOptions['timerVariant'],
      // See writeToStream.cacheNumbers above (mqtt.js would otherwise turn the table back on).
      writeCache: false,
      // mqtt.js logs through `debug` several times per packet; even switched off, each call
      // gathers its arguments into an array (a fleet's garbage, issue 12 §3). With DEBUG unset
      // nothing would be printed anyway.
      ...(process.env.DEBUG ? {} : { log: noLog }),
    };
    if (opts.username !== undefined) options.username = opts.username;
    if (opts.password !== undefined) options.password = opts.password;
    if (opts.will) {
      options.will = {
        topic: opts.will.topic,
        payload: opts.will.payload,
        qos: opts.will.qos,
        retain: opts.will.retain,
      };
    }

    const client = new MqttClient(() => this.socket, options);
    this.client = client;

    client.on('error', (err: ErrnoError) => {
      // Never unhandled. Socket errors also reach us directly; protocol errors make mqtt.js
      // destroy the stream, so remember that the link ended on an error.
      this.log.debug({ err: err.message, code: err.code }, 'mqtt client error');
      if (this._state !== 'connecting') this.sawError = true;
    });
    // mqtt.js signals a missing PINGRESP by calling onKeepaliveTimeout() (which destroys the
    // stream and emits 'error' "Keepalive timeout"): tag the close reason first.
    const onKeepaliveTimeout = client.onKeepaliveTimeout.bind(client);
    client.onKeepaliveTimeout = () => {
      this.log.debug('no PINGRESP within the keepalive allowance');
      if (!this.closeReason) this.closeReason = 'ping-timeout';
      onKeepaliveTimeout();
    };
    client.on('packetreceive', (packet: Packet) => this.onPacket(packet));
    client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
      this.emit('message', {
        topic,
        payload,
        qos: packet.qos,
        retain: packet.retain,
        dup: packet.dup,
        messageId: packet.messageId ?? 0,
      });
    });

    return new Promise<ConnectOutcome>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.log.debug({ timeoutMs: opts.timeoutMs }, 'no CONNACK in time');
        settle({ kind: 'timeout' });
        // A CONNECT cannot be retried on the same connection: drop the transport.
        if (!this.closeReason) this.closeReason = 'local';
        this.socket.destroy();
      }, opts.timeoutMs);
      const settle = (outcome: ConnectOutcome): void => {
        if (this.connectWaiter !== settle) return;
        this.connectWaiter = null;
        this.clock.clearTimeout(timer);
        client.removeListener('connect', onConnect);
        resolve(outcome);
      };
      const onConnect = (packet: { sessionPresent?: boolean }): void => {
        if (this._state === 'connecting') this.setState('connected');
        // Modules that ping on their own schedule (OneMO "pingreq") announce <keepalive> in
        // CONNECT but send PINGREQ every <pingIntervalSec>.
        const manager = (client as unknown as { keepaliveManager?: { setKeepalive(s: number): void } | null }).keepaliveManager;
        if (opts.pingIntervalSec && manager) manager.setKeepalive(opts.pingIntervalSec);
        settle({ kind: 'accepted', sessionPresent: Boolean(packet.sessionPresent) });
      };
      this.connectWaiter = settle;
      client.once('connect', onConnect);
      client.connect();
    });
  }

  // ---------------------------------------------------------------- incoming packets

  private onPacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'connack': {
        const rc = packet.returnCode ?? 0;
        if (rc !== 0) {
          this.log.debug({ returnCode: rc }, 'CONNACK refused');
          // mqtt.js destroys the stream after a refusal; the broker would close it anyway.
          if (!this.closeReason) this.closeReason = 'remote-closed';
          this.connectWaiter?.({ kind: 'refused', returnCode: rc });
        } else {
          this.log.debug({ sessionPresent: packet.sessionPresent }, 'CONNACK accepted');
        }
        return;
      }
      case 'pingresp':
        this.emit('pingresp');
        return;
      case 'puback': {
        const p = this.pendingOf(packet.messageId, 'publish');
        if (p && p.qos === 1) this.complete(p, { kind: 'ok', value: undefined });
        return;
      }
      case 'pubrec': {
        const id = packet.messageId ?? 0;
        const p = this.pendingOf(id, 'publish');
        if (p && p.qos === 2) {
          if (!p.released) {
            p.released = true;
            p.packet = { cmd: 'pubrel', messageId: id };
            this.armTimer(p);
            try {
              (p.policy as RetryPolicyExtras).onPubrec?.();
            } catch (err) {
              this.log.warn({ err }, 'onPubrec callback threw');
            }
          }
          this.write(p.packet);
        } else if (!p && !this.pending.has(id)) {
          // A late PUBREC for a publish we gave up on: release it so the broker forgets it.
          this.write({ cmd: 'pubrel', messageId: id });
        }
        return;
      }
      case 'pubcomp': {
        const p = this.pendingOf(packet.messageId, 'publish');
        if (p && p.qos === 2) this.complete(p, { kind: 'ok', value: undefined });
        return;
      }
      case 'suback': {
        const p = this.pendingOf(packet.messageId, 'subscribe');
        if (p) this.complete(p, { kind: 'ok', value: [...(packet.granted as number[])] });
        return;
      }
      case 'unsuback': {
        const p = this.pendingOf(packet.messageId, 'unsubscribe');
        if (p) this.complete(p, { kind: 'ok', value: undefined });
        return;
      }
      default:
        return;
    }
  }

  private pendingOf(id: number | undefined, kind: PendingRequest['kind']): PendingRequest | undefined {
    if (id === undefined) return undefined;
    const p = this.pending.get(id);
    return p && p.kind === kind ? p : undefined;
  }

  // ---------------------------------------------------------------- requests

  subscribe(
    messageId: number,
    topics: { topic: string; qos: 0 | 1 | 2 }[],
    retry: RetryPolicy,
  ): Promise<AckOutcome<number[]>> {
    return this.request('subscribe', messageId, 1, retry, {
      cmd: 'subscribe',
      messageId,
      subscriptions: topics.map((t) => ({ topic: t.topic, qos: t.qos })),
    }) as Promise<AckOutcome<number[]>>;
  }

  unsubscribe(messageId: number, topics: string[], retry: RetryPolicy): Promise<AckOutcome> {
    return this.request('unsubscribe', messageId, 1, retry, {
      cmd: 'unsubscribe',
      messageId,
      unsubscriptions: [...topics],
    }) as Promise<AckOutcome>;
  }

  publish(
    messageId: number,
    topic: string,
    payload: Buffer,
    opts: { qos: 0 | 1 | 2; retain: boolean },
    retry: RetryPolicy,
  ): Promise<AckOutcome> {
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic,
      payload,
      qos: opts.qos,
      retain: opts.retain,
      dup: false,
    };
    if (opts.qos === 0) {
      const notReady = this.checkReady();
      if (notReady) return notReady as Promise<AckOutcome>;
      return new Promise<AckOutcome>((resolve) => {
        const ok = this.write(packet, (err) => {
          resolve(err ? { kind: 'closed' } : { kind: 'ok', value: undefined });
        });
        if (!ok) resolve({ kind: 'closed' });
      });
    }
    packet.messageId = messageId;
    return this.request('publish', messageId, opts.qos, retry, packet) as Promise<AckOutcome>;
  }

  inflightIds(): number[] {
    const ids: number[] = [];
    for (const p of this.pending.values()) if (p.kind === 'publish') ids.push(p.messageId);
    return ids.sort((a, b) => a - b);
  }

  /** Undefined when requests may be sent; else the promise to hand back. */
  private checkReady(): Promise<AckOutcome<unknown>> | undefined {
    if (this._state === 'closed') return Promise.resolve({ kind: 'closed' });
    if (this._state !== 'connected') {
      return Promise.reject(errorWithCode(`not connected (state '${this._state}')`, 'ENOTCONN'));
    }
    return undefined;
  }

  private request(
    kind: PendingRequest['kind'],
    messageId: number,
    qos: 0 | 1 | 2,
    policy: RetryPolicy,
    packet: Packet,
  ): Promise<AckOutcome<unknown>> {
    const notReady = this.checkReady();
    if (notReady) return notReady;
    if (!isValidId(messageId)) {
      return Promise.reject(errorWithCode(`packet id ${messageId} is not in 1..65535`, 'EINVAL'));
    }
    if (this.pending.has(messageId)) {
      return Promise.reject(errorWithCode(`packet id ${messageId} is still in flight`, 'EINFLIGHT'));
    }
    return new Promise<AckOutcome<unknown>>((resolve) => {
      const p: PendingRequest = {
        messageId,
        kind,
        packet,
        qos,
        released: false,
        policy,
        retransmissions: 0,
        timer: null,
        finish: resolve,
      };
      this.pending.set(messageId, p);
      this.log.debug({ kind, messageId, qos }, 'request sent');
      this.armTimer(p);
      this.write(packet);
    });
  }

  private armTimer(p: PendingRequest): void {
    if (p.timer) this.clock.clearTimeout(p.timer);
    const backoff = (p.policy as RetryPolicyExtras).backoff ?? 1;
    const waitMs = p.policy.timeoutMs * backoff ** p.retransmissions;
    p.timer = this.clock.setTimeout(() => this.onRequestTimeout(p), waitMs);
  }

  private onRequestTimeout(p: PendingRequest): void {
    p.timer = null;
    if (this.pending.get(p.messageId) !== p) return;
    if (p.retransmissions >= p.policy.retries) {
      this.log.debug({ kind: p.kind, messageId: p.messageId, retries: p.retransmissions }, 'request timed out');
      this.complete(p, { kind: 'timeout' });
      return;
    }
    p.retransmissions += 1;
    try {
      p.policy.onRetransmit?.(p.retransmissions);
    } catch (err) {
      this.log.warn({ err }, 'onRetransmit callback threw');
    }
    if (this.pending.get(p.messageId) !== p) return; // the callback may have closed the link
    if (p.packet.cmd === 'publish') p.packet = { ...p.packet, dup: true };
    this.log.debug(
      { kind: p.kind, messageId: p.messageId, count: p.retransmissions, packet: p.packet.cmd },
      'retransmitting',
    );
    this.armTimer(p);
    this.write(p.packet);
  }

  private complete(p: PendingRequest, outcome: AckOutcome<unknown>): void {
    if (this.pending.get(p.messageId) !== p) return;
    this.pending.delete(p.messageId);
    if (p.timer) this.clock.clearTimeout(p.timer);
    p.timer = null;
    if (outcome.kind === 'ok') this.log.debug({ kind: p.kind, messageId: p.messageId }, 'request acknowledged');
    p.finish(outcome);
  }

  /** Encode and write one packet; false if the socket can no longer be written. */
  private write(packet: Packet, cb?: (err?: Error | null) => void): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    const buf = generate(packet, { protocolVersion: this.protocolVersion });
    this.socket.write(buf, cb);
    return true;
  }

  // ---------------------------------------------------------------- closing

  disconnect(): Promise<void> {
    if (this.disconnectPromise) return this.disconnectPromise;
    if (this._state === 'closed') return Promise.resolve();
    const client = this.client;
    if (this._state !== 'connected' || !client) {
      // No MQTT session to end: just close the transport.
      this.destroy();
      return this.closed;
    }
    this.setState('disconnecting');
    if (!this.closeReason) this.closeReason = 'disconnected';
    // mqtt.js only sends DISCONNECT once nothing of its own is outstanding; ours are not its.
    client.end(false);
    const grace = this.clock.setTimeout(() => {
      this.log.debug('broker did not close after DISCONNECT; destroying the socket');
      this.socket.destroy();
    }, DISCONNECT_GRACE_MS);
    this.disconnectPromise = this.closed.then(() => this.clock.clearTimeout(grace));
    return this.disconnectPromise;
  }

  destroy(): void {
    if (this._state === 'closed' || this.socket.destroyed) return;
    if (!this.closeReason) this.closeReason = 'local';
    this.socket.destroy();
  }

  private onSocketClosed(): void {
    const reason: CloseReason = this.closeReason ?? (this.sawError ? 'error' : 'remote-closed');
    this.setState('closed');
    this.log.debug({ reason, broker: this.where }, 'link closed');
    this.connectWaiter?.({ kind: 'closed' });
    for (const p of [...this.pending.values()]) this.complete(p, { kind: 'closed' });
    this.emit('close', reason);
  }
}
