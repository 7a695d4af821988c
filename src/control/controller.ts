/**
 * One modem as tests drive it: the cloud side (publish to the device, what it published, drop or
 * stall its session, refuse its next CONNECT, refuse topics, delay acks, take the broker down),
 * the network side (registration, signal, failing opens, latency), the serial side (overridden
 * responses, slow responses, baud pacing, junk bytes, reboot) and inspection. The HTTP API, the
 * CLI and the TypeScript API all call these methods; nothing here knows a vendor.
 */
import { EventEmitter } from 'node:events';
import type { Packet } from 'mqtt-packet';
import type { EmbeddedBroker, BrokerPublish } from '../broker/embedded-broker.js';
import type { Outcome, ParsedCommand } from '../at/types.js';
import type { Modem } from '../modem/modem.js';
import type { PacedPort } from '../port/paced-port.js';
import type { RunningCloud } from '../cloud/virtual-cloud.js';
import { otaPushMessage, otaTopicOf } from '../cloud/ota-push.js';
import { ownClients } from './client-owners.js';
import { topicMatches, type AckFault, type ClientRules } from './broker-faults.js';
import type { NetworkFaults, OpenFault } from './network-faults.js';

export type ControlEvent =
  | { type: 'serial'; modem: string; dir: 'in' | 'out'; kind?: string; hex: string; text: string; t: number }
  | { type: 'urc'; modem: string; text: string; t: number }
  | { type: 'mqtt'; modem: string; dir: 'up' | 'down'; cmd: string; topic?: string; messageId?: number; qos?: number; retain?: boolean; payloadHex?: string; t: number }
  | { type: 'state'; modem: string; what: string; detail?: unknown; t: number };

export interface DevicePublish {
  clientId: string;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** The packet id the device gave it (0 for QoS 0). */
  messageId: number;
  t: number;
}

export interface Override {
  /** Command name as typed after AT, e.g. `+CSQ` or `+QMTOPEN` (case-insensitive). */
  command: string;
  /** Which form; default any. */
  form?: ParsedCommand['form'];
  /** Lines to answer; the last one is the final result code (`OK`, `ERROR`, `+CME ERROR: 3`). */
  response: string[];
  /** Apply once, then remove. Default false (sticky). */
  once?: boolean;
}

export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export interface ControllerParts {
  name: string;
  index: number;
  modem: Modem;
  port: PacedPort;
  faults: NetworkFaults;
  linkPath?: string;
  broker?: EmbeddedBroker;
  /** The virtual cloud (firmware server) on the embedded broker. */
  cloud?: RunningCloud;
}

/**
 * The device publishes each modem keeps for `published` / `waitForPublish`: 10,000 per modem, but
 * at most about 200,000 in the process, shared by its modems (at least 100 each). A fleet of
 * 1,000 modems publishing once a second kept 10,000 each — ten million records, gigabytes, and
 * ever slower full garbage collections — after three hours (issue 12 §3).
 */
const MAX_PUBLISHES_KEPT = 10_000;
const MAX_PUBLISHES_KEPT_IN_PROCESS = 200_000;
let liveControllers = 0;
/** How many publishes each modem keeps when the process runs `modems` of them. */
export function publishLogSize(modems: number): number {
  return Math.max(100, Math.min(MAX_PUBLISHES_KEPT, Math.floor(MAX_PUBLISHES_KEPT_IN_PROCESS / Math.max(1, modems))));
}
const publishesKept = () => publishLogSize(liveControllers);

export class ModemController extends EventEmitter<{ event: [ControlEvent] }> {
  readonly name: string;
  readonly index: number;
  private readonly started = performance.now();
  private readonly publishes: DevicePublish[] = [];
  private readonly rules: ClientRules = { refuseSubscribe: [], refusePublish: [] };
  private overrides: Override[] = [];
  /** True while inject() writes (its bytes are reported as kind `inject`, not as a URC). */
  private injecting = false;
  private readonly detach: (() => void)[] = [];
  private disposed = false;
  /** Decoded MQTT packets of the modem's links, turned into events while anyone watches. */
  private readonly onPacket: (observed: { dir: 'up' | 'down'; packet: Packet }) => void;
  readonly counters = { bytesIn: 0, bytesOut: 0, commands: 0, urcs: 0, publishesUp: 0, publishesDown: 0 };

