/**
 * One emulated module: an AT engine on a byte port, the emulated network, and the command sets
 * the profile enables. Knows no vendor: behaviour comes from the sets named in the profile.
 */
import type { Logger } from 'pino';
import { AtEngine } from '../at/engine.js';
import type { Line } from '../at/types.js';
import type { BytePort } from '../port/byte-port.js';
import type { Profile } from '../profiles/profile.js';
import type { CommandSet, CommandSetRegistry, Device, LinkOpener, ModemHooks } from './device.js';
import { NetworkState } from './network-state.js';
import { PowerCycle, type RestartOptions } from './power-cycle.js';
import { PowerSaving } from './power-saving.js';
import { radioSettings, type RadioSettings } from './radio-settings.js';
import { Timing, type TimingMode } from './timing.js';
import { WifiStation, wifiSettings, type WifiSettings } from './wifi-station.js';
import type { CloudEndpoints } from './cloud-endpoints.js';
import { directoryFlashStore, flashDirFor } from './module-flash.js';
import { realClock, type Clock } from '../util/clock.js';
import { NetworkTiming } from '../mqtt/network-timing.js';
import { MqttSession } from '../mqtt/session.js';
import { reportFault } from '../util/faults.js';

export interface ModemOptions {
  profile: Profile;
  port: BytePort;
  log: Logger;
  links: LinkOpener;
  /**
   * The command sets this modem can enable, by id (the composition root passes
   * `COMMAND_SETS` from src/vendors/registry.ts). `common` is always built; the profile's
   * `commandSets` name the rest.
   */
  commandSets: CommandSetRegistry;
  timing?: TimingMode;
  /** Override the profile's IMEI (several modems in one process). */
  imei?: string;
  /** Write the profile's boot URCs (e.g. `RDY`) when the modem starts. Default true. */
  bootUrcs?: boolean;
  /** Keep the module's flash (settings the manual says survive a restart) under this directory. */
  stateDir?: string;
  /** The virtual cloud's HTTP(S) side, for modules that register or download over HTTP. */
  cloud?: CloudEndpoints;
  /** The clock every timer of the module runs on (tests pass a TestClock). Default: real time. */
  clock?: Clock;
  /** The modem's name in logs and fault reports (its link path, or `modem0`). */
  name?: string;
  /** Radio and SIM defaults over the profile's settings.radio (config file `radio:`). */
  radio?: Partial<RadioSettings>;
  /** Access point and station defaults over the profile's settings.wifi. */
  wifi?: Partial<WifiSettings>;
}

export class Modem {
  readonly profile: Profile;
  readonly engine: AtEngine;
  readonly network = new NetworkState();
  readonly device: Device;
  readonly powerSaving: PowerSaving;
  private readonly sets: { id: string; set: CommandSet }[] = [];
  private readonly log: Logger;
  /** Unexpected errors caught by the last-resort boundary (see Device.fault). */
  faults = 0;
  /** Resets with silence, boot time and boot URCs (profiles with a settings.radio block). */
  private power: PowerCycle | undefined;

