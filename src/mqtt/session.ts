/**
 * The MQTT session core: the one implementation of what every MQTT-over-AT module does with its
 * broker connection. Vendor command sets are adapters on top of it: they decode AT arguments,
 * call the core, and turn its neutral results and events into their own result codes and URCs.
 *
 *   idle ─open()─▶ opening ─▶ open ─connect()─▶ connecting ─CONNACK 0─▶ connected
 *     ▲                         │ refused: back to open (the broker closes next)   │
 *     │                         ▼                                                   │ lost
 *     └──── close() / disconnect() / networkLost() / link closed ◀── reconnecting ◀─┘ (policy)
 *
 * `start()` is open + connect as one step (modules with a single connect command); a failed step
 * closes the transport again, and a later loss may be retried by the vendor's reconnect policy.
 *
 * What the core guarantees, whatever the firmware or the network does:
 * - No method throws or rejects. A request the core cannot carry out resolves as
 *   `{ kind: 'rejected', reason }`, which each vendor maps to its documented error.
 * - Packet ids follow the vendor's rule ({@link PacketIdRule}); an id still in flight is never
 *   sent twice [MQTT-2.3.1-2] — the request is rejected instead.
 * - Every timer runs on the injected {@link Clock} and dies with `destroy()`.
 * - Received messages are emitted one macrotask after they arrive, so a result parsed from the
 *   same TCP read (CONNACK, SUBACK) is reported first, as modules do; messages that arrive while a
 *   connection is still being reported wait for it.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { sleepOn, type Clock, type TimerHandle } from '../util/clock.js';
import { nextPacketId } from './packet-ids.js';
import {
  LinkOpenError,
  type AckOutcome,
  type BrokerTarget,
  type CloseReason,
  type ConnectOptions,
  type IncomingMessage,
  type LinkOpener,
  type MqttLink,
  type OpenFailure,
  type RetryPolicy,
} from './types.js';
import type { RetryPolicyExtras } from './link.js';
import type { NetworkTiming } from './network-timing.js';

export type SessionState = 'idle' | 'opening' | 'open' | 'connecting' | 'connected' | 'reconnecting' | 'disconnecting';

/**
 * Who numbers the packets.
 * - `caller`: the AT command carries the id (Quectel <msgid>); QoS 0 publishes carry none.
 * - `counter`: the module counts from 1, wrapping after 65535 and skipping ids in flight.
 *   `qos0TakesId`: QoS 0 publishes consume a number too (OneMO, YUGE). `afterConnect`: an
 *   accepted CONNECT sets the counter to this value (YUGE counts the CONNECT as packet 1).
 */
export type PacketIdRule =
  /** `zeroPicks`: a caller id of 0 (not a packet id [MQTT-2.3.1-1]) lets the module pick one. */
  | { source: 'caller'; zeroPicks?: boolean }
  | { source: 'counter'; qos0TakesId: boolean; afterConnect?: number };

/** Wait before reconnection attempt `attempt` (1-based), or undefined to give up. */
export type ReconnectDelays = (attempt: number) => number | undefined;

export interface SessionOptions {
  /** Used in logs and `inspect()`: the vendor's index or name for this client. */
  name: string;
  links: LinkOpener;
  clock: Clock;
  log: Logger;
  /** Whether the data network can carry a connection now. */
  dataReady: () => boolean;
  ids: PacketIdRule;
  /** The reconnect policy in force when an established connection is lost (none: stay down). */
  reconnect?: () => ReconnectDelays | undefined;
  /**
   * After a reconnection, subscribe again to every topic the session held when the connection was
   * lost (Tencent's SDK). A clean session's CONNACK empties `subscriptions` first; what the broker
   * grants again is kept, what it refuses is forgotten.
   */
  resubscribe?: () => RetryPolicy | undefined;
  /**
   * A loss the network caused starts the reconnect policy too, and a network loss during a
   * reconnection leaves it running: its attempts fail with `no-network` until the network is back
   * or the policy gives up (Tencent's C SDK keeps its reconnect loop through an outage and then
   * reports QCLOUD_ERR_MQTT_RECONNECT_TIMEOUT). Default false: a network loss ends the session.
   */
  reconnectThroughNetworkLoss?: boolean;
  /** Called when an unexpected error escapes a callback: the modem's last-resort boundary. */
  onFault?: (err: unknown, where: string) => void;
  /**
   * The radio's timing: results that depend on the network are reported no sooner than the
   * exchanges they need would take (see network-timing.ts). Absent: as fast as the broker is.
   */
  timing?: NetworkTiming;
}

