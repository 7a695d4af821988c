/**
 * Runs one conformance case: a fresh modem of one profile on a memory port, its MQTT links going
 * to the profile's shared in-memory broker, every timer on a TestClock (a 90 s data-mode timeout
 * or a 20 s retransmission costs no wall time). Steps are fed as a firmware would (lines,
 * pipelined bursts, byte-by-byte chunks, data-mode payloads) interleaved with broker faults; the
 * invariants are checked as output is written and once more at the end of the case.
 *
 * Invariants (issue 8, §3):
 * - no unexpected error: no fault at the last-resort boundary (src/util/faults.ts), no unhandled
 *   rejection or exception while the case ran;
 * - every response ends with a well-formed final result code (OK, ERROR, +CME ERROR: <n>|<text>
 *   per AT+CMEE, or the ATV0 numeric forms), unless ATQ1 silenced them;
 * - no URC is written while a command or a data-mode exchange is in progress;
 * - `AT` answers OK at the end (after ESC / the data-mode timeout, and a CR to end a partial line);
 * - a message the module reported as sent (OK plus its success URC) reached the broker;
 * - a QoS 1/2 message the broker delivered (the device's MQTT client took it and acknowledged it:
 *   the link's 'message' event, see fuzz-broker.ts) reached the firmware — its payload appears in the output, raw or as hex text where a
 *   dataformat/encoding setting asks for hex — or sits in the module's receive buffer, read at
 *   the end with the vendor's read command (kit.readBuffer). A message whose connection closed
 *   after acknowledging it (a drop, a reset, AT+QMTCLOSE) does not count. Only the harness's own
 *   messages are checked: unique ASCII markers (MARKER), so both forms are easy to recognise.
 */
import type { Modem } from '../../src/modem/modem.js';
import { Modem as ModemClass } from '../../src/modem/modem.js';
import { MemoryPort } from '../../src/port/memory-port.js';
import type { Profile } from '../../src/profiles/profile.js';
import type { Clock, TimerHandle } from '../../src/util/clock.js';
import { faults, type FaultReport } from '../../src/util/faults.js';
import { silentLogger } from '../../src/util/logger.js';
import { COMMAND_SETS } from '../../src/vendors/registry.js';
import type { BrokerTenant, FuzzBroker } from './fuzz-broker.js';
import type { ProfileKit } from './kits.js';

export type BrokerEvent = 'drop' | 'stall' | 'unstall' | 'down' | 'up' | 'refuse' | 'accept' | 'deliver';

export type Step =
  /** One command line; CR appended. */
  | { t: 'line'; text: Buffer }
  /** Several lines in one write, without waiting for results (pipelined). */
  | { t: 'burst'; lines: Buffer[] }
  /** One line (CR appended) written in pieces of 1–8 bytes, settling between them. */
  | { t: 'chunked'; text: Buffer; sizes: number[] }
  /** Arbitrary bytes, no terminator added. */
  | { t: 'raw'; bytes: Buffer }
  /** A well-formed publish whose acknowledgement is checked against the broker. */
  | { t: 'publish'; qos: 0 | 1; payload: string }
  /** A well-formed subscribe (so deliveries reach the module). */
  | { t: 'subscribe'; qos: 0 | 1 | 2 }
  /** The profile's same-id / racing burst number `which`. */
  | { t: 'same-id'; which: number }
  /** Enter data mode, then send fewer bytes than announced (cut) or far more (flood). */
  | { t: 'data'; kind: 'cut' | 'flood'; announced: number; sent: number; fill: number }
  /** `qos` sets a 'deliver' event's QoS (tests); by default it cycles through 0, 1 and 2. */
  | { t: 'broker'; ev: BrokerEvent; qos?: 0 | 1 | 2 }
  /** Let virtual time pass (keepalive, retransmission, reconnect, data-mode timeouts). */
  | { t: 'advance'; ms: number };

export interface Case {
  /** Run the profile's connect lines first. */
  connect: boolean;
  steps: Step[];
}

export interface CaseResult {
  violations: string[];
  /** Command lines the host sent. */
  lines: number;
  /** Publishes the module acknowledged and the broker was checked to have (the invariant's reach). */
  acked: number;
  /** Deliveries the module acknowledged to the broker and was checked to have passed on. */
  delivered: number;
}

const CR = 0x0d;

/**
 * The payload of the harness's message number `n` to case `caseId`. Its prefix, raw or as hex
 * text of either case, is what onOutput looks for: three indexOf per write, no decoding unless found.
 */
