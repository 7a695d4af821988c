/**
 * Runs a drive script (drive-script.ts) for one modem: a built-in firmware that talks to the
 * modem only through its serial port (issue 12 §2). The port is abstract — lines in, bytes out —
 * so the same runner works on the PTY (SerialLine, as `vmodem start --drive` uses it) and on an
 * in-memory port with a TestClock (the fast test suite). Every wait goes through the injected
 * clock.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.js';
import { unescapeBytes } from '../transcript/transcript.js';
import { escapeRegExp, expand, msValue, randomBetween, type DriveHandler, type DriveMs, type DriveScript, type DriveStmt } from './drive-script.js';

/** The serial side the runner drives. */
export interface DriveSerial {
  write(bytes: Buffer): void;
}

export interface DriveIdentity {
  name: string;
  index: number;
  imei: string;
}

export interface DriveStats {
  /** Lines sent with `>`. */
  commands: number;
  /** Expectations that timed out. */
  timeouts: number;
  /** Expectations answered by a `@fail` line (ERROR, +CME ERROR: …) instead. */
  failures: number;
  /** `@on … goto` jumps taken. */
  jumps: number;
  /** `@on` blocks run. */
  handled: number;
  /** Loop iterations started (all loops). */
  iterations: number;
}

export interface DriveRunnerOptions {
  /** Values for the script's `@param`s (others are refused by {@link checkDriveParams}). */
  params?: Readonly<Record<string, string>>;
  /** `@status` lines of the script, and 'paused' while paused. */
  onStatus?: (state: string, detail: string) => void;
}

/** An Error naming the first of `params` the script does not declare with `@param`. */
export function checkDriveParams(script: DriveScript, params: Readonly<Record<string, string>>): void {
  const known = script.params.map((p) => p.name);
  const unknown = Object.keys(params).find((k) => !known.includes(k));
  if (unknown !== undefined) {
    throw new Error(`the script has no @param ${unknown} (${known.length ? `it has ${known.join(', ')}` : 'it declares none'})`);
  }
}

/** Control flow, not failures: thrown to unwind to the top-level loop. */
class Jump extends Error {
  constructor(readonly label: string) {
    super(`jump to ${label}`);
  }
}
class Stopped extends Error {}
class Paused extends Error {}
class ExpectTimeout extends Error {}
class ExpectFailed extends Error {}

const RETRY_PAUSE_MS = 1000;
const PENDING_MAX = 64;

export class DriveRunner {
  readonly stats: DriveStats = { commands: 0, timeouts: 0, failures: 0, jumps: 0, handled: 0, iterations: 0 };
  private readonly vars = new Map<string, string>();
  private captures: string[] = [];
  private waiting: { test: (line: string) => RegExpExecArray | null; resolve: (m: RegExpExecArray | ExpectFailed) => void; what: string; line: number } | undefined;
  /** Interrupts the current wait or expectation (a goto handler, stop, or a queued block). */
  private interrupt: ((why: Jump | Stopped | Paused | 'handler') => void) | undefined;
  private readonly queued: { handler: DriveHandler; match: RegExpExecArray }[] = [];
  /**
   * Lines that came since the last command while nothing was expected: a modem writes `+CPIN:
   * READY` and `OK` in one go, and the `< OK` after `< +CPIN: READY` starts waiting only once the
   * first has matched. Like a firmware's UART buffer, the next expectation reads them first.
   */
  private readonly pending: string[] = [];
  private pendingJump: Jump | undefined;
  private stopped = false;
  private paused: { resume: () => void; resumed: Promise<void> } | undefined;
  private readonly timers = new Set<TimerHandle>();
  private loop: Promise<void> | undefined;
  private seq = 0;

  constructor(
    private readonly script: DriveScript,
    private readonly serial: DriveSerial,
    private readonly identity: DriveIdentity,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Random numbers for ${rand} and jitter (a test passes a seeded one). */
    private readonly random: () => number = Math.random,
    private readonly options: DriveRunnerOptions = {},
  ) {}

  /** The value of a variable (a `@param`, a `@let`, a built-in) as the script sees it now. */
  get(name: string): string | undefined {
    return this.variable(name);
  }

  /**
   * Stop talking (someone else has taken the serial port over): the current exchange is dropped
   * and lines are ignored until {@link resume}, which goes on at `@label resume` if the script has
   * one, else at its `@onerror` label, else at its start.
   */
  pause(): void {
    if (this.paused || this.stopped) return;
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    this.paused = { resume, resumed };
    this.queued.length = 0;
    this.options.onStatus?.('paused', 'the terminal has taken over the port');
    this.interrupt?.(new Paused());
  }

  resume(): void {
    const p = this.paused;
    if (!p) return;
    this.paused = undefined;
    p.resume();
  }

  start(): Promise<void> {
    return (this.loop ??= this.run());
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.resume();
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.interrupt?.(new Stopped());
    return this.loop ?? Promise.resolve();
  }

