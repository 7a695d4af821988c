/**
 * The emulated Wi-Fi side of a Wi-Fi module (an ESP8266 station) and the one virtual access point
 * it can reach: `settings.wifi` in profiles/<id>.json, overridable per modem (ModemOptions.wifi).
 * Vendor-neutral: the ESP-AT set (src/vendors/espressif/esp-at) prints its messages from the
 * events here, the Tencent set gates its MQTT connection on `online`, and the control API takes
 * the access point away or weakens its signal.
 *
 * The module behaves as one whose Wi-Fi was set up before (`joinAtBoot`): the station's saved
 * configuration is the access point's SSID and password, and it joins at power-on — as a real
 * ESP8266 with a configuration in flash does (ESP-AT "AT+CWAUTOCONN … connects to the AP
 * automatically on power-up by default"). AT+RESTORE forgets the saved configuration.
 *
 * Join results are ESP-AT's AT+CWJAP <error code>s (Wi-Fi AT Commands, AT+CWJAP): 1 connection
 * timeout, 2 wrong password, 3 cannot find the target AP, 4 connection failed.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../util/clock.js';

/** The access point and the station's addresses. */
export interface WifiSettings {
  /** The virtual access point. */
  ssid: string;
  password: string;
  bssid: string;
  channel: number;
  /** dBm as AT+CWJAP? prints it. */
  rssi: number;
  /** What the AP's DHCP server hands the station. */
  ip: string;
  gateway: string;
  netmask: string;
  /** The station's MAC (AT+CIFSR, AT+CIPSTAMAC?). */
  mac: string;
  /** Joined at power-on with the saved configuration (a module set up before). */
  joinAtBoot: boolean;
  /** Module time from the request to `WIFI CONNECTED`, and from there to `WIFI GOT IP`. */
  connectMs: number;
  dhcpMs: number;
  /** Module time until a join fails (wrong password: the 4-way handshake; no AP: a full scan). */
  failMs: number;
  /** After the AP goes, the station retries every this often while it is gone (ESP-AT reconnects by itself). */
  reconnectIntervalMs: number;
}

export const WIFI_DEFAULTS: WifiSettings = {
  ssid: 'TP-LINK-E10',
  password: '12345678',
  bssid: 'c8:3a:35:5e:10:e1',
  channel: 6,
  rssi: -45,
  ip: '192.168.1.100',
  gateway: '192.168.1.1',
  netmask: '255.255.255.0',
  mac: '3c:71:bf:33:af:fd',
  joinAtBoot: true,
  connectMs: 1200,
  dhcpMs: 800,
  failMs: 5000,
  reconnectIntervalMs: 1000,
};

/** The profile's `settings.wifi` over the defaults, then the modem's overrides (ModemOptions.wifi). */
export function wifiSettings(profileWifi: unknown, overrides: Partial<WifiSettings> = {}): WifiSettings {
  const p = typeof profileWifi === 'object' && profileWifi !== null ? (profileWifi as Partial<WifiSettings>) : {};
  const o = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<WifiSettings>;
  return { ...WIFI_DEFAULTS, ...p, ...o };
}

/** AT+CWJAP <error code>. */
export type JoinFailure = 1 | 2 | 3 | 4;
export type JoinResult = { ok: true } | { ok: false; code: JoinFailure };

export type StationState = 'idle' | 'connecting' | 'connected' | 'online';

export interface WifiEvents {
  /** Associated with the AP (ESP-AT `WIFI CONNECTED`). */
  connected: [];
  /** DHCP done: data can flow (`WIFI GOT IP`). */
  'got-ip': [];
  /** The association is gone (`WIFI DISCONNECT`): links over it end. */
  disconnected: [];
  change: [];
}

export interface StationOptions {
  clock: Clock;
  /** A profile figure as the timing mode runs it ("fast": 0). */
  scale: (ms: number) => number;
  settings: WifiSettings;
}

export class WifiStation extends EventEmitter<WifiEvents> {
  readonly settings: WifiSettings;
  state: StationState = 'idle';
  /** Whether the access point is on the air (control API). */
  apPresent = true;
  /** Signal strength now, dBm (control API). */
  rssi: number;
  /** The configuration saved in flash (AT+CWJAP stores it; AT+RESTORE erases it). */
  saved: { ssid: string; password: string } | undefined;
  /** The configuration the station is using or last used. */
  current: { ssid: string; password: string } | undefined;
  /** AT+CWAUTOCONN: join the saved configuration at power-on. */
  autoConnect = true;
  /** The configuration the station lost with its AP and retries (every reconnectIntervalMs) until it is back. */
  private lostAp: { ssid: string; password: string } | undefined;
  private readonly clock: Clock;
  private readonly scale: (ms: number) => number;
  /** Pending waits; a sleep's resolver runs when it is cancelled, so no join is left hanging. */
  private readonly timers = new Map<TimerHandle, (() => void) | undefined>();
  /** Bumped by every new join, leave and power cycle: a wait that outlived its epoch changes nothing. */
  private epoch = 0;

