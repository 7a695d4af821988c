/**
 * What a vendor command set may use: the profile, the engine's settings and URC channel, the
 * emulated network, named timings, and a way to open MQTT links to the configured broker.
 */
import type { Logger } from 'pino';
import type { AtEngine } from '../at/engine.js';
import type { CommandDef, Line } from '../at/types.js';
import type { LinkOpener } from '../mqtt/types.js';
import type { Profile } from '../profiles/profile.js';
import type { Clock } from '../util/clock.js';
import type { NetworkTiming } from '../mqtt/network-timing.js';
import type { MqttSession, SessionOptions } from '../mqtt/session.js';

/** What a vendor says about a session; the modem adds its links, clock, timing, log and fault boundary. */
export type VendorSessionOptions = Omit<SessionOptions, 'links' | 'clock' | 'log' | 'onFault' | 'timing' | 'dataReady'> & {
  /** Whether the data path is up. Default: the cellular network's `dataReady`. */
  dataReady?: () => boolean;
};
import type { CloudEndpoints } from './cloud-endpoints.js';
import type { FlashStore } from './module-flash.js';
import type { NetworkState } from './network-state.js';
import type { PowerSaving } from './power-saving.js';
import type { RestartOptions } from './power-cycle.js';
import type { Timing } from './timing.js';
import type { WifiStation } from './wifi-station.js';

export type { LinkOpener } from '../mqtt/types.js';

export interface Device {
  readonly profile: Profile;
  readonly log: Logger;
  readonly engine: AtEngine;
  readonly network: NetworkState;
  /** RRC connection, PSM and deep sleep (AT+CSCON, AT+CPSMS, AT+QSCLK; power-saving.ts). */
  readonly powerSaving: PowerSaving;
  readonly timing: Timing;
  readonly links: LinkOpener;
  /** Every timer of this module (URC delays, retransmissions, reconnect waits) runs on it. */
  readonly clock: Clock;
  /** The radio's round trips: network results are never reported sooner ("real" timing). */
  readonly netTiming: NetworkTiming;
  /** A new MQTT session (the session core) wired to this module's links, clock and timing. */
  mqttSession(opts: VendorSessionOptions): MqttSession;
  /**
   * The last-resort boundary: an unexpected error inside this module (a bug, never a firmware
   * or network condition) is logged with the modem's name and counted; the module goes on.
   */
  fault(err: unknown, where: string): void;
  /** Identity of this modem instance (IMEI differs per modem with --count). */
  readonly imei: string;
  /** Queue a URC after `delayMs` (already scaled by the timing mode). */
  urc(line: Line, delayMs?: number): void;
  /**
   * The module's flash (module-flash.ts): what the manuals keep across power cycles. Absent = the
   * command set keeps it in RAM. Read it at use time, not at construction.
   */
  flash?: FlashStore;
  /** The virtual cloud's HTTP(S) side (registration, firmware downloads), when one runs. */
  cloud?: CloudEndpoints;
  /** The Wi-Fi station and its access point (wifi-station.ts); present when the profile has `settings.wifi`. */
  readonly wifi?: WifiStation;
  /**
   * Restart the whole module (what AT+CFUN=1,1 does); absent = the set restarts only itself.
   * `opts` (power-cycle.ts): lines after the reset command's answer, extra time switched off.
   */
  reboot?: (opts?: RestartOptions) => void;
}

/** A command set: the commands it adds, plus hooks the modem calls. */
export interface CommandSet {
  commands: CommandDef[];
  /** ATZ / AT&F / reboot: restore power-on settings. */
  reset?(): void;
  /** A snapshot for inspection (control API, logs). */
  inspect?(): unknown;
  /** Release sockets and timers. */
  dispose?(): void | Promise<void>;
}

/** What the modem itself offers a command set: module-wide reset hooks (the `common` set's ATZ, AT+CFUN). */
export interface ModemHooks {
  /** Restore power-on settings of every command set (ATZ, AT&F). */
  resetSettings: () => void;
  /** Reset the whole module (AT+CFUN=1,1). */
  reboot: () => void;
}

export type CommandSetFactory = (device: Device, modem: ModemHooks) => CommandSet;

/**
 * Command sets by id, as profiles name them in `commandSets`; `common` is built for every modem.
 * The composition root passes one to the modem (the modem imports no vendor):
 * `COMMAND_SETS` in src/vendors/registry.ts is the default.
 */
export type CommandSetRegistry = Readonly<Record<string, CommandSetFactory>>;
