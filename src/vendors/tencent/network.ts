/**
 * The emulated network join of AT+TCREGNET (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.1, URC §5.6): a
 * Wi-Fi module joining a hotspot, or a cellular module dialling an APN. It rides on the modem's
 * radio (src/modem/network-state.ts): with the radio off (AT+CFUN=0) or not registered, a join
 * fails, and a joined network that loses the radio closes (`+TCREGNET:<type>,NET_CLOSE`).
 *
 * Where the manual is silent:
 * - At power-on the module is joined to its saved hotspot/APN when the profile says so
 *   (`network.upAtBoot`; the ESP8266 firmware reconnects to the hotspot it saved), so the §7
 *   examples work without AT+TCREGNET, as printed.
 * - A join takes `netJoin` ms. A failed join (radio down, a hotspot not in `network.hotspots` or a
 *   wrong password) takes `netJoinFail` ms and reports NET_FAIL,202 (command timeout — the code of
 *   the manual's own failure example).
 * - When the radio comes back, a network that was closed by the radio (not by AT+TCREGNET=…,0)
 *   is joined again and reported `NET_OK`.
 * - On a cellular module whose data path is a context the host dials (tencent-qcloud-cellular:
 *   settings.radio.autoActivate false, Neoway's AT+XIIC=1), AT+TCREGNET=0,1 dials it — §2.1 calls
 *   it 蜂窝模组激活联网 — and the firmware dials it again when the radio is back (registered once
 *   more) while the MCU still wants it.
 */
import type { Logger } from 'pino';
import type { Device } from '../../modem/device.js';
import type { TencentProfileData } from './context.js';
import { CME } from './errors.js';

export type ModuleType = 0 | 1;

export type JoinRequest = { type: 0; apn: string } | { type: 1; ssid: string; password: string };

export class TencentNetwork {
  /** <module_type> of the last AT+TCREGNET (the profile's before any). */
  type: ModuleType;
  joined: boolean;
  /** The MCU wants the network up (the last action was a join, or power-on with upAtBoot). */
  private wanted: boolean;
  ssid: string;
  password: string;
  apn: string;
  private readonly log: Logger;
  /** Bumped by a restart: a join still waiting then changes nothing. */
  private epoch = 0;
  /** AT+TCREGNET=0,1 dialled the data context: dial it again when the radio is back. */
  private dialled = false;
  /** A dial of the data context is under way (its `up` is this join's, not a rejoin). */
  private dialling = false;
  private redialling = false;

  /** Called when a joined network closes (for the MQTT connection) and when it is back. */
  onClosed: () => void = () => {};
  onRejoined: () => void = () => {};

  constructor(
    private readonly device: Device,
    private readonly data: TencentProfileData,
  ) {
    this.type = data.moduleType;
    this.ssid = data.network.ssid;
    this.password = data.network.password;
    this.apn = data.network.apn;
    this.joined = data.network.upAtBoot && device.network.dataReady;
    this.wanted = data.network.upAtBoot;
    this.log = device.log.child({ component: 'tencent-net' });
  }

  /** The network can carry a connection (on a Wi-Fi module: the station has its address too). */
  get ready(): boolean {
    return this.joined && this.device.network.dataReady && (this.device.wifi?.online ?? true);
  }

  get ip(): string {
    return this.type === 1 ? this.data.network.wifiIp : this.data.network.cellularIp;
  }

  /** Join; resolves with 0 or the NET_FAIL code. The wait is the module's. */
  async join(req: JoinRequest): Promise<number> {
    this.type = req.type;
    this.wanted = true;
    if (req.type === 1) {
      this.ssid = req.ssid;
      this.password = req.password;
    } else this.apn = req.apn;
    const epoch = this.epoch;
    if (req.type === 0) {
      this.dialled = true;
      await this.dial();
      if (epoch !== this.epoch) return CME.timeout;
    }
    const ok = this.device.network.dataReady && this.reachable(req);
    await new Promise((r) => setTimeout(r, this.device.timing.delay(ok ? 'netJoin' : 'netJoinFail', ok ? 1500 : 10_000)));
    if (epoch !== this.epoch) return CME.timeout;
    if (!ok || !this.device.network.dataReady) {
      this.joined = false;
      this.log.info({ type: req.type, ssid: req.type === 1 ? req.ssid : undefined }, 'network join failed');
      return CME.timeout;
    }
    this.joined = true;
    this.log.info({ type: req.type, ssid: req.type === 1 ? req.ssid : undefined, apn: req.type === 0 ? req.apn : undefined }, 'network joined');
    return 0;
  }

  /** Activate the data context when the module is registered and it is down (no-op otherwise). */
  private async dial(): Promise<void> {
    const radio = this.device.network;
    if (this.dialling || radio.dataReady || !radio.registered || !radio.contexts.has(1)) return;
    this.dialling = true;
    try {
      await radio.activate(1);
    } finally {
      this.dialling = false;
    }
  }

  /** The radio changed (registration): dial again what AT+TCREGNET=0,1 dialled, if still wanted. */
  radioChanged(): void {
    const radio = this.device.network;
    if (!this.dialled || !this.wanted || this.joined || this.dialling || this.redialling) return;
    if (radio.dataReady || !radio.registered || !radio.contexts.has(1)) return;
    // Its `up` is a rejoin: radioUp reports NET_OK.
    this.redialling = true;
    void radio
      .activate(1)
      .catch((err: unknown) => this.log.warn({ err }, 'redial failed'))
      .finally(() => {
        this.redialling = false;
      });
  }

  private reachable(req: JoinRequest): boolean {
    const hotspots = this.data.network.hotspots;
    if (req.type === 0 || !hotspots) return true;
    return hotspots.some((h) => h.ssid === req.ssid && h.password === req.password);
  }

  /** AT+TCREGNET=<type>,0. */
  leave(type: ModuleType): void {
    this.type = type;
    this.wanted = false;
    this.dialled = false;
    const was = this.joined;
    this.joined = false;
    if (was) this.onClosed();
  }

  /** The radio went down: a joined network closes (the set reports NET_CLOSE). True if it was joined. */
  radioDown(): boolean {
    if (!this.joined) return false;
    this.joined = false;
    this.onClosed();
    return true;
  }

  /** The radio is back: rejoin if the MCU still wants the network. True if it rejoined. */
  radioUp(): boolean {
    if (!this.wanted || this.joined || this.dialling) return false;
    this.joined = true;
    this.onRejoined();
    return true;
  }

  /** Power-on state. */
  reset(): void {
    this.epoch++;
    this.dialled = false;
    this.type = this.data.moduleType;
    this.ssid = this.data.network.ssid;
    this.password = this.data.network.password;
    this.apn = this.data.network.apn;
    this.joined = this.data.network.upAtBoot && this.device.network.dataReady;
    this.wanted = this.data.network.upAtBoot;
  }
}
