/**
 * The module's one MQTT connection to Tencent's IoT platform (腾讯云 IoT MQTT AT 指令 V3.1.3 §3,
 * §5.1–§5.4): sign-in from the stored device information, subscriptions, publishes with the
 * <cmdtimeout> of AT+TCMQTTCONN, received messages, and the auto reconnection of <reconnect>.
 *
 *   idle ──AT+TCMQTTCONN──▶ connecting ──CONNACK 0──▶ connected ──AT+TCMQTTDISCONN──▶ idle
 *                               │ +TCMQTTCONN:FAIL,<err>            │ link lost: +TCMQTTDISCON,<err>
 *                               ▼                                   ▼ (<reconnect> 1)
 *                              idle            connected ◀── reconnecting (+TCMQTTRECONNECTING)
 *                                          (+TCMQTTRECONNECTED)
 *
 * Where the manual is silent (each choice follows the C SDK the firmware is built on):
 * - <cmdtimeout> bounds the TCP/TLS connect, the wait for CONNACK, SUBACK, UNSUBACK and PUBACK.
 *   No retransmission within it.
 * - Reconnection waits 1 s, then doubles the wait after each failure; once the wait would pass
 *   60 s the module gives up and reports +TCMQTTDISCON,-106 (QCLOUD_ERR_MQTT_RECONNECT_TIMEOUT).
 *   "fast" timing counts 10 ms per second. Subscriptions are renewed after a reconnection.
 * - +TCMQTTRECONNECTING is reported once per loss, +TCMQTTRECONNECTED once it is back.
 * - A QoS 1 request whose connection goes away before its acknowledgement fails as the SDK's
 *   timeout does: at the end of <cmdtimeout>, with 202.
 * - Packet ids: one counter from 1, skipping ids in flight.
 */
import { nextPacketId } from '../../mqtt/packet-ids.js';
import { trackedSleep } from '../../util/tracked-sleep.js';
import type { Logger } from 'pino';
import type { Line } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { LinkOpenError, type CloseReason, type IncomingMessage, type MqttLink, type RetryPolicy } from '../../mqtt/types.js';
import type { TencentProfileData } from './context.js';
import { CME, connectError, disconnectError, openError, SDK } from './errors.js';
import type { TcFormat } from './format.js';
import { quote, textToAt } from './format.js';
import type { MqttSignIn } from './sign.js';

export type TcMqttState = 'idle' | 'connecting' | 'connected' | 'reconnecting';

/** AT+TCMQTTCONN's parameters (§3.1). */
export interface ConnParams {
  tlsmode: 0 | 1 | 2;
  cmdTimeoutMs: number;
  keepalive: number;
  clean: boolean;
  reconnect: boolean;
}

/** What a connection attempt signs in with, built from the flash at every attempt. */
export interface Credentials extends MqttSignIn {
  productId: string;
  /** Certificate mode: the client certificate and its key (PEM). */
  cert?: Buffer;
  key?: Buffer;
}

export interface ClientHooks {
  /** The device information as sign-in credentials, or the §6 code why there are none. */
  credentials(tlsmode: 0 | 1 | 2): Credentials | { error: number };
  /** Whether the network (AT+TCREGNET, radio) can carry a connection. */
  netReady(): boolean;
  /** Messages on the module's own topics (OTA); true = handled, not reported to the MCU. */
  internalMessage(m: IncomingMessage): boolean;
  report(line: Line, delayName?: string): void;
}

/** 0 = success, else the code for `+TC…:FAIL,<err_code>`. */
export type ResultCode = number;

type Attempt = { kind: 'connected' } | { kind: 'failed'; code: number } | { kind: 'abandoned' };

export class TencentMqttClient {
  state: TcMqttState = 'idle';
  params: ConnParams;
  /** The MCU's subscriptions (AT+TCMQTTSUB?), with their QoS. */
  readonly subscriptions = new Map<string, 0 | 1>();
  /** The module's own subscriptions (OTA), renewed after a reconnection as well. */
  readonly internal = new Map<string, 0 | 1>();
  /** The topic of the last AT+TCMQTTUNSUB (AT+TCMQTTUNSUB?). */
  lastUnsubscribed: string | undefined;
  private link: MqttLink | undefined;
  private tls = false;
  /** Bumped whenever the current attempt or link is abandoned. */
  private session = 0;
  private lastMid = 0;
  private readonly pending = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: Logger;

