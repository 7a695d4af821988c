/**
 * `vmodem start --drive <script>` (issue 12 §2): a DriveRunner per modem, each on its own serial
 * device (/dev/pts/N) — the bytes go through the PTY exactly as an outside firmware's would. Starts are spread over a few milliseconds per
 * modem so a thousand modems do not all open their sessions in the same instant.
 */
import fs, { readFileSync } from 'node:fs';
import tty from 'node:tty';
import type { Logger } from 'pino';
import { OutputTokenizer } from '../transcript/transcript.js';
import { realClock } from '../util/clock.js';
import { checkDriveParams, DriveRunner, type DriveRunnerOptions, type DriveStats } from './drive-runner.js';
import { parseDriveScript, type DriveScript } from './drive-script.js';
import { NonBlockingWriter } from './nonblocking-writer.js';
import { SerialLine } from './serial-line.js';

export interface DrivenModem {
  readonly name: string;
  readonly index: number;
  readonly imei: string;
  readonly devicePath: string;
  readonly profile: { readonly id: string };
}

export interface DrivenFleet {
  readonly script: DriveScript;
  /** The runners started so far, in modem order (a fleet's later modems start a little later). */
  readonly runners: readonly DriveRunner[];
  /** Totals over every modem's runner. */
  stats(): DriveStats;
  stop(): Promise<void>;
}

const STAGGER_MS = 2;

/**
 * A fleet's serial line: read through libuv (a tty.ReadStream: woken by epoll, no polling), write
 * with non-blocking writes. SerialLine polls every 10 ms, which is right for one demo firmware but
 * costs a thousand modems 100,000 reads a second in the process that serves them. The reopen
 * libuv does on a tty only confuses the host watch (port/host-watch.ts), which is off for fleets.
 */
class FleetSerial {
  private readonly fd: number;
  private readonly stream: tty.ReadStream;
  private readonly tokens = new OutputTokenizer();
  private readonly writer: NonBlockingWriter;
  private closed = false;

  constructor(path: string, onLine: (line: string) => void) {
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    this.writer = new NonBlockingWriter(this.fd, () => this.close());
    this.stream = new tty.ReadStream(this.fd);
    this.stream.on('data', (chunk: Buffer | string) => {
      for (const t of this.tokens.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)) onLine(t);
    });
    this.stream.on('error', () => this.close());
  }

  write(data: Buffer): void {
    if (this.closed) throw new Error('the serial port is closed');
    this.writer.write(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.stop();
    this.stream.destroy();
  }
}

/**
 * Read and check a script against the modems' profiles and the `@param` values given for it;
 * throws a one-line Error on a problem.
 */
export function loadDriveScript(file: string, profiles: readonly string[], params: Readonly<Record<string, string>> = {}): DriveScript {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--drive ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const script = parseDriveScript(text, file);
  const other = profiles.find((p) => script.profile !== undefined && p !== script.profile);
  if (other) throw new Error(`--drive ${file}: the script is for @profile ${script.profile}, a modem runs ${other}`);
  try {
    checkDriveParams(script, params);
  } catch (err) {
    throw new Error(`--drive-param: ${(err as Error).message}`, { cause: err });
  }
  return script;
}

export function driveFleet(
  script: DriveScript,
  modems: readonly DrivenModem[],
  log: Logger,
  /** `@param` values for every modem, and a status callback per modem (by index in `modems`). */
  options: { params?: Readonly<Record<string, string>>; onStatus?: (modem: number, state: string, detail: string) => void } = {},
): DrivenFleet {
  const runners: DriveRunner[] = [];
  const lines: { close(): void }[] = [];
  // One modem: the demo's UART driver (its host watch stays exact); a fleet: FleetSerial.
  const open = (path: string, onLine: (l: string) => void) => (modems.length === 1 ? new SerialLine(path, onLine) : new FleetSerial(path, onLine));
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  modems.forEach((m, i) => {
    const start = (): void => {
      if (stopped) return;
      let runner: DriveRunner | undefined;
      const line = open(m.devicePath, (l) => runner?.feedLine(l));
      const ro: DriveRunnerOptions = {
        ...(options.params ? { params: options.params } : {}),
        ...(options.onStatus ? { onStatus: (state: string, detail: string) => options.onStatus!(i, state, detail) } : {}),
      };
      runner = new DriveRunner(script, line, { name: m.name, index: m.index, imei: m.imei }, realClock, log.child({ component: 'drive', modem: m.name }), Math.random, ro);
      lines.push(line);
      runners.push(runner);
      runner.start().catch((err: unknown) => log.error({ err, modem: m.name }, 'drive: runner failed'));
    };
    if (i === 0) start();
    else timers.push(setTimeout(start, i * STAGGER_MS));
  });
  log.info({ script: script.source, modems: modems.length }, 'drive: running the script on every modem');
  return {
    script,
    runners,
    stats: () => {
      const total: DriveStats = { commands: 0, timeouts: 0, failures: 0, jumps: 0, handled: 0, iterations: 0 };
      for (const r of runners) for (const k of Object.keys(total) as (keyof DriveStats)[]) total[k] += r.stats[k];
      return total;
    },
    stop: async () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(runners.map((r) => r.stop()));
      for (const l of lines) l.close();
    },
  };
}
