/**
 * What a vendor command set may use: the profile, the engine's settings and URC channel, the
 * emulated network, named timings, and a way to open MQTT links to the configured broker.
 */
import type { Logger } from 'pino';
import type { AtEngine } from '../at/engine.js';
import type { CommandDef, Line } from '../at/types.js';
import type { BrokerResolver, MqttLink, OpenOptions } from '../mqtt/types.js';
import type { Profile } from '../profiles/profile.js';
import type { NetworkState } from './network-state.js';
import type { Timing } from './timing.js';

export interface LinkOpener {
  /** Where a firmware-named host really goes. */
  resolve: BrokerResolver;
  open(opts: OpenOptions): Promise<MqttLink>;
}

export interface Device {
  readonly profile: Profile;
  readonly log: Logger;
  readonly engine: AtEngine;
  readonly network: NetworkState;
  readonly timing: Timing;
  readonly links: LinkOpener;
  /** Identity of this modem instance (IMEI differs per modem with --count). */
  readonly imei: string;
  /** Queue a URC after `delayMs` (already scaled by the timing mode). */
  urc(line: Line, delayMs?: number): void;
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

export type CommandSetFactory = (device: Device) => CommandSet;
