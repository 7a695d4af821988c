/**
 * `vmodem demo`: a small firmware that runs on the modem's PTY the way an MCU application would
 * (issue 11), so a person sees a live module in the dashboard within seconds. It waits for the
 * SIM and the network, opens and connects an MQTT session, subscribes to a command topic,
 * publishes a sensor reading every few seconds, answers commands, and reconnects after a drop.
 * It pauses while the dashboard's user has taken the port over, and resumes when it is handed
 * back.
 *
 * Written against the profile's AT commands; each supported profile is one script (a
 * {@link DemoScript}). Only what the scripts share lives here: the command/URC channel, pausing,
 * the schedule and the status.
 */
import type { Logger } from 'pino';
import { SerialLine } from './serial-line.js';

export interface DemoTopics {
  telemetry: string;
  command: string;
  state: string;
}

export interface DemoStatus {
  state: 'starting' | 'registering' | 'connecting' | 'online' | 'offline' | 'paused' | 'stopped';
  detail?: string;
  profile: string;
  clientId: string;
  topics: DemoTopics;
  published: number;
  commands: number;
  intervalMs: number;
}

/** What the firmware does with a received command. */
export interface DemoCommandReply {
  /** Published on the state topic. */
  state: Record<string, unknown>;
}

/** The profile-specific part: how to bring the link up and how to publish. */
export interface DemoScript {
  readonly profile: string;
  /** SIM, registration, MQTT open + connect + subscribe; resolves once online. */
  connect(io: DemoIo): Promise<void>;
  /** Whether the MQTT session is still up (after a pause: the user may have closed it). */
  isConnected(io: DemoIo): Promise<boolean>;
  publish(io: DemoIo, topic: string, payload: string): Promise<void>;
  /** A signal reading for the telemetry (CSQ rssi), or undefined. */
  signal(io: DemoIo): Promise<number | undefined>;
  /** The URC that says the session ended (the runner reconnects). */
  readonly lostUrc: RegExp;
  /** Async results and URCs that never belong to a command's response. */
  readonly urc: RegExp;
  /** A received message in a URC line: topic and payload. */
  parseMessage(line: string): { topic: string; payload: string } | undefined;
}

/** A command's outcome: the lines between echo and final result, and the final result. */
export interface AtResult {
  lines: string[];
  final: string;
}

export class DemoError extends Error {}

/** The channel a script talks through. */
export interface DemoIo {
  readonly clientId: string;
  readonly topics: DemoTopics;
  /** Send `AT…` and wait for OK (rejects on ERROR / +CME ERROR unless `allowError`). */
  at(cmd: string, opts?: { timeoutMs?: number; allowError?: boolean; data?: string }): Promise<AtResult>;
  /** Wait for a URC matching `re` (including one that came since the last command was sent). */
  urc(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  sleep(ms: number): Promise<void>;
  status(state: DemoStatus['state'], detail?: string): void;
}

export interface DemoFirmwareOptions {
  /** The device the firmware opens: the link (/tmp/vmodem0) or /dev/pts/N. */
  device: string;
  script: DemoScript;
  imei: string;
  log: Logger;
  /** Time between sensor readings. Default 5 s. */
  intervalMs?: number;
  onStatus?: (s: DemoStatus) => void;
}

const FINAL = /^(OK|ERROR|\+CME ERROR: .*|\+CMS ERROR: .*|SEND FAIL|FAIL)$/;
const DEFAULT_TIMEOUT_MS = 15_000;

export class DemoFirmware {
  private serial: SerialLine | undefined;
  private paused = false;
  private stopped = false;
  private resumeWaiters: (() => void)[] = [];
  private command: { cmd: string; lines: string[]; echoSeen: boolean; onPrompt?: () => void; done: (r: AtResult) => void } | undefined;
  private urcs: string[] = [];
  private urcWaiters = new Set<{ re: RegExp; resolve: (m: RegExpExecArray) => void }>();
  private abort: ((e: Error) => void)[] = [];
  private lost = false;
  private readonly inbox: { topic: string; payload: string }[] = [];
  private intervalMs: number;
  private counters = { published: 0, commands: 0 };
  private readings = { seq: 0, led: 'off' as 'on' | 'off' };
  private current: DemoStatus['state'] = 'starting';
  private currentDetail: string | undefined;
  private loop: Promise<void> | undefined;
  readonly clientId: string;
  readonly topics: DemoTopics;

