/**
 * The vendor-agnostic AT engine: reads bytes from a BytePort, assembles command lines, dispatches
 * them to command handlers, frames the replies, runs data mode after a prompt, and writes URCs
 * so that they never split a response (Renode's AtCommandModem defers URCs until after OK; so
 * do real modules, and firmware drivers depend on it).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BytePort } from '../port/byte-port.js';
import { LineReader } from './line-reader.js';
import { CommandSyntaxError, parseCommandLine, type ParseOptions } from './parse-command-line.js';
import type {
  CommandContext,
  CommandDef,
  DataEnd,
  DataSpec,
  Form,
  Handler,
  Line,
  Outcome,
  ParsedCommand,
  UrcOptions,
} from './types.js';
import { realClock, type Clock } from '../util/clock.js';

export interface EngineSettings {
  echo: boolean;
  /** AT+CMEE: 0 → ERROR, 1 → +CME ERROR: <n>, 2 → +CME ERROR: <text>. */
  cmee: 0 | 1 | 2;
  /** ATV (V.250 §6.2.6): true = verbose text results framed by CRLF; false = numeric codes. */
  verbose?: boolean;
  /** ATQ (V.250 §6.2.5): true = final result codes are not transmitted. */
  quiet?: boolean;
}

/** V.250 Table 1: numeric equivalents of the basic result codes (ATV0). */
const NUMERIC_RESULT: Record<string, string> = { OK: '0', CONNECT: '1', RING: '2', 'NO CARRIER': '3', ERROR: '4', 'NO DIALTONE': '6', BUSY: '7', 'NO ANSWER': '8' };

export interface EngineOptions {
  port: BytePort;
  log: Logger;
  maxLineLength: number;
  /** Bytes written when entering data mode, e.g. `\r\n> `. */
  prompt: string;
  settings: EngineSettings;
  /** Verbose text for a CME error number (AT+CMEE=2). */
  cmeText: (code: number) => string | undefined;
  parse?: ParseOptions;
  clock?: Clock;
  /**
   * The modem's last-resort boundary (Device.fault): called when delivering a result itself
   * failed — a bug in vmodem, not a handler's error (that one is answered with ERROR).
   */
  onFault?: (err: unknown, where: string) => void;
}

export interface EngineEvents {
  /** A command line was received (body after AT). */
  command: [line: string];
  /** Bytes written to the host, with what they were. */
  output: [bytes: Buffer, kind: 'echo' | 'response' | 'urc' | 'prompt'];
  /** Bytes received from the host. */
  input: [bytes: Buffer];
}

type Mode =
  | { kind: 'command' }
  | { kind: 'executing' }
  | {
      kind: 'data';
      spec: DataSpec;
      collected: number[];
      overflowed: boolean;
      onData: (end: DataEnd) => Outcome | Promise<Outcome>;
      timer?: ReturnType<Clock['setTimeout']>;
    };

const CTRL_Z = 0x1a;
const ESC = 0x1b;

export class AtEngine extends EventEmitter<EngineEvents> {
  readonly settings: EngineSettings;
  private readonly port: BytePort;
  private readonly log: Logger;
  private readonly reader: LineReader;
  private readonly clock: Clock;
  private readonly commands = new Map<string, CommandDef>();
  private mode: Mode = { kind: 'command' };
  private input: Buffer[] = [];
  private pumping = false;
  private lastLine = '';
  /** URCs whose delay has passed, waiting for the engine to be idle. */
  private readonly pendingUrcs: Line[] = [];
  /**
   * URCs still inside their delay, in the order raised (their due times never decrease). One
   * timer serves the head: separate timers per URC could fire out of order, since Node rounds
   * fractional delays against a cached loop time.
   */
  private readonly scheduledUrcs: { line: Line; due: number }[] = [];
  private urcTimer: ReturnType<Clock['setTimeout']> | undefined;
  private delayTimer: ReturnType<Clock['setTimeout']> | undefined;
  private lastUrcDue = 0;
  private stopped = false;
  /** Between powerOff() and powerOn(): a rebooting module reads nothing and writes nothing. */
  private switchedOff = false;
  /** Lines written right after the final result code of the command that powered the module off. */
  private farewell: Line[] | undefined;

  constructor(private readonly opts: EngineOptions) {
    super();
    this.port = opts.port;
    this.log = opts.log;
    this.settings = opts.settings;
    this.clock = opts.clock ?? realClock;
    this.reader = new LineReader(opts.maxLineLength);
    this.port.on('data', this.onData);
  }

