/**
 * The emulated radio side: functionality level (AT+CFUN), SIM, operator selection, registration
 * (AT+CREG/CGREG/CEREG), packet-domain attach, PDP contexts and signal quality. Command sets
 * listen for `down` to end their links the way the module documents, and for `context` / `sim`
 * to print their own URCs.
 *
 * Registration takes time, as on a module: after AT+CFUN=1 or a boot the state is "searching"
 * (<stat> 2) for `registrationMs` on the injected clock, then home (1) or whatever the network
 * grants (roaming 5, denied 3: control API). The modem starts settled — a module powered on long
 * before the firmware attached: registered, context 1 (the LTE/NB-IoT default bearer) active.
 */
import { EventEmitter } from 'node:events';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import { deriveIccid, deriveImsi, radioSettings, type OperatorInfo, type RadioSettings } from './radio-settings.js';

export type ContextCause = 'host' | 'network' | 'detach';

export interface NetworkEvents {
  /** The data path went away (CFUN=0/4, registration lost, context down): open links must end. */
  down: [cause: 'cfun' | 'deregistered'];
  up: [];
  change: [];
  /** A context was activated or deactivated, and by whom (network deactivation has vendor URCs). */
  context: [cid: number, active: boolean, cause: ContextCause];
  /** The SIM was pulled or put back (control API). */
  sim: [present: boolean];
  /** Registration completed on a network (time zone reports, +CTZV). */
  attached: [];
}

/** 3GPP TS 27.007 <stat>: 0 not registered, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming. */
export type RegStat = 0 | 1 | 2 | 3 | 4 | 5;

/** A PDP context definition (AT+CGDCONT / AT+QICSGP) and its state. */
export interface PdpContext {
  cid: number;
  /** 27.007 <PDP_type>: "IP", "IPV6", "IPV4V6", "Non-IP". */
  type: string;
  apn: string;
  username: string;
  password: string;
  /** 0 none, 1 PAP, 2 CHAP, 3 PAP or CHAP (AT+QICSGP <authentication>). */
  auth: number;
  active: boolean;
  /** Assigned while active. */
  ip?: string;
}

export interface NetworkOptions {
  clock?: Clock;
  /** Scale a profile delay by the timing mode (Timing.scale). */
  scale?: (ms: number) => number;
  radio?: RadioSettings;
  imei?: string;
}

export class NetworkState extends EventEmitter<NetworkEvents> {
  cfun: 0 | 1 | 4 = 1;
  /** Registration as the operator would grant it when the radio is on. */
  private operatorStat: RegStat = 1;
  /** AT+CSQ: rssi 0–31 or 99, ber 0–7 or 99. */
  rssi = 24;
  ber = 99;
  /** AT+CREG=<n> / AT+CGREG=<n> / AT+CEREG=<n> unsolicited modes. */
  cregMode = 0;
  cgregMode = 0;
  ceregMode = 0;
  /** AT+COPS <mode> (0 automatic, 1 manual, 2 deregistered, 4 manual/automatic) and <format>. */
  copsMode: 0 | 1 | 2 | 4 = 0;
  copsFormat: 0 | 1 | 2 = 0;
  /** Whether the SIM is in its holder (control API pulls it). */
  simPresent = true;
  /** AT+CGATT=0 detached the packet domain. */
  private psDetached = false;
  /** Between AT+CFUN=1 (or boot) and registration. */
  private searching = false;
  private searchTimer: TimerHandle | undefined;
  /** Registration completed: `attached` follows the next `change`. */
  private attachedPending = false;
  /** Reject cause of a denied registration (27.007 <reject_cause>, 24.301 EMM cause). */
  rejectCause = 0;
  /** AT+CPSMS=1 asked for power saving; the network grants radio.psm. */
  psmRequested = false;
  /**
   * The T3324 / T3412 values AT+CPSMS requested (seconds; undefined = the network's radio.psm).
   * The emulated network grants what the module asks for, as test networks commonly do.
   */
  psmRequestedActiveS: number | undefined;
  psmRequestedTauS: number | undefined;
  readonly contexts = new Map<number, PdpContext>();
  radio: RadioSettings;
  iccid: string;
  imsi: string;
  private clock: Clock;
  private scale: (ms: number) => number;
  private imei: string;

  constructor(opts: NetworkOptions = {}) {
    super();
    this.clock = opts.clock ?? realClock;
    this.scale = opts.scale ?? ((ms) => ms);
    this.imei = opts.imei ?? '860000000000000';
    this.radio = opts.radio ?? radioSettings(undefined);
    this.iccid = '';
    this.imsi = '';
    this.applyRadio();
  }

  /** Late configuration by the modem (clock, timing mode, the profile's radio block). */
  configure(opts: NetworkOptions): void {
    if (opts.clock) this.clock = opts.clock;
    if (opts.scale) this.scale = opts.scale;
    if (opts.imei) this.imei = opts.imei;
    if (opts.radio) this.radio = opts.radio;
    this.applyRadio();
  }

