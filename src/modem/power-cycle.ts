/**
 * A module reset as real modules do it (AT+CFUN=1,1, AT+QRST=1, AT+QPOWD, the control API's
 * reboot): the reset command answers first, then the module is silent — input is lost, links
 * drop without their URCs (nobody is running to print them), RAM settings go back to power-on
 * values — and after the profile's boot time it prints its boot URCs in order and starts
 * registering (settings.radio.bootMs / bootUrcs / registrationMs, on the injected clock).
 */
import type { Logger } from 'pino';
import type { AtEngine } from '../at/engine.js';
import type { Line } from '../at/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { NetworkState } from './network-state.js';

export interface RestartOptions {
  /** Lines printed right after the reset command's final result code (`POWERED DOWN`). */
  farewell?: Line[];
  /** Extra time off before booting (a power-down: the board's supervisor powers it on again). */
  offMs?: number;
}

export interface PowerCycleParts {
  engine: AtEngine;
  network: NetworkState;
  clock: Clock;
  log: Logger;
  /** Scale a profile figure by the timing mode. */
  scale: (ms: number) => number;
  /** End every command set's links and timers (their RAM state). */
  disposeSets: () => void;
  /** Power-on values of every setting (engine and command sets). */
  resetSettings: () => void;
}

export class PowerCycle {
  private bootTimer: TimerHandle | undefined;

  constructor(private readonly parts: PowerCycleParts) {}

  /** Whether the module is off or still booting. */
  get booting(): boolean {
    return this.bootTimer !== undefined;
  }

  restart(opts: RestartOptions = {}): void {
    const { engine, network, clock, log, scale } = this.parts;
    log.info({ offMs: opts.offMs ?? 0 }, 'module reset');
    // Silence first: whatever the dying components report is lost, as on the module.
    engine.powerOff(opts.farewell);
    network.powerOff();
    this.parts.disposeSets();
    this.parts.resetSettings();
    if (this.bootTimer !== undefined) clock.clearTimeout(this.bootTimer);
    const radio = network.radio;
    const boot = () => {
      this.bootTimer = undefined;
      engine.powerOn();
      for (const u of radio.bootUrcs) engine.urc(u.urc, { delayMs: scale(u.afterMs) });
      network.powerOn();
      log.info('module booted');
    };
    const off = scale((opts.offMs ?? 0) + radio.bootMs);
    // Fast timing boots at once; the reset command's OK still comes first (the engine holds URCs).
    if (off <= 0) boot();
    else this.bootTimer = clock.setTimeout(boot, off);
  }

  dispose(): void {
    if (this.bootTimer !== undefined) this.parts.clock.clearTimeout(this.bootTimer);
    this.bootTimer = undefined;
  }
}