  constructor(private readonly parts: ControllerParts) {
    super();
    liveControllers++;
    this.name = parts.name;
    this.index = parts.index;
    const { modem, faults, broker } = parts;
    const engine = modem.engine;
    engine.interceptor = (cmd) => this.intercept(cmd);
    const onIn = (b: Buffer) => {
      this.counters.bytesIn += b.length;
      if (this.listenerCount('event')) this.emitEvent({ type: 'serial', modem: this.name, dir: 'in', ...bytesView(b), t: this.now() });
    };
    const onOut = (b: Buffer, engineKind: string) => {
      // Injected junk is written the way URCs are, but it is no URC: report it as what it is.
      const kind = this.injecting ? 'inject' : engineKind;
      this.counters.bytesOut += b.length;
      if (kind === 'urc') this.counters.urcs++;
      if (!this.listenerCount('event')) return;
      this.emitEvent({ type: 'serial', modem: this.name, dir: 'out', kind, ...bytesView(b), t: this.now() });
      if (kind === 'urc') this.emitEvent({ type: 'urc', modem: this.name, text: b.toString('latin1').trim(), t: this.now() });
    };
    const onCommand = () => {
      this.counters.commands++;
    };
    engine.on('input', onIn);
    engine.on('output', onOut);
    engine.on('command', onCommand);
    this.detach.push(() => {
      engine.off('input', onIn);
      engine.off('output', onOut);
      engine.off('command', onCommand);
    });
    // PUBLISHes down are counted whether or not an event stream is open (issue 8); the proxy
    // decodes packets only while the event stream is watched (watch()). Links the proxy cannot
    // read (TLS) are not framed, so their publishes are not counted.
    const onPublishSeen = (dir: 'up' | 'down') => {
      if (dir === 'down') this.counters.publishesDown++;
    };
    faults.proxy.on('publish', onPublishSeen);
    this.detach.push(() => faults.proxy.off('publish', onPublishSeen));
    this.onPacket = ({ dir, packet }: { dir: 'up' | 'down'; packet: Packet }) => {
      if (this.listenerCount('event')) this.emitEvent({ type: 'mqtt', modem: this.name, dir, ...packetSummary(packet), t: this.now() });
    };
    this.detach.push(() => faults.proxy.off('packet', this.onPacket));
    if (broker) {
      // One map lookup per broker publish, not one call per modem (client-owners.ts).
      this.detach.push(
        ownClients(broker, {
          ids: faults.clientIds,
          onNewId: (l) => faults.onNewClientId(l),
          onPublish: (p: BrokerPublish) => {
            this.counters.publishesUp++;
            this.publishes.push({ clientId: p.clientId, topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, messageId: p.messageId, t: this.now() });
            if (this.publishes.length > publishesKept()) this.publishes.splice(0, this.publishes.length - publishesKept());
          },
          rules: () => this.rules,
        }),
      );
    }
  }

  /**
   * Receive every event (serial bytes, URCs, MQTT packets, state changes) until the returned
   * function is called.
   */
  watch(listener: (e: ControlEvent) => void): () => void {
    if (this.listenerCount('event') === 0) this.parts.faults.proxy.on('packet', this.onPacket);
    this.on('event', listener);
    return () => {
      this.off('event', listener);
      if (this.listenerCount('event') === 0) this.parts.faults.proxy.off('packet', this.onPacket);
    };
  }

  private now(): number {
    return Math.round(performance.now() - this.started);
  }

  private emitEvent(e: ControlEvent): void {
    this.emit('event', e);
  }

  private requireBroker(what: string): EmbeddedBroker {
    if (!this.parts.broker) throw new ControlError('external-broker', `${what} needs the embedded broker (vmodem was started with --broker)`, 409);
    return this.parts.broker;
  }

