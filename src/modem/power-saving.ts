/**
 * Power saving of the emulated radio (issue 13): the RRC signalling connection (AT+CSCON,
 * 3GPP TS 27.007 §10.1.30), PSM (AT+CPSMS, §7.38; timers of TS 24.008 §10.5.7.4/4a) and the
 * deep sleep of the application side that Quectel NB-IoT modules enter while in PSM (AT+QSCLK=1).
 *
 * The life cycle, as BC660K/BC260Y hardware designs describe it (§3.4 "Power saving", "Deep
 * sleep"): data to or from the network keeps the RRC connection up (`+CSCON: 1`); after
 * `rrcInactivityMs` without data the network releases it (`+CSCON: 0`) and the active timer T3324
 * the network granted starts; when it expires the modem enters PSM. With AT+QSCLK=1 the module
 * then enters deep sleep: "the serial port does not work", and "an AT command sent to the module
 * (this AT command will be lost)" wakes it by the falling edge on MAIN_RXD. The periodic TAU timer
 * T3412 wakes it on its own. Downlink data waits in the network while the module is in PSM (it is
 * unreachable) and arrives once it leaves PSM: at the next uplink or the periodic TAU.
 *
 * Every timer runs on the modem's clock and scales with its timing mode; in 'fast' timing (every
 * radio figure 0) PSM is not modelled: the module stays reachable.
 *
 * Links (src/mqtt/types.ts MqttLink) pass through {@link PowerSaving.wrapLinks}: a request from
 * the firmware is uplink data (it ends PSM first), and link events (messages, PINGRESP, close)
 * raised while in PSM are held, in order, until the module leaves it. The session core and the
 * vendors see a link that is slow to deliver, as on the real network.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { LinkOpener, MqttLink, MqttLinkEvents } from '../mqtt/types.js';
import type { NetworkState } from './network-state.js';

export interface PowerSavingEvents {
  /** RRC connection mode changed: 1 connected, 0 idle (the +CSCON <mode>). */
  rrc: [mode: 0 | 1];
  /** The modem entered (true) or left (false) PSM. */
  psm: [entered: boolean];
  /** The application side entered (true) or left (false) deep sleep (AT+QSCLK=1 only). */
  deepSleep: [entered: boolean];
}

export interface PowerSavingOptions {
  network: NetworkState;
  clock: Clock;
  /** A radio figure as the timing mode runs it (Timing.scale). */
  scale: (ms: number) => number;
}

export class PowerSaving extends EventEmitter<PowerSavingEvents> {
  /** 27.007 §10.1.30 <mode>: 0 idle, 1 connected. */
  rrc: 0 | 1 = 0;
  /** In PSM: unreachable for the network; downlink waits. */
  inPsm = false;
  /** Application side in deep sleep: the UART reads nothing until a falling edge wakes it. */
  asleep = false;
  /**
   * Quectel AT+QSCLK <n>: 0 sleep disabled, 1 deep sleep allowed (entered in PSM), 2 light sleep
   * only. Kept here so every set that has AT+QSCLK shares one value.
   */
  sleepMode = 0;
  private readonly net: NetworkState;
  private readonly clock: Clock;
  private readonly scale: (ms: number) => number;
  private inactivityTimer: TimerHandle | undefined;
  private activeTimer: TimerHandle | undefined;
  private tauTimer: TimerHandle | undefined;
  private sleepTimer: TimerHandle | undefined;
  private readonly links = new Set<GatedLink>();

  constructor(opts: PowerSavingOptions) {
    super();
    this.net = opts.network;
    this.clock = opts.clock;
    this.scale = opts.scale;
    // Losing registration or the radio ends the connection and PSM at once (no URCs of their own:
    // the registration URCs tell the story).
    this.net.on('change', () => {
      if (!this.net.registered) this.resetState(true);
    });
  }

  /** Whether the profile models power saving at all and the timing mode runs its timers. */
  get modelled(): boolean {
    return this.net.radio.powerSaving !== undefined && this.scale(this.net.radio.powerSaving.rrcInactivityMs) > 0;
  }

  /**
   * Data to or from the network (an uplink request, a TAU, an AT+CPSMS negotiation): leaves PSM
   * (and deep sleep), connects RRC and restarts the inactivity timer.
   */
  activity(): void {
    if (!this.modelled || !this.net.registered) return;
    this.clearTimer('activeTimer');
    this.clearTimer('tauTimer');
    if (this.asleep) this.setAsleep(false);
    this.clearTimer('sleepTimer');
    if (this.inPsm) {
      this.inPsm = false;
      this.emit('psm', false);
    }
    if (this.rrc === 0) {
      this.rrc = 1;
      this.emit('rrc', 1);
    }
    this.flushLinks();
    this.clearTimer('inactivityTimer');
    this.inactivityTimer = this.clock.setTimeout(() => this.rrcReleased(), this.scale(this.net.radio.powerSaving!.rrcInactivityMs));
  }

  /**
   * Bytes from the firmware while in deep sleep (engine input filter): the line that woke the
   * module is lost (BC660K-GL hardware design §3.4.2); what follows it is read. Returns the bytes
   * the engine should read.
   */
  filterInput(chunk: Buffer): Buffer {
    if (!this.asleep) {
      if (this.inPsm) this.armSleep();
      return chunk;
    }
    const cr = chunk.indexOf(0x0d);
    if (cr < 0) return Buffer.alloc(0);
    this.setAsleep(false);
    this.armSleep();
    return chunk.subarray(cr + 1);
  }