  constructor(private readonly o: DemoFirmwareOptions) {
    this.intervalMs = o.intervalMs ?? 5000;
    this.clientId = `vmodem-demo-${o.imei}`;
    const base = `vmodem/demo/${o.imei}`;
    this.topics = { telemetry: `${base}/telemetry`, command: `${base}/command`, state: `${base}/state` };
  }

  get status(): DemoStatus {
    return {
      state: this.current,
      ...(this.currentDetail ? { detail: this.currentDetail } : {}),
      profile: this.o.script.profile,
      clientId: this.clientId,
      topics: this.topics,
      published: this.counters.published,
      commands: this.counters.commands,
      intervalMs: this.intervalMs,
    };
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => this.o.log.error({ err }, 'demo firmware stopped by a bug'));
  }

  /** Stop sending (the user took the port over); the current exchange is abandoned. */
  pause(): void {
    if (this.paused || this.stopped) return;
    this.paused = true;
    this.fail(new DemoError('paused'));
    this.setStatus('paused', 'the terminal has taken over the port');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.serial?.discard();
    this.urcs = [];
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.fail(new DemoError('stopped'));
    for (const w of this.resumeWaiters.splice(0)) w();
    await this.loop;
    this.serial?.close();
    this.setStatus('stopped');
  }

  private setStatus(state: DemoStatus['state'], detail?: string): void {
    if (state === this.current && detail === this.currentDetail) return;
    this.current = state;
    this.currentDetail = detail;
    this.o.log.info({ state, detail }, 'demo firmware');
    this.o.onStatus?.(this.status);
  }

