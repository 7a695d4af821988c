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
import { escapeRegExp, expand, type DriveHandler, type DriveScript, type DriveStmt } from './drive-script.js';

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
  /** `@on … goto` jumps taken. */
  jumps: number;
  /** `@on` blocks run. */
  handled: number;
  /** Loop iterations started (all loops). */
  iterations: number;
}

/** Control flow, not failures: thrown to unwind to the top-level loop. */
class Jump extends Error {
  constructor(readonly label: string) {
    super(`jump to ${label}`);
  }
}
class Stopped extends Error {}
class ExpectTimeout extends Error {}

const RETRY_PAUSE_MS = 1000;

export class DriveRunner {
  readonly stats: DriveStats = { commands: 0, timeouts: 0, jumps: 0, handled: 0, iterations: 0 };
  private readonly vars = new Map<string, string>();
  private captures: string[] = [];
  private waiting: { test: (line: string) => RegExpExecArray | null; resolve: (m: RegExpExecArray) => void } | undefined;
  /** Interrupts the current wait or expectation (a goto handler, stop, or a queued block). */
  private interrupt: ((why: Jump | Stopped | 'handler') => void) | undefined;
  private readonly queued: { handler: DriveHandler; match: RegExpExecArray }[] = [];
  private pendingJump: Jump | undefined;
  private stopped = false;
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
  ) {}

  start(): Promise<void> {
    return (this.loop ??= this.run());
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.interrupt?.(new Stopped());
    return this.loop ?? Promise.resolve();
  }

  /** A line (or the prompt, as '>') the modem printed. */
  feedLine(line: string): void {
    if (this.stopped) return;
    const m = this.waiting?.test(line);
    if (m) {
      const w = this.waiting!;
      this.waiting = undefined;
      w.resolve(m);
      return;
    }
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
      return;
    }
  }

  private variable = (name: string): string | undefined => {
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
    while (!this.stopped) {
      try {
        for (; pc < top.length; pc++) await this.exec(top[pc]!);
        // The script's end: keep serving handlers until stopped.
        await this.sleep(60_000);
      } catch (err) {
        if (err instanceof Stopped || this.stopped) return;
        if (err instanceof Jump) {
          this.pendingJump = undefined;
          pc = labelAt(err.label);
          continue;
        }
        if (err instanceof ExpectTimeout) {
          this.stats.timeouts++;
          this.log.warn({ modem: this.identity.name, err: err.message }, 'drive: an expectation timed out');
          const label = this.script.onError;
          pc = label ? labelAt(label) : 0;
          if (!label) await this.sleep(RETRY_PAUSE_MS).catch(() => undefined);
          continue;
        }
        this.log.error({ modem: this.identity.name, err }, 'drive: the script failed; it stops');
        return;
      }
    }
  }

  /** Run queued handler blocks (at a step boundary), then the statement. */
  private async exec(s: DriveStmt): Promise<void> {
    await this.runHandlers();
    this.check();
    switch (s.kind) {
      case 'label':
        return;
      case 'goto':
        throw new Jump(s.label);
      case 'let':
        this.vars.set(s.name, expand(s.text, this.variable));
        return;
      case 'send': {
        const text = expand(s.text, this.variable);
        if (s.raw) this.serial.write(unescapeBytes(text));
        else {
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
        const re = new RegExp(expand(s.pattern, (n) => {
          const v = this.variable(n);
          return v === undefined ? undefined : escapeRegExp(v);
        }));
        const m = await this.expectLine((line) => re.exec(line), String(re), s.line);
        this.captures = [...m];
        return;
      }
      case 'wait':
        await this.sleep(this.jittered(s.ms, s.jitter));
        return;
      case 'repeat': {
        for (let i = 0; s.count === null || i < s.count; i++) {
          const started = this.clock.now();
          this.stats.iterations++;
          this.seq++;
          for (const b of s.body) await this.exec(b);
          const left = this.jittered(s.every, s.jitter) - (this.clock.now() - started);
          if (left > 0) await this.sleep(left);
          else await this.runHandlers();
        }
        return;
      }
    }
  }

  private jittered(ms: number, jitter: number): number {
    return jitter > 0 ? Math.max(0, ms + Math.round((this.random() * 2 - 1) * jitter)) : ms;
  }

  private check(): void {
    if (this.stopped) throw new Stopped();
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
      const why = await new Promise<Jump | Stopped | 'handler' | 'done'>((resolve) => {
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
    const timeoutMs = this.script.timeoutMs;
    const result = await new Promise<RegExpExecArray | Jump | Stopped | 'timeout'>((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.timers.delete(t);
        this.waiting = undefined;
        resolve('timeout');
      }, timeoutMs);
      this.timers.add(t);
      const done = (v: RegExpExecArray | Jump | Stopped | 'timeout') => {
        this.clock.clearTimeout(t);
        this.timers.delete(t);
        this.interrupt = undefined;
        resolve(v);
      };
      this.waiting = { test, resolve: done };
      // Handler blocks wait for the expectation to end; jumps and stop do not.
      this.interrupt = (w) => {
        if (w === 'handler') return;
        this.waiting = undefined;
        done(w);
      };
    });
    if (result === 'timeout') throw new ExpectTimeout(`line ${line}: no ${what} within ${timeoutMs} ms`);
    if (result instanceof Jump || result instanceof Stopped) throw result;
    return result;
  }
}
