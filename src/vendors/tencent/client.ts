/**
 * The module's one MQTT connection to Tencent's IoT platform (腾讯云 IoT MQTT AT 指令 V3.1.3 §3,
 * §5.1–§5.4), as a mapping onto the session core (src/mqtt/session.ts): sign-in from the stored
 * device information, results and events turned into Tencent's `+TC…` lines and §6.1 codes.
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
 *   "fast" timing counts 10 ms per second. The loop goes on through a network outage (its
 *   attempts fail until the network is back). Subscriptions are renewed after a reconnection.
 * - +TCMQTTRECONNECTING is reported once per loss, +TCMQTTRECONNECTED once it is back.
 * - A QoS 1 request whose connection goes away before its acknowledgement fails as the SDK's
 *   timeout does: at the end of <cmdtimeout>, with 202.
 * - Packet ids: one counter from 1, skipping ids in flight; QoS 0 publishes carry none.
 * - The SDK keeps one handler per topic and a new subscription to a topic replaces it: a topic
 *   belongs to whoever subscribed it last, the MCU (AT+TCMQTTSUB) or the module itself (OTA).
 */
import type { Logger } from 'pino';
import type { Line } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import type { MqttSession, AttemptPlan, AttemptResult, RequestResult, SessionLoss } from '../../mqtt/session.js';
import type { IncomingMessage, RetryPolicy } from '../../mqtt/types.js';
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

export class TencentMqttClient {
  params: ConnParams;
  /** The topic of the last AT+TCMQTTUNSUB (AT+TCMQTTUNSUB?). */
  lastUnsubscribed: string | undefined;
  /** Topics the module subscribed for itself (OTA); the rest of the session's are the MCU's. */
  private readonly internal = new Set<string>();
  private readonly session: MqttSession;
  private readonly log: Logger;

  constructor(
    private readonly device: Device,
    private readonly data: TencentProfileData,
    private readonly fmt: TcFormat,
    private readonly hooks: ClientHooks,
  ) {
    this.params = defaultParams(data);
    this.log = device.log.child({ component: 'tencent-mqtt' });
    this.session = device.mqttSession({
      name: 'tencent',
      dataReady: () => hooks.netReady(),
      ids: { source: 'counter', qos0TakesId: false },
      reconnect: () => (this.params.reconnect ? (n) => this.reconnectWait(n) : undefined),
      resubscribe: () => this.policy(),
      reconnectThroughNetworkLoss: true,
    });
    this.session.on('message', (m) => this.onMessage(m));
    this.session.on('lost', (loss) => this.onLost(loss));
    this.session.on('reconnecting', () => this.hooks.report('+TCMQTTRECONNECTING'));
    this.session.on('reconnected', ({ refused }) => {
      for (const t of refused) this.internal.delete(t);
      this.hooks.report('+TCMQTTRECONNECTED');
    });
    this.session.on('reconnect-failed', ({ last }) => {
      this.log.info({ last: last.kind }, 'reconnection given up');
      this.internal.clear();
      this.hooks.report(`+TCMQTTDISCON,${SDK.mqttReconnectTimeout}`);
    });
  }

  /** Connecting and reconnecting are told apart; the core's transport steps are "connecting". */
  get state(): TcMqttState {
    switch (this.session.state) {
      case 'idle':
      case 'disconnecting':
        return 'idle';
      case 'connected':
        return 'connected';
      case 'reconnecting':
        return 'reconnecting';
      default:
        return 'connecting';
    }
  }

  get connected(): boolean {
    return this.session.connected;
  }

  /** The connection exists or is being made (AT+TCMQTTCONN again is refused). */
  get active(): boolean {
    return this.state !== 'idle';
  }

  /** The MCU's subscriptions (AT+TCMQTTSUB?) with their QoS; none once the connection is gone. */
  get subscriptions(): [string, number][] {
    if (!this.active) return [];
    return [...this.session.subscriptions].filter(([t]) => !this.internal.has(t));
  }