  /** Register commands; a later definition of the same name replaces an earlier one. */
  /**
   * Fault injection (Renode's OverrideResponseForCommand): consulted before a command's own
   * handler; an outcome returned here replaces the command's.
   */
  interceptor?: (command: ParsedCommand) => Outcome | undefined;
  /** Fault injection: hold every final response this long (a slow module). */
  responseDelayMs = 0;
  /**
   * Lines written before the `ERROR` of a command the module does not know (ESP-AT prints
   * `ERR CODE:0x01090000`, Basic AT Commands "AT+SYSLOG"); empty = plain `ERROR`.
   */
  unknownCommandLines: Line[] = [];
  /**
   * A low-power UART (a module in deep sleep reads nothing until woken): consulted for every chunk
   * of input; the bytes it returns are read, the rest are lost. Absent = everything is read.
   */
  inputFilter?: (chunk: Buffer) => Buffer;

  register(defs: readonly CommandDef[]): void {
    for (const def of defs) {
      this.commands.set(def.name.toUpperCase(), def);
      for (const alias of def.aliases ?? []) this.commands.set(alias.toUpperCase(), def);
    }
  }

  /**
   * Every registered command, each once (aliases share their definition): what the conformance
   * and fuzz suite (test/conformance) builds its generators from.
   */
  commandDefs(): CommandDef[] {
    return [...new Set(this.commands.values())];
  }

  /** Whether a command or data-mode exchange is in progress (URCs wait for it). */
  get busy(): boolean {
    return this.mode.kind !== 'command';
  }

  get inDataMode(): boolean {
    return this.mode.kind === 'data';
  }

  /**
   * Queue an unsolicited result code. Written as its own write, after `delayMs`, never inside a
   * response or data-mode exchange, and in the order the URCs were raised.
   */
  urc(line: Line, opts: UrcOptions = {}): void {
    if (this.stopped || this.switchedOff) return;
    const now = this.clock.now();
    const due = Math.max(now + (opts.delayMs ?? 0), this.lastUrcDue);
    this.lastUrcDue = due;
    this.scheduledUrcs.push({ line, due });
    this.armUrcTimer();
  }

  private armUrcTimer(): void {
    const head = this.scheduledUrcs[0];
    // A URC due now waits only for the next turn of the event loop (the real clock runs a 0 ms
    // delay with setImmediate, util/clock.ts), so it is its own write after the final result
    // code, microseconds later, not a millisecond timer later (issue 12 §3).
    if (this.urcTimer !== undefined || !head || this.stopped) return;
    this.urcTimer = this.clock.setTimeout(() => {
      this.urcTimer = undefined;
      const now = this.clock.now();
      while (this.scheduledUrcs.length > 0 && this.scheduledUrcs[0]!.due <= now) {
        this.pendingUrcs.push(this.scheduledUrcs.shift()!.line);
      }
      this.flushUrcs();
      this.armUrcTimer();
    }, Math.max(0, head.due - this.clock.now()));
  }

  /** Stop reading and drop timers; the port stays owned by the caller. */
  stop(): void {
    this.stopped = true;
    this.port.off('data', this.onData);
    if (this.urcTimer !== undefined) this.clock.clearTimeout(this.urcTimer);
    this.urcTimer = undefined;
    if (this.delayTimer !== undefined) this.clock.clearTimeout(this.delayTimer);
    this.scheduledUrcs.length = 0;
    if (this.mode.kind === 'data' && this.mode.timer) this.clock.clearTimeout(this.mode.timer);
  }

  /**
   * Forget any partial line and leave data mode without answering (module reset). A command
   * being executed (AT+CFUN=1,1 resets from its own handler) still gets its final result code;
   * until then input waits, as it does during any command.
   */
  reset(): void {
    if (this.mode.kind === 'data') {
      if (this.mode.timer) this.clock.clearTimeout(this.mode.timer);
      this.mode = { kind: 'command' };
    }
    this.reader.reset();
    this.input = [];
    this.pendingUrcs.length = 0;
  }

  /**
   * The module stops (a reset or power-down; the "silent while rebooting" mode): from now on input
   * is dropped as a UART without a running firmware drops it, and nothing is written — except the
   * final result code of the command being executed (the reset command itself answers OK first),
   * followed by `farewell` (e.g. `POWERED DOWN`). URCs not yet written are lost with the module's
   * RAM. powerOn() ends it; the boot URCs are the caller's to queue after that.
   */
  powerOff(farewell: Line[] = []): void {
    this.reset();
    this.scheduledUrcs.length = 0;
    if (this.urcTimer !== undefined) this.clock.clearTimeout(this.urcTimer);
    this.urcTimer = undefined;
    this.lastUrcDue = 0;
    if (this.mode.kind === 'executing') this.farewell = farewell;
    else for (const l of farewell) this.write(this.frameLines([l]), 'urc');
    this.switchedOff = true;
  }