  // ---- cloud side ----

  /** The cloud publishes to the device (broker-internal publish; reaches every subscriber). */
  async publish(msg: { topic: string; payload: Buffer; qos?: 0 | 1 | 2; retain?: boolean }): Promise<void> {
    const broker = this.requireBroker('publishing');
    if (!msg.topic || /[#+]/.test(msg.topic)) throw new ControlError('bad-topic', `"${msg.topic}" is not a topic name`);
    const qos = msg.qos ?? 0;
    if (![0, 1, 2].includes(qos)) throw new ControlError('bad-qos', 'qos must be 0, 1 or 2');
    await new Promise<void>((resolve, reject) =>
      broker.aedes.publish(
        { cmd: 'publish', topic: msg.topic, payload: msg.payload, qos, retain: msg.retain ?? false, dup: false, messageId: 0 } as never,
        (err?: Error) => (err ? reject(err) : resolve()),
      ),
    );
    this.state('cloud-publish', { topic: msg.topic, bytes: msg.payload.length, qos });
  }

  /** What the device published (embedded broker), optionally filtered by a topic filter. */
  published(filter?: string): DevicePublish[] {
    this.requireBroker('listing publishes');
    return filter ? this.publishes.filter((p) => topicMatches(filter, p.topic)) : this.publishes.slice();
  }

  /** Wait until the device publishes a matching message (already published ones count). */
  waitForPublish(match: { topic?: string; payload?: Buffer; qos?: number }, timeoutMs: number): Promise<DevicePublish> {
    const broker = this.requireBroker('waiting for publishes');
    const ok = (p: DevicePublish) =>
      (match.topic === undefined || topicMatches(match.topic, p.topic)) &&
      (match.payload === undefined || p.payload.equals(match.payload)) &&
      (match.qos === undefined || p.qos === match.qos);
    const found = this.publishes.find(ok);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const off = broker.onPublish(() => {
        const hit = this.publishes.find(ok);
        if (!hit) return;
        off();
        clearTimeout(timer);
        resolve(hit);
      });
      const timer = setTimeout(() => {
        off();
        reject(new ControlError('timeout', `no publish matching ${JSON.stringify({ ...match, payload: match.payload?.toString() })} within ${timeoutMs} ms`, 408));
      }, timeoutMs);
    });
  }

  /**
   * The cloud offers a firmware image: it is served by the virtual cloud's firmware server and
   * announced on the OTA topic the device subscribed to (Tencent `$ota/update/{pid}/{dn}`, after
   * AT+TCOTASET). The module then downloads it, checks size and MD5 and reports its progress.
   */
  async pushFirmware(o: { version: string; image: Buffer; name?: string }): Promise<{ topic: string; url: string; md5: string; size: number }> {
    this.requireBroker('pushing firmware');
    const cloud = this.parts.cloud;
    const base = cloud?.http?.httpUrl;
    if (!cloud || !base) throw new ControlError('no-firmware-server', 'the virtual cloud has no firmware server running', 409);
    if (!/^[\w.+-]{1,64}$/.test(o.version)) throw new ControlError('bad-version', 'version must be 1–64 letters, digits, . _ + -');
    if (o.image.length === 0) throw new ControlError('bad-image', 'the firmware image is empty');
    const topic = otaTopicOf((this.brokerSessions() ?? []).flatMap((s) => s.subscriptions.map((x) => x.topic)));
    if (!topic) throw new ControlError('no-ota-subscription', 'the device listens on no OTA topic (Tencent: AT+TCOTASET first)', 409);
    const name = o.name ?? `firmware-${o.version}.bin`;
    let image;
    try {
      image = cloud.firmware.add(name, o.image);
    } catch (err) {
      throw new ControlError('bad-name', (err as Error).message);
    }
    const offer = { version: o.version, url: `${base}/firmware/${image.name}`, md5: image.md5, size: image.size };
    await this.publish({ topic, payload: otaPushMessage(offer), qos: 1 });
    this.state('firmware-push', { topic, version: o.version, size: image.size });
    return { topic, ...offer };
  }

