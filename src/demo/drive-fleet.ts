/**
 * `vmodem start --drive <script>` (issue 12 §2): a DriveRunner per modem, each on its own serial
 * device (/dev/pts/N) through the demo firmware's UART driver (SerialLine) — the bytes go through
 * the PTY exactly as an outside firmware's would. Starts are spread over a few milliseconds per
 * modem so a thousand modems do not all open their sessions in the same instant.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { realClock } from '../util/clock.js';
import { DriveRunner, type DriveStats } from './drive-runner.js';
import { parseDriveScript, type DriveScript } from './drive-script.js';
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
  /** Totals over every modem's runner. */
  stats(): DriveStats;
  stop(): Promise<void>;
}

const STAGGER_MS = 2;

/** Read and check a script against the modems' profiles; throws a one-line Error on a problem. */
export function loadDriveScript(file: string, profiles: readonly string[]): DriveScript {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--drive ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const script = parseDriveScript(text, file);
  const other = profiles.find((p) => script.profile !== undefined && p !== script.profile);
  if (other) throw new Error(`--drive ${file}: the script is for @profile ${script.profile}, a modem runs ${other}`);
  return script;
}

export function driveFleet(script: DriveScript, modems: readonly DrivenModem[], log: Logger): DrivenFleet {
  const runners: DriveRunner[] = [];
  const lines: SerialLine[] = [];
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  modems.forEach((m, i) => {
    const start = (): void => {
      if (stopped) return;
      let runner: DriveRunner | undefined;
      const line = new SerialLine(m.devicePath, (l) => runner?.feedLine(l));
      runner = new DriveRunner(script, line, { name: m.name, index: m.index, imei: m.imei }, realClock, log.child({ component: 'drive', modem: m.name }));
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
    stats: () => {
      const total: DriveStats = { commands: 0, timeouts: 0, jumps: 0, handled: 0, iterations: 0 };
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
