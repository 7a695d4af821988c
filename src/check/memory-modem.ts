/**
 * A modem on an in-memory port, for command-level tests and `vmodem check` without a PTY. MQTT
 * links go to the broker given (default: none, opens fail as refused).
 */
import type { Logger } from 'pino';
import type { LinkOpener } from '../modem/device.js';
import { brokerLinkOpener } from '../modem/link-opener.js';
import { Modem } from '../modem/modem.js';
import type { TimingMode } from '../modem/timing.js';
import { MemoryPort } from '../port/memory-port.js';
import { loadProfile } from '../profiles/load-profile.js';
import { silentLogger } from '../util/logger.js';

export interface MemoryModem {
  modem: Modem;
  port: MemoryPort;
  /** Send one command line (CR appended) and resolve with the response up to the final result code. */
  at(line: string): Promise<string>;
  /** Send raw bytes. */
  send(bytes: string | Buffer): void;
  /** Wait until the output (since the last clear) contains `pattern`; resolves with all output. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** All output so far (latin1). */
  output(): string;
  clear(): void;
  stop(): Promise<void>;
}

export interface MemoryModemOptions {
  /** Port of the broker on 127.0.0.1 every MQTT link goes to (default 1: opens are refused). */
  brokerPort?: number;
  /** Echo at start (default off, unlike the module). */
  echo?: boolean;
  /** Default 'fast'. */
  timing?: TimingMode;
  /** Print the profile's boot URCs (e.g. RDY) at start. Default false. */
  bootUrcs?: boolean;
  /** Wrap the link opener (a recorder's `wrapLinks`, a fault proxy…). */
  wrapLinks?: (links: LinkOpener) => LinkOpener;
  log?: Logger;
}

const FINAL = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n$|\r\n> $/;

export function createMemoryModem(profileId = 'quectel-ec200', opts: MemoryModemOptions = {}): MemoryModem {
  const port = new MemoryPort();
  const log = opts.log ?? silentLogger();
  const links = brokerLinkOpener({ plain: { host: '127.0.0.1', port: opts.brokerPort ?? 1 } }, log);
  const modem = new Modem({
    profile: loadProfile(profileId),
    port,
    log,
    links: opts.wrapLinks ? opts.wrapLinks(links) : links,
    timing: opts.timing ?? 'fast',
    bootUrcs: opts.bootUrcs ?? false,
  });
  modem.engine.settings.echo = opts.echo ?? false;
  const output = () => port.host.received.toString('latin1');
  const waitFor = (pattern: string | RegExp, timeoutMs = 5000) =>
    new Promise<string>((resolve, reject) => {
      const test = () => (typeof pattern === 'string' ? output().includes(pattern) : pattern.test(output()));
      if (test()) return resolve(output());
      const off = port.host.onData(() => {
        if (test()) {
          off();
          clearTimeout(t);
          resolve(output());
        }
      });
      const t = setTimeout(() => {
        off();
        reject(new Error(`timed out waiting for ${String(pattern)}; output: ${JSON.stringify(output())}`));
      }, timeoutMs);
    });
  return {
    modem,
    port,
    send: (b) => port.host.send(b),
    at: async (line) => {
      port.host.clear();
      port.host.send(`${line}\r`);
      return waitFor(FINAL);
    },
    waitFor,
    output,
    clear: () => port.host.clear(),
    stop: () => modem.stop(),
  };
}