  private async run(): Promise<void> {
    const { script } = this.o;
    let backoff = 1000;
    while (!this.stopped) {
      await this.whilePaused();
      if (this.stopped) break;
      try {
        this.open();
        const io = this.io();
        if (!this.lost && this.current === 'paused' && (await script.isConnected(io))) {
          // The session survived the takeover: carry on where we were.
        } else {
          this.lost = false;
          await script.connect(io);
        }
        this.setStatus('online');
        backoff = 1000;
        await this.publishState(io, { online: true });
        await this.work(io);
      } catch (err) {
        if (this.stopped || this.paused) continue;
        const why = (err as Error).message;
        this.setStatus('offline', `${why}; retrying in ${backoff / 1000} s`);
        await this.sleepRaw(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private async work(io: DemoIo): Promise<void> {
    const { script } = this.o;
    let next = 0;
    for (;;) {
      if (this.lost) throw new DemoError('connection lost');
      const cmd = this.inbox.shift();
      if (cmd) {
        await this.handleCommand(io, cmd.payload);
        continue;
      }
      if (Date.now() >= next) {
        next = Date.now() + this.intervalMs;
        const rssi = await script.signal(io);
        await script.publish(io, this.topics.telemetry, JSON.stringify(this.reading(rssi)));
        this.counters.published++;
        this.o.onStatus?.(this.status);
      }
      await io.sleep(Math.min(250, Math.max(0, next - Date.now())));
    }
  }

  /** A plausible room sensor: slow drift plus noise. */
  private reading(rssi: number | undefined): Record<string, unknown> {
    const seq = ++this.readings.seq;
    const temperature = Math.round((22 + 2 * Math.sin(seq / 6) + Math.random() * 0.4) * 10) / 10;
    const humidity = Math.round(45 + 5 * Math.cos(seq / 9) + Math.random() * 2);
    return { seq, temperature, humidity, ...(rssi !== undefined ? { rssi } : {}), led: this.readings.led };
  }

  private async handleCommand(io: DemoIo, payload: string): Promise<void> {
    this.counters.commands++;
    let cmd: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(payload);
      if (v && typeof v === 'object' && !Array.isArray(v)) cmd = v as Record<string, unknown>;
      else cmd = { command: v };
    } catch {
      cmd = { command: payload.trim() };
    }
    const state: Record<string, unknown> = { ack: cmd };
    if (cmd.led === 'on' || cmd.led === 'off') this.readings.led = cmd.led;
    if (typeof cmd.interval === 'number' && cmd.interval >= 1 && cmd.interval <= 3600) this.intervalMs = Math.round(cmd.interval * 1000);
    if (cmd.command === 'ping') state.pong = true;
    state.led = this.readings.led;
    state.interval = this.intervalMs / 1000;
    await this.publishState(io, state);
  }

  private async publishState(io: DemoIo, state: Record<string, unknown>): Promise<void> {
    await this.o.script.publish(io, this.topics.state, JSON.stringify(state));
    this.counters.published++;
    this.o.onStatus?.(this.status);
  }

  private open(): void {
    if (this.serial && !this.serial.isClosed) return;
    this.serial = new SerialLine(this.o.device, (line) => this.onLine(line));
  }

  private onLine(line: string): void {
    if (this.paused || this.stopped) return;
    const { script } = this.o;
    const c = this.command;
    if (script.urc.test(line) || !c) {
      if (script.lostUrc.test(line)) {
        this.lost = true;
        this.fail(new DemoError(`connection lost (${line})`));
      }
      const msg = script.parseMessage(line);
      if (msg) {
        this.inbox.push(msg);
        return;
      }
      for (const w of this.urcWaiters) {
        const m = w.re.exec(line);
        if (m) {
          this.urcWaiters.delete(w);
          w.resolve(m);
          return;
        }
      }
      this.urcs.push(line);
      if (this.urcs.length > 32) this.urcs.shift();
      return;
    }
    if (!c.echoSeen && line === c.cmd) {
      c.echoSeen = true;
      return;
    }
    if (line === '>' && c.onPrompt) {
      c.onPrompt();
      return;
    }
    if (FINAL.test(line)) {
      this.command = undefined;
      c.done({ lines: c.lines, final: line });
      return;
    }
    c.lines.push(line);
  }

  /** Reject everything waiting (a lost session, a pause, stop). */
  private fail(e: Error): void {
    this.command = undefined;
    this.urcWaiters.clear();
    for (const a of this.abort.splice(0)) a(e);
  }

  private whilePaused(): Promise<void> {
    if (!this.paused) return Promise.resolve();
    return new Promise((r) => this.resumeWaiters.push(r));
  }

  private sleepRaw(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      // Stopping or pausing cuts the wait short.
      this.abort.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** A promise that also rejects when the session is aborted (pause, loss, stop) or times out. */
  private guarded<T>(what: string, timeoutMs: number, body: (resolve: (v: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => finish(new DemoError(`no answer to ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
      const finish = (e?: Error, v?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const i = this.abort.indexOf(onAbort);
        if (i >= 0) this.abort.splice(i, 1);
        if (e) reject(e);
        else resolve(v as T);
      };
      const onAbort = (e: Error) => finish(e);
      this.abort.push(onAbort);
      body((v) => finish(undefined, v));
    });
  }

  private io(): DemoIo {
    return {
      clientId: this.clientId,
      topics: this.topics,
      at: async (cmd, opts = {}) => {
        if (this.paused || this.stopped) throw new DemoError('paused');
        const serial = this.serial;
        if (!serial || serial.isClosed) throw new DemoError('the serial port closed');
        // Async results of earlier commands that nobody waited for are stale now.
        this.urcs = [];
        const r = await this.guarded<AtResult>(cmd, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, (done) => {
          this.command = {
            cmd,
            lines: [],
            echoSeen: false,
            done,
            ...(opts.data !== undefined ? { onPrompt: () => serial.write(Buffer.from(opts.data!, 'utf8')) } : {}),
          };
          serial.write(`${cmd}\r`);
        });
        if (r.final !== 'OK' && !opts.allowError) throw new DemoError(`${cmd} answered ${r.final}`);
        return r;
      },
      urc: (re, timeoutMs = DEFAULT_TIMEOUT_MS) => {
        const i = this.urcs.findIndex((l) => re.test(l));
        if (i >= 0) {
          const line = this.urcs.splice(i, 1)[0]!;
          return Promise.resolve(re.exec(line)!);
        }
        return this.guarded<RegExpExecArray>(String(re), timeoutMs, (resolve) => {
          this.urcWaiters.add({ re, resolve });
        });
      },
      sleep: async (ms) => {
        await this.sleepRaw(ms);
        if (this.paused || this.stopped) throw new DemoError('paused');
        if (this.lost) throw new DemoError('connection lost');
      },
      status: (state, detail) => this.setStatus(state, detail),
    };
  }
}