  /**
   * Tencent IoT Explorer data template (issue 10 §4, src/cloud/tencent-services.ts): the cloud sends
   * a `control` (on `$thing/down/property/{pid}/{dn}`) or an `action` (on `$thing/down/action/…`)
   * to the device, as the console does, and waits up to `timeoutMs` for the device's
   * `control_reply` / `action_reply` with the same clientToken (`reply: null` when none came).
   * The device is the one this modem signed in as (or `productId`/`deviceName` when given).
   */
  async dataTemplate(o: {
    method: 'control' | 'action';
    params: Record<string, unknown>;
    actionId?: string;
    productId?: string;
    deviceName?: string;
    timeoutMs?: number;
  }): Promise<{ topic: string; clientToken: string; message: Record<string, unknown>; reply: Record<string, unknown> | null }> {
    this.requireBroker('sending a data-template message');
    const services = this.parts.cloud?.cloud.tencent;
    if (!services) throw new ControlError('no-cloud', 'the virtual cloud is not running on the embedded broker', 409);
    if (o.method !== 'control' && o.method !== 'action') throw new ControlError('bad-method', 'method must be control or action');
    if (typeof o.params !== 'object' || o.params === null || Array.isArray(o.params)) throw new ControlError('bad-params', 'params must be a JSON object');
    const timeoutMs = o.timeoutMs ?? 5000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > 600_000) throw new ControlError('bad-timeout', 'timeoutMs must be 0–600000');
    const device = o.productId && o.deviceName ? { productId: o.productId, deviceName: o.deviceName } : this.tencentDevice();
    if (!device) throw new ControlError('no-tencent-device', 'the modem is not signed in to the cloud as a Tencent device (give productId and deviceName)', 409);
    const sent = await services.send({ ...device, method: o.method, params: o.params, ...(o.actionId !== undefined ? { actionId: o.actionId } : {}) });
    this.state('data-template', { topic: sent.topic, method: o.method, clientToken: sent.clientToken });
    const reply = timeoutMs > 0 ? await services.waitForReply(sent.clientToken, timeoutMs) : undefined;
    return { ...sent, reply: reply?.message ?? null };
  }

  /** The Tencent product and device this modem's MQTT client signed in as (virtual cloud session). */
  private tencentDevice(): { productId: string; deviceName: string } | undefined {
    const cloud = this.parts.cloud?.cloud;
    const clients = (this.parts.broker?.aedes as unknown as { clients?: Record<string, unknown> } | undefined)?.clients ?? {};
    for (const id of this.parts.faults.clientIds) {
      const client = clients[id];
      const s = client ? cloud?.sessionOf(client as never) : undefined;
      if (s?.platform === 'tencent') return { productId: s.productId, deviceName: s.deviceName };
    }
    return undefined;
  }

  /** Close the device's MQTT connections from the broker side (the module reports the drop). */
  dropSession(): { dropped: number } {
    const dropped = this.parts.faults.dropAll();
    this.state('drop', { dropped });
    return { dropped };
  }

  /** The broker stops answering (nothing passes either way) until `stall(false)`. */
  stall(on: boolean): void {
    this.parts.faults.settings.stalled = on;
    if (!on) this.parts.faults.dropAll(); // a stalled TCP stream cannot resume cleanly
    this.state('stall', { on });
  }

  /** Refuse the next CONNECT with this CONNACK return code (1–5). */
  refuseNextConnect(returnCode: number): void {
    if (!Number.isInteger(returnCode) || returnCode < 1 || returnCode > 5) throw new ControlError('bad-code', 'CONNACK return code must be 1–5');
    this.parts.faults.settings.refuseNextConnect = returnCode;
    this.state('refuse-connect', { returnCode });
  }

  refuseSubscribe(filter: string | null): void {
    this.requireBroker('refusing subscriptions');
    if (filter === null) this.rules.refuseSubscribe = [];
    else this.rules.refuseSubscribe.push(filter);
    this.state('refuse-subscribe', { filters: this.rules.refuseSubscribe });
  }

  refusePublish(filter: string | null): void {
    this.requireBroker('refusing publishes');
    if (filter === null) this.rules.refusePublish = [];
    else this.rules.refusePublish.push(filter);
    this.state('refuse-publish', { filters: this.rules.refusePublish });
  }

  /** Delay (ms) or withhold (null) PUBACK / SUBACK; undefined restores normal acks. */
  ackFault(kind: 'puback' | 'suback', fault: AckFault | undefined): void {
    this.requireBroker('delaying acknowledgements');
    if (fault && fault.delayMs !== null && (!Number.isFinite(fault.delayMs) || fault.delayMs < 0)) {
      throw new ControlError('bad-delay', 'delayMs must be ≥ 0 or null (withhold)');
    }
    this.rules[kind] = fault;
    this.state('ack-fault', { kind, fault });
  }

  /** The broker goes away for this modem: connections drop and new ones are refused. */
  brokerDown(): void {
    this.parts.faults.settings.down = true;
    this.parts.faults.dropAll();
    this.state('broker-down');
  }

  brokerUp(): void {
    this.parts.faults.settings.down = false;
    this.state('broker-up');
  }

  // ---- network side ----

  setRegistration(registered: boolean): void {
    this.parts.modem.network.setRegistration(registered ? 1 : 0);
    this.state('registration', { registered });
  }

  /**
   * What the network grants (issue 13): home, roaming, denied (with a 24.301 EMM reject cause,
   * default 15 "no suitable cells in tracking area") or none. Registration URCs follow the
   * modes the firmware enabled; links end when the data path goes.
   */
  setRegistrationState(state: 'home' | 'roaming' | 'denied' | 'none', rejectCause?: number): void {
    const stat = ({ home: 1, roaming: 5, denied: 3, none: 0 } as const)[state];
    if (stat === undefined) throw new ControlError('bad-state', 'state must be home, roaming, denied or none');
    if (rejectCause !== undefined && (!Number.isInteger(rejectCause) || rejectCause < 0 || rejectCause > 255)) {
      throw new ControlError('bad-cause', 'rejectCause must be 0–255');
    }
    this.parts.modem.network.setRegistration(stat, rejectCause);
    this.state('registration', { state, rejectCause });
  }

  /** Pull the SIM (false) or put it back (true): +CPIN: NOT READY / READY-style URCs, registration lost / regained. */
  setSim(present: boolean): void {
    this.parts.modem.network.setSim(present);
    this.state('sim', { present });
  }

  /**
   * The network deactivates a PDP context: the vendor's URC (+QIURC: "pdpdeact",<cid>,
   * +MIPCALL: <cid>,0, +CGEV: NW PDN DEACT <cid> with AT+CGEREP=1), links over it end, and MQTT
   * opens fail until the firmware activates it again.
   */
  deactivateContext(cid = 1): void {
    const net = this.parts.modem.network;
    // 409: the request is well formed, the module's state does not allow it (API.md).
    if (!net.contexts.get(cid)?.active) throw new ControlError('not-active', `context ${cid} is not active`, 409);
    net.setContext(cid, false, 'network');
    this.state('context-deactivated', { cid });
  }

  setSignal(rssi: number, ber = 99): void {
    if (!Number.isInteger(rssi) || !((rssi >= 0 && rssi <= 31) || rssi === 99)) throw new ControlError('bad-rssi', 'rssi must be 0–31 or 99');
    if (!Number.isInteger(ber) || !((ber >= 0 && ber <= 7) || ber === 99)) throw new ControlError('bad-ber', 'ber must be 0–7 or 99');
    this.parts.modem.network.rssi = rssi;
    this.parts.modem.network.ber = ber;
    this.state('signal', { rssi, ber });
  }

  /**
   * Wi-Fi modules (profile settings.wifi): the access point goes off the air (`ap: false` — the
   * station reports its loss, e.g. ESP-AT `WIFI DISCONNECT`, and links over it end) or comes back
   * (the station rejoins: `WIFI CONNECTED`, `WIFI GOT IP`); `rssi` (dBm, -100…0) is the signal
   * AT+CWJAP? reports.
   */
  setWifi(change: { ap?: boolean; rssi?: number }): void {
    const wifi = this.parts.modem.device.wifi;
    if (!wifi) throw new ControlError('no-wifi', 'this modem has no Wi-Fi (its profile has no settings.wifi)', 409);
    if (change.rssi !== undefined && (!Number.isInteger(change.rssi) || change.rssi < -100 || change.rssi > 0)) {
      throw new ControlError('bad-rssi', 'Wi-Fi rssi must be -100–0 dBm');
    }
    if (change.rssi !== undefined) wifi.rssi = change.rssi;
    if (change.ap !== undefined) wifi.setApPresent(change.ap);
    this.state('wifi', { ap: wifi.apPresent, rssi: wifi.rssi });
  }

  failNextOpen(reason: OpenFault): void {
    if (!['dns', 'refused', 'timeout'].includes(reason)) throw new ControlError('bad-reason', 'reason must be dns, refused or timeout');
    this.parts.faults.failNextOpen(reason);
    this.state('fail-next-open', { reason });
  }

  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) throw new ControlError('bad-latency', 'latency must be 0–600000 ms');
    this.parts.faults.settings.latencyMs = ms;
    // The proxy delays MQTT packets; the network model adds the same to every round trip the
    // module waits for, the TCP and TLS handshakes and the DNS lookup included.
    this.parts.modem.device.netTiming.extraLatencyMs = ms;
    this.state('latency', { ms });
  }

  // ---- serial side ----

  override(o: Override): void {
    if (!o.command || !Array.isArray(o.response) || o.response.length === 0) {
      throw new ControlError('bad-override', 'an override needs a command and at least one response line');
    }
    // `+CREG?`, `+QMTOPEN=?`, `+QMTCFG=…` name one form (unless `form` says otherwise); a bare
    // name matches every form.
    const form = o.form ?? formOf(o.command);
    this.overrides.push({ ...o, command: normaliseCommand(o.command), ...(form ? { form } : {}) });
    this.state('override', { command: o.command, once: o.once ?? false });
  }

  clearOverrides(): void {
    this.overrides = [];
    this.state('clear-overrides');
  }

  setResponseDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) throw new ControlError('bad-delay', 'delay must be 0–600000 ms');
    this.parts.modem.engine.responseDelayMs = ms;
    this.state('response-delay', { ms });
  }

  setBaud(baud: number): void {
    if (!Number.isInteger(baud) || baud < 0 || baud > 16_000_000) throw new ControlError('bad-baud', 'baud must be 0 (unpaced) to 16000000');
    this.parts.port.setBaud(baud);
    this.state('baud', { baud });
  }

  /** Write bytes to the host as if the module had printed them (noise on the line). */
  inject(bytes: Buffer): void {
    this.injecting = true;
    try {
      this.parts.modem.engine.writeRaw(bytes);
    } finally {
      this.injecting = false;
    }
    this.state('inject', { bytes: bytes.length });
  }

  reboot(): void {
    this.parts.modem.reboot();
    this.state('reboot');
  }

  // ---- inspection ----

  inspect(): Record<string, unknown> {
    const { modem, port, faults, linkPath } = this.parts;
    const net = modem.network;
    return {
      name: this.name,
      index: this.index,
      profile: modem.profile.id,
      device: port.devicePath,
      link: linkPath,
      network: {
        cfun: net.cfun,
        regStat: net.regStat,
        rejectCause: net.rejectCause,
        rssi: net.rssi,
        ber: net.ber,
        dataReady: net.dataReady,
        sim: net.simPresent,
        contexts: [...net.contexts.values()].map((c) => ({ cid: c.cid, active: c.active })),
      },
      // null on a modem without Wi-Fi: the dashboard shows its access-point controls only when set.
      wifi: modem.device.wifi?.inspect() ?? null,
      serial: { echo: modem.engine.settings.echo, cmee: modem.engine.settings.cmee, baud: port.baudRate, responseDelayMs: modem.engine.responseDelayMs, overrides: this.overrides.length },
      faults: { ...faults.settings, connections: faults.connectionCount, rules: this.rules },
      clientIds: [...faults.clientIds],
      broker: this.brokerSessions(),
      mqtt: modem.inspect(),
      counters: { ...this.counters },
    };
  }

  /**
   * One word for the cluster's modem list (issue 12 §1): 'connected' while an MQTT connection is
   * open, 'online' when the data path is up but no connection is, 'offline' otherwise.
   */
  clusterState(): 'connected' | 'online' | 'offline' {
    const { modem, faults } = this.parts;
    if (faults.connectionCount > 0) return 'connected';
    return modem.network.dataReady ? 'online' : 'offline';
  }

  /** This modem's sessions on the embedded broker and what each is subscribed to. */
  private brokerSessions(): { clientId: string; subscriptions: { topic: string; qos: number }[] }[] | undefined {
    const broker = this.parts.broker;
    if (!broker) return undefined;
    const clients = (broker.aedes as unknown as { clients: Record<string, { subscriptions?: Record<string, { qos: number }> }> }).clients ?? {};
    return [...this.parts.faults.clientIds]
      .filter((id) => clients[id])
      .map((clientId) => ({
        clientId,
        subscriptions: Object.entries(clients[clientId]!.subscriptions ?? {}).map(([topic, sub]) => ({ topic, qos: sub.qos })),
      }));
  }

  dispose(): void {
    if (!this.disposed) liveControllers--;
    this.disposed = true;
    for (const d of this.detach) d();
    this.parts.modem.engine.interceptor = undefined;
    this.removeAllListeners();
  }

  /** Report a state change made elsewhere (the dashboard's host access) on this modem's stream. */
  note(what: string, detail?: unknown): void {
    this.state(what, detail);
  }

  private state(what: string, detail?: unknown): void {
    this.emitEvent({ type: 'state', modem: this.name, what, detail, t: this.now() });
  }

  private intercept(cmd: ParsedCommand): Outcome | undefined {
    const i = this.overrides.findIndex((o) => o.command === cmd.name && (o.form === undefined || o.form === cmd.form));
    if (i < 0) return undefined;
    const o = this.overrides[i]!;
    if (o.once) this.overrides.splice(i, 1);
    const lines = o.response.slice(0, -1);
    const last = o.response[o.response.length - 1]!;
    return last === 'OK' ? { type: 'ok', lines } : last === 'ERROR' ? { type: 'final', lines, final: 'ERROR' } : { type: 'final', lines, final: last };
  }
}