  private applyRadio(): void {
    this.iccid = this.radio.iccid ?? deriveIccid(this.imei);
    this.imsi = this.radio.imsi ?? deriveImsi(this.radio.operator.plmn, this.imei);
    this.contexts.clear();
    this.defineContext(1, { type: 'IP', apn: this.radio.apn });
    if (this.radio.autoActivate && this.registered) this.contexts.get(1)!.active = true;
    this.assignAddresses();
  }

  /** The PSM timers granted (seconds): when AT+CPSMS=1 asked and the network has PSM (radio.psm). */
  get psmTimers(): { activeTimeS: number; periodicTauS: number } | undefined {
    if (!this.psmRequested || !this.radio.psm) return undefined;
    return {
      activeTimeS: this.psmRequestedActiveS ?? this.radio.psm.activeTimeS,
      periodicTauS: this.psmRequestedTauS ?? this.radio.psm.periodicTauS,
    };
  }

  /** The module's delay for `ms` of profile time (fast timing shrinks it). */
  delay(ms: number): number {
    return this.scale(ms);
  }

  get operator(): OperatorInfo {
    return this.radio.operator;
  }

  get regStat(): RegStat {
    if (this.cfun !== 1 || !this.simPresent || this.copsMode === 2 || this.psDetached) return 0;
    if (this.searching) return 2;
    return this.operatorStat;
  }

  get registered(): boolean {
    const s = this.regStat;
    return s === 1 || s === 5;
  }

  /** Whether any data context is up. */
  get pdpActive(): boolean {
    for (const c of this.contexts.values()) if (c.active) return true;
    return false;
  }

  /** Back-compatible switch of context 1 (tests and older callers). */
  set pdpActive(on: boolean) {
    this.setContext(1, on, 'host');
  }

  /** Whether data can flow (registered, attached, a PDP context up). */
  get dataReady(): boolean {
    return this.registered && this.pdpActive;
  }

  // ---- functionality and registration ----

  setCfun(level: 0 | 1 | 4): void {
    const was = this.dataReady;
    const wasOn = this.cfun === 1;
    this.cfun = level;
    if (level === 1 && !wasOn) this.startSearch();
    if (level !== 1) {
      this.stopSearch();
      this.dropContexts('detach');
    }
    this.settle(was, 'cfun');
  }

  /** What the network grants (control API: 1 home, 5 roaming, 3 denied, 0 lost). Immediate. */
  setRegistration(stat: RegStat, rejectCause = stat === 3 ? 15 : 0): void {
    const was = this.dataReady;
    this.operatorStat = stat;
    this.rejectCause = rejectCause;
    this.stopSearch();
    this.afterRegistrationChange();
    this.settle(was, 'deregistered');
  }

  /** AT+CGATT (27.007 §10.1.9): attach waits for registration; detach drops the contexts. */
  async setAttached(on: boolean): Promise<boolean> {
    const was = this.dataReady;
    if (!on) {
      this.psDetached = true;
      this.stopSearch();
      this.dropContexts('detach');
      this.settle(was, 'deregistered');
      return true;
    }
    if (this.psDetached) {
      this.psDetached = false;
      this.startSearch();
      this.settle(was, 'deregistered');
    }
    return this.waitRegistered();
  }

  /** AT+COPS=<mode>: 0/1/4 select (searching again when not registered), 2 deregister. */
  selectOperator(mode: 0 | 1 | 2 | 4): void {
    const was = this.dataReady;
    const before = this.copsMode;
    this.copsMode = mode;
    if (mode === 2) {
      this.stopSearch();
      this.dropContexts('detach');
    } else if (before === 2) this.startSearch();
    this.settle(was, 'deregistered');
  }

  /** Resolves true once registered (home or roaming), false when that cannot happen now. */
  waitRegistered(): Promise<boolean> {
    if (this.registered) return Promise.resolve(true);
    if (!this.searching) return Promise.resolve(false);
    return new Promise((resolve) => {
      const check = () => {
        if (this.searching) return;
        this.off('change', check);
        resolve(this.registered);
      };
      this.on('change', check);
    });
  }

  private startSearch(): void {
    this.stopSearch();
    if (this.cfun !== 1 || !this.simPresent || this.copsMode === 2 || this.psDetached) return;
    const ms = this.scale(this.radio.registrationMs);
    if (ms <= 0) {
      // Fast timing: registered at once (the caller settles; URCs still follow its OK).
      this.afterRegistrationChange();
      this.attachedPending = this.registered;
      return;
    }
    this.searching = true;
    this.searchTimer = this.clock.setTimeout(() => {
      this.searchTimer = undefined;
      const was = this.dataReady;
      this.searching = false;
      this.afterRegistrationChange();
      this.attachedPending = this.registered;
      this.settle(was, 'deregistered');
    }, ms);
  }

  private stopSearch(): void {
    if (this.searchTimer !== undefined) this.clock.clearTimeout(this.searchTimer);
    this.searchTimer = undefined;
    this.searching = false;
  }

