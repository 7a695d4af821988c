/**
 * One OneMO MQTT client (<connect_id>): its settings, its receive cache, and the `+MQTTURC` lines
 * the manual documents for each outcome (§3.2–§3.9). The broker connection itself — transport,
 * CONNECT, packet ids, in-flight requests, retransmission, reconnection, network loss — is the
 * session core's ({@link MqttSession}); this file maps the core's results and events to URCs.
 *
 * State (AT+MQTTSTATE <state>, §3.7: 1 connecting or reconnecting, 2 connected, 3 disconnected):
 *   idle ──AT+MQTTCONN──▶ connecting ──CONNACK 0──▶ connected ──AT+MQTTDISC──▶ disconnecting ──▶ idle
 *                              │ failure: "conn",<id>,3/4/6/255 ▶ idle         │ link lost
 *                                                                                ▼
 *                 idle ◀── "conn",<id>,<cause> ── reconnecting ("conn",<id>,1) ──▶ connected ("conn",<id>,0)
 *
 * Where the manual is silent (each choice is the least surprising for a firmware driver):
 * - <conn_state> causes (§3.9): CONNACK refused (any return code) → 3; the server closing the
 *   connection (also before CONNACK) → 4; no PINGRESP in time → 5; TCP failure, no CONNACK in
 *   time, a socket error, or the data network going away (AT+CFUN=0) → 6; a failed TLS handshake
 *   or an internal fault → 255 ("未知错误": the manual lists no TLS cause). An empty client id with
 *   a persistent session is refused by the core as the broker would ([MQTT-3.1.3-8], CONNACK 2) → 3.
 * - Reconnection ("reconn") applies to an established connection that is lost (4/5/6), not to a
 *   first AT+MQTTCONN that fails, and not when the data network itself is gone (nothing to
 *   reconnect over): then the cause is reported at once. While reconnecting the module reports
 *   "conn",<id>,1 once; each attempt waits <reconn_interval> (mode 0) or n × <reconn_interval>
 *   (mode 1, "20-40-60s"); success reports "conn",<id>,0, giving up reports the cause of the loss
 *   (3 if the last attempt was refused by the broker).
 * - Packet ids (<mid>) are the module's: one counter per client, from 1, shared by SUBSCRIBE,
 *   UNSUBSCRIBE and PUBLISH (QoS 0 too: §4.1.1 numbers 18807–18810 consecutively), wrapping
 *   after 65535 and skipping ids still waiting for their acknowledgement (the core's `counter`
 *   rule with `qos0TakesId`). It is not reset by a new connection (§4.1.1 starts at 18807 on a
 *   fresh connection), only by a reboot.
 * - <dup> of "puback"/"pubrec"/"pubcomp" is 1 when the PUBLISH went out again with DUP set
 *   (retransmission, §3.1 note 1) or when the host marked it as a resend (<dup> 1 of AT+MQTTPUB).
 *   The first transmission itself never carries DUP (the host's resend gets a new packet id, so a
 *   DUP flag on it would be meaningless to the broker).
 * - "timeout" is reported after the last retransmission (§3.9: "仅上报…最终超时结果"); the
 *   connection stays up.
 * - The keep-alive in CONNECT is <keepalive_time>; PINGREQ goes every <ping_interval> (§3.1
 *   "pingreq").
 */
import type { Logger } from 'pino';
import type { Device } from '../../../modem/device.js';
import type { RetryPolicyExtras } from '../../../mqtt/link.js';
import {
  MqttSession,
  type AttemptPlan,
  type AttemptResult,
  type LossReason,
  type RequestResult,
  type SessionLoss,
} from '../../../mqtt/session.js';
import type { IncomingMessage } from '../../../mqtt/types.js';
import { defaultClientConfig, type OneMoClientConfig } from './client-config.js';
import type { OneMoProfileData } from './context.js';
import { publishPacketLength } from './encoding.js';
import { formatPublishUrcs, formatReadLine, type ReceivedMessage } from './publish-format.js';

export type OneMoState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnecting';

/** <conn_state> of +MQTTURC: "conn" (§3.2, §3.9). */
export const CONN = {
  connected: 0,
  reconnecting: 1,
  userDisconnected: 2,
  refused: 3,
  serverDisconnected: 4,
  pingTimeout: 5,
  network: 6,
  unknown: 255,
} as const;

