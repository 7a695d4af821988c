/**
 * The CLM920's one MQTT client: its settings, its receive cache, the Aliyun dynamic registration,
 * and the mapping from the session core's results and events (src/mqtt/session.ts: the link, packet
 * ids, acknowledgements, network loss) to the result lines the manual documents (§2.7–§2.19).
 *
 * State (AT+IMQTTSTATE, §2.14: 0 disconnected, 1/2 connected with poor/good signal):
 *   idle ──AT+IMQTTCONN──▶ connecting ──CONNACK 0──▶ connected ──AT+IMQTTDISCONN──▶ disconnecting ──▶ idle
 *                              │ failure: +IMQTTCONN:-1            │ link lost: +IMQTTCONN:-1
 *   idle ──AT+IMQTTDYNREG=0|1,…──▶ registering ──▶ idle (+IMQTTDYNREG:<mode>,… or +IMQTTDYNREG:-1)
 *
 * Where the manual is silent (each choice is the least surprising for a firmware driver):
 * - Every failure of a connection attempt (no network, TCP/TLS failure, CONNACK refused or late)
 *   is `+IMQTTCONN:-1` ("断开连接", §2.7/§2.19.1): the manual has no other failure state. A lost
 *   connection (broker closed it, keep-alive expired, AT+CFUN=0) is reported the same way. The
 *   module does not reconnect on its own (§2.19.1 only reports the change).
 * - <TIMEOUT> of AT+IMQTTPARA ("MQTT 请求超时时间", 1–3 s) bounds the wait for every MQTT
 *   acknowledgement: CONNACK, SUBACK, UNSUBACK, PUBACK/PUBCOMP. There is no retransmission.
 * - Packet ids: one counter, restarted by every accepted CONNECT, which takes id 1 — both §3
 *   examples number the first request after AT+IMQTTCONN 2 and count on by one through
 *   AT+IMQTTSUB, AT+IMQTTPUB, AT+IMQTTPUBIN, AT+IMQTTUNSUB. QoS 0 publishes take an id too
 *   (so every +IMQTTPUB line is distinct); ids still waiting for their acknowledgement are skipped.
 * - +IMQTTSUB:<packetid>,<qos> reports the QoS the broker granted; a refused subscription (SUBACK
 *   0x80) or no SUBACK in time reports <qos> -1, the module's failure value (<status> -1 of
 *   +IMQTTUNSUB, §2.10).
 * - +IMQTTPUB:<packetID>,<status>: 0 once a QoS 0 PUBLISH is written or the QoS 1/2 flow is
 *   acknowledged; 1 when no acknowledgement came in time or the connection ended first.
 * - Received messages (§2.19.2) carry the broker's packet id (0 for QoS 0).
 * - Cache mode (§2.17–§2.19.3): each stored message is announced with `+IMQTTCOUNT: <count>`;
 *   with 10 stored, every further message is dropped and announced with `+IMQTTCOUNT: FULL`
 *   ("10 条缓存满后上报 FULL，后面消息会直接丢弃"). Stored messages outlive the connection and a
 *   switch back to direct reporting; a reboot empties the cache.
 * - A failed dynamic registration (refused CONNECT, no reply in time, a reply that is not the
 *   expected triple) reports `+IMQTTDYNREG:-1`, following +IMQTTCONN's failure value.
 */
import type { Logger } from 'pino';
import type { Line } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import type { FlashStore } from '../../../modem/module-flash.js';
import type { MqttSession, AttemptPlan, AttemptResult, RequestResult, SessionLoss } from '../../../mqtt/session.js';
import type { ConnectOptions, IncomingMessage, RetryPolicy } from '../../../mqtt/types.js';
import { textToAt } from './args.js';
import { aliyunConnwlCredentials, aliyunDeviceCredentials, aliyunRegisterCredentials } from './aliyun-sign.js';
import { defaultConfig, type YugeConfig } from './config.js';
import type { YugeProfileData } from './context.js';
import { line, messageLine, quoted, spacedLine } from './format.js';
import { saveTriple, type Triple } from './saved-triples.js';