  /** Registered: the default bearer comes up; not registered: every context is gone. */
  private afterRegistrationChange(): void {
    if (!this.registered) {
      this.dropContexts('detach');
      return;
    }
    const def = this.contexts.get(1);
    if (this.radio.autoActivate && def && !def.active) this.applyContext(def, true, 'network');
  }

  // ---- SIM ----

  /** Pull (false) or insert (true) the SIM. Registration is lost at once / searched again. */
  setSim(present: boolean): void {
    if (present === this.simPresent) return;
    const was = this.dataReady;
    this.simPresent = present;
    this.emit('sim', present);
    if (!present) {
      this.stopSearch();
      this.dropContexts('detach');
    } else this.startSearch();
    this.settle(was, 'deregistered');
  }

  // ---- PDP contexts ----

  defineContext(cid: number, def: Partial<Omit<PdpContext, 'cid' | 'active' | 'ip'>>): PdpContext {
    const old = this.contexts.get(cid);
    const ctx: PdpContext = {
      cid,
      type: def.type ?? old?.type ?? 'IP',
      apn: def.apn ?? old?.apn ?? '',
      username: def.username ?? old?.username ?? '',
      password: def.password ?? old?.password ?? '',
      auth: def.auth ?? old?.auth ?? 0,
      active: old?.active ?? false,
      ip: old?.ip,
    };
    this.contexts.set(cid, ctx);
    return ctx;
  }

  /** AT+CGDCONT=<cid> with no other parameter: the definition goes (27.007 §10.1.1). */
  undefineContext(cid: number): void {
    const ctx = this.contexts.get(cid);
    if (ctx?.active) this.setContext(cid, false, 'host');
    this.contexts.delete(cid);
  }

  /**
   * Activate or deactivate a context now. Returns false when activation cannot happen (not
   * registered, context not defined). Cause 'network' deactivation is the network's doing.
   */
  setContext(cid: number, active: boolean, cause: ContextCause): boolean {
    const ctx = this.contexts.get(cid);
    if (!ctx) return !active;
    if (active && !this.registered) return false;
    if (ctx.active === active) return true;
    const was = this.dataReady;
    this.applyContext(ctx, active, cause);
    this.settle(was, 'deregistered');
    return true;
  }

  /** Switch a context without settling (the caller settles once for the whole change). */
  private applyContext(ctx: PdpContext, active: boolean, cause: ContextCause): void {
    ctx.active = active;
    ctx.ip = active ? this.addressFor(ctx.cid) : undefined;
    this.emit('context', ctx.cid, active, cause);
  }

  /** Activation as the host asks for it: takes `activateMs`, fails when not registered. */
  async activate(cid: number): Promise<boolean> {
    if (!this.registered || !this.contexts.has(cid)) return false;
    await this.sleep(this.radio.activateMs);
    return this.setContext(cid, true, 'host');
  }

  async deactivate(cid: number): Promise<void> {
    await this.sleep(this.radio.deactivateMs);
    this.setContext(cid, false, 'host');
  }

  private sleep(ms: number): Promise<void> {
    const d = this.scale(ms);
    if (d <= 0) return Promise.resolve();
    return new Promise((resolve) => this.clock.setTimeout(resolve, d));
  }

  private dropContexts(cause: ContextCause): void {
    for (const ctx of this.contexts.values()) if (ctx.active) this.applyContext(ctx, false, cause);
  }

  private assignAddresses(): void {
    for (const ctx of this.contexts.values()) ctx.ip = ctx.active ? this.addressFor(ctx.cid) : undefined;
  }

  private addressFor(cid: number): string {
    const parts = this.radio.ip.split('.').map(Number);
    parts[3] = ((parts[3] ?? 0) + cid - 1) % 256;
    return parts.join('.');
  }

  // ---- power cycle ----

  /** The module went off (reset, power-down): radio off, RAM settings back to power-on values. */
  powerOff(): void {
    const was = this.dataReady;
    this.stopSearch();
    this.cfun = 0;
    this.dropContexts('detach');
    this.cregMode = 0;
    this.cgregMode = 0;
    this.ceregMode = 0;
    this.copsMode = 0;
    this.copsFormat = 0;
    this.psDetached = false;
    this.psmRequested = false;
    this.psmRequestedActiveS = undefined;
    this.psmRequestedTauS = undefined;
    this.settle(was, 'cfun');
  }

  /** Booted: full functionality, registration after `registrationMs`. */
  powerOn(): void {
    this.setCfun(1);
  }

  /** Stop timers (modem stopped). */
  dispose(): void {
    this.stopSearch();
  }

  private settle(was: boolean, cause: 'cfun' | 'deregistered'): void {
    const now = this.dataReady;
    this.emit('change');
    if (this.attachedPending) {
      this.attachedPending = false;
      this.emit('attached');
    }
    if (was && !now) this.emit('down', cause);
    if (!was && now) this.emit('up');
  }
}