  /** A line (or the prompt, as '>') the modem printed. */
  feedLine(line: string): void {
    if (this.stopped || this.paused) return;
    const m = this.waiting?.test(line);
    if (m) {
      const w = this.waiting!;
      this.waiting = undefined;
      w.resolve(m);
      return;
    }
    if (this.waiting && this.script.failOn?.test(line)) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve(new ExpectFailed(`line ${w.line}: "${line}" instead of ${w.what}`));
      return;
    }
    if (this.dispatch(line)) return;
    if (!this.waiting) {
      this.pending.push(line);
      if (this.pending.length > PENDING_MAX) this.pending.shift();
    }
  }

  /** Give a line to the first handler that matches it; false when none does. */
  private dispatch(line: string): boolean {
    for (const h of this.script.handlers) {
      const hm = h.pattern.exec(line);
      if (!hm) continue;
      if (h.goto) {
        this.stats.jumps++;
        this.log.debug({ line, label: h.goto }, 'drive: handler jumps');
        this.pendingJump = new Jump(h.goto);
        this.interrupt?.(this.pendingJump);
      } else {
        this.queued.push({ handler: h, match: hm });
        this.interrupt?.('handler');
      }
      return true;
    }
    return false;
  }

  private variable = (name: string, arg?: string): string | undefined => {
    if (arg !== undefined) return name === 'rand' ? randomBetween(arg, this.random) : undefined;
    switch (name) {
      case 'imei':
        return this.identity.imei;
      case 'name':
        return this.identity.name;
      case 'index':
        return String(this.identity.index);
      case 'rand':
        return String(Math.floor(this.random() * 2 ** 31));
      case 'seq':
        return String(this.seq);
      case 'time':
        return String(Date.now());
      default:
        if (/^\d$/.test(name)) return this.captures[Number(name)] ?? '';
        return this.vars.get(name);
    }
  };

  private async run(): Promise<void> {
    const top = this.script.steps;
    const labelAt = (label: string) => top.findIndex((s) => s.kind === 'label' && s.name === label);
    let pc = 0;
    try {
      // Parameters first, in order (a default may use an earlier one): given values win.
      for (const p of this.script.params) this.vars.set(p.name, this.options.params?.[p.name] ?? expand(p.text, this.variable));
    } catch (err) {
      this.log.error({ modem: this.identity.name, err }, 'drive: the script failed; it stops');
      return;
    }
    /** Pause before going on (after a failed expectation); handlers and jumps work meanwhile. */
    let pauseFirst = false;
    while (!this.stopped) {
      try {
        if (pauseFirst) {
          pauseFirst = false;
          await this.sleep(RETRY_PAUSE_MS);
        }
        for (; pc < top.length; pc++) await this.exec(top[pc]!);
        // The script's end: keep serving handlers until stopped.
        for (;;) await this.sleep(60_000);
      } catch (err) {
        if (err instanceof Stopped || this.stopped) return;
        if (err instanceof Paused || this.paused) {
          this.pendingJump = undefined;
          await this.paused?.resumed;
          if (this.stopped) return;
          const at = ['resume', this.script.onError].find((l) => l !== undefined && labelAt(l) >= 0);
          pc = at === undefined ? 0 : labelAt(at);
          continue;
        }
        if (err instanceof Jump) {
          this.pendingJump = undefined;
          pc = labelAt(err.label);
          continue;
        }
        if (err instanceof ExpectTimeout || err instanceof ExpectFailed) {
          if (err instanceof ExpectTimeout) this.stats.timeouts++;
          else this.stats.failures++;
          this.log.warn({ modem: this.identity.name, err: err.message }, err instanceof ExpectTimeout ? 'drive: an expectation timed out' : 'drive: an expectation failed');
          const label = this.script.onError;
          pc = label ? labelAt(label) : 0;
          // A timeout has waited already; a refusal comes at once, and going straight back would
          // spin (a broker that refuses every CONNECT).
          pauseFirst = !label || err instanceof ExpectFailed;
          continue;
        }
        this.log.error({ modem: this.identity.name, err }, 'drive: the script failed; it stops');
        return;
      }
    }
  }

  /** Run one statement. Handler blocks do not run here: only where the script waits. */
  private async exec(s: DriveStmt): Promise<void> {
    this.check();
    switch (s.kind) {
      case 'label':
        return;
      case 'goto':
        if (s.when) {
          const text = expand(s.when.text, this.variable);
          const re = new RegExp(expand(s.when.pattern, (n, a) => {
            const v = this.variable(n, a);
            return v === undefined ? undefined : escapeRegExp(v);
          }));
          if (re.test(text) === s.when.negate) return;
        }
        throw new Jump(s.label);
      case 'status':
        this.options.onStatus?.(s.state, expand(s.detail, this.variable));
        return;
      case 'let':
        this.vars.set(s.name, expand(s.text, this.variable));
        return;
      case 'send': {
        const text = expand(s.text, this.variable);
        if (s.raw) this.serial.write(unescapeBytes(text));
        else {
          // What came before this command is no answer to it.
          this.pending.length = 0;
          this.stats.commands++;
          this.serial.write(Buffer.from(text + this.script.eol, 'latin1'));
        }
        return;
      }
      case 'expect': {
        const want = expand(s.text, this.variable);
        await this.expectLine((line) => (line === want ? Object.assign([line], { index: 0, input: line }) as RegExpExecArray : null), `"${want}"`, s.line);
        return;
      }
      case 'match': {
        // Variables in a pattern are literal text.
        const re = new RegExp(expand(s.pattern, (n, a) => {
          const v = this.variable(n, a);
          return v === undefined ? undefined : escapeRegExp(v);
        }));
        const m = await this.expectLine((line) => re.exec(line), String(re), s.line);
        this.captures = [...m];
        return;
      }
      case 'wait':
        await this.sleep(this.jittered(this.ms(s.ms, s.line), this.ms(s.jitter, s.line)));
        return;
      case 'repeat': {
        for (let i = 0; s.count === null || i < s.count; i++) {
          const started = this.clock.now();
          this.stats.iterations++;
          this.seq++;
          for (const b of s.body) await this.exec(b);
          const left = this.jittered(this.ms(s.every, s.line), this.ms(s.jitter, s.line)) - (this.clock.now() - started);
          if (left > 0) await this.sleep(left);
          else await this.runHandlers();
        }
        return;
      }
    }
  }

  /** A time of the script: a number, or variables read now (`every ${period}`). */
  private ms(v: DriveMs, line: number): number {
    return typeof v === 'number' ? v : msValue(expand(v, this.variable), `${this.script.source ?? 'line '}${this.script.source ? ':' : ''}${line}`);
  }

  private jittered(ms: number, jitter: number): number {
    return jitter > 0 ? Math.max(0, ms + Math.round((this.random() * 2 - 1) * jitter)) : ms;
  }

  private check(): void {
    if (this.stopped) throw new Stopped();
    if (this.paused) throw new Paused();
    if (this.pendingJump) throw this.pendingJump;
  }

  private async runHandlers(): Promise<void> {
    while (this.queued.length > 0) {
      const { handler, match } = this.queued.shift()!;
      this.stats.handled++;
      const saved = this.captures;
      this.captures = [...match];
      try {
        for (const b of handler.body ?? []) await this.exec(b);
      } finally {
        this.captures = saved;
      }
    }
  }

  /** Sleep on the clock; handler blocks run meanwhile, a goto or stop ends it early. */
  private async sleep(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    for (;;) {
      this.check();
      await this.runHandlers();
      this.check();
      const left = until - this.clock.now();
      if (left <= 0) return;
      const why = await new Promise<Jump | Stopped | Paused | 'handler' | 'done'>((resolve) => {
        const t = this.clock.setTimeout(() => {
          this.timers.delete(t);
          resolve('done');
        }, left);
        this.timers.add(t);
        this.interrupt = (w) => {
          this.clock.clearTimeout(t);
          this.timers.delete(t);
          resolve(w);
        };
      });
      this.interrupt = undefined;
      if (why === 'done') return;
      if (why !== 'handler') throw why;
    }
  }

  private async expectLine(test: (line: string) => RegExpExecArray | null, what: string, line: number): Promise<RegExpExecArray> {
    this.check();
    for (let i = 0; i < this.pending.length; i++) {
      const l = this.pending[i]!;
      const m = test(l);
      if (m || this.script.failOn?.test(l)) this.pending.splice(0, i + 1);
      if (m) return m;
      if (this.script.failOn?.test(l)) throw new ExpectFailed(`line ${line}: "${l}" instead of ${what}`);
    }
    const timeoutMs = this.script.timeoutMs;
    const result = await new Promise<RegExpExecArray | ExpectFailed | Jump | Stopped | Paused | 'timeout'>((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.timers.delete(t);
        this.waiting = undefined;
        resolve('timeout');
      }, timeoutMs);
      this.timers.add(t);
      const done = (v: RegExpExecArray | ExpectFailed | Jump | Stopped | Paused | 'timeout') => {
        this.clock.clearTimeout(t);
        this.timers.delete(t);
        this.interrupt = undefined;
        resolve(v);
      };
      this.waiting = { test, resolve: done, what, line };
      // Handler blocks wait for the expectation to end; jumps and stop do not.
      this.interrupt = (w) => {
        if (w === 'handler') return;
        this.waiting = undefined;
        done(w);
      };
    });
    if (result === 'timeout') throw new ExpectTimeout(`line ${line}: no ${what} within ${timeoutMs} ms`);
    if (result instanceof Jump || result instanceof Stopped || result instanceof Paused || result instanceof ExpectFailed) throw result;
    return result;
  }
}