export type YugeState = 'idle' | 'connecting' | 'connected' | 'disconnecting' | 'registering';

/** <state> of +IMQTTCONN (§2.19.1). */
export const CONN_STATE = { connected: 0, alreadyConnected: 1, disconnected: -1 } as const;

export interface CachedMessage {
  packetId: number;
  topic: string;
  payload: Buffer;
}

/** Where and how a connection goes: computed from the settings when AT+IMQTTCONN runs. */
export interface ConnectPlan {
  host: string;
  port: number;
  tls: boolean;
  clientId: string;
  username: string | undefined;
  password: string | undefined;
  /** How the credentials were made, for logs (never the credentials themselves). */
  how: 'aliyun-auth' | 'as-configured';
}

/** An AT+IMQTTDYNREG request (its read form repeats the last one, §2.16). */
export interface DynregRequest {
  save: 0 | 1;
  mode: 1 | 2;
  productKey: string;
  deviceName: string;
  productSecret: string;
}

/** A request handed to the session core: its packet id, or false when the core refused it. */
export type Sent = { id: number } | false;

type Registration = { kind: 'registered'; triple: Triple } | { kind: 'failed'; why: string } | { kind: 'abandoned' };

const REGISTER_TOPICS = { 1: '/ext/register', 2: '/ext/regnwl' } as const;