  /** The module holds this topic for itself (OTA) on the current connection. */
  ownsTopic(topic: string): boolean {
    return this.active && this.internal.has(topic) && this.session.subscriptions.has(topic);
  }

  private get tls(): boolean {
    return this.session.target?.tls ?? this.params.tlsmode !== 0;
  }

  /** Wait before reconnection attempt `n`: 1 s doubling, none past 60 s (profile `reconnect`). */
  private reconnectWait(n: number): number | undefined {
    const { firstWaitMs, maxWaitMs } = this.data.reconnect;
    const wait = firstWaitMs * 2 ** (n - 1);
    if (wait > maxWaitMs) return undefined;
    // "fast" timing counts 10 ms per second of the module's own waits.
    return this.device.timing.mode === 'fast' ? Math.max(1, Math.round(wait / 100)) : wait;
  }

  private policy(): RetryPolicy {
    return { timeoutMs: this.params.cmdTimeoutMs, retries: 0 };
  }

  // ------------------------------------------------------------------ connecting

  /** One TCP/TLS open plus CONNECT, signed with what the flash holds now (asked at every attempt). */
  private plan(): AttemptPlan | { refused: number } {
    const p = this.params;
    const creds = this.hooks.credentials(p.tlsmode);
    if ('error' in creds) return { refused: creds.error };
    const tls = p.tlsmode !== 0;
    return {
      target: {
        host: this.data.mqttHost.replace('{productId}', creds.productId),
        port: tls ? this.data.ports.tls : this.data.ports.plain,
        tls,
        ...(creds.cert && creds.key ? { cert: creds.cert, key: creds.key } : {}),
      },
      openTimeoutMs: p.cmdTimeoutMs,
      connect: {
        clientId: creds.clientId,
        username: creds.username,
        password: creds.password,
        // The platform speaks MQTT 3.1.1 only (FACTS "Platform limits").
        protocolVersion: 4,
        keepalive: p.keepalive,
        clean: p.clean,
        timeoutMs: p.cmdTimeoutMs,
      },
    };
  }

  /** AT+TCMQTTCONN (§3.1), after its OK: resolves with 0 or the `FAIL` code. */
  async connect(params: ConnParams): Promise<ResultCode> {
    this.params = params;
    // A new connection starts with no subscription handles (the SDK constructs a new client).
    this.session.subscriptions.clear();
    this.internal.clear();
    const r = await this.session.start(() => this.plan());
    const code = this.attemptCode(r, params.tlsmode !== 0);
    if (code === 0) this.log.info({ host: this.session.target?.host, tls: this.tls }, 'connected to the cloud');
    else this.log.info({ result: r.kind, code }, 'cloud sign-in failed');
    return code;
  }

  private attemptCode(r: AttemptResult, tls: boolean): ResultCode {
    switch (r.kind) {
      case 'connected':
        return 0;
      case 'plan-refused':
        return r.code;
      case 'no-network':
        return tls ? SDK.sslConnect : SDK.tcpUnknownHost;
      case 'open-failed':
        return openError(r.reason, tls);
      case 'refused':
      case 'timeout':
      case 'closed':
        return connectError(r, tls);
      case 'error':
        return SDK.mqttUnknown;
      case 'abandoned':
      case 'busy':
        // The network went away under the attempt, or a restart overtook it.
        return this.hooks.netReady() ? SDK.mqttNoConn : tls ? SDK.sslConnect : SDK.tcpUnknownHost;
    }
  }

  /** An established connection is gone: +TCMQTTDISCON (§5.2); the core reconnects or not. */
  private onLost(loss: SessionLoss): void {
    // A connection that was never reported is the AT+TCMQTTCONN result's business.
    if (loss.phase !== 'connected') return;
    const code = loss.reason === 'network-down' ? (this.tls ? SDK.sslRead : SDK.tcpReadFail) : disconnectError(loss.reason, this.tls);
    this.log.info({ reason: loss.reason, code, reconnect: loss.willReconnect }, 'connection lost');
    this.hooks.report(`+TCMQTTDISCON,${code}`);
    if (!loss.willReconnect) this.internal.clear();
  }