/** <conn_state> for a link that ended after CONNACK (see the header). */
export function connStateForClose(reason: LossReason): number {
  switch (reason) {
    case 'remote-closed':
      return CONN.serverDisconnected;
    case 'ping-timeout':
      return CONN.pingTimeout;
    case 'error':
    case 'network-down':
      return CONN.network;
    case 'disconnected':
    case 'local':
      return CONN.userDisconnected;
  }
}

/** <conn_state> for a connection attempt that did not come about; undefined: report nothing. */
export function connStateForAttempt(r: AttemptResult): number | undefined {
  switch (r.kind) {
    case 'connected':
      return CONN.connected;
    case 'no-network':
    case 'timeout':
      return CONN.network;
    case 'open-failed':
      return r.reason === 'tls' ? CONN.unknown : CONN.network;
    case 'refused':
    case 'plan-refused':
      return CONN.refused;
    case 'closed':
      return CONN.serverDisconnected;
    case 'error':
      return CONN.unknown;
    case 'abandoned':
    case 'busy':
      // Abandoned by AT+MQTTDISC, the network or a reboot: whoever abandoned it reports.
      return undefined;
  }
}

/** What AT+MQTTCONN named; kept for reconnecting. */
export interface ConnTarget {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: Buffer;
}

/**
 * The retransmission policy of "retrans" (§3.1 note 1): wait <retrans_interval>, doubling after
 * each retransmission, <retry_times> retransmissions; the whole wait is interval × (2^(n+1) − 1).
 * "fast" timing counts 10 ms per second.
 */
export function retransPolicy(retrans: { interval: number; retries: number }, fast: boolean): RetryPolicyExtras {
  return { timeoutMs: retrans.interval * (fast ? 10 : 1000), retries: retrans.retries, backoff: 2 };
}

export class OneMoClient {
  config: OneMoClientConfig;
  target?: ConnTarget;
  /** Cached-mode messages in arrival order, and the payload bytes they hold. */
  readonly cache: ReceivedMessage[] = [];
  cacheBytes = 0;
  readonly session: MqttSession;
  private readonly log: Logger;

  constructor(
    readonly id: number,
    private readonly device: Device,
    private readonly data: OneMoProfileData,
  ) {
    this.config = defaultClientConfig(data);
    this.log = device.log.child({ component: 'onemo-mqtt', client: id });
    const session = device.mqttSession({
      name: `onemo-${id}`,
      ids: { source: 'counter', qos0TakesId: true },
      reconnect: () => this.reconnectDelays(),
    });
    session.on('message', (m) => this.onMessage(m));
    session.on('pingresp', () => {
      if (this.config.pingack) this.urc(`+MQTTURC: "pingresp",${this.id},0`);
    });
    session.on('lost', (loss) => this.onLost(loss));
    session.on('reconnecting', () => this.conn(CONN.reconnecting));
    session.on('reconnected', () => this.conn(CONN.connected));
    session.on('reconnect-failed', ({ last, loss }) => {
      this.log.info({ last: last.kind, loss }, 'reconnection given up');
      this.conn(last.kind === 'refused' ? CONN.refused : connStateForClose(loss));
    });
    this.session = session;
  }

  /** The client's view of the session (AT+MQTTSTATE, the 602/603/604 rules). */
  get state(): OneMoState {
    switch (this.session.state) {
      case 'idle':
        return 'idle';
      case 'opening':
      case 'open':
      case 'connecting':
        return 'connecting';
      case 'connected':
        return 'connected';
      case 'reconnecting':
        return 'reconnecting';
      case 'disconnecting':
        return 'disconnecting';
    }
  }

  /** AT+MQTTSTATE <state> (§3.7). */
  get stateCode(): 1 | 2 | 3 {
    switch (this.state) {
      case 'connecting':
      case 'reconnecting':
        return 1;
      case 'connected':
        return 2;
      default:
        return 3;
    }
  }

  /** The MQTT connection exists or is being made ("MQTT连接未创建" is false). */
  get active(): boolean {
    return this.state !== 'idle';
  }

  /** Topics acknowledged by SUBACK with their granted QoS (AT+MQTTSUB=<connect_id>). */
  get subscriptions(): ReadonlyMap<string, number> {
    return this.session.subscriptions;
  }

  private urc(line: string | Buffer, delayName?: string): void {
    this.device.urc(line, delayName ? this.device.timing.delay(delayName) : 0);
  }

  private conn(state: number, delayName = 'conn'): void {
    this.urc(`+MQTTURC: "conn",${this.id},${state}`, delayName);
  }

