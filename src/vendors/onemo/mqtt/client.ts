/**
 * One OneMO MQTT client (<connect_id>): its settings, its link to the broker, the packet ids it
 * hands out, its receive cache, and the `+MQTTURC` lines the manual documents for each outcome
 * (§3.2–§3.9).
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
 *   or an internal fault → 255 ("未知错误": the manual lists no TLS cause).
 * - Reconnection ("reconn") applies to an established connection that is lost (4/5/6), not to a
 *   first AT+MQTTCONN that fails, and not when the data network itself is gone (nothing to
 *   reconnect over): then the cause is reported at once. While reconnecting the module reports
 *   "conn",<id>,1 once; each attempt waits <reconn_interval> (mode 0) or n × <reconn_interval>
 *   (mode 1, "20-40-60s"); success reports "conn",<id>,0, giving up reports the cause of the loss
 *   (3 if the last attempt was refused by the broker).
 * - Packet ids (<mid>) are the module's: one counter per client, from 1, shared by SUBSCRIBE,
 *   UNSUBSCRIBE and PUBLISH (QoS 0 too: §4.1.1 numbers 18807–18810 consecutively), wrapping
 *   after 65535 and skipping ids still waiting for their acknowledgement. It is not reset by a
 *   new connection (§4.1.1 starts at 18807 on a fresh connection).
 * - <dup> of "puback"/"pubrec"/"pubcomp" is 1 when the PUBLISH went out again with DUP set
 *   (retransmission, §3.1 note 1) or when the host marked it as a resend (<dup> 1 of AT+MQTTPUB).
 *   The first transmission itself never carries DUP (the host's resend gets a new packet id, so a
 *   DUP flag on it would be meaningless to the broker).
 * - "timeout" is reported after the last retransmission (§3.9: "仅上报…最终超时结果"); the
 *   connection stays up.
 * - The keep-alive in CONNECT is <keepalive_time>, and PINGREQ is sent on that cadence (mqtt.js
 *   ties the two). <ping_interval> is kept and reported by the query forms only.
 */