  /** AT+TCMQTTDISCONN (§3.2): DISCONNECT (or stop reconnecting); nothing is reported. */
  async disconnect(): Promise<void> {
    this.internal.clear();
    await this.session.disconnect();
  }

  /** The network went away (AT+TCREGNET=…,0, radio off): the connection dies without DISCONNECT. */
  networkLost(): void {
    this.session.networkLost();
  }

  // ------------------------------------------------------------------ requests

  /** The code for a request that did not complete; QoS 1 requests fail when <cmdtimeout> ends. */
  private async failure(r: Exclude<RequestResult<unknown>, { kind: 'ok' }>, started: number, acked: boolean): Promise<ResultCode> {
    if (r.kind === 'rejected') return SDK.mqttNoConn;
    if (r.kind === 'timeout') return CME.timeout;
    if (!acked) return SDK.mqttNoConn;
    const left = started + this.params.cmdTimeoutMs - this.device.clock.now();
    if (left > 0) await this.session.sleep(left);
    return CME.timeout;
  }

  /** AT+TCMQTTPUB / AT+TCMQTTPUBL (§3.3–§3.4). */
  async publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<ResultCode> {
    const started = this.device.clock.now();
    const r = await this.session.publish(topic, payload, { qos, retain: false, retry: this.policy() });
    return r.kind === 'ok' ? 0 : this.failure(r, started, qos > 0);
  }

  /** AT+TCMQTTSUB (§3.5), and the module's own subscriptions (`internal`). */
  async subscribe(topic: string, qos: 0 | 1, internal = false): Promise<ResultCode> {
    if (!this.connected) return SDK.mqttNoConn;
    const subs = this.session.subscriptions;
    if (!subs.has(topic) && subs.size >= this.data.limits.subscriptions) return SDK.mqttMaxSubscriptions;
    const started = this.device.clock.now();
    const r = await this.session.subscribe([{ topic, qos }], { retry: this.policy() });
    if (r.kind !== 'ok') return this.failure(r, started, true);
    // SUBACK 0x80: the platform refused (no permission) — QCLOUD_ERR_MQTT_SUB.
    if ((r.value[0] ?? 0x80) >= 0x80) return SDK.mqttSub;
    if (internal) this.internal.add(topic);
    else this.internal.delete(topic);
    return 0;
  }

  /** AT+TCMQTTUNSUB (§3.6), and the module's own. */
  async unsubscribe(topic: string, internal = false): Promise<ResultCode> {
    const started = this.device.clock.now();
    const r = await this.session.unsubscribe([topic], { retry: this.policy() });
    if (r.kind !== 'ok') return this.failure(r, started, true);
    this.internal.delete(topic);
    if (!internal) this.lastUnsubscribed = topic;
    return 0;
  }

  // ------------------------------------------------------------------ receiving

  /**
   * §5.1 +TCMQTTRCVPUB:<topic>,<message_len>,<message>: the topic quoted, the length in bytes
   * ("不含""以及结束符号\r\n"), the payload raw between quotes (drivers read exactly that many bytes
   * and the closing quote). Messages on the module's own OTA topic are the module's.
   */
  private onMessage(m: IncomingMessage): void {
    if (this.internal.has(m.topic) && this.hooks.internalMessage(m)) return;
    this.hooks.report(this.fmt.binary('TCMQTTRCVPUB', `${quote(textToAt(m.topic))},${m.payload.length},"`, m.payload, '"'));
  }

  // ------------------------------------------------------------------ lifecycle

  /** Reboot / dispose: the connection goes without a word, settings return to power-on values. */
  destroy(): void {
    this.session.destroy();
    this.internal.clear();
    this.lastUnsubscribed = undefined;
    this.params = defaultParams(this.data);
  }

  inspect(): Record<string, unknown> {
    return {
      state: this.state,
      params: this.params,
      subscriptions: Object.fromEntries(this.subscriptions),
      internal: [...this.internal],
      session: this.session.inspect(),
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