/** Where to open the transport: the firmware's host and port, and TLS extras. */
export interface OpenTarget {
  host: string;
  port: number;
  tls: boolean;
  /** Client certificate (mutual TLS). */
  cert?: Buffer;
  key?: Buffer;
}

export type OpenResult =
  | { kind: 'opened'; target: BrokerTarget }
  | { kind: 'failed'; reason: OpenFailure }
  /** Another open, a close or a reset overtook this one. */
  | { kind: 'abandoned' }
  /** The session is not idle. */
  | { kind: 'busy' };

export type ConnectResult =
  | { kind: 'accepted'; sessionPresent: boolean }
  | { kind: 'refused'; returnCode: number }
  | { kind: 'timeout' }
  /** The transport closed before CONNACK. */
  | { kind: 'closed' }
  /** mqtt.js refused to send the CONNECT (an option it cannot encode). */
  | { kind: 'error' }
  | { kind: 'abandoned' }
  /** No transport is open, or a connection exists already. */
  | { kind: 'busy' };

/** One step of open + connect, planned afresh before every attempt (credentials may change). */
export interface AttemptPlan {
  target: OpenTarget;
  openTimeoutMs: number;
  connect: ConnectOptions;
}

export type AttemptResult =
  | { kind: 'connected'; sessionPresent: boolean }
  | { kind: 'no-network' }
  | { kind: 'open-failed'; reason: OpenFailure }
  | { kind: 'plan-refused'; code: number }
  | Exclude<ConnectResult, { kind: 'accepted' }>;

export type RejectReason = 'not-connected' | 'in-flight' | 'bad-id' | 'no-free-id';

export type RequestResult<T = void> =
  | { kind: 'ok'; id: number; value: T }
  | { kind: 'timeout'; id: number }
  | { kind: 'closed'; id: number }
  | { kind: 'rejected'; reason: RejectReason };

export interface RequestOptions {
  /** The caller's packet id (rule `caller`); ignored by a `counter` session. */
  id?: number;
  retry: RetryPolicy | RetryPolicyExtras;
  /** Called synchronously with the id chosen, before the packet goes out. */
  onId?: (id: number) => void;
}

/** Why the session's link ended without being asked to. */
export type LossReason = CloseReason | 'network-down';

export interface SessionLoss {
  reason: LossReason;
  /** The state the session was in: `open` (transport only), `connecting`, `connected`. */
  phase: 'open' | 'connecting' | 'connected';
  /** The reconnect policy will now try again (a `reconnecting` event follows). */
  willReconnect: boolean;
}

export interface SessionEvents {
  message: [msg: IncomingMessage];
  lost: [loss: SessionLoss];
  pingresp: [];
  reconnecting: [];
  reconnected: [info: { sessionPresent: boolean; refused: string[] }];
  'reconnect-failed': [info: { last: AttemptResult; loss: LossReason }];
  state: [from: SessionState, to: SessionState];
}