export class YugeClient {
  config: YugeConfig;
  /** The module's MQTT connection (AT+IMQTTCONN … AT+IMQTTDISCONN). */
  readonly session: MqttSession;
  /**
   * The short-lived connection of AT+IMQTTDYNREG: a client of its own, so that its clean-session
   * CONNACK does not clear the subscriptions a kept session (CLEAN 0) still lists, and its reply
   * is never reported as a received message.
   */
  private readonly registrar: MqttSession;
  /** Ends the registration being waited for (network loss, reboot). */
  private endRegistration: ((r: Registration | IncomingMessage) => void) | undefined;
  /** The last AT+IMQTTUNSUB and its status (AT+IMQTTUNSUB?, §2.10). */
  lastUnsubscribe: { topic: string; status: 0 | -1 } | undefined;
  /** The last AT+IMQTTPUB / AT+IMQTTPUBIN as typed (their read forms, §2.11, §2.12). */
  lastPublish: { topic: string; qos: number; message: Buffer } | undefined;
  lastPublishHex: { topic: string; qos: number; hex: string } | undefined;
  /** Cache mode messages, oldest first (§2.18). */
  readonly cache: CachedMessage[] = [];
  /** The last AT+IMQTTDYNREG=0|1,… (its read form, §2.16). */
  dynregRequest: DynregRequest | undefined;
  /** Where the current or last connection went (inspection). */
  plan: Omit<ConnectPlan, 'password'> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly device: Device,
    private readonly data: YugeProfileData,
    private readonly flash: () => FlashStore,
  ) {
    this.config = defaultConfig(data);
    this.log = device.log.child({ component: 'yuge-imqtt' });
    // Packet ids: one counter that the CONNECT restarts at 1; QoS 0 publishes take a number too.
    this.session = device.mqttSession({ name: '0', ids: { source: 'counter', qos0TakesId: true, afterConnect: 1 } });
    this.registrar = device.mqttSession({ name: 'dynreg', ids: { source: 'counter', qos0TakesId: true } });
    this.session.on('message', (m) => this.onMessage(m));
    this.session.on('lost', (loss) => this.onLost(loss));
    this.registrar.on('lost', (loss) => this.onRegistrationLost(loss));
  }

  /** Where the client stands, as the commands' state rules see it. */
  get state(): YugeState {
    if (this.registrar.state !== 'idle') return 'registering';
    switch (this.session.state) {
      case 'idle':
        return 'idle';
      case 'connected':
        return 'connected';
      case 'disconnecting':
        return 'disconnecting';
      default:
        return 'connecting';
    }
  }

  /** Topics acknowledged by SUBACK, with their granted QoS (AT+IMQTTSUB?, §2.9). */
  get subscriptions(): ReadonlyMap<string, number> {
    return this.session.subscriptions;
  }

  /** AT+IMQTTSTATE <status> (§2.14): 0 disconnected; connected: 1 poor signal, 2 good signal. */
  get stateCode(): 0 | 1 | 2 {
    if (this.state !== 'connected') return 0;
    const rssi = this.device.network.rssi;
    return rssi !== 99 && rssi >= this.data.goodSignalRssi ? 2 : 1;
  }

  /** Something is going on that a new AT+IMQTTCONN / AT+IMQTTDYNREG must not disturb. */
  get busy(): boolean {
    const s = this.state;
    return s === 'connecting' || s === 'disconnecting' || s === 'registering';
  }

  private urc(l: Line, delayName?: string): void {
    this.device.urc(l, delayName ? this.device.timing.delay(delayName) : 0);
  }

  private connUrc(state: number, delayName?: string): void {
    this.urc(line('+IMQTTCONN', state), delayName);
  }

  /** <TIMEOUT> of AT+IMQTTPARA bounds every acknowledgement; there is no retransmission. */
  private ackPolicy(): RetryPolicy {
    return { timeoutMs: this.config.timeout * 1000, retries: 0 };
  }

  private aliyunHost(productKey: string): string {
    return this.data.aliyunHost.replace('{productKey}', productKey);
  }

  /** The CONNECT options shared by a connection and a registration. */
  private connectOptions(creds: { clientId: string; username?: string; password?: string }, clean: boolean): ConnectOptions {
    const cfg = this.config;
    return {
      clientId: creds.clientId,
      username: creds.username,
      password: creds.password !== undefined ? Buffer.from(creds.password, 'latin1') : undefined,
      protocolVersion: cfg.version === '3.1' ? 3 : 4,
      keepalive: cfg.keepalive,
      clean,
      timeoutMs: cfg.timeout * 1000,
    };
  }

  private attemptPlan(host: string, connect: ConnectOptions): AttemptPlan {
    const cfg = this.config;
    return {
      target: { host, port: cfg.port, tls: cfg.tls },
      openTimeoutMs: this.device.timing.limit('openTimeout', 30_000),
      connect,
    };
  }

  // ------------------------------------------------------------------ connecting

  /**
   * What AT+IMQTTCONN would do with the current settings, or why it cannot (§2.1, §2.4, §2.15):
   * - mode 1 (Aliyun) with an AT+IMQTTAUTH triple: the module signs in itself; the host is
   *   AT+IMQTTADDR's, or `{ProductKey}.iot-as-mqtt.cn-shanghai.aliyuncs.com` when none was given
   *   (§3's Aliyun example sets no address). AT+IMQTTUSER and AT+IMQTTADDR's <clientId> are not used.
   * - mode 1 without a triple, and mode 2: AT+IMQTTADDR and AT+IMQTTUSER as given — §2.16 signs in
   *   with a registration-free (connwl) triple that way. An address is required.
   */
  connectPlan(): ConnectPlan | string {
    const c = this.config;
    if (c.mode === 1 && c.auth) {
      const creds = aliyunDeviceCredentials(c.auth, c.tls);
      return {
        host: c.addr !== '' ? c.addr : this.aliyunHost(c.auth.productKey),
        port: c.port,
        tls: c.tls,
        clientId: creds.clientId,
        username: creds.username,
        password: creds.password,
        how: 'aliyun-auth',
      };
    }
    if (c.addr === '') return 'no server address (AT+IMQTTADDR)';
    const username = c.username !== '' ? c.username : undefined;
    return {
      host: c.addr,
      port: c.port,
      tls: c.tls,
      clientId: c.clientId,
      username,
      // No password without a user name [MQTT-3.1.2-22].
      password: username !== undefined && c.password !== '' ? c.password : undefined,
      how: 'as-configured',
    };
  }

  /**
   * AT+IMQTTCONN (§2.7): the caller has answered OK; +IMQTTCONN:0 or -1 follows. Messages a kept
   * session had queued may arrive with the CONNACK: the core holds them until +IMQTTCONN:0 is
   * queued.
   */
  connect(plan: ConnectPlan): void {
    const { password: _secret, ...visible } = plan;
    this.plan = visible;
    const cfg = this.config;
    const will = cfg.will;
    const connect = {
      ...this.connectOptions(plan, cfg.clean === 1),
      will: will && { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain },
    };
    this.session.start(() => this.attemptPlan(plan.host, connect)).then(
      (r) => {
        if (r.kind === 'abandoned') return; // AT+IMQTTDISCONN, a network loss or a reboot has reported it
        if (r.kind === 'connected') {
          this.log.info({ host: plan.host, port: plan.port, tls: plan.tls, clientId: plan.clientId, how: plan.how }, 'connected');
          this.connUrc(CONN_STATE.connected, 'conn');
          return;
        }
        this.log.info({ why: describeFailure(r) }, 'connection failed');
        this.connUrc(CONN_STATE.disconnected, 'conn');
      },
      (err: unknown) => this.device.fault(err, 'AT+IMQTTCONN'),
    );
  }

  /** An established connection (or an attempt, on network loss) ended without AT+IMQTTDISCONN. */
  private onLost(loss: SessionLoss): void {
    this.log.info({ reason: loss.reason, phase: loss.phase }, 'connection lost');
    if (this.config.clean === 1) this.session.subscriptions.clear();
    this.connUrc(CONN_STATE.disconnected);
  }

  /** AT+IMQTTDISCONN (§2.8): DISCONNECT, then +IMQTTCONN:-1 once the connection is gone. */
  disconnect(): void {
    // Still connecting: the attempt is abandoned.
    this.session.disconnect().then(
      () => {
        if (this.config.clean === 1) this.session.subscriptions.clear();
        this.connUrc(CONN_STATE.disconnected, 'disc');
      },
      (err: unknown) => this.device.fault(err, 'AT+IMQTTDISCONN'),
    );
  }

  /** The data network went away (AT+CFUN=0, deregistration): the link ends without DISCONNECT. */
  networkLost(): void {
    this.session.networkLost();
    this.registrar.networkLost();
  }

  // ------------------------------------------------------------------ requests

  /**
   * Hand a request to the core and report its result with `report`. The core chooses the id
   * synchronously (onId) or refuses the request at once, so the caller can still answer ERROR.
   */
  private send<T>(request: (onId: (id: number) => void) => Promise<RequestResult<T>>, report: (r: Exclude<RequestResult<T>, { kind: 'rejected' }>) => void, what: string): Sent {
    let id: number | undefined;
    request((i) => (id = i)).then(
      (r) => {
        if (r.kind === 'rejected') this.log.info({ reason: r.reason, what }, 'request refused');
        else report(r);
      },
      (err: unknown) => this.device.fault(err, what),
    );
    return id === undefined ? false : { id };
  }

  /** AT+IMQTTSUB (§2.9): +IMQTTSUB:<packetid>,<granted qos or -1> follows. */
  subscribe(topic: string, qos: 0 | 1): Sent {
    return this.send(
      (onId) => this.session.subscribe([{ topic, qos }], { retry: this.ackPolicy(), onId }),
      (r) => {
        const granted = r.kind === 'ok' ? (r.value[0] ?? 0x80) : 0x80;
        this.urc(line('+IMQTTSUB', `${r.id},${granted < 0x80 ? granted : -1}`), 'ack');
      },
      'AT+IMQTTSUB',
    );
  }

  /** AT+IMQTTUNSUB (§2.10): +IMQTTUNSUB:<packetid>,<status> follows. */
  unsubscribe(topic: string): Sent {
    return this.send(
      (onId) => this.session.unsubscribe([topic], { retry: this.ackPolicy(), onId }),
      (r) => {
        const status = r.kind === 'ok' ? 0 : -1;
        this.lastUnsubscribe = { topic, status };
        this.urc(line('+IMQTTUNSUB', `${r.id},${status}`), 'ack');
      },
      'AT+IMQTTUNSUB',
    );
  }

  /** AT+IMQTTPUB / AT+IMQTTPUBIN / AT+IMQTTPUBEX (§2.11–§2.13): `<resultName>:<packetID>,<status>` follows. */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean, resultName: string): Sent {
    return this.send(
      (onId) => this.session.publish(topic, payload, { qos, retain, retry: this.ackPolicy(), onId }),
      (r) => this.urc(line(resultName, `${r.id},${r.kind === 'ok' ? 0 : 1}`), 'ack'),
      resultName,
    );
  }

  // ------------------------------------------------------------------ receiving

  private onMessage(m: IncomingMessage): void {
    if (this.config.recvMode === 0) {
      this.urc(messageLine('+IMQTTRCVPUB', m.messageId, textToAt(m.topic), m.payload));
      return;
    }
    if (this.cache.length >= this.data.cacheSize) {
      this.log.info({ topic: m.topic, bytes: m.payload.length }, 'receive cache full; message dropped');
      this.urc(spacedLine('+IMQTTCOUNT', 'FULL'));
      return;
    }
    this.cache.push({ packetId: m.messageId, topic: m.topic, payload: m.payload });
    this.urc(spacedLine('+IMQTTCOUNT', this.cache.length));
  }

  /** AT+IMQTTRECV=<count> (§2.18): the oldest <count> messages, removed from the cache. */
  readCached(count: number): Line[] {
    return this.cache.splice(0, count).map((m) => messageLine('+IMQTTRECV', m.packetId, textToAt(m.topic), m.payload));
  }

  // ------------------------------------------------------------------ dynamic registration

  /**
   * AT+IMQTTDYNREG=<type>,<mode>,… (§2.16): the caller has answered OK. The module connects to
   * AT+IMQTTADDR's host (or the product's Aliyun host) over TCP or TLS per AT+IMQTTMODE, signs in
   * as a dynamic registration, waits for the platform's reply and reports the triple (saving it
   * when <type> is 1).
   */
  register(req: DynregRequest): void {
    this.dynregRequest = req;
    this.registration(req).then(
      (r) => {
        if (r.kind === 'abandoned') return;
        const who = { mode: req.mode, productKey: req.productKey, deviceName: req.deviceName };
        if (r.kind === 'failed') {
          this.log.info({ why: r.why, ...who }, 'dynamic registration failed');
          this.urc(line('+IMQTTDYNREG', -1), 'dynreg');
          return;
        }
        if (req.save === 1) saveTriple(this.flash(), req.mode, r.triple);
        this.log.info({ ...who, saved: req.save === 1 }, 'dynamic registration done');
        this.urc(line('+IMQTTDYNREG', `${req.mode},${r.triple.map((s) => quoted(textToAt(s))).join(',')}`), 'dynreg');
      },
      (err: unknown) => this.device.fault(err, 'AT+IMQTTDYNREG'),
    );
  }

  /** Open + CONNECT through the core, wait for the reply (or the time limit), close. */
  private async registration(req: DynregRequest): Promise<Registration> {
    const reg = this.registrar;
    const expected = REGISTER_TOPICS[req.mode];
    const ended = new Promise<{ end: Registration | IncomingMessage }>((resolve) => (this.endRegistration = (end) => resolve({ end })));
    const onMessage = (m: IncomingMessage): void => {
      if (m.topic === expected) this.endRegistration?.(m);
    };
    reg.on('message', onMessage);
    try {
      const creds = aliyunRegisterCredentials({
        productKey: req.productKey,
        deviceName: req.deviceName,
        productSecret: req.productSecret,
        noWhitelist: req.mode === 2,
      });
      const host = this.config.addr !== '' ? this.config.addr : this.aliyunHost(req.productKey);
      const connect = this.connectOptions(creds, true);
      const limit = this.device.timing.limit('dynregTimeout', 10_000);
      const started = await Promise.race([reg.start(() => this.attemptPlan(host, connect)), ended]);
      let end: Registration | IncomingMessage | undefined;
      if ('end' in started) end = started.end;
      else if (started.kind === 'abandoned') return started;
      else if (started.kind !== 'connected') return { kind: 'failed', why: describeFailure(started) };
      else end = (await Promise.race([ended, reg.sleep(limit).then(() => undefined)]))?.end;
      if (end === undefined) return { kind: 'failed', why: `no reply on ${expected} within ${limit} ms` };
      if (!('topic' in end)) return end;
      const triple = this.tripleFrom(req, end.payload);
      return triple ? { kind: 'registered', triple } : { kind: 'failed', why: `unusable reply on ${expected}` };
    } finally {
      reg.off('message', onMessage);
      this.endRegistration = undefined;
      // The platform disconnects after its reply; the module lets go of the link either way.
      reg.close();
    }
  }

  /** The registration connection ended on its own: the network went (-1 now) or the platform hung up. */
  private onRegistrationLost(loss: SessionLoss): void {
    if (loss.reason === 'network-down') {
      this.log.info('network lost during dynamic registration');
      this.endRegistration?.({ kind: 'abandoned' });
      this.urc(line('+IMQTTDYNREG', -1));
      return;
    }
    // The platform hangs up right behind its reply, and the core may report the close before the
    // message that came just ahead of it (it delivers messages one macrotask after arrival): the
    // failure waits one macrotask so that reply still counts.
    const end = this.endRegistration;
    setImmediate(() => {
      if (this.endRegistration === end) end?.({ kind: 'failed', why: `link closed (${loss.reason}) before a reply` });
    });
  }

  /** The reply's JSON → the triple §2.16 reports for the mode. */
  private tripleFrom(req: DynregRequest, payload: Buffer): Triple | undefined {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const text = (k: string): string | undefined => {
      const v = body[k];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    if (req.mode === 1) {
      const deviceSecret = text('deviceSecret');
      if (!deviceSecret) return undefined;
      return [text('productKey') ?? req.productKey, text('deviceName') ?? req.deviceName, deviceSecret];
    }
    const clientId = text('clientId');
    const deviceToken = text('deviceToken');
    if (!clientId || !deviceToken) return undefined;
    const c = aliyunConnwlCredentials({ productKey: req.productKey, deviceName: req.deviceName, clientId, deviceToken });
    return [c.clientId, c.username, c.password];
  }

  // ------------------------------------------------------------------ lifecycle

  /** Reboot / dispose: everything goes without a URC (the module is restarting). */
  destroy(): void {
    this.endRegistration?.({ kind: 'abandoned' });
    this.session.destroy();
    this.registrar.destroy();
    this.cache.length = 0;
  }

  /** Power-on settings (RAM only; the flash keeps the saved triples). */
  resetConfig(): void {
    this.config = defaultConfig(this.data);
    this.session.resetIds();
    this.lastUnsubscribe = undefined;
    this.lastPublish = undefined;
    this.lastPublishHex = undefined;
    this.dynregRequest = undefined;
    this.plan = undefined;
  }

  /** A snapshot without secrets. */
  inspect(): Record<string, unknown> {
    const c = this.config;
    return {
      state: this.state,
      mode: c.mode,
      tls: c.tls,
      recvMode: c.recvMode,
      para: { timeout: c.timeout, clean: c.clean, keepalive: c.keepalive, version: c.version },
      addr: c.addr,
      port: c.port,
      clientId: c.clientId,
      username: c.username,
      auth: c.auth ? { productKey: c.auth.productKey, deviceName: c.auth.deviceName } : undefined,
      will: c.will ? { topic: c.will.topic, qos: c.will.qos, retain: c.will.retain, bytes: c.will.payload.length } : undefined,
      plan: this.plan,
      subscriptions: Object.fromEntries(this.session.subscriptions),
      pending: this.session.inflightIds(),
      cached: this.cache.length,
      session: this.session.inspect(),
    };
  }
}

/** Why an attempt did not connect, for logs (+IMQTTCONN:-1 / +IMQTTDYNREG:-1 either way). */
function describeFailure(r: Exclude<AttemptResult, { kind: 'connected' }>): string {
  switch (r.kind) {
    case 'no-network':
      return 'no data network';
    case 'open-failed':
      return `transport: ${r.reason}`;
    case 'refused':
      return `CONNACK ${r.returnCode}`;
    case 'plan-refused':
      return `refused before CONNECT (${r.code})`;
    default:
      return `CONNECT ${r.kind}`;
  }
}