  /**
   * A wait the module performs, given in seconds (retransmission, reconnection). "fast" timing
   * keeps the proportions but counts 10 ms per second.
   */
  private moduleWait(seconds: number): number {
    return this.device.timing.mode === 'fast' ? seconds * 10 : seconds * 1000;
  }

  /** "reconn" (§3.1), read when a connection is lost: <reconn_times> attempts, then give up. */
  private reconnectDelays(): ((attempt: number) => number | undefined) | undefined {
    const { times, interval, mode } = this.config.reconn;
    if (times <= 0) return undefined;
    return (n) => (n <= times ? this.moduleWait(mode === 1 ? n * interval : interval) : undefined);
  }

  // ------------------------------------------------------------------ connecting

  /** What every attempt sends, read afresh before each one (reconnections included). */
  private plan(): AttemptPlan {
    const target = this.target!;
    const cfg = this.config;
    const will = cfg.will.flag && cfg.will.topic !== '' ? cfg.will : undefined;
    return {
      target: { host: target.host, port: target.port, tls: cfg.ssl.enabled },
      openTimeoutMs: this.device.timing.limit('openTimeout', 30_000),
      connect: {
        clientId: target.clientId,
        username: target.username,
        password: target.password,
        protocolVersion: cfg.version,
        keepalive: cfg.keepalive,
        // §3.1 "pingreq": the module's own PINGREQ interval.
        pingIntervalSec: cfg.keepalive > 0 ? cfg.pingInterval : undefined,
        clean: cfg.clean,
        will: will && { topic: will.topic, payload: will.message, qos: will.qos, retain: will.retain },
        timeoutMs: this.device.timing.limit('connackTimeout', 30_000),
      },
    };
  }

  /** AT+MQTTCONN (§3.2): the caller has answered OK; "conn" follows as a URC. */
  connect(target: ConnTarget): void {
    this.target = target;
    this.session.start(() => this.plan()).then(
      (r) => {
        const state = connStateForAttempt(r);
        this.log.info({ host: target.host, port: target.port, result: r.kind, state }, 'connection attempt');
        if (state !== undefined) this.conn(state);
      },
      (err: unknown) => this.device.fault(err, `onemo client ${this.id}: connect`),
    );
  }

  private onLost(loss: SessionLoss): void {
    const cause = connStateForClose(loss.reason);
    this.log.info({ ...loss, cause }, 'connection lost');
    if (loss.reason === 'ping-timeout' && this.config.pingack) this.urc(`+MQTTURC: "pingresp",${this.id},1`);
    // With a reconnection coming, "reconnecting" reports "conn",<id>,1 instead.
    if (!loss.willReconnect) this.conn(cause);
  }

  /** AT+MQTTDISC (§3.8): DISCONNECT (or give up an attempt), then "conn",<id>,2. */
  disconnect(): void {
    this.session.disconnect().then(
      () => this.conn(CONN.userDisconnected, 'disc'),
      (err: unknown) => this.device.fault(err, `onemo client ${this.id}: disconnect`),
    );
  }

  /** The data network went away (AT+CFUN=0, deregistration): "conn",<id>,6 via the core's loss. */
  networkLost(): void {
    this.session.networkLost();
  }

  // ------------------------------------------------------------------ requests

  private retryPolicy(extras: Partial<RetryPolicyExtras> = {}): RetryPolicyExtras {
    return { ...retransPolicy(this.config.retrans, this.device.timing.mode === 'fast'), ...extras };
  }

  /**
   * Run a request and report its end; resolves synchronously to the <mid> the core chose, or
   * undefined when the core refused the request (it then sends nothing).
   */
  private track<T>(
    what: string,
    run: (onId: (id: number) => void) => Promise<RequestResult<T>>,
    onOk: (mid: number, value: T) => void,
  ): number | undefined {
    let mid: number | undefined;
    run((id) => (mid = id)).then(
      (r) => {
        switch (r.kind) {
          case 'ok':
            onOk(r.id, r.value);
            return;
          case 'timeout':
            this.urc(`+MQTTURC: "timeout",${this.id},${r.id}`);
            return;
          case 'closed':
            // The connection is gone; its "conn" URC says so.
            return;
          case 'rejected':
            this.log.info({ what, reason: r.reason }, 'request refused');
            return;
        }
      },
      (err: unknown) => this.device.fault(err, `onemo client ${this.id}: ${what}`),
    );
    return mid;
  }