  constructor(
    private readonly device: Device,
    private readonly data: TencentProfileData,
    private readonly fmt: TcFormat,
    private readonly hooks: ClientHooks,
  ) {
    this.params = defaultParams(data);
    this.log = device.log.child({ component: 'tencent-mqtt' });
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** The connection exists or is being made (AT+TCMQTTCONN again is refused). */
  get active(): boolean {
    return this.state !== 'idle';
  }

  private setState(next: TcMqttState): void {
    if (next === this.state) return;
    this.log.debug({ from: this.state, to: next }, 'state');
    this.state = next;
  }

  /** A wait the module performs in real time; "fast" timing counts 10 ms per second. */
  private moduleWait(ms: number): number {
    return this.device.timing.mode === 'fast' ? Math.max(1, Math.round(ms / 100)) : ms;
  }

  private sleep(ms: number): Promise<void> {
    return trackedSleep(this.timers, ms);
  }

  private nextMid(): number {
    this.lastMid = nextPacketId(this.lastMid, (id) => this.pending.has(id));
    return this.lastMid;
  }

  // ------------------------------------------------------------------ connecting

  /** AT+TCMQTTCONN (§3.1), after its OK: resolves with 0 or the `FAIL` code. */
  async connect(params: ConnParams): Promise<ResultCode> {
    this.params = params;
    this.subscriptions.clear();
    this.internal.clear();
    this.setState('connecting');
    const session = ++this.session;
    const r = await this.attempt(session);
    if (r.kind === 'abandoned' || session !== this.session) return SDK.mqttNoConn;
    if (r.kind === 'connected') {
      this.setState('connected');
      return 0;
    }
    this.setState('idle');
    return r.code;
  }

  /** One TCP/TLS open plus CONNECT, signed with what the flash holds now. */
  private async attempt(session: number): Promise<Attempt> {
    const p = this.params;
    const creds = this.hooks.credentials(p.tlsmode);
    if ('error' in creds) return { kind: 'failed', code: creds.error };
    const tls = p.tlsmode !== 0;
    if (!this.hooks.netReady()) return { kind: 'failed', code: tls ? SDK.sslConnect : SDK.tcpUnknownHost };
    const host = this.data.mqttHost.replace('{productId}', creds.productId);
    const port = tls ? this.data.ports.tls : this.data.ports.plain;
    const links = this.device.links;
    const resolved = links.resolve({ host, port, tls });
    const target = creds.cert && creds.key ? { ...resolved, cert: creds.cert, key: creds.key } : resolved;
    let link: MqttLink;
    try {
      link = await links.open({ target, timeoutMs: p.cmdTimeoutMs });
    } catch (err) {
      if (session !== this.session) return { kind: 'abandoned' };
      const reason = err instanceof LinkOpenError ? err.reason : 'error';
      this.log.info({ host, port, tls, reason, err: (err as Error).message }, 'transport open failed');
      return { kind: 'failed', code: openError(reason, tls) };
    }
    if (session !== this.session) {
      link.destroy();
      return { kind: 'abandoned' };
    }
    this.link = link;
    this.tls = tls;
    link.on('message', (m) => {
      if (this.link === link) this.onMessage(m);
    });
    link.once('close', (reason) => this.onLinkClose(link, reason));
    let outcome;
    try {
      outcome = await link.connect({
        clientId: creds.clientId,
        username: creds.username,
        password: creds.password,
        // The platform speaks MQTT 3.1.1 only (FACTS "Platform limits").
        protocolVersion: 4,
        keepalive: p.keepalive,
        clean: p.clean,
        timeoutMs: p.cmdTimeoutMs,
      });
    } catch (err) {
      this.log.warn({ err }, 'CONNECT failed');
      this.dropLink();
      return { kind: 'failed', code: SDK.mqttUnknown };
    }
    if (session !== this.session) return { kind: 'abandoned' };
    if (outcome.kind === 'accepted') {
      this.log.info({ host, port, tls, clientId: creds.clientId, to: `${resolved.host}:${resolved.port}` }, 'connected to the cloud');
      return { kind: 'connected' };
    }
    this.dropLink();
    const code = connectError(outcome, tls);
    this.log.info({ outcome: outcome.kind, code }, 'cloud sign-in failed');
    return { kind: 'failed', code };
  }

  private onLinkClose(link: MqttLink, reason: CloseReason): void {
    // Closes during an attempt are the attempt's business; forgotten links report nothing.
    if (this.link !== link || this.state !== 'connected') return;
    this.lost(disconnectError(reason, this.tls), reason);
  }

  /** An established connection is gone: +TCMQTTDISCON (§5.2), then reconnect or stay down. */
  private lost(code: number, why: string): void {
    this.dropLink();
    this.log.info({ why, code }, 'connection lost');
    this.hooks.report(`+TCMQTTDISCON,${code}`);
    if (this.params.reconnect) {
      void this.reconnect();
      return;
    }
    this.setState('idle');
    this.subscriptions.clear();
    this.internal.clear();
  }

  /** <reconnect> 1 (§3.1, §5.3–§5.4). */
  private async reconnect(): Promise<void> {
    const session = ++this.session;
    this.setState('reconnecting');
    this.hooks.report('+TCMQTTRECONNECTING');
    const { firstWaitMs, maxWaitMs } = this.data.reconnect;
    for (let wait = firstWaitMs; wait <= maxWaitMs; wait *= 2) {
      await this.sleep(this.moduleWait(wait));
      if (session !== this.session) return;
      const r = await this.attempt(session);
      if (r.kind === 'abandoned' || session !== this.session) return;
      if (r.kind === 'connected') {
        this.setState('connected');
        await this.resubscribe(session);
        if (session !== this.session || this.state !== 'connected') return;
        this.hooks.report('+TCMQTTRECONNECTED');
        return;
      }
      this.log.debug({ code: r.code, waitedMs: wait }, 'reconnection failed');
    }
    this.setState('idle');
    this.subscriptions.clear();
    this.internal.clear();
    this.hooks.report(`+TCMQTTDISCON,${SDK.mqttReconnectTimeout}`);
  }

  /** Renew every subscription on the new connection; refused ones are forgotten. */
  private async resubscribe(session: number): Promise<void> {
    const all = [...this.subscriptions, ...this.internal];
    for (const [topic, qos] of all) {
      const link = this.link;
      if (!link || session !== this.session) return;
      const mid = this.nextMid();
      this.pending.add(mid);
      const r = await link.subscribe(mid, [{ topic, qos }], this.policy()).catch(() => ({ kind: 'closed' as const }));
      this.pending.delete(mid);
      if (r.kind === 'ok' && (r.value[0] ?? 0x80) >= 0x80) {
        this.subscriptions.delete(topic);
        this.internal.delete(topic);
      }
    }
  }

  /** AT+TCMQTTDISCONN (§3.2): DISCONNECT (or stop reconnecting); nothing is reported. */
  async disconnect(): Promise<void> {
    const link = this.link;
    this.session++;
    this.dropLink(false);
    this.setState('idle');
    this.subscriptions.clear();
    this.internal.clear();
    if (link) await link.disconnect().catch((err: unknown) => this.log.warn({ err }, 'disconnect failed'));
  }

  /** The network went away (AT+TCREGNET=…,0, radio off): the connection dies without DISCONNECT. */
  networkLost(): void {
    if (this.state === 'connected') this.lost(this.tls ? SDK.sslRead : SDK.tcpReadFail, 'network lost');
  }

  private dropLink(destroy = true): void {
    const link = this.link;
    this.link = undefined;
    this.pending.clear();
    if (destroy) link?.destroy();
  }

  // ------------------------------------------------------------------ requests

  private policy(): RetryPolicy {
    return { timeoutMs: this.params.cmdTimeoutMs, retries: 0 };
  }

  /** A QoS 1 request that lost its connection fails when its <cmdtimeout> would have ended. */
  private async timeoutFrom(started: number): Promise<ResultCode> {
    const left = started + this.params.cmdTimeoutMs - Date.now();
    if (left > 0) await this.sleep(left);
    return CME.timeout;
  }

  /** AT+TCMQTTPUB / AT+TCMQTTPUBL (§3.3–§3.4). */
  async publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<ResultCode> {
    const link = this.link;
    if (!link || this.state !== 'connected') return SDK.mqttNoConn;
    const started = Date.now();
    const mid = qos === 0 ? 0 : this.nextMid();
    if (qos > 0) this.pending.add(mid);
    try {
      const r = await link.publish(mid, topic, payload, { qos, retain: false }, this.policy());
      if (r.kind === 'ok') return 0;
      if (qos === 0) return SDK.mqttNoConn;
      return r.kind === 'timeout' ? CME.timeout : await this.timeoutFrom(started);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'publish refused by the link');
      return SDK.mqttNoConn;
    } finally {
      this.pending.delete(mid);
    }
  }