const MARKER = (caseId: number, n: number): string => `Qz7c${caseId}n${n}zQ`;
const MARKER_RE = /Qz7c\d+n\d+zQ/g;
const IS_MARKER = /^Qz7c\d+n\d+zQ$/;
const MARKER_PREFIXES = [Buffer.from('Qz7', 'latin1'), Buffer.from(Buffer.from('Qz7').toString('hex'), 'latin1'), Buffer.from(Buffer.from('Qz7').toString('hex').toUpperCase(), 'latin1')];
let unexpected: string[] = [];
/** Profiles under fuzz now (watchProcess / unwatchProcess). */
let watchers = 0;
/** Violations of the cases running now, by modem name (fault reports name their modem). */
const running = new Map<string, string[]>();
faults.on('fault', (r: FaultReport) => {
  const text = `fault at the last-resort boundary (${r.where}): ${r.err instanceof Error ? (r.err.stack ?? r.err.message) : String(r.err)}`;
  const v = running.get(r.modem);
  if (v) v.push(text);
  else unexpected.push(`${r.modem}: ${text}`);
});

export interface RunnerOptions {
  /** Break the modem on purpose (the suite's own tests show each invariant can fail). */
  tamper?: (modem: Modem) => void;
}

const onRejection = (reason: unknown): void => {
  unexpected.push(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
};
const onException = (err: Error): void => {
  unexpected.push(`uncaught exception: ${err.stack ?? err.message}`);
};

/**
 * Unhandled rejections and exceptions while a case runs fail the case (so fast-check can shrink
 * it). Under vitest its own handler still reports them too. Undone by unwatchProcess when the
 * last profile closes: `npm test` runs other files in the same process afterwards.
 */
export function watchProcess(): void {
  if (watchers++ > 0) return;
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
}

export function unwatchProcess(): void {
  if (watchers === 0 || --watchers > 0) return;
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
  unexpected = [];
}

/** Virtual time a module may take to power on and boot again after a reset in the case. */
const BOOT_ALLOWANCE_MS = 15_000;

/** Timers due within this much virtual time count as "now" for an idle modem (URC delays). */
const NEAR_MS = 20;

/**
 * The cases' clock: like TestClock (src/util/clock.ts) its timers fire only when told, but the
 * harness sees the next due time and fires timers synchronously, so a case spends event-loop
 * turns only on I/O (the shared machine makes each turn costly).
 */
export class FuzzClock implements Clock {
  private t = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { due: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { due: this.t + Math.max(0, ms), fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  nextDue(): number | undefined {
    let best: number | undefined;
    for (const s of this.timers.values()) if (best === undefined || s.due < best) best = s.due;
    return best;
  }

  /** Move to `time`, firing (in due order) the timers due by then that exist now. */
  runUntil(time: number): void {
    this.t = Math.max(this.t, time);
    const due = [...this.timers].filter(([, s]) => s.due <= this.t).sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
    for (const [id, s] of due) {
      if (!this.timers.delete(id)) continue; // cleared by an earlier one
      s.fn();
    }
  }
}

/** Yield to the event loop once (I/O, Aedes, the memory port's microtasks). */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

export class CaseRunner {
  private readonly clock = new FuzzClock();
  private readonly port = new MemoryPort();
  readonly modem: Modem;
  private readonly violations: string[] = [];
  private outputBytes = 0;
  /** Output text while a publish step runs (its acknowledgement is read from it); '' otherwise. */
  private text = '';
  private capturing = false;
  private responses: Buffer[] = [];
  private lines = 0;
  private acked = 0;
  private delivered = 0;
  /** Harness messages (MARKER) the module wrote to the firmware, raw or as hex. */
  private readonly seen = new Set<string>();
  private seq = 0;
  private readonly tenant: BrokerTenant;
  private readonly clientId: string;
  private readonly prefix: string;
  private readonly name: string;

  constructor(
    private readonly profile: Profile,
    private readonly kit: ProfileKit,
    broker: FuzzBroker,
    private readonly caseId: number,
    opts: RunnerOptions = {},
  ) {
    this.tenant = broker.tenant();
    this.name = `fuzz-${profile.id}-${caseId}`;
    this.clientId = `fz-${caseId}`;
    this.prefix = kit.topicPrefix(this.clientId);
    this.modem = new ModemClass({
      profile,
      port: this.port,
      log: silentLogger(),
      links: this.tenant.opener,
      commandSets: COMMAND_SETS,
      timing: 'fast',
      bootUrcs: false,
      clock: this.clock,
      name: this.name,
    });
    const engine = this.modem.engine;
    engine.on('output', (bytes, kind) => this.onOutput(bytes, kind));
    opts.tamper?.(this.modem);
  }

  private onOutput(bytes: Buffer, kind: 'echo' | 'response' | 'urc' | 'prompt'): void {
    this.outputBytes += bytes.length;
    if (MARKER_PREFIXES.some((p) => bytes.includes(p))) this.noteMarkers(bytes.toString('latin1'));
    // Keep a bounded tail of the text for the acknowledged-message check, only while a publish
    // step runs: copying a 64 KiB tail for every write of every case was a good share of the CPU.
    if (this.capturing) this.text = (this.text + bytes.toString('latin1')).slice(-65536);
    const engine = this.modem.engine;
    const s = engine.settings;
    if (kind === 'urc') {
      // The engine's own view decides: a URC while a line or a data-mode exchange runs is inside
      // a response. (A tracker of our own cannot tell: under ATQ1, or with Tencent's silent
      // data-mode endings, a line may end without writing anything.)
      if (engine.busy) this.violations.push(`URC inside a response: ${JSON.stringify(bytes.toString('latin1'))}`);
      return;
    }
    if (kind === 'response') {
      this.responses.push(bytes);
      const problem = finalProblem(bytes, s, this.profile);
      if (problem) this.violations.push(`${problem}: ${JSON.stringify(bytes.toString('latin1').slice(-200))}`);
    }
  }

  /** Record the harness messages in this output: raw, and inside runs of hex digits. */
  private noteMarkers(text: string): void {
    for (const m of text.matchAll(MARKER_RE)) this.seen.add(m[0]);
    for (const run of text.matchAll(/(?:[0-9A-Fa-f]{2}){6,}/g)) {
      // A hex run may start on an odd digit of the payload's text (a preceding hex-looking byte).
      for (const from of [0, 1]) for (const m of Buffer.from(run[0].slice(from), 'hex').toString('latin1').matchAll(MARKER_RE)) this.seen.add(m[0]);
    }
  }

  /** Write bytes as the host. */
  private send(bytes: Buffer): void {
    for (let i = bytes.indexOf(CR); i !== -1; i = bytes.indexOf(CR, i + 1)) this.lines++;
    this.port.host.send(bytes);
  }

  /**
   * Let the modem run until it is idle and quiet. Event-loop turns pass until neither the host
   * side nor the broker link has moved for a few turns (I/O has settled); then virtual time jumps
   * to the next timer when it is near (a URC delay, the fast timing's 1 ms) or when a command is
   * still waiting (for a CONNACK, an acknowledgement, a timeout), up to `budgetMs` of virtual time.
   * Returns whether the engine ended idle.
   */
  async settle(budgetMs = 10_000, quietTurns = 4): Promise<boolean> {
    const end = this.clock.now() + budgetMs;
    let quiet = 0;
    let seen = this.activity();
    for (;;) {
      await turn();
      const now = this.activity();
      if (now !== seen) {
        seen = now;
        quiet = 0;
        continue;
      }
      if (++quiet < quietTurns) continue;
      const next = this.clock.nextDue();
      const busy = this.modem.engine.busy;
      if (next === undefined || next > end || (!busy && next > this.clock.now() + NEAR_MS)) return !busy;
      this.clock.runUntil(next);
      quiet = 0;
    }
  }

  /** Let `ms` of virtual time pass, timer by timer, with I/O settling after each. */
  private async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    for (let i = 0; i < 10_000; i++) {
      const next = this.clock.nextDue();
      if (next === undefined || next > target) break;
      this.clock.runUntil(next);
      await this.settle(0);
    }
    this.clock.runUntil(target);
    await this.settle();
  }

  private activity(): number {
    return this.outputBytes + this.tenant.bytes;
  }

  private topic(kind: string): string {
    return `${this.prefix}${kind}/${this.caseId}/${++this.seq}`;
  }

  async run(c: Case): Promise<CaseResult> {
    unexpected = [];
    running.set(this.name, this.violations);
    try {
      if (c.connect) {
        for (const l of this.kit.connect(this.clientId)) {
          this.send(Buffer.from(`${l}\r`, 'latin1'));
          await this.settle(30_000);
        }
        // A case that delivers subscribes first, so the delivered-message invariant has messages
        // to check (random subscribe steps alone rarely precede a delivery in a short case).
        if (c.steps.some((s) => s.t === 'broker' && s.ev === 'deliver')) await this.step({ t: 'subscribe', qos: 1 });
      }
      for (const step of c.steps) await this.step(step);
      await this.finish();
      await this.checkDeliveries();
    } catch (err) {
      this.violations.push(`the harness failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    } finally {
      await this.modem.stop();
      await this.port.close();
      await this.tenant.close();
      await turn();
      running.delete(this.name);
    }
    this.violations.push(...unexpected);
    unexpected = [];
    return { violations: this.violations, lines: this.lines, acked: this.acked, delivered: this.delivered };
  }

  private async step(s: Step): Promise<void> {
    switch (s.t) {
      case 'line':
        this.send(Buffer.concat([s.text, Buffer.from([CR])]));
        return void (await this.settle());
      case 'burst':
        this.send(Buffer.concat(s.lines.map((l) => Buffer.concat([l, Buffer.from([CR])]))));
        return void (await this.settle());
      case 'chunked': {
        const all = Buffer.concat([s.text, Buffer.from([CR])]);
        let at = 0;
        for (let i = 0; at < all.length; i++) {
          const n = s.sizes[i % s.sizes.length] ?? 1;
          this.send(all.subarray(at, at + n));
          at += n;
          await turn();
        }
        return void (await this.settle());
      }
      case 'raw':
        this.send(s.bytes);
        return void (await this.settle());
      case 'subscribe':
        this.send(Buffer.from(`${this.kit.subscribe(`${this.prefix}in/${this.caseId}/#`, s.qos, 100 + (this.seq++ % 100))}\r`, 'latin1'));
        return void (await this.settle());
      case 'publish':
        return this.publish(s.qos, s.payload);
      case 'same-id': {
        const burst = this.kit.sameId[s.which % this.kit.sameId.length]!;
        this.send(Buffer.from(burst, 'latin1'));
        return void (await this.settle());
      }
      case 'data': {
        this.send(Buffer.from(this.kit.dataEntry(s.announced), 'latin1'));
        await this.settle();
        this.send(Buffer.alloc(s.sent, s.fill));
        // A cut payload waits for the data-mode timeout: let it pass.
        return void (await this.settle(s.kind === 'cut' ? 120_000 : 10_000));
      }
      case 'broker':
        this.brokerEvent(s.ev, s.qos);
        return void (await this.settle());
      case 'advance':
        return this.advance(s.ms);
    }
  }

  private brokerEvent(ev: BrokerEvent, qos?: 0 | 1 | 2): void {
    const b = this.tenant;
    switch (ev) {
      case 'drop':
        return b.dropAll();
      case 'stall':
        return b.stall(true);
      case 'unstall':
        return b.stall(false);
      case 'down':
        return b.setDown(true);
      case 'up':
        return b.setDown(false);
      case 'refuse':
        b.refuseConnect = true;
        return;
      case 'accept':
        b.refuseConnect = false;
        return;
      case 'deliver':
        ++this.seq;
        return b.deliver(`${this.prefix}in/${this.caseId}/x`, Buffer.from(MARKER(this.caseId, this.seq), 'latin1'), qos ?? ((this.seq % 3) as 0 | 1 | 2));
    }
  }

  private async publish(qos: 0 | 1, payload: string): Promise<void> {
    const topic = this.topic('ack');
    const plan = this.kit.publish(topic, payload, qos, 1 + (this.seq % 60000));
    await this.toCommandMode();
    const cleanPath = !this.tenant.stalled && !this.tenant.down;
    this.tenant.watch(topic);
    this.text = '';
    this.capturing = true;
    for (const bytes of plan.sends) {
      this.send(bytes);
      await this.settle(60_000);
    }
    this.capturing = false;
    const out = this.text;
    this.text = '';
    if (!plan.acked(out)) return;
    // QoS 0 is "sent" once written: a stalled broker swallows it, and a real module cannot know.
    if (qos === 0 && !cleanPath) return;
    const got = this.tenant.received(topic);
    this.acked++;
    if (!got.some((p) => p.toString('latin1') === payload)) {
      this.violations.push(`the module acknowledged a QoS ${qos} publish on ${topic} that never reached the broker; output: ${JSON.stringify(out.slice(-400))}`);
    }
  }

  /**
   * Back to command mode with nothing pending: leave data mode (ESC, or the profile's data-mode
   * timeout where ESC is data), end any partial line with CR, and wait for the result.
   */
  private async toCommandMode(): Promise<boolean> {
    const engine = this.modem.engine;
    if (engine.inDataMode) {
      this.send(Buffer.from([0x1b]));
      await this.settle();
    }
    if (engine.inDataMode) await this.advance(130_000);
    this.send(Buffer.from([CR]));
    return this.settle(200_000);
  }

  /**
   * End of case: back to command mode, then `AT` must answer OK. A reset or power-down in the
   * case (AT+CFUN=1,1, AT+QPOWD, AT+TCRESTORE) leaves the module deaf until it has booted again,
   * and firmware waits for the boot URC: when `AT` meets silence, the boot time passes (virtual
   * time, deterministic) and `AT` is asked once more.
   */
  private async finish(): Promise<void> {
    let answer = await this.askAt();
    if (answer.got === undefined && answer.allowed.size > 0 && !answer.allowed.has(undefined)) {
      await this.advance(BOOT_ALLOWANCE_MS);
      answer = await this.askAt();
    }
    if (answer.busy) {
      this.violations.push(`the modem is still busy ${this.modem.engine.inDataMode ? 'in data mode' : 'with a command'} after 200 s of virtual time`);
    } else if (!answer.allowed.has(answer.got)) {
      this.violations.push(`AT did not answer OK afterwards: ${answer.got === undefined ? 'no response' : JSON.stringify(answer.got)}`);
    }
  }

  /**
   * Every harness message a device of this case acknowledged must have reached the firmware or
   * sit in the module's buffer, unless its connection closed since (messages to a session that
   * was closed, reset or disconnected before delivery do not count). What was not written yet
   * is read from the buffer with the vendor's read command, as firmware would, a few times over
   * (a read may free a slot for the backlog, or return one message at a time).
   */
  private async checkDeliveries(): Promise<void> {
    const owed = () => this.tenant.acked.filter((a) => IS_MARKER.test(a.payload) && !this.seen.has(a.payload) && !a.closed());
    const read = this.kit.readBuffer;
    let left = owed();
    for (let i = 0; i < 12 && left.length > 0 && read !== undefined && !this.modem.engine.busy; i++) {
      this.send(Buffer.from(`${read}\r`, 'latin1'));
      await this.settle();
      left = owed();
    }
    for (const a of left) {
      this.violations.push(`the module acknowledged QoS ${a.qos} delivery ${a.payload} to the broker but neither wrote it to the firmware nor holds it in its buffer`);
    }
    this.delivered += this.tenant.acked.filter((a) => this.seen.has(a.payload)).length;
  }

  private async askAt(): Promise<{ busy: boolean; got?: string; allowed: Set<string | undefined> }> {
    const engine = this.modem.engine;
    if (!(await this.toCommandMode())) return { busy: true, allowed: new Set() };
    // The expected answer follows ATV/ATQ as they are when AT runs (a pending reset, such as
    // Tencent's AT+TCRESTORE, may restore them meanwhile: either state is right).
    const expect = (): string | undefined => (engine.settings.quiet ? undefined : engine.settings.verbose === false ? '0\r' : '\r\nOK\r\n');
    const before = expect();
    this.responses = [];
    this.send(Buffer.from('AT\r', 'latin1'));
    await this.settle();
    return { busy: false, got: this.responses[0]?.toString('latin1'), allowed: new Set([before, expect()]) };
  }
}

/** Why a response write does not end with a well-formed final result code (or undefined). */
export function finalProblem(bytes: Buffer, s: { cmee: 0 | 1 | 2; verbose?: boolean; quiet?: boolean }, profile: Profile): string | undefined {
  if (s.quiet) return undefined;
  const text = bytes.toString('latin1');
  const cme = /\+CME ERROR: ([^\r\n]*)\r\n$/.exec(text);
  if (cme) {
    const v = cme[1]!;
    if (s.cmee === 0) return 'a +CME ERROR with AT+CMEE=0';
    if (/^\d+$/.test(v)) return undefined;
    if (s.cmee === 2 && Object.values(profile.cmeErrors).includes(v)) return undefined;
    return `a +CME ERROR that is neither a number nor a known text ("${v}")`;
  }
  if (s.verbose === false) return /(^|\n)[04]\r$/.test(text) ? undefined : 'no numeric final result code (ATV0)';
  if (/\r\n(OK|ERROR)\r\n$/.test(text)) return undefined;
  return 'no final result code';
}