export class MqttSession extends EventEmitter<SessionEvents> {
  private _state: SessionState = 'idle';
  private link: MqttLink | undefined;
  /** Bumped whenever the current open, attempt, reconnection or link is abandoned. */
  private epoch = 0;
  /** Inside connect(), start() or a reconnection attempt: link closes are the attempt's business. */
  private attempting = false;
  /** Why the link closed while `attempting` (connect() reports it after the CONNACK's result). */
  private closedDuring: CloseReason | undefined;
  private lastId = 0;
  /** Packet ids of requests still waiting for their acknowledgement, with their kind. */
  private readonly pending = new Map<number, 'publish' | 'subscribe' | 'unsubscribe'>();
  private readonly timers = new Set<TimerHandle>();
  /** Result holds of the network model (see pad()), resolved at once by close/destroy. */
  private readonly pads = new Map<TimerHandle, () => void>();
  /** Topics the broker granted (SUBACK < 0x80) with their QoS; what a clean session clears. */
  readonly subscriptions = new Map<string, number>();
  /** Messages that arrived before the connection they belong to was reported. */
  private held: IncomingMessage[] = [];
  private holding = false;
  /** Messages waiting for the macrotask that emits them (see onMessage). */
  private arrived: IncomingMessage[] = [];
  /** Where the current transport goes (as the firmware named it). */
  target: OpenTarget | undefined;
  private lastPlan: (() => AttemptPlan | { refused: number }) | undefined;
  readonly counters = { opens: 0, connects: 0, losses: 0, reconnects: 0, rejected: 0, faults: 0 };
  private readonly log: Logger;

  constructor(private readonly opts: SessionOptions) {
    super();
    this.log = opts.log.child({ component: 'session', client: opts.name });
  }

  get state(): SessionState {
    return this._state;
  }

  get connected(): boolean {
    return this._state === 'connected';
  }

  /** Packet ids in flight, ascending. */
  inflightIds(kind?: 'publish' | 'subscribe' | 'unsubscribe'): number[] {
    const ids: number[] = [];
    for (const [id, k] of this.pending) if (!kind || k === kind) ids.push(id);
    return ids.sort((a, b) => a - b);
  }