  /** AT+TCMQTTSUB (§3.5), and the module's own subscriptions (`internal`). */
  async subscribe(topic: string, qos: 0 | 1, internal = false): Promise<ResultCode> {
    const link = this.link;
    if (!link || this.state !== 'connected') return SDK.mqttNoConn;
    const known = this.subscriptions.has(topic) || this.internal.has(topic);
    if (!known && this.subscriptions.size + this.internal.size >= this.data.limits.subscriptions) return SDK.mqttMaxSubscriptions;
    const started = Date.now();
    const mid = this.nextMid();
    this.pending.add(mid);
    try {
      const r = await link.subscribe(mid, [{ topic, qos }], this.policy());
      if (r.kind === 'ok') {
        // SUBACK 0x80: the platform refused (no permission) — QCLOUD_ERR_MQTT_SUB.
        if ((r.value[0] ?? 0x80) >= 0x80) return SDK.mqttSub;
        (internal ? this.internal : this.subscriptions).set(topic, qos);
        return 0;
      }
      return r.kind === 'timeout' ? CME.timeout : await this.timeoutFrom(started);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'subscribe refused by the link');
      return SDK.mqttNoConn;
    } finally {
      this.pending.delete(mid);
    }
  }

  /** AT+TCMQTTUNSUB (§3.6), and the module's own. */
  async unsubscribe(topic: string, internal = false): Promise<ResultCode> {
    const link = this.link;
    if (!link || this.state !== 'connected') return SDK.mqttNoConn;
    const started = Date.now();
    const mid = this.nextMid();
    this.pending.add(mid);
    try {
      const r = await link.unsubscribe(mid, [topic], this.policy());
      if (r.kind === 'ok') {
        (internal ? this.internal : this.subscriptions).delete(topic);
        if (!internal) this.lastUnsubscribed = topic;
        return 0;
      }
      return r.kind === 'timeout' ? CME.timeout : await this.timeoutFrom(started);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'unsubscribe refused by the link');
      return SDK.mqttNoConn;
    } finally {
      this.pending.delete(mid);
    }
  }

  // ------------------------------------------------------------------ receiving

  /**
   * §5.1 +TCMQTTRCVPUB:<topic>,<message_len>,<message>: the topic quoted, the length in bytes
   * ("不含""以及结束符号\r\n"), the payload raw between quotes (drivers read exactly that many bytes
   * and the closing quote). Messages on the module's own OTA topic are the module's.
   */
  private onMessage(m: IncomingMessage): void {
    if (this.internal.has(m.topic) && !this.subscriptions.has(m.topic) && this.hooks.internalMessage(m)) return;
    this.hooks.report(this.fmt.binary('TCMQTTRCVPUB', `${quote(textToAt(m.topic))},${m.payload.length},"`, m.payload, '"'));
  }

  // ------------------------------------------------------------------ lifecycle

  /** Reboot / dispose: the connection goes without a word, settings return to power-on values. */
  destroy(): void {
    this.session++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.dropLink();
    this.setState('idle');
    this.subscriptions.clear();
    this.internal.clear();
    this.lastUnsubscribed = undefined;
    this.params = defaultParams(this.data);
  }

  inspect(): Record<string, unknown> {
    return {
      state: this.state,
      params: this.params,
      subscriptions: Object.fromEntries(this.subscriptions),
      internal: [...this.internal.keys()],
      pending: [...this.pending],
    };
  }
}

export function defaultParams(data: TencentProfileData): ConnParams {
  return {
    tlsmode: data.connDefaults.tlsmode,
    cmdTimeoutMs: data.cmdTimeout.default,
    keepalive: data.keepalive.default,
    clean: data.connDefaults.clean === 1,
    reconnect: data.connDefaults.reconnect === 1,
  };
}
