/**
 * One pino root logger per process; components take child loggers (`{ component: 'engine' }`).
 * Secrets are redacted by path wherever they could appear in a log record.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  '*.deviceSecret',
  '*.productSecret',
  '*.accessKey',
  'token',
  '*.token',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Write JSON lines to this file instead of stderr. */
  file?: string;
  /** Force pretty output (default: pretty when stderr is a TTY and no file is given). */
  pretty?: boolean;
  /** Write JSON lines to this stream instead of stderr (the CLI run in-process by a test). */
  stream?: { write(line: string): unknown };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (opts.file) {
    return pino(base, pino.destination({ dest: opts.file, sync: false }));
  }
  if (opts.stream && !opts.pretty) return pino(base, opts.stream as pino.DestinationStream);
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } },
    });
  }
  return pino(base, pino.destination({ dest: 2, sync: false }));
}

let silentRoot: Logger | undefined;

/**
 * A logger that discards everything, for tests and library users who pass none. A child of one
 * shared silent root: making a pino root costs ~0.1 ms (it inspects the call stack), a child a
 * few µs, and every conformance case makes several (issue 9). A child's own level stays its own.
 */
export function silentLogger(): Logger {
  silentRoot ??= pino({ level: 'silent' });
  return silentRoot.child({});
}