  constructor(opts: ModemOptions) {
    this.profile = opts.profile;
    // Components add their own `component` binding; pino would repeat a key bound twice.
    this.log = opts.log.child({ component: 'modem' });
    const at = opts.profile.at;
    this.engine = new AtEngine({
      port: opts.port,
      log: opts.log.child({ component: 'engine' }),
      maxLineLength: at.maxLineLength,
      prompt: at.prompt,
      settings: { echo: at.echo, cmee: at.cmee },
      cmeText: (code) => opts.profile.cmeErrors[String(code)],
      parse: { backslashInQuotes: at.backslashInQuotes ?? false },
      clock: opts.clock,
      onFault: (err, where) => this.device.fault(err, where),
    });
    this.engine.unknownCommandLines = at.unknownCommandLines ?? [];
    const name = opts.name ?? opts.imei ?? opts.profile.identity.imei;
    const engine = this.engine;
    const timing = new Timing(opts.timing ?? 'real', opts.profile.timing);
    const clock = opts.clock ?? realClock;
    const netTiming = new NetworkTiming(opts.profile.networkTiming, timing.mode === 'real');
    this.setUpRadio(opts, timing);
    // Power saving gates every link: requests are uplink data, events wait while in PSM.
    this.powerSaving = new PowerSaving({ network: this.network, clock, scale: (ms) => timing.scale(ms) });
    const links = this.powerSaving.wrapLinks(opts.links);
    engine.inputFilter = (chunk) => this.powerSaving.filterInput(chunk);
    // A Wi-Fi module (settings.wifi): its station joins the virtual access point (wifi-station.ts).
    const wifi =
      opts.profile.settings.wifi === undefined
        ? undefined
        : new WifiStation({ clock, scale: (ms) => timing.scale(ms), settings: wifiSettings(opts.profile.settings.wifi, opts.wifi) });
    this.device = {
      profile: opts.profile,
      log: opts.log,
      engine,
      network: this.network,
      powerSaving: this.powerSaving,
      timing,
      links,
      clock,
      netTiming,
      mqttSession: (o) =>
        new MqttSession({
          dataReady: () => this.network.dataReady,
          ...o,
          links,
          clock,
          log: opts.log,
          timing: netTiming,
          onFault: (err, where) => this.device.fault(err, where),
        }),
      fault: (err: unknown, where: string) => {
        this.faults++;
        reportFault({ modem: name, where, err, log: this.log });
      },
      imei: opts.imei ?? opts.profile.identity.imei,
      urc: (line: Line, delayMs?: number) => engine.urc(line, { delayMs }),
      flash: opts.stateDir ? directoryFlashStore(flashDirFor(opts.stateDir, opts.imei ?? opts.profile.identity.imei)) : undefined,
      cloud: opts.cloud,
      wifi,
      reboot: (o?: RestartOptions) => this.reboot(o),
    };
    const hooks: ModemHooks = {
      resetSettings: () => this.resetSettings(),
      reboot: () => this.reboot(),
    };
    for (const id of ['common', ...opts.profile.commandSets.filter((s) => s !== 'common')]) {
      const factory = opts.commandSets[id];
      if (!factory) throw new Error(`profile ${opts.profile.id}: unknown command set "${id}"`);
      this.sets.push({ id, set: factory(this.device, hooks) });
    }
    // A module's build may lack commands of a set it shares with others (profile omitCommands):
    // left out, they answer as unknown commands (with the profile's unknownCommandLines).
    const omit = new Set((opts.profile.omitCommands ?? []).map((n) => n.toUpperCase()));
    for (const { set } of this.sets) engine.register(omit.size === 0 ? set.commands : set.commands.filter((d) => !omit.has(d.name.toUpperCase())));
    this.network.on('change', () => this.log.debug({ cfun: this.network.cfun, stat: this.network.regStat }, 'network'));
    if (opts.bootUrcs ?? true) this.emitBootUrcs();
  }

  /**
   * The radio model and the power cycle (issue 13): the network runs on the modem's clock and
   * timing mode with the profile's settings.radio. A profile without one (Wi-Fi) keeps the
   * instant reboot.
   */
  private setUpRadio(opts: ModemOptions, timing: Timing): void {
    const scale = (ms: number) => timing.scale(ms);
    const clock = opts.clock ?? realClock;
    this.network.configure({ clock, scale, imei: opts.imei ?? opts.profile.identity.imei, radio: radioSettings(opts.profile.settings.radio, opts.radio) });
    if (opts.profile.settings.radio === undefined) return;
    this.power = new PowerCycle({
      engine: this.engine,
      network: this.network,
      clock,
      log: this.log,
      scale,
      disposeSets: () => {
        this.powerSaving.powerOff();
        for (const { set } of this.sets) void set.dispose?.();
      },
      resetSettings: () => this.resetSettings(),
    });
  }

  /** ATZ / AT&F: power-on settings for the engine and every command set. */
  resetSettings(): void {
    this.engine.settings.echo = this.profile.at.echo;
    this.engine.settings.cmee = this.profile.at.cmee;
    for (const { set } of this.sets) set.reset?.();
  }

  /** A module reset: links drop, settings return to power-on values, boot URCs follow. */
  reboot(opts?: RestartOptions): void {
    if (this.power) {
      this.power.restart(opts);
      return;
    }
    this.log.info('module reboot');
    for (const { set } of this.sets) void set.dispose?.();
    this.device.wifi?.powerOff();
    this.resetSettings();
    this.network.setCfun(1);
    this.engine.reset();
    this.emitBootUrcs();
    this.device.wifi?.powerOn();
  }

  inspect(): Record<string, unknown> {
    const out: Record<string, unknown> = { faults: this.faults };
    for (const { id, set } of this.sets) if (set.inspect) out[id] = set.inspect();
    return out;
  }

  async stop(): Promise<void> {
    this.engine.stop();
    this.power?.dispose();
    this.powerSaving.dispose();
    this.network.dispose();
    this.device.wifi?.dispose();
    for (const { set } of this.sets) await set.dispose?.();
  }

  private emitBootUrcs(): void {
    const urcs = (this.profile.settings.boot as { urcs?: string[] } | undefined)?.urcs ?? [];
    const delay = this.device.timing.delay('boot', 0);
    for (const u of urcs) this.engine.urc(u, { delayMs: delay });
  }
}