  inFlight(id: number): boolean {
    return this.pending.has(id);
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  /** A wait on the session's clock that `destroy()`/`close()` cancel (they never resolve it). */
  sleep(ms: number): Promise<void> {
    return sleepOn(this.opts.clock, this.timers, ms);
  }

  /**
   * Hold a result until the network model says it can be known: `modelMs` after `startedAt`.
   * Resolves early (never hangs) when the session is closed meanwhile; callers check the epoch.
   */
  private async pad(startedAt: number, modelMs: number): Promise<void> {
    const wait = modelMs - (this.opts.clock.now() - startedAt);
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const t = this.opts.clock.setTimeout(() => {
        this.pads.delete(t);
        resolve();
      }, wait);
      this.pads.set(t, resolve);
    });
  }

  private setState(next: SessionState): void {
    if (next === this._state) return;
    const from = this._state;
    this.log.debug({ from, to: next }, 'state');
    this._state = next;
    this.safeEmit('state', from, next);
  }

  /** Emit without letting a vendor listener's bug escape into the link or a timer. */
  private safeEmit<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SessionEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.fault(err, `listener of '${event}'`);
    }
  }

  private fault(err: unknown, where: string): void {
    this.counters.faults++;
    this.log.error({ err, where }, 'unexpected error in the MQTT session');
    this.opts.onFault?.(err, where);
  }

  // ------------------------------------------------------------------ transport

  /** Open the transport only (AT+QMTOPEN). Resolves when it is open or has failed. */
  async open(target: OpenTarget, timeoutMs: number): Promise<OpenResult> {
    if (this._state !== 'idle') return { kind: 'busy' };
    if (!this.opts.dataReady()) return { kind: 'failed', reason: 'network-down' };
    const epoch = ++this.epoch;
    this.target = target;
    this.setState('opening');
    const started = this.opts.clock.now();
    const r = await this.openLink(target, timeoutMs, epoch);
    await this.padOpen(r, target, started);
    if (epoch !== this.epoch) return { kind: 'abandoned' };
    if (r.kind === 'opened') this.setState('open');
    else if (r.kind === 'failed' && this.epoch === epoch) this.setState('idle');
    return r;
  }

  private async padOpen(r: OpenResult, target: OpenTarget, started: number): Promise<void> {
    const t = this.opts.timing;
    if (!t) return;
    if (r.kind === 'opened') await this.pad(started, t.openMs(target));
    else if (r.kind === 'failed') await this.pad(started, t.openFailedMs(r.reason, target));
  }

  private async openLink(target: OpenTarget, timeoutMs: number, epoch: number): Promise<OpenResult> {
    const links = this.opts.links;
    const started = this.opts.clock.now();
    let resolved: BrokerTarget;
    let link: MqttLink;
    try {
      resolved = links.resolve({ host: target.host, port: target.port, tls: target.tls });
      const withCert = target.cert && target.key ? { ...resolved, cert: target.cert, key: target.key } : resolved;
      link = await links.open({ target: withCert, timeoutMs, clock: this.opts.clock });
    } catch (err) {
      if (epoch !== this.epoch) return { kind: 'abandoned' };
      const reason = err instanceof LinkOpenError ? err.reason : 'error';
      if (!(err instanceof LinkOpenError)) this.log.warn({ err }, 'transport open failed unexpectedly');
      this.log.info({ host: target.host, port: target.port, tls: target.tls, reason, err: (err as Error).message }, 'transport open failed');
      return { kind: 'failed', reason };
    }
    if (epoch !== this.epoch) {
      link.destroy();
      return { kind: 'abandoned' };
    }
    this.counters.opens++;
    this.attach(link);
    this.log.info(
      { host: target.host, port: target.port, tls: target.tls, to: `${resolved.host}:${resolved.port}`, ms: Math.round(this.opts.clock.now() - started) },
      'transport open',
    );
    return { kind: 'opened', target: resolved };
  }

  private attach(link: MqttLink): void {
    this.link = link;
    link.on('message', (m) => {
      if (this.link === link) this.onMessage(m);
    });
    link.on('pingresp', () => {
      if (this.link === link) this.safeEmit('pingresp');
    });
    link.once('close', (reason) => {
      if (this.link === link) this.onLinkClosed(reason);
    });
  }

  /** Forget the link (its events no longer count) and optionally destroy it. */
  private detach(destroy: boolean): MqttLink | undefined {
    const link = this.link;
    this.link = undefined;
    this.pending.clear();
    if (destroy) link?.destroy();
    return link;
  }

  // ------------------------------------------------------------------ MQTT connection

  /** Send CONNECT over the open transport (AT+QMTCONN). */
  async connect(opts: ConnectOptions): Promise<ConnectResult> {
    const link = this.link;
    if (this._state !== 'open' || !link) return { kind: 'busy' };
    const epoch = this.epoch;
    this.setState('connecting');
    this.holding = true;
    // A broker that refuses closes right behind its CONNACK, often in the same read: the close
    // is reported after the CONNACK's result, not instead of it.
    this.attempting = true;
    this.closedDuring = undefined;
    let r: ConnectResult;
    try {
      r = await this.sendConnect(link, opts);
    } finally {
      this.attempting = false;
    }
    const closed = this.closedDuring;
    this.closedDuring = undefined;
    if (epoch !== this.epoch) {
      this.releaseHeld(false);
      return { kind: 'abandoned' };
    }
    if (r.kind === 'accepted') {
      this.connectedNow(r.sessionPresent, opts.clean);
      // Messages that came with the CONNACK go out after the caller has reported it.
      setImmediate(() => this.releaseHeld(this._state === 'connected'));
      if (closed) this.lostLater(closed, 'connected', epoch);
    } else if (r.kind === 'refused') {
      // The CONNACK arrived and carries the refusal; the broker closes next [MQTT-3.2.2-5].
      this.setState('open');
      this.releaseHeld(false);
      if (closed) this.lostLater(closed, 'open', epoch);
    } else if (r.kind === 'closed' || closed) {
      this.releaseHeld(false);
      this.lost(closed ?? 'remote-closed', 'connecting');
      return { kind: 'closed' };
    } else {
      // No CONNACK in time (or an unencodable CONNECT): the CONNECT cannot be retried on this
      // transport, which is given up without a loss report (the caller reports the failure).
      this.detach(true);
      this.setState('idle');
      this.releaseHeld(false);
    }
    return r;
  }

  /** Report a loss once the caller has reported the result that came before it. */
  private lostLater(reason: CloseReason, phase: SessionLoss['phase'], epoch: number): void {
    setImmediate(() => {
      if (epoch === this.epoch && !this.link) this.lost(reason, phase);
    });
  }

  private async sendConnect(link: MqttLink, opts: ConnectOptions): Promise<ConnectResult> {
    if (opts.clientId === '' && !opts.clean) {
      // [MQTT-3.1.3-8]: a zero-byte ClientId needs CleanSession 1; every broker refuses it with
      // CONNACK 2. mqtt.js will not even encode that CONNECT, so the refusal is made here.
      this.log.info('empty client id with a persistent session: refused as identifier rejected');
      return { kind: 'refused', returnCode: 2 };
    }
    this.counters.connects++;
    const started = this.opts.clock.now();
    let r: ConnectResult;
    try {
      r = await link.connect(opts);
    } catch (err) {
      this.log.warn({ err }, 'CONNECT could not be sent');
      return { kind: 'error' };
    }
    // CONNECT/CONNACK is one exchange over the radio.
    if ((r.kind === 'accepted' || r.kind === 'refused') && this.opts.timing) await this.pad(started, this.opts.timing.exchangeMs(1));
    return r;
  }

  private connectedNow(sessionPresent: boolean, clean: boolean): void {
    if (clean || !sessionPresent) this.subscriptions.clear();
    const ids = this.opts.ids;
    if (ids.source === 'counter' && ids.afterConnect !== undefined) this.lastId = ids.afterConnect;
    this.setState('connected');
  }

  /**
   * Open + CONNECT as one step (AT+MQTTCONN, AT+TCMQTTCONN, AT+IMQTTCONN). `plan` is asked again
   * before every attempt, reconnections included. A failed attempt leaves the session idle.
   * Messages that arrive with the CONNACK are held until `releaseHeld()` (the caller reports
   * the connection first) or the next macrotask.
   */
  async start(plan: () => AttemptPlan | { refused: number }): Promise<AttemptResult> {
    if (this._state !== 'idle') return { kind: 'busy' };
    this.lastPlan = plan;
    const epoch = ++this.epoch;
    this.setState('connecting');
    const r = await this.attempt(plan, epoch);
    if (epoch !== this.epoch) return r.kind === 'connected' ? { kind: 'abandoned' } : r;
    if (r.kind === 'connected') this.setState('connected');
    else this.setState('idle');
    return r;
  }

  private async attempt(plan: () => AttemptPlan | { refused: number }, epoch: number): Promise<AttemptResult> {
    this.attempting = true;
    this.holding = true;
    try {
      let p: AttemptPlan | { refused: number };
      try {
        p = plan();
      } catch (err) {
        this.fault(err, 'connection plan');
        return { kind: 'error' };
      }
      if ('refused' in p) return { kind: 'plan-refused', code: p.refused };
      if (!this.opts.dataReady()) return { kind: 'no-network' };
      this.target = p.target;
      const started = this.opts.clock.now();
      const opened = await this.openLink(p.target, p.openTimeoutMs, epoch);
      await this.padOpen(opened, p.target, started);
      if (opened.kind === 'abandoned' || epoch !== this.epoch) {
        if (opened.kind === 'opened' && this.link) this.detach(true);
        return { kind: 'abandoned' };
      }
      if (opened.kind !== 'opened') return { kind: 'open-failed', reason: opened.kind === 'failed' ? opened.reason : 'error' };
      const link = this.link!;
      const r = await this.sendConnect(link, p.connect);
      if (epoch !== this.epoch) {
        if (this.link === link) this.detach(true);
        return { kind: 'abandoned' };
      }
      if (r.kind === 'accepted') {
        if (this.link !== link) return { kind: 'closed' };
        this.connectedNow(r.sessionPresent, p.connect.clean);
        return { kind: 'connected', sessionPresent: r.sessionPresent };
      }
      if (this.link === link) this.detach(true);
      return r;
    } finally {
      this.attempting = false;
      // Messages that came with the CONNACK go out after the caller has reported the connection.
      setImmediate(() => this.releaseHeld(this._state === 'connected'));
    }
  }

  /** Deliver (or, when the connection did not come about, drop) messages held during connect. */
  releaseHeld(deliver = true): void {
    if (!this.holding) return;
    this.holding = false;
    const held = this.held;
    this.held = [];
    if (deliver) for (const m of held) this.safeEmit('message', m);
  }

  private onMessage(m: IncomingMessage): void {
    if (this.holding || this._state === 'connecting') {
      this.held.push(m);
      return;
    }
    this.arrived.push(m);
    if (this.arrived.length === 1) setImmediate(() => this.flushArrived());
  }

  /** Emit the messages that arrived (before any loss or close is reported: none is lost). */
  private flushArrived(): void {
    const arrived = this.arrived;
    this.arrived = [];
    for (const m of arrived) this.safeEmit('message', m);
  }

  private onLinkClosed(reason: CloseReason): void {
    const phase = this._state === 'connected' ? 'connected' : this._state === 'connecting' ? 'connecting' : 'open';
    this.detach(false);
    if (this.attempting) {
      this.closedDuring = reason; // the attempt sees the closed link and reports it
      return;
    }
    this.lost(reason, phase);
  }

  private lost(reason: LossReason, phase: SessionLoss['phase']): void {
    this.counters.losses++;
    const throughNet = this.opts.reconnectThroughNetworkLoss === true;
    const policy = phase === 'connected' && (throughNet || reason !== 'network-down') && this.lastPlan ? this.opts.reconnect?.() : undefined;
    const willReconnect = policy !== undefined && (throughNet || this.opts.dataReady());
    this.log.info({ reason, phase, willReconnect }, 'connection lost');
    // What arrived before the loss is reported before it (a platform that hangs up right behind
    // its reply); messages of a connection that never was reported are dropped.
    this.releaseHeld(phase === 'connected');
    this.flushArrived();
    if (!willReconnect) {
      this.epoch++;
      this.setState('idle');
      this.safeEmit('lost', { reason, phase, willReconnect });
      return;
    }
    this.safeEmit('lost', { reason, phase, willReconnect });
    this.reconnect(policy, reason).catch((err: unknown) => this.fault(err, 'reconnection'));
  }

  private async reconnect(delays: ReconnectDelays, loss: LossReason): Promise<void> {
    const epoch = ++this.epoch;
    const plan = this.lastPlan!;
    // What to renew: the attempt's CONNACK clears the map of a clean session.
    const held = this.opts.resubscribe ? [...this.subscriptions] : [];
    this.setState('reconnecting');
    this.safeEmit('reconnecting');
    let last: AttemptResult = { kind: 'closed' };
    for (let n = 1; ; n++) {
      const wait = delays(n);
      if (wait === undefined) break;
      await this.sleep(wait);
      if (epoch !== this.epoch) return;
      last = await this.attempt(plan, epoch);
      if (epoch !== this.epoch || last.kind === 'abandoned') return;
      if (last.kind === 'connected') {
        this.counters.reconnects++;
        const refused = await this.resubscribeAll(epoch, held);
        if (epoch !== this.epoch || this._state !== 'connected') return;
        this.safeEmit('reconnected', { sessionPresent: last.sessionPresent, refused });
        return;
      }
      this.log.debug({ attempt: n, result: last.kind }, 'reconnection attempt failed');
    }
    this.setState('idle');
    this.subscriptions.clear();
    this.safeEmit('reconnect-failed', { last, loss });
  }

  /** Renew every subscription on a new connection; returns the topics the broker refused. */
  private async resubscribeAll(epoch: number, held: [string, number][]): Promise<string[]> {
    const retry = this.opts.resubscribe?.();
    if (!retry) return [];
    const refused: string[] = [];
    for (const [topic, qos] of held) {
      if (epoch !== this.epoch || !this.link) break;
      const r = await this.subscribe([{ topic, qos: qos as 0 | 1 | 2 }], { retry });
      if (r.kind === 'ok' && (r.value[0] ?? 0x80) >= 0x80) refused.push(topic);
    }
    return refused;
  }

  /** Send DISCONNECT (when connected) and close. Stops a connection attempt or reconnection. */
  async disconnect(): Promise<void> {
    const link = this.link;
    const wasConnected = this._state === 'connected';
    this.epoch++;
    this.cancelTimers();
    this.releaseHeld(false);
    this.flushArrived();
    if (wasConnected && link) {
      this.setState('disconnecting');
      this.detach(false);
      try {
        await link.disconnect();
      } catch (err) {
        this.log.warn({ err }, 'DISCONNECT failed');
      }
    } else {
      this.detach(true);
    }
    this.setState('idle');
  }

  /** Close the transport without DISCONNECT (the broker publishes the will). Nothing is reported. */
  close(): void {
    this.epoch++;
    this.cancelTimers();
    this.releaseHeld(false);
    this.flushArrived();
    this.detach(true);
    this.setState('idle');
  }

  /** The data network went away: an active session ends with a `lost` event (no reconnection). */
  networkLost(): void {
    const s = this._state;
    if (s === 'idle' || s === 'disconnecting') return;
    if (s === 'reconnecting' && this.opts.reconnectThroughNetworkLoss) {
      // The reconnect loop goes on; an attempt under way loses its transport and fails.
      this.detach(true);
      return;
    }
    if (s === 'opening' || s === 'reconnecting' || (s === 'connecting' && !this.link)) {
      // Nothing was established: the pending step is abandoned and reported as a loss.
      this.epoch++;
      this.cancelTimers();
      this.detach(true);
      this.setState('idle');
      this.safeEmit('lost', { reason: 'network-down', phase: s === 'reconnecting' ? 'connected' : 'connecting', willReconnect: false });
      return;
    }
    const phase = s === 'connected' ? 'connected' : s === 'connecting' ? 'connecting' : 'open';
    this.epoch++;
    this.detach(true);
    this.lost('network-down', phase);
  }

  /** Reboot / dispose: everything goes without an event; ids and subscriptions are forgotten. */
  destroy(): void {
    // A restart loses what the module had not reported yet.
    this.arrived = [];
    this.close();
    this.subscriptions.clear();
    this.lastId = 0;
    this.lastPlan = undefined;
    this.target = undefined;
  }

  /** Power-on numbering (a module restart resets its packet counter). */
  resetIds(): void {
    this.lastId = 0;
  }

  private cancelTimers(): void {
    for (const t of this.timers) this.opts.clock.clearTimeout(t);
    this.timers.clear();
    for (const [t, resolve] of this.pads) {
      this.opts.clock.clearTimeout(t);
      resolve();
    }
    this.pads.clear();
  }

  // ------------------------------------------------------------------ requests

  /** The id for a new request, or why there is none. */
  private claimId(requested: number | undefined, needsId: boolean): number | RejectReason {
    const rule = this.opts.ids;
    if (rule.source === 'caller') {
      if (!needsId) return requested ?? 0;
      const id = requested ?? 0;
      if (id === 0 && rule.zeroPicks) {
        // From the top down, away from the small ids firmware usually chooses itself.
        for (let candidate = 0xffff; candidate >= 1; candidate--) if (!this.pending.has(candidate)) return candidate;
        return 'no-free-id';
      }
      if (!Number.isInteger(id) || id < 1 || id > 0xffff) return 'bad-id';
      return this.pending.has(id) ? 'in-flight' : id;
    }
    if (!needsId && !rule.qos0TakesId) return 0;
    try {
      this.lastId = nextPacketId(this.lastId, (id) => this.pending.has(id));
      return this.lastId;
    } catch {
      return 'no-free-id';
    }
  }

  private async request<T>(
    kind: 'publish' | 'subscribe' | 'unsubscribe',
    tracked: boolean,
    opts: RequestOptions,
    send: (link: MqttLink, id: number) => Promise<AckOutcome<T>>,
    /** Request/acknowledgement pairs on the radio (network timing): QoS 0 has none, QoS 2 two. */
    exchanges = 1,
  ): Promise<RequestResult<T>> {
    const link = this.link;
    if (this._state !== 'connected' || !link) return this.reject('not-connected');
    const id = this.claimId(opts.id, tracked);
    if (typeof id === 'string') return this.reject(id);
    if (tracked) this.pending.set(id, kind);
    try {
      opts.onId?.(id);
    } catch (err) {
      this.fault(err, 'onId');
    }
    let outcome: AckOutcome<T>;
    const started = this.opts.clock.now();
    try {
      outcome = await send(link, id);
      const t = this.opts.timing;
      if (t && outcome.kind === 'ok') {
        // QoS 0 PUBLISH has no acknowledgement; QoS 2 needs PUBREC and PUBCOMP.
        await this.pad(started, exchanges === 0 ? t.sendMs() : t.exchangeMs(exchanges));
        if (this.link !== link) outcome = { kind: 'closed' };
      }
    } catch (err) {
      // The link refused the request (it closed under us, or an id clash the core did not see).
      this.log.debug({ err: (err as Error).message, kind, id }, 'request refused by the link');
      outcome = { kind: 'closed' };
    } finally {
      if (tracked && this.link === link && this.pending.get(id) === kind) this.pending.delete(id);
    }
    return outcome.kind === 'ok' ? { kind: 'ok', id, value: outcome.value } : { kind: outcome.kind, id };
  }

  private reject(reason: RejectReason): Promise<RequestResult<never>> {
    this.counters.rejected++;
    return Promise.resolve({ kind: 'rejected', reason });
  }

  /** SUBSCRIBE; value = the granted QoS per topic (0x80 refused). Granted topics are kept. */
  async subscribe(topics: { topic: string; qos: 0 | 1 | 2 }[], opts: RequestOptions): Promise<RequestResult<number[]>> {
    const r = await this.request('subscribe', true, opts, (link, id) => link.subscribe(id, topics, opts.retry));
    if (r.kind === 'ok') {
      topics.forEach((t, i) => {
        const code = r.value[i] ?? 0x80;
        if (code < 0x80) this.subscriptions.set(t.topic, code);
      });
    }
    return r;
  }

  /** UNSUBSCRIBE; the topics are forgotten once acknowledged. */
  async unsubscribe(topics: string[], opts: RequestOptions): Promise<RequestResult> {
    const r = await this.request('unsubscribe', true, opts, (link, id) => link.unsubscribe(id, topics, opts.retry));
    if (r.kind === 'ok') for (const t of topics) this.subscriptions.delete(t);
    return r;
  }

  /** PUBLISH: QoS 0 resolves once written, QoS 1 on PUBACK, QoS 2 on PUBCOMP. */
  publish(topic: string, payload: Buffer, opts: RequestOptions & { qos: 0 | 1 | 2; retain: boolean }): Promise<RequestResult> {
    return this.request(
      'publish',
      opts.qos > 0,
      opts,
      (link, id) => link.publish(id, topic, payload, { qos: opts.qos, retain: opts.retain }, opts.retry),
      opts.qos,
    );
  }

  inspect(): Record<string, unknown> {
    return {
      state: this._state,
      host: this.target?.host,
      port: this.target?.port,
      tls: this.target?.tls,
      inflight: this.inflightIds(),
      subscriptions: Object.fromEntries(this.subscriptions),
      counters: { ...this.counters },
    };
  }
}