function formOf(c: string): ParsedCommand['form'] | undefined {
  const s = c.trim();
  if (s.endsWith('=?')) return 'test';
  if (s.endsWith('?')) return 'read';
  if (s.includes('=')) return 'set';
  return undefined;
}

function normaliseCommand(c: string): string {
  const s = c.trim().toUpperCase().replace(/^AT/, '');
  return s.replace(/(=\?|\?|=.*)$/, '');
}

function bytesView(b: Buffer): { hex: string; text: string } {
  return { hex: b.toString('hex'), text: b.toString('latin1') };
}

/** A publish's payload travels with its event up to this size (the dashboard's topic view). */
const MAX_EVENT_PAYLOAD = 16 * 1024;

function packetSummary(p: Packet): { cmd: string; topic?: string; messageId?: number; qos?: number; retain?: boolean; payloadHex?: string } {
  const any = p as { cmd: string; topic?: string; messageId?: number; qos?: number; retain?: boolean; payload?: Buffer | string };
  const out = { cmd: any.cmd, topic: any.topic, messageId: any.messageId, qos: any.qos };
  if (any.cmd !== 'publish') return out;
  const payload = typeof any.payload === 'string' ? Buffer.from(any.payload) : (any.payload ?? Buffer.alloc(0));
  return { ...out, retain: Boolean(any.retain), payloadHex: payload.subarray(0, MAX_EVENT_PAYLOAD).toString('hex') };
}