import { nextPacketId } from '../../../mqtt/packet-ids.js';
import { trackedSleep } from '../../../util/tracked-sleep.js';
import type { Logger } from 'pino';
import type { Device } from '../../../modem/device.js';
import type { RetryPolicyExtras } from '../../../mqtt/link.js';
import { LinkOpenError, type CloseReason, type IncomingMessage, type MqttLink } from '../../../mqtt/types.js';
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
export function connStateForClose(reason: CloseReason): number {
  switch (reason) {
    case 'remote-closed':
      return CONN.serverDisconnected;
    case 'ping-timeout':
      return CONN.pingTimeout;
    case 'error':
      return CONN.network;
    case 'disconnected':
    case 'local':
      return CONN.userDisconnected;
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

type AttemptResult = { kind: 'connected' } | { kind: 'failed'; cause: number } | { kind: 'abandoned' };

export class OneMoClient {
  config: OneMoClientConfig;
  state: OneMoState = 'idle';
  target?: ConnTarget;
  /** Topics acknowledged by SUBACK with their granted QoS (AT+MQTTSUB=<connect_id>). */
  readonly subscriptions = new Map<string, number>();
  /** Cached-mode messages in arrival order, and the payload bytes they hold. */
  readonly cache: ReceivedMessage[] = [];
  cacheBytes = 0;
  private link?: MqttLink;
  /** Bumped whenever the current connection attempt or link is abandoned. */
  private session = 0;
  private lastMid = 0;
  /** Packet ids of our requests still waiting for their acknowledgement. */
  private readonly pending = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: Logger;

  constructor(
    readonly id: number,
    private readonly device: Device,
    private readonly data: OneMoProfileData,
  ) {
    this.config = defaultClientConfig(data);
    this.log = device.log.child({ component: 'onemo-mqtt', client: id });
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

  private setState(next: OneMoState): void {
    if (next === this.state) return;
    this.log.debug({ from: this.state, to: next }, 'state');
    this.state = next;
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

  private sleep(ms: number): Promise<void> {
    return trackedSleep(this.timers, ms);
  }

  /** The next free packet id (1–65535, skipping ids in flight). */
  private nextMid(): number {
    this.lastMid = nextPacketId(this.lastMid, (id) => this.pending.has(id));
    return this.lastMid;
  }

  // ------------------------------------------------------------------ connecting

  /** AT+MQTTCONN (§3.2): the caller has answered OK; "conn" follows as a URC. */
  connect(target: ConnTarget): void {
    this.target = target;
    this.setState('connecting');
    const session = ++this.session;
    void this.attempt(session).then((r) => {
      if (r.kind === 'abandoned' || session !== this.session) return;
      if (r.kind === 'connected') {
        this.setState('connected');
        this.conn(CONN.connected);
        return;
      }
      this.setState('idle');
      this.conn(r.cause);
    });
  }

  /** One TCP (or TLS) open plus CONNECT. */
  private async attempt(session: number): Promise<AttemptResult> {
    const target = this.target!;
    const cfg = this.config;
    if (!this.device.network.dataReady) return { kind: 'failed', cause: CONN.network };
    const links = this.device.links;
    const to = links.resolve({ host: target.host, port: target.port, tls: cfg.ssl.enabled });
    let link: MqttLink;
    try {
      link = await links.open({ target: to, timeoutMs: this.device.timing.limit('openTimeout', 30_000) });
    } catch (err) {
      if (session !== this.session) return { kind: 'abandoned' };
      const reason = err instanceof LinkOpenError ? err.reason : 'error';
      this.log.info({ host: target.host, port: target.port, reason, err: (err as Error).message }, 'transport open failed');
      return { kind: 'failed', cause: reason === 'tls' ? CONN.unknown : CONN.network };
    }
    if (session !== this.session) {
      link.destroy();
      return { kind: 'abandoned' };
    }
    this.link = link;
    link.on('message', (m) => {
      if (this.link === link) this.onMessage(m);
    });
    link.on('pingresp', () => {
      if (this.link === link && this.config.pingack) this.urc(`+MQTTURC: "pingresp",${this.id},0`);
    });
    link.once('close', (reason) => this.onLinkClose(link, reason));
    if (target.clientId === '' && !cfg.clean) {
      // [MQTT-3.1.3-8]: a zero-byte ClientId with CleanSession 0 is refused with CONNACK 2 by
      // every broker. mqtt.js will not even encode that CONNECT, so the refusal is reported here.
      this.log.info('empty client id with a persistent session: refused as identifier rejected');
      this.dropLink();
      return { kind: 'failed', cause: CONN.refused };
    }
    const will = cfg.will.flag && cfg.will.topic !== '' ? cfg.will : undefined;
    let outcome;
    try {
      outcome = await link.connect({
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
      });
    } catch (err) {
      this.log.warn({ err }, 'CONNECT failed');
      outcome = { kind: 'error' as const };
    }
    if (session !== this.session) return { kind: 'abandoned' };
    switch (outcome.kind) {
      case 'accepted':
        // A clean session starts without subscriptions; otherwise the broker kept them.
        if (cfg.clean || !outcome.sessionPresent) this.subscriptions.clear();
        this.log.info({ host: target.host, port: target.port, to: `${to.host}:${to.port}` }, 'connected');
        return { kind: 'connected' };
      case 'refused':
        this.log.info({ returnCode: outcome.returnCode }, 'CONNACK refused');
        this.dropLink();
        return { kind: 'failed', cause: CONN.refused };
      case 'timeout':
        this.dropLink();
        return { kind: 'failed', cause: CONN.network };
      case 'closed':
        this.dropLink();
        return { kind: 'failed', cause: CONN.serverDisconnected };
      case 'error':
        this.dropLink();
        return { kind: 'failed', cause: CONN.unknown };
    }
  }

  private onLinkClose(link: MqttLink, reason: CloseReason): void {
    // Closes during an attempt are handled by the attempt; forgotten links report nothing.
    if (this.link !== link || this.state !== 'connected') return;
    this.dropLink();
    const cause = connStateForClose(reason);
    this.log.info({ reason, cause }, 'connection lost');
    if (reason === 'ping-timeout' && this.config.pingack) this.urc(`+MQTTURC: "pingresp",${this.id},1`);
    if (this.config.reconn.times > 0 && this.device.network.dataReady) {
      void this.reconnect(cause);
      return;
    }
    this.setState('idle');
    this.conn(cause);
  }

  /** "reconn" (§3.1): retry the connection <reconn_times> times. */
  private async reconnect(cause: number): Promise<void> {
    const session = ++this.session;
    const { times, interval, mode } = this.config.reconn;
    this.setState('reconnecting');
    this.conn(CONN.reconnecting);
    let last = cause;
    for (let n = 1; n <= times; n++) {
      await this.sleep(this.moduleWait(mode === 1 ? n * interval : interval));
      if (session !== this.session) return;
      const r = await this.attempt(session);
      if (r.kind === 'abandoned' || session !== this.session) return;
      if (r.kind === 'connected') {
        this.setState('connected');
        this.conn(CONN.connected);
        return;
      }
      last = r.cause;
      this.log.debug({ attempt: n, cause: r.cause }, 'reconnection failed');
    }
    this.setState('idle');
    this.conn(last === CONN.refused ? CONN.refused : cause);
  }

  /** AT+MQTTDISC (§3.8): DISCONNECT, then "conn",<id>,2 once the connection is gone. */
  disconnect(): void {
    const link = this.link;
    this.session++;
    if (this.state === 'connected' && link) {
      this.setState('disconnecting');
      this.dropLink(false);
      link
        .disconnect()
        .catch((err: unknown) => this.log.warn({ err }, 'disconnect failed'))
        .finally(() => {
          this.setState('idle');
          this.conn(CONN.userDisconnected, 'disc');
        });
      return;
    }
    // Connecting or reconnecting: the attempt is abandoned.
    this.dropLink();
    this.setState('idle');
    this.conn(CONN.userDisconnected, 'disc');
  }

  /** The data network went away (AT+CFUN=0, deregistration): links end without DISCONNECT. */
  networkLost(): void {
    if (this.state === 'idle' || this.state === 'disconnecting') return;
    this.session++;
    this.dropLink();
    this.setState('idle');
    this.log.info('network lost');
    this.conn(CONN.network);
  }

  /** Forget the link (its close no longer reports anything); destroy it unless told not to. */
  private dropLink(destroy = true): void {
    const link = this.link;
    this.link = undefined;
    this.pending.clear();
    if (destroy) link?.destroy();
  }

  // ------------------------------------------------------------------ requests

  private retryPolicy(extras: Partial<RetryPolicyExtras> = {}): RetryPolicyExtras {
    return { ...retransPolicy(this.config.retrans, this.device.timing.mode === 'fast'), ...extras };
  }

  private settle(mid: number, r: { kind: 'ok' | 'timeout' | 'closed' }, onOk: () => void): void {
    this.pending.delete(mid);
    if (r.kind === 'ok') onOk();
    else if (r.kind === 'timeout') this.urc(`+MQTTURC: "timeout",${this.id},${mid}`);
    // 'closed': the connection is gone; its "conn" URC says so.
  }

  /** AT+MQTTSUB (§3.3): returns <mid>; "suback" (or "timeout") follows. */
  subscribe(topics: { topic: string; qos: 0 | 1 | 2 }[]): number {
    const link = this.link!;
    const mid = this.nextMid();
    this.pending.add(mid);
    link.subscribe(mid, topics, this.retryPolicy()).then(
      (r) =>
        this.settle(mid, r, () => {
          const granted = r.kind === 'ok' ? r.value : [];
          topics.forEach((t, i) => {
            const code = granted[i] ?? 0x80;
            if (code < 0x80) this.subscriptions.set(t.topic, code);
          });
          this.urc(`+MQTTURC: "suback",${this.id},${mid},${granted.join(',')}`, 'ack');
        }),
      (err: unknown) => {
        this.pending.delete(mid);
        this.log.warn({ err }, 'subscribe failed');
      },
    );
    return mid;
  }

  /** AT+MQTTUNSUB (§3.4): returns <mid>; "unsuback" (or "timeout") follows. */
  unsubscribe(topics: string[]): number {
    const link = this.link!;
    const mid = this.nextMid();
    this.pending.add(mid);
    link.unsubscribe(mid, topics, this.retryPolicy()).then(
      (r) =>
        this.settle(mid, r, () => {
          for (const t of topics) this.subscriptions.delete(t);
          this.urc(`+MQTTURC: "unsuback",${this.id},${mid}`, 'ack');
        }),
      (err: unknown) => {
        this.pending.delete(mid);
        this.log.warn({ err }, 'unsubscribe failed');
      },
    );
    return mid;
  }

  /** AT+MQTTPUB (§3.5): returns <mid> and the PUBLISH packet length; acks follow per QoS. */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean, hostDup: boolean): { mid: number; length: number } {
    const link = this.link!;
    const mid = this.nextMid();
    const length = publishPacketLength(Buffer.byteLength(topic, 'utf8'), payload.length, qos);
    let dup = hostDup;
    const dupFlag = () => (dup ? 1 : 0);
    if (qos > 0) this.pending.add(mid);
    const policy = this.retryPolicy({
      onRetransmit: () => {
        dup = true;
      },
      onPubrec: () => this.urc(`+MQTTURC: "pubrec",${this.id},${mid},${dupFlag()}`, 'ack'),
    });
    link.publish(mid, topic, payload, { qos, retain }, policy).then(
      (r) => {
        if (qos === 0) return;
        this.settle(mid, r, () => {
          if (qos === 1) this.urc(`+MQTTURC: "puback",${this.id},${mid},${dupFlag()}`, 'ack');
          else this.urc(`+MQTTURC: "pubcomp",${this.id},${mid},${dupFlag()}`, 'ack');
        });
      },
      (err: unknown) => {
        this.pending.delete(mid);
        this.log.warn({ err }, 'publish failed');
      },
    );
    return { mid, length };
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
    this.session++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.dropLink();
    this.setState('idle');
    this.subscriptions.clear();
    this.cache.length = 0;
    this.cacheBytes = 0;
  }

  /** Power-on settings ("模组掉电后配置参数不保存"). */
  resetConfig(): void {
    this.config = defaultClientConfig(this.data);
    this.lastMid = 0;
  }

  inspect(): Record<string, unknown> {
    return {
      id: this.id,
      state: this.state,
      host: this.target?.host,
      port: this.target?.port,
      subscriptions: Object.fromEntries(this.subscriptions),
      pending: [...this.pending],
      cached: this.cache.length,
      cacheBytes: this.cacheBytes,
    };
  }
}
