/**
 * The CLM920's one MQTT client: its settings, its link to the broker, the packet ids it hands out,
 * its receive cache, the Aliyun dynamic registration, and the result lines the manual documents
 * (§2.7–§2.19).
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
import { LinkOpenError, type CloseReason, type ConnectOutcome, type IncomingMessage, type MqttLink, type RetryPolicy } from '../../../mqtt/types.js';
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

type Attempt = { kind: 'connected' } | { kind: 'failed'; why: string } | { kind: 'abandoned' };
type Registration = { kind: 'registered'; triple: Triple } | { kind: 'failed'; why: string } | { kind: 'abandoned' };

const REGISTER_TOPICS = { 1: '/ext/register', 2: '/ext/regnwl' } as const;

export class YugeClient {
  config: YugeConfig;
  state: YugeState = 'idle';
  /** Topics acknowledged by SUBACK, with their granted QoS (AT+IMQTTSUB?, §2.9). */
  readonly subscriptions = new Map<string, number>();
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
  private link?: MqttLink;
  /** Bumped whenever the current attempt, registration or link is abandoned. */
  private session = 0;
  private lastId = 0;
  /** Packet ids of requests still waiting for their acknowledgement. */
  private readonly pending = new Set<number>();
  /** Messages that arrived between CONNACK and the connection being reported. */
  private early: IncomingMessage[] = [];
  private readonly log: Logger;

  constructor(
    private readonly device: Device,
    private readonly data: YugeProfileData,
    private readonly flash: () => FlashStore,
  ) {
    this.config = defaultConfig(data);
    this.log = device.log.child({ component: 'yuge-imqtt' });
  }

  /** AT+IMQTTSTATE <status> (§2.14): 0 disconnected; connected: 1 poor signal, 2 good signal. */
  get stateCode(): 0 | 1 | 2 {
    if (this.state !== 'connected') return 0;
    const rssi = this.device.network.rssi;
    return rssi !== 99 && rssi >= this.data.goodSignalRssi ? 2 : 1;
  }

  /** Something is going on that a new AT+IMQTTCONN / AT+IMQTTDYNREG must not disturb. */
  get busy(): boolean {
    return this.state === 'connecting' || this.state === 'disconnecting' || this.state === 'registering';
  }

  private setState(next: YugeState): void {
    if (next === this.state) return;
    this.log.debug({ from: this.state, to: next }, 'state');
    this.state = next;
  }

  private urc(l: Line, delayName?: string): void {
    this.device.urc(l, delayName ? this.device.timing.delay(delayName) : 0);
  }

  private connUrc(state: number, delayName = 'conn'): void {
    this.urc(line('+IMQTTCONN', state), delayName);
  }

  private ackPolicy(): RetryPolicy {
    return { timeoutMs: this.config.timeout * 1000, retries: 0 };
  }

  /** The next free packet id (1–65535, skipping ids in flight). */
  private nextId(): number {
    for (let i = 0; i < 65535; i++) {
      this.lastId = (this.lastId % 65535) + 1;
      if (!this.pending.has(this.lastId)) return this.lastId;
    }
    throw new Error('no free packet id');
  }

  private aliyunHost(productKey: string): string {
    return this.data.aliyunHost.replace('{productKey}', productKey);
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

  /** AT+IMQTTCONN (§2.7): the caller has answered OK; +IMQTTCONN:0 or -1 follows. */
  connect(plan: ConnectPlan): void {
    const { password: _secret, ...visible } = plan;
    this.plan = visible;
    this.setState('connecting');
    const session = ++this.session;
    this.early = [];
    void this.attempt(session, plan).then((r) => {
      if (r.kind === 'abandoned' || session !== this.session) return;
      const early = this.early;
      this.early = [];
      if (r.kind === 'connected') {
        this.setState('connected');
        this.connUrc(CONN_STATE.connected);
        for (const m of early) this.onMessage(m);
        return;
      }
      this.log.info({ why: r.why }, 'connection failed');
      this.setState('idle');
      this.connUrc(CONN_STATE.disconnected);
    });
  }

  /** Open the transport (TCP or TLS per AT+IMQTTMODE <tls>) and send CONNECT. */
  private async attempt(session: number, plan: ConnectPlan): Promise<Attempt> {
    const cfg = this.config;
    if (!this.device.network.dataReady) return { kind: 'failed', why: 'no data network' };
    const link = await this.openLink(plan.host, plan.port, plan.tls);
    if (typeof link === 'string') return session === this.session ? { kind: 'failed', why: link } : { kind: 'abandoned' };
    if (session !== this.session) {
      link.destroy();
      return { kind: 'abandoned' };
    }
    this.link = link;
    link.on('message', (m) => {
      if (this.link !== link) return;
      // A persistent session's queued messages may arrive right behind the CONNACK: they are
      // reported after +IMQTTCONN:0.
      if (this.state === 'connecting') this.early.push(m);
      else if (this.state === 'connected') this.onMessage(m);
    });
    link.once('close', (reason) => this.onLinkClose(link, reason));
    if (plan.clientId === '' && cfg.clean === 0) {
      // [MQTT-3.1.3-8]: a zero-byte ClientId needs CleanSession 1; every broker refuses it with
      // CONNACK 2 (mqtt.js will not even encode such a CONNECT).
      this.dropLink();
      return { kind: 'failed', why: 'empty client id with a persistent session (CONNACK 2)' };
    }
    const will = cfg.will;
    let outcome: ConnectOutcome | { kind: 'error' };
    try {
      outcome = await link.connect({
        clientId: plan.clientId,
        username: plan.username,
        password: plan.password !== undefined ? Buffer.from(plan.password, 'latin1') : undefined,
        protocolVersion: cfg.version === '3.1' ? 3 : 4,
        keepalive: cfg.keepalive,
        clean: cfg.clean === 1,
        will: will && { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain },
        timeoutMs: cfg.timeout * 1000,
      });
    } catch (err) {
      this.log.warn({ err }, 'CONNECT failed');
      outcome = { kind: 'error' };
    }
    if (session !== this.session) return { kind: 'abandoned' };
    if (outcome.kind === 'accepted') {
      if (cfg.clean === 1 || !outcome.sessionPresent) this.subscriptions.clear();
      // The CONNECT counts as packet 1: the first request after it is 2 (§3 examples).
      this.lastId = 1;
      this.pending.clear();
      this.log.info({ host: plan.host, port: plan.port, tls: plan.tls, clientId: plan.clientId, how: plan.how }, 'connected');
      return { kind: 'connected' };
    }
    this.dropLink();
    return { kind: 'failed', why: outcome.kind === 'refused' ? `CONNACK ${outcome.returnCode}` : `CONNECT ${outcome.kind}` };
  }

  /** The transport to the configured broker, or why it could not be opened. */
  private async openLink(host: string, port: number, tls: boolean): Promise<MqttLink | string> {
    const links = this.device.links;
    const to = links.resolve({ host, port, tls });
    try {
      return await links.open({ target: to, timeoutMs: this.device.timing.limit('openTimeout', 30_000) });
    } catch (err) {
      const reason = err instanceof LinkOpenError ? err.reason : 'error';
      this.log.info({ host, port, tls, reason, err: (err as Error).message }, 'transport open failed');
      return `transport: ${reason}`;
    }
  }

  private onLinkClose(link: MqttLink, reason: CloseReason): void {
    // Closes during an attempt or a registration are handled there.
    if (this.link !== link || this.state !== 'connected') return;
    this.dropLink();
    this.lost(`link closed (${reason})`);
  }

  private lost(why: string): void {
    this.log.info({ why }, 'connection lost');
    if (this.config.clean === 1) this.subscriptions.clear();
    this.setState('idle');
    this.urc(line('+IMQTTCONN', CONN_STATE.disconnected));
  }

  /** AT+IMQTTDISCONN (§2.8): DISCONNECT, then +IMQTTCONN:-1 once the connection is gone. */
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
          if (this.config.clean === 1) this.subscriptions.clear();
          this.setState('idle');
          this.connUrc(CONN_STATE.disconnected, 'disc');
        });
      return;
    }
    // Still connecting: the attempt is abandoned.
    this.dropLink();
    this.setState('idle');
    this.connUrc(CONN_STATE.disconnected, 'disc');
  }

  /** The data network went away (AT+CFUN=0, deregistration): the link ends without DISCONNECT. */
  networkLost(): void {
    if (this.state === 'idle' || this.state === 'disconnecting') return;
    const was = this.state;
    this.session++;
    this.dropLink();
    if (was === 'registering') {
      this.setState('idle');
      this.log.info('network lost during dynamic registration');
      this.urc(line('+IMQTTDYNREG', -1));
      return;
    }
    this.lost('network lost');
  }

  /** Forget the link (its close no longer reports anything); destroy it unless told not to. */
  private dropLink(destroy = true): void {
    const link = this.link;
    this.link = undefined;
    this.pending.clear();
    if (destroy) link?.destroy();
  }

  // ------------------------------------------------------------------ requests

  /** AT+IMQTTSUB (§2.9): returns <packetid>; +IMQTTSUB:<packetid>,<qos> follows. */
  subscribe(topic: string, qos: 0 | 1): number {
    const link = this.link!;
    const id = this.nextId();
    this.pending.add(id);
    const report = (granted: number): void => {
      this.pending.delete(id);
      if (granted >= 0 && granted < 0x80) this.subscriptions.set(topic, granted);
      this.urc(line('+IMQTTSUB', `${id},${granted >= 0 && granted < 0x80 ? granted : -1}`), 'ack');
    };
    link.subscribe(id, [{ topic, qos }], this.ackPolicy()).then(
      (r) => report(r.kind === 'ok' ? (r.value[0] ?? 0x80) : -1),
      (err: unknown) => {
        this.log.warn({ err }, 'subscribe failed');
        report(-1);
      },
    );
    return id;
  }

  /** AT+IMQTTUNSUB (§2.10): returns <packetid>; +IMQTTUNSUB:<packetid>,<status> follows. */
  unsubscribe(topic: string): number {
    const link = this.link!;
    const id = this.nextId();
    this.pending.add(id);
    const report = (status: 0 | -1): void => {
      this.pending.delete(id);
      if (status === 0) this.subscriptions.delete(topic);
      this.lastUnsubscribe = { topic, status };
      this.urc(line('+IMQTTUNSUB', `${id},${status}`), 'ack');
    };
    link.unsubscribe(id, [topic], this.ackPolicy()).then(
      (r) => report(r.kind === 'ok' ? 0 : -1),
      (err: unknown) => {
        this.log.warn({ err }, 'unsubscribe failed');
        report(-1);
      },
    );
    return id;
  }

  /**
   * AT+IMQTTPUB / AT+IMQTTPUBIN / AT+IMQTTPUBEX (§2.11–§2.13): returns <packetID>;
   * `<resultName>:<packetID>,<status>` follows.
   */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean, resultName: string): number {
    const link = this.link!;
    const id = this.nextId();
    if (qos > 0) this.pending.add(id);
    const report = (status: 0 | 1): void => {
      this.pending.delete(id);
      this.urc(line(resultName, `${id},${status}`), 'ack');
    };
    link.publish(id, topic, payload, { qos, retain }, this.ackPolicy()).then(
      (r) => report(r.kind === 'ok' ? 0 : 1),
      (err: unknown) => {
        this.log.warn({ err }, 'publish failed');
        report(1);
      },
    );
    return id;
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
    this.setState('registering');
    const session = ++this.session;
    void this.registration(session, req).then((r) => {
      if (r.kind === 'abandoned' || session !== this.session) return;
      this.setState('idle');
      if (r.kind === 'failed') {
        this.log.info({ why: r.why, mode: req.mode, productKey: req.productKey, deviceName: req.deviceName }, 'dynamic registration failed');
        this.urc(line('+IMQTTDYNREG', -1), 'dynreg');
        return;
      }
      if (req.save === 1) saveTriple(this.flash(), req.mode, r.triple);
      this.log.info({ mode: req.mode, productKey: req.productKey, deviceName: req.deviceName, saved: req.save === 1 }, 'dynamic registration done');
      this.urc(line('+IMQTTDYNREG', `${req.mode},${r.triple.map((s) => quoted(textToAt(s))).join(',')}`), 'dynreg');
    });
  }

  private async registration(session: number, req: DynregRequest): Promise<Registration> {
    const cfg = this.config;
    if (!this.device.network.dataReady) return { kind: 'failed', why: 'no data network' };
    const host = cfg.addr !== '' ? cfg.addr : this.aliyunHost(req.productKey);
    const link = await this.openLink(host, cfg.port, cfg.tls);
    if (typeof link === 'string') return session === this.session ? { kind: 'failed', why: link } : { kind: 'abandoned' };
    if (session !== this.session) {
      link.destroy();
      return { kind: 'abandoned' };
    }
    this.link = link;
    const expected = REGISTER_TOPICS[req.mode];
    const reply = new Promise<IncomingMessage | undefined>((resolve) => {
      link.on('message', (m) => {
        if (m.topic === expected) resolve(m);
      });
      link.once('close', () => resolve(undefined));
    });
    const creds = aliyunRegisterCredentials({
      productKey: req.productKey,
      deviceName: req.deviceName,
      productSecret: req.productSecret,
      noWhitelist: req.mode === 2,
    });
    let outcome: ConnectOutcome | { kind: 'error' };
    try {
      outcome = await link.connect({
        clientId: creds.clientId,
        username: creds.username,
        password: Buffer.from(creds.password, 'latin1'),
        protocolVersion: cfg.version === '3.1' ? 3 : 4,
        keepalive: cfg.keepalive,
        clean: true,
        timeoutMs: cfg.timeout * 1000,
      });
    } catch (err) {
      this.log.warn({ err }, 'registration CONNECT failed');
      outcome = { kind: 'error' };
    }
    if (session !== this.session) return { kind: 'abandoned' };
    if (outcome.kind !== 'accepted') {
      this.dropLink();
      return { kind: 'failed', why: outcome.kind === 'refused' ? `CONNACK ${outcome.returnCode}` : `CONNECT ${outcome.kind}` };
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.device.timing.limit('dynregTimeout', 10_000));
    });
    const m = await Promise.race([reply, timeout]);
    clearTimeout(timer);
    if (session !== this.session) return { kind: 'abandoned' };
    // The platform disconnects after its reply; the module lets go of the link either way.
    this.dropLink();
    if (!m) return { kind: 'failed', why: `no reply on ${expected}` };
    const triple = this.tripleFrom(req, m.payload);
    return triple ? { kind: 'registered', triple } : { kind: 'failed', why: `unusable reply on ${expected}` };
  }

  /** The reply's JSON → the triple §2.16 reports for the mode. */
  private tripleFrom(req: DynregRequest, payload: Buffer): Triple | undefined {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const text = (k: string): string | undefined => (typeof body[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined);
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
    this.session++;
    this.dropLink();
    this.setState('idle');
    this.subscriptions.clear();
    this.cache.length = 0;
  }

  /** Power-on settings (RAM only; the flash keeps the saved triples). */
  resetConfig(): void {
    this.config = defaultConfig(this.data);
    this.lastId = 0;
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
      subscriptions: Object.fromEntries(this.subscriptions),
      pending: [...this.pending],
      cached: this.cache.length,
    };
  }
}