  /** AT+MQTTSUB (§3.3): returns <mid>; "suback" (or "timeout") follows. */
  subscribe(topics: { topic: string; qos: 0 | 1 | 2 }[]): number | undefined {
    return this.track(
      'subscribe',
      (onId) => this.session.subscribe(topics, { retry: this.retryPolicy(), onId }),
      (mid, granted) => this.urc(`+MQTTURC: "suback",${this.id},${mid},${granted.join(',')}`, 'ack'),
    );
  }

  /** AT+MQTTUNSUB (§3.4): returns <mid>; "unsuback" (or "timeout") follows. */
  unsubscribe(topics: string[]): number | undefined {
    return this.track(
      'unsubscribe',
      (onId) => this.session.unsubscribe(topics, { retry: this.retryPolicy(), onId }),
      (mid) => this.urc(`+MQTTURC: "unsuback",${this.id},${mid}`, 'ack'),
    );
  }

  /** AT+MQTTPUB (§3.5): returns <mid> and the PUBLISH packet length; acks follow per QoS. */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean, hostDup: boolean): { mid: number; length: number } | undefined {
    const length = publishPacketLength(Buffer.byteLength(topic, 'utf8'), payload.length, qos);
    let dup = hostDup;
    let mid = 0;
    const dupFlag = () => (dup ? 1 : 0);
    const retry = this.retryPolicy({
      onRetransmit: () => {
        dup = true;
      },
      onPubrec: () => this.urc(`+MQTTURC: "pubrec",${this.id},${mid},${dupFlag()}`, 'ack'),
    });
    const id = this.track(
      'publish',
      (onId) =>
        this.session.publish(topic, payload, {
          qos,
          retain,
          retry,
          onId: (i) => {
            mid = i;
            onId(i);
          },
        }),
      () => {
        if (qos === 1) this.urc(`+MQTTURC: "puback",${this.id},${mid},${dupFlag()}`, 'ack');
        else if (qos === 2) this.urc(`+MQTTURC: "pubcomp",${this.id},${mid},${dupFlag()}`, 'ack');
      },
    );
    return id === undefined ? undefined : { mid: id, length };
  }

  // ------------------------------------------------------------------ receiving

  private onMessage(m: IncomingMessage): void {
    const msg: ReceivedMessage = { mid: m.messageId, topic: m.topic, payload: m.payload };
    if (!this.config.cached) {
      for (const line of formatPublishUrcs(this.id, msg, this.config.encoding.output, this.data.urcSplitLength)) this.urc(line);
      return;
    }
    // Cached mode (§3.1 <cached_mode>, §3.6): "pubnmi" announces, AT+MQTTREAD reads. A message
    // that does not fit the cache is dropped whole and reported with its length ("drop").
    if (this.cacheBytes + m.payload.length > this.data.cacheBytes) {
      this.log.info({ bytes: m.payload.length, cached: this.cacheBytes }, 'receive cache full; message dropped');
      this.urc(`+MQTTURC: "drop",${this.id},${m.payload.length}`);
      return;
    }
    this.cache.push(msg);
    this.cacheBytes += m.payload.length;
    this.urc(`+MQTTURC: "pubnmi",${this.id},${msg.mid},${m.payload.length}`);
  }

  /** AT+MQTTREAD=<connect_id>,<count>: the oldest <count> messages, removed from the cache. */
  readCached(count: number): Buffer[] {
    const taken = this.cache.splice(0, count);
    for (const m of taken) this.cacheBytes -= m.payload.length;
    return taken.map((m) => formatReadLine(this.id, m, this.config.encoding.output));
  }

  // ------------------------------------------------------------------ lifecycle

  /** Reboot / dispose: everything goes without a URC (the module is restarting). */
  destroy(): void {
    this.session.destroy();
    this.cache.length = 0;
    this.cacheBytes = 0;
  }

  /** Power-on settings ("模组掉电后配置参数不保存") and packet numbering. */
  resetConfig(): void {
    this.config = defaultClientConfig(this.data);
    this.session.resetIds();
  }

  inspect(): Record<string, unknown> {
    return {
      id: this.id,
      state: this.state,
      host: this.target?.host,
      port: this.target?.port,
      subscriptions: Object.fromEntries(this.subscriptions),
      pending: this.session.inflightIds(),
      cached: this.cache.length,
      cacheBytes: this.cacheBytes,
      session: this.session.inspect(),
    };
  }
}