  constructor(opts: StationOptions) {
    super();
    this.settings = opts.settings;
    this.clock = opts.clock;
    this.scale = opts.scale;
    this.rssi = opts.settings.rssi;
    this.saved = opts.settings.joinAtBoot ? { ssid: opts.settings.ssid, password: opts.settings.password } : undefined;
    // A module powered on long before the firmware talks to it: already joined, as vmodem starts.
    if (this.saved && this.reachable(this.saved) === undefined) {
      this.current = this.saved;
      this.state = 'online';
    }
  }

  /** Data can flow (associated and addressed). */
  get online(): boolean {
    return this.state === 'online';
  }

  get ip(): string {
    return this.online ? this.settings.ip : '0.0.0.0';
  }

  /** Why `cfg` cannot join now, or undefined if it can. */
  private reachable(cfg: { ssid: string; password: string }): JoinFailure | undefined {
    if (!this.apPresent || cfg.ssid !== this.settings.ssid) return 3;
    if (cfg.password !== this.settings.password) return 2;
    return undefined;
  }

  /**
   * Join `cfg` (AT+CWJAP): leaves the current AP first, then associates and gets an address.
   * Events come as the steps complete; the promise settles with the command's result.
   */
  async join(cfg: { ssid: string; password: string }, save = true): Promise<JoinResult> {
    this.leave();
    const epoch = ++this.epoch;
    this.current = cfg;
    if (save) this.saved = cfg;
    this.setState('connecting');
    const failure = this.reachable(cfg);
    if (failure !== undefined) {
      await this.sleep(this.settings.failMs);
      if (epoch !== this.epoch) return { ok: false, code: 1 };
      this.setState('idle');
      return { ok: false, code: failure };
    }
    await this.sleep(this.settings.connectMs);
    if (epoch !== this.epoch) return { ok: false, code: 4 };
    this.setState('connected');
    this.emit('connected');
    await this.sleep(this.settings.dhcpMs);
    if (epoch !== this.epoch) return { ok: false, code: 4 };
    this.setState('online');
    this.emit('got-ip');
    return { ok: true };
  }

  /** AT+CWQAP: disconnect (and stop retrying). True if it was associated. */
  leave(): boolean {
    this.epoch++;
    this.lostAp = undefined;
    this.clearTimers();
    const was = this.state === 'connected' || this.state === 'online';
    this.setState('idle');
    if (was) this.emit('disconnected');
    return was;
  }

  /** The control API: the access point goes off the air (false) or comes back (true). */
  setApPresent(present: boolean): void {
    if (this.apPresent === present) return;
    this.apPresent = present;
    if (!present) {
      const cfg = this.current;
      if (this.leave() && cfg) this.lostAp = cfg;
      return;
    }
    // ESP-AT reconnects by itself: its next attempt after the AP is back finds it.
    const cfg = this.lostAp;
    this.lostAp = undefined;
    if (!cfg) return;
    const epoch = this.epoch;
    this.schedule(() => {
      if (epoch === this.epoch) void this.join(cfg, false);
    }, this.settings.reconnectIntervalMs);
  }

  /** AT+RESTORE: the saved configuration is erased (the module no longer joins at boot). */
  forget(): void {
    this.saved = undefined;
    this.autoConnect = true;
  }

  /** The module stops (reset): the association goes without a message. */
  powerOff(): void {
    this.epoch++;
    this.lostAp = undefined;
    this.clearTimers();
    this.state = 'idle';
    this.current = undefined;
    this.emit('change');
  }

  /** Booted: join the saved configuration (when there is one and AT+CWAUTOCONN allows). */
  powerOn(): void {
    if (this.autoConnect && this.saved) void this.join(this.saved, false);
  }

  dispose(): void {
    this.epoch++;
    this.clearTimers();
  }

  private setState(s: StationState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('change');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(resolve, ms, true));
  }

  private schedule(fn: () => void, ms: number, runOnCancel = false): void {
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, this.scale(ms));
    this.timers.set(t, runOnCancel ? fn : undefined);
  }

  private clearTimers(): void {
    const cancelled = [...this.timers];
    this.timers.clear();
    for (const [t, onCancel] of cancelled) {
      this.clock.clearTimeout(t);
      onCancel?.();
    }
  }

  inspect(): Record<string, unknown> {
    return { state: this.state, apPresent: this.apPresent, rssi: this.rssi, ssid: this.current?.ssid ?? null, ip: this.ip };
  }
}
