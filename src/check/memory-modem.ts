/**
 * A modem on an in-memory port, for command-level tests and `vmodem check` without a PTY. MQTT
 * links go to the broker given (default: none, opens fail as refused).
 */
import type { Logger } from 'pino';
import type { LinkOpener } from '../modem/device.js';
import { brokerLinkOpener } from '../modem/link-opener.js';
import { Modem } from '../modem/modem.js';
import { COMMAND_SETS } from '../vendors/registry.js';
import type { TimingMode } from '../modem/timing.js';
import type { RadioSettings } from '../modem/radio-settings.js';
import type { WifiSettings } from '../modem/wifi-station.js';
import { MemoryPort } from '../port/memory-port.js';
import { loadProfile } from '../profiles/load-profile.js';
import { silentLogger } from '../util/logger.js';
import { memoryLinkOpener, type StreamBroker } from '../mqtt/memory-link.js';
import { TestClock, settleIo, type Clock } from '../util/clock.js';

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
  /** Reach this broker (an Aedes instance) in memory instead of over TCP. */
  broker?: StreamBroker;
  /**
   * The modem's clock. With a {@link TestClock}, `at()` and `waitFor()` drive it: virtual time
   * moves to the next timer whenever nothing else is left to happen, so a 20 s timeout takes no
   * wall time and the test's timeout is virtual time too.
   */
  clock?: Clock;
  /** Echo at start (default off, unlike the module). */
  echo?: boolean;
  /** Default 'fast'. */
  timing?: TimingMode;
  /** Print the profile's boot URCs (e.g. RDY) at start. Default false. */
  bootUrcs?: boolean;
  /** Wrap the link opener (a recorder's `wrapLinks`, a fault proxy…). */
  wrapLinks?: (links: LinkOpener) => LinkOpener;
  log?: Logger;
  /** Radio and SIM defaults over the profile's settings.radio (as the config file's `radio:`). */
  radio?: Partial<RadioSettings>;
  /** Access point and station defaults over the profile's settings.wifi (as the config file's `wifi:`). */
  wifi?: Partial<WifiSettings>;
}

const FINAL = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n$|\r\n> $/;

export function createMemoryModem(profileId = 'quectel-ec200', opts: MemoryModemOptions = {}): MemoryModem {
  const port = new MemoryPort();
  const log = opts.log ?? silentLogger();
  const links = opts.broker
    ? memoryLinkOpener(opts.broker, { log })
    : brokerLinkOpener({ plain: { host: '127.0.0.1', port: opts.brokerPort ?? 1 } }, log);
  const clock = opts.clock;
  const modem = new Modem({
    clock,
    profile: loadProfile(profileId),
    port,
    log,
    links: opts.wrapLinks ? opts.wrapLinks(links) : links,
    commandSets: COMMAND_SETS,
    timing: opts.timing ?? 'fast',
    bootUrcs: opts.bootUrcs ?? false,
    ...(opts.radio ? { radio: opts.radio } : {}),
    ...(opts.wifi ? { wifi: opts.wifi } : {}),
  });
  modem.engine.settings.echo = opts.echo ?? false;
  const output = () => port.host.received.toString('latin1');
  const matches = (pattern: string | RegExp): boolean => (typeof pattern === 'string' ? output().includes(pattern) : pattern.test(output()));
  const waitVirtual = async (c: TestClock, pattern: string | RegExp, timeoutMs: number): Promise<string> => {
    // The output as it was when the pattern first matched (as the real-time wait resolves).
    let seen: string | undefined = matches(pattern) ? output() : undefined;
    const off = port.host.onData(() => {
      if (seen === undefined && matches(pattern)) seen = output();
    });
    try {
      const end = c.now() + timeoutMs;
      let idle = 0;
      for (;;) {
        if (seen !== undefined) return seen;
        // Enough turns for a packet to cross the in-memory link and Aedes both ways before
        // virtual time moves on (a timer must not overtake an acknowledgement on its way).
        await settleIo(30);
        if (seen !== undefined) return seen;
        const next = c.untilNext();
        if (next !== undefined && c.now() + next <= end) {
          idle = 0;
          await c.advance(next);
          continue;
        }
        // No timer left within the limit: only I/O can still bring it (a few real milliseconds).
        if (++idle > 200) {
          if (next === undefined || c.now() >= end) {
            throw new Error(`timed out waiting for ${String(pattern)} (virtual ${timeoutMs} ms); output: ${JSON.stringify(output())}`);
          }
          await c.advance(end - c.now());
          continue;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      off();
    }
  };
  const waitFor = (pattern: string | RegExp, timeoutMs = 5000): Promise<string> =>
    clock instanceof TestClock ? waitVirtual(clock, pattern, timeoutMs) : waitReal(pattern, timeoutMs);
  const waitReal = (pattern: string | RegExp, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const test = () => matches(pattern);
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