  /** AT+QSCLK=<n>: deep sleep follows at once when the module is already in PSM. */
  setSleepMode(n: number): void {
    this.sleepMode = n;
    if (n !== 1) this.clearTimer('sleepTimer');
    else if (this.inPsm) this.armSleep();
  }

  /** Links opened through the result are gated by PSM (see the file comment). */
  wrapLinks(inner: LinkOpener): LinkOpener {
    return {
      resolve: inner.resolve,
      open: async (opts) => {
        this.activity();
        const link = new GatedLink(await inner.open(opts), this);
        this.links.add(link);
        link.once('close', () => this.links.delete(link));
        return link;
      },
    };
  }

  /** Power-on state (reset, power-down): idle, awake, no timers. */
  powerOff(): void {
    this.resetState(false);
    this.sleepMode = 0;
  }

  dispose(): void {
    this.resetState(false);
  }

  private resetState(flush: boolean): void {
    for (const t of ['inactivityTimer', 'activeTimer', 'tauTimer', 'sleepTimer'] as const) this.clearTimer(t);
    this.asleep = false;
    this.inPsm = false;
    this.rrc = 0;
    if (flush) this.flushLinks();
  }

  private rrcReleased(): void {
    this.inactivityTimer = undefined;
    this.rrc = 0;
    this.emit('rrc', 0);
    const timers = this.net.psmTimers;
    if (!timers) return;
    // T3324 runs from the release (24.301 §5.3.11): the module stays reachable in idle meanwhile.
    this.activeTimer = this.clock.setTimeout(() => this.enterPsm(timers.periodicTauS), this.scale(timers.activeTimeS * 1000));
  }

  private enterPsm(periodicTauS: number): void {
    this.activeTimer = undefined;
    this.inPsm = true;
    this.emit('psm', true);
    // T3412: the periodic TAU wakes the module and reaches the network (downlink follows).
    this.tauTimer = this.clock.setTimeout(() => {
      this.tauTimer = undefined;
      this.activity();
    }, this.scale(periodicTauS * 1000));
    if (this.sleepMode === 1) this.setAsleep(true);
  }

  /** After a UART wake in PSM, the module sleeps again once the UART is idle (apIdleMs). */
  private armSleep(): void {
    if (this.sleepMode !== 1 || !this.inPsm) return;
    this.clearTimer('sleepTimer');
    this.sleepTimer = this.clock.setTimeout(() => {
      this.sleepTimer = undefined;
      if (this.inPsm && this.sleepMode === 1) this.setAsleep(true);
    }, this.scale(this.net.radio.powerSaving!.apIdleMs));
  }

  private setAsleep(on: boolean): void {
    if (this.asleep === on) return;
    this.asleep = on;
    this.emit('deepSleep', on);
  }

  private clearTimer(name: 'inactivityTimer' | 'activeTimer' | 'tauTimer' | 'sleepTimer'): void {
    const t = this[name];
    if (t !== undefined) this.clock.clearTimeout(t);
    this[name] = undefined;
  }

  private flushLinks(): void {
    for (const l of [...this.links]) l.flush();
  }

  /** Whether link events reach the module now. */
  get reachable(): boolean {
    return !this.inPsm;
  }
}

type HeldEvent = { [K in keyof MqttLinkEvents]: { name: K; args: MqttLinkEvents[K] } }[keyof MqttLinkEvents];

/** A link whose requests are uplink data and whose events wait while the module is in PSM. */
class GatedLink extends EventEmitter<MqttLinkEvents> implements MqttLink {
  private readonly held: HeldEvent[] = [];
  /** Closed from the module's side: nothing of this link waits for the network any more. */
  private local = false;

  constructor(
    private readonly inner: MqttLink,
    private readonly ps: PowerSaving,
  ) {
    super();
    inner.on('message', (...args) => this.pass({ name: 'message', args }));
    inner.on('pingresp', (...args) => this.pass({ name: 'pingresp', args }));
    inner.on('close', (...args) => this.pass({ name: 'close', args }));
  }

  get state(): MqttLink['state'] {
    return this.inner.state;
  }

  private pass(e: HeldEvent): void {
    if ((this.ps.reachable || this.local) && this.held.length === 0) this.emitHeld(e);
    else this.held.push(e);
  }

  private emitHeld(e: HeldEvent): void {
    (this.emit as (name: string, ...args: unknown[]) => boolean)(e.name, ...e.args);
  }

  /** The module is reachable again: what the network held arrives, in order. */
  flush(): void {
    while (this.held.length > 0 && (this.ps.reachable || this.local)) this.emitHeld(this.held.shift()!);
  }

  connect(...a: Parameters<MqttLink['connect']>): ReturnType<MqttLink['connect']> {
    this.ps.activity();
    return this.inner.connect(...a);
  }

  subscribe(...a: Parameters<MqttLink['subscribe']>): ReturnType<MqttLink['subscribe']> {
    this.ps.activity();
    return this.inner.subscribe(...a);
  }

  unsubscribe(...a: Parameters<MqttLink['unsubscribe']>): ReturnType<MqttLink['unsubscribe']> {
    this.ps.activity();
    return this.inner.unsubscribe(...a);
  }

  publish(...a: Parameters<MqttLink['publish']>): ReturnType<MqttLink['publish']> {
    this.ps.activity();
    return this.inner.publish(...a);
  }

  inflightIds(): number[] {
    return this.inner.inflightIds();
  }

  disconnect(): Promise<void> {
    this.ps.activity();
    return this.inner.disconnect();
  }

  destroy(): void {
    // A socket closed locally needs no radio: what was held is reported before the close.
    this.local = true;
    this.flush();
    this.inner.destroy();
  }
}