  powerOn(): void {
    this.switchedOff = false;
  }

  /** Whether the module is between powerOff() and powerOn(). */
  get poweredOff(): boolean {
    return this.switchedOff;
  }

  /** Write raw bytes outside the response framing (boot messages such as `RDY`). */
  writeRaw(bytes: Line, kind: 'urc' | 'response' = 'urc'): void {
    this.write(toBuffer(bytes), kind);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.stopped) return;
    this.emit('input', chunk);
    if (this.switchedOff) return;
    const kept = this.inputFilter ? this.inputFilter(chunk) : chunk;
    if (kept.length === 0) return;
    this.input.push(kept);
    this.pump();
  };

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.input.length > 0 && this.mode.kind !== 'executing') {
        const chunk = this.input.shift()!;
        const rest = this.mode.kind === 'data' ? this.feedData(chunk) : this.feedCommand(chunk);
        if (rest && rest.length > 0) this.input.unshift(rest);
      }
    } finally {
      this.pumping = false;
    }
    if (!this.busy) this.flushUrcs();
  }

  /** Feed command-mode bytes; returns bytes left unconsumed when a line started executing. */
  private feedCommand(chunk: Buffer): Buffer | undefined {
    const echo: number[] = [];
    // Echo bytes are gathered only when echo is on (ATE0 firmware: nothing to gather per byte);
    // the setting cannot change while this loop runs.
    const echoing = this.settings.echo;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      const r = this.reader.feed(byte);
      if (echoing) for (let k = 0; k < r.echo.length; k++) echo.push(r.echo[k]!);
      if (!r.event) continue;
      if (this.settings.echo && echo.length > 0) this.write(Buffer.from(echo), 'echo');
      echo.length = 0;
      this.startLine(r.event.kind === 'line' ? r.event.body : r.event.kind === 'repeat' ? this.lastLine : null);
      return chunk.subarray(i + 1);
    }
    if (this.settings.echo && echo.length > 0) this.write(Buffer.from(echo), 'echo');
    return undefined;
  }

  private startLine(body: string | null): void {
    this.mode = { kind: 'executing' };
    if (body !== null) this.lastLine = body;
    const run = body === null ? Promise.resolve(errorReply('line too long')) : this.executeLine(body);
    run
      .catch((err: unknown): Outcome => {
        // The line may carry secrets: log the error only.
        this.log.error({ err }, 'command handler failed; answering ERROR');
        return { type: 'error', reason: 'internal error' };
      })
      .then((outcome) => this.finish(outcome))
      .catch((err: unknown) => this.deliveryFailed(err, 'command result'));
  }

  /** Run every command of a line; info lines accumulate, the first error or prompt ends it. */
  private async executeLine(body: string): Promise<Outcome> {
    this.emit('command', body);
    let commands: ParsedCommand[];
    try {
      commands = body.trim() === '' ? [] : parseCommandLine(body, this.opts.parse);
    } catch (err) {
      if (err instanceof CommandSyntaxError) return errorReply(err.message);
      throw err;
    }
    const lines: Line[] = [];
    for (const command of commands) {
      const outcome = await this.dispatch(command);
      if (outcome.type === 'ok') {
        lines.push(...outcome.lines);
        continue;
      }
      if (outcome.type === 'prompt') return { ...outcome, lines: [...lines, ...(outcome.lines ?? [])] };
      if (outcome.type === 'error') return outcome;
      return { ...outcome, lines: [...lines, ...outcome.lines] };
    }
    return { type: 'ok', lines };
  }

  private dispatch(command: ParsedCommand): Outcome | Promise<Outcome> {
    const intercepted = this.interceptor?.(command);
    if (intercepted) return intercepted;
    const def = this.commands.get(command.name);
    if (!def) return this.unknownCommand(command);
    const handler = handlerFor(def, command.form);
    if (!handler) return errorReply(`${command.name} has no ${command.form} form`);
    // Arguments may carry secrets (passwords, device secrets): commands that take them opt out.
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ command: command.name, form: command.form, args: def.sensitive ? '[redacted]' : command.argText }, 'command');
    }
    const ctx: CommandContext = {
      command,
      name: command.name,
      form: command.form,
      args: command.args,
      urc: (line, o) => this.urc(line, o),
    };
    return handler(ctx);
  }

  private unknownCommand(command: ParsedCommand): Outcome {
    if (this.unknownCommandLines.length === 0) return errorReply(`unknown command ${command.name}`);
    this.log.debug({ command: command.name }, 'unknown command');
    return { type: 'final', lines: [...this.unknownCommandLines], final: 'ERROR' };
  }

  /** Write the outcome of a line (or of a data-mode exchange), then resume input. */
  private finish(outcome: Outcome): void {
    if (this.stopped) return;
    if (this.responseDelayMs > 0) {
      const delay = this.responseDelayMs;
      this.delayTimer = this.clock.setTimeout(() => {
        this.delayTimer = undefined;
        this.deliver(outcome);
      }, delay);
      return;
    }
    this.deliver(outcome);
  }

  private deliver(outcome: Outcome): void {
    if (this.stopped) return;
    if (outcome.type === 'prompt') {
      const pre = outcome.lines && outcome.lines.length > 0 ? this.frameLines(outcome.lines) : Buffer.alloc(0);
      this.write(Buffer.concat([pre, Buffer.from(this.opts.prompt, 'latin1')]), 'prompt');
      this.swallowLfAfterCr();
      this.enterData(outcome.spec, outcome.onData);
      this.pump();
      return;
    }
    this.write(this.render(outcome), 'response');
    this.mode = { kind: 'command' };
    if (this.farewell) {
      // After the final result code, as its own write: the line is over.
      for (const l of this.farewell) this.write(this.frameLines([l]), 'urc');
      this.farewell = undefined;
    }
    this.flushUrcs();
    this.pump();
  }

  private render(outcome: Exclude<Outcome, { type: 'prompt' }>): Buffer {
    switch (outcome.type) {
      case 'ok':
        return Buffer.concat([this.frameLines(outcome.lines), this.resultCode('OK')]);
      case 'final':
        return Buffer.concat([this.frameLines(outcome.lines), this.resultCode(outcome.final)]);
      case 'silent':
        return this.frameLines(outcome.lines);
      case 'error': {
        if (outcome.reason) this.log.debug({ reason: outcome.reason, cme: outcome.cme }, 'command error');
        if (outcome.cme === undefined || this.settings.cmee === 0) return this.resultCode('ERROR');
        const text = this.settings.cmee === 2 ? (this.opts.cmeText(outcome.cme) ?? String(outcome.cme)) : String(outcome.cme);
        // +CME ERROR is a final result code too (27.007 §9.2), framed like information text.
        return this.settings.quiet ? Buffer.alloc(0) : this.frameLines([`+CME ERROR: ${text}`]);
      }
    }
  }

  /** A final result code: `\r\nOK\r\n` (ATV1), `0\r` (ATV0), nothing (ATQ1). */
  private resultCode(text: string): Buffer {
    if (this.settings.quiet) return Buffer.alloc(0);
    if (this.settings.verbose === false) return Buffer.from(`${NUMERIC_RESULT[text] ?? text}\r`, 'latin1');
    return Buffer.from(`\r\n${text}\r\n`, 'latin1');
  }

  /**
   * Information text: `\r\n` + lines joined by `\r\n` + `\r\n`, the way Quectel/3GPP modules print
   * lists; with ATV0 the leading CRLF is left out (V.250 §5.7.1).
   */
  private frameLines(lines: readonly Line[]): Buffer {
    if (lines.length === 0) return Buffer.alloc(0);
    const parts: Buffer[] = this.settings.verbose === false ? [] : [Buffer.from('\r\n')];
    lines.forEach((l, i) => {
      if (i > 0) parts.push(Buffer.from('\r\n'));
      parts.push(toBuffer(l));
    });
    parts.push(Buffer.from('\r\n'));
    return Buffer.concat(parts);
  }

  /**
   * The LF of a CRLF that ended the command line belongs to the line, not to the payload: drop
   * it if it arrived before the prompt was written (a host that sends `\r\n` and then waits for
   * `> ` has already sent it). An LF sent after the prompt is payload.
   */
  private swallowLfAfterCr(): void {
    if (!this.reader.lineEndedWithCr) return;
    this.reader.clearAfterCr();
    const head = this.input[0];
    if (head === undefined || head[0] !== 0x0a) return;
    if (head.length === 1) this.input.shift();
    else this.input[0] = head.subarray(1);
  }

  private enterData(spec: DataSpec, onData: (end: DataEnd) => Outcome | Promise<Outcome>): void {
    this.mode = { kind: 'data', spec, collected: [], overflowed: false, onData };
    if (spec.mode === 'fixed' && spec.length === 0) {
      this.endData({ kind: 'complete', payload: Buffer.alloc(0), overflowed: false });
      return;
    }
    this.armDataTimer();
  }

  private armDataTimer(): void {
    const mode = this.mode;
    if (mode.kind !== 'data') return;
    if (mode.timer) this.clock.clearTimeout(mode.timer);
    if (mode.spec.idleTimeoutMs <= 0) return;
    mode.timer = this.clock.setTimeout(() => {
      if (this.mode !== mode) return;
      this.endData({ kind: 'timeout', payload: Buffer.from(mode.collected) });
    }, mode.spec.idleTimeoutMs);
  }

  /** Feed data-mode bytes; returns what follows the payload (back to the command parser). */
  private feedData(chunk: Buffer): Buffer | undefined {
    const mode = this.mode;
    if (mode.kind !== 'data') return chunk;
    const { spec } = mode;
    const echoed: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (spec.mode === 'fixed') {
        if (byte === CTRL_Z && spec.endOnCtrlZ) {
          // A Ctrl+Z before <length> bytes ends the input early; it is not part of the data.
          if (echoed.length) this.write(Buffer.from(echoed), 'echo');
          this.endData({ kind: 'complete', payload: Buffer.from(mode.collected), overflowed: false });
          return chunk.subarray(i + 1);
        }
        mode.collected.push(byte);
        if (spec.echo) echoed.push(byte);
        if (mode.collected.length >= spec.length) {
          if (echoed.length) this.write(Buffer.from(echoed), 'echo');
          this.endData({ kind: 'complete', payload: Buffer.from(mode.collected), overflowed: false });
          return chunk.subarray(i + 1);
        }
        continue;
      }
      if (byte === CTRL_Z || byte === ESC) {
        if (echoed.length) this.write(Buffer.from(echoed), 'echo');
        const payload = Buffer.from(mode.collected);
        this.endData(byte === CTRL_Z ? { kind: 'complete', payload, overflowed: mode.overflowed } : { kind: 'cancelled', payload });
        return chunk.subarray(i + 1);
      }
      if (mode.collected.length < spec.maxLength) {
        mode.collected.push(byte);
        if (spec.echo) echoed.push(byte);
      } else mode.overflowed = true;
    }
    if (echoed.length) this.write(Buffer.from(echoed), 'echo');
    this.armDataTimer();
    return undefined;
  }

  private endData(end: DataEnd): void {
    const mode = this.mode;
    if (mode.kind !== 'data') return;
    if (mode.timer) this.clock.clearTimeout(mode.timer);
    this.mode = { kind: 'executing' };
    Promise.resolve()
      .then(() => mode.onData(end))
      .catch((err: unknown): Outcome => {
        this.log.error({ err }, 'data-mode handler failed; answering ERROR');
        return { type: 'error', reason: 'internal error' };
      })
      .then((outcome) => this.finish(outcome))
      .catch((err: unknown) => this.deliveryFailed(err, 'data-mode result'));
  }

  /**
   * Rendering or writing a result threw. Nothing may escape as an unhandled rejection (it would
   * end the process and every modem in it): report it and take the next command line.
   */
  private deliveryFailed(err: unknown, where: string): void {
    if (this.opts.onFault) this.opts.onFault(err, `at-engine: ${where}`);
    else this.log.error({ err, where }, 'delivering a result failed');
    if (this.stopped) return;
    this.mode = { kind: 'command' };
    try {
      this.pump();
    } catch (again: unknown) {
      this.log.error({ err: again }, 'taking the next command line failed');
    }
  }

  private flushUrcs(): void {
    if (this.busy || this.stopped) return;
    while (this.pendingUrcs.length > 0) {
      const line = this.pendingUrcs.shift()!;
      this.write(this.frameLines([line]), 'urc');
    }
  }

  private write(bytes: Buffer, kind: 'echo' | 'response' | 'urc' | 'prompt'): void {
    if (bytes.length === 0) return;
    this.emit('output', bytes, kind);
    this.port.write(bytes);
  }
}

function handlerFor(def: CommandDef, form: Form): Handler | undefined {
  switch (form) {
    case 'test':
      return def.test;
    case 'read':
      return def.read;
    case 'set':
      return def.set;
    case 'exec':
      return def.exec;
  }
}

function errorReply(reason: string): Outcome {
  return { type: 'error', reason };
}

function toBuffer(line: Line): Buffer {
  return typeof line === 'string' ? Buffer.from(line, 'latin1') : line;
}
