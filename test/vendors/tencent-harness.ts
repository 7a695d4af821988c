/**
 * A Tencent QCloud modem on a memory port, with the embedded broker (optionally its TLS
 * listener), optionally the virtual cloud (registry, HTTP(S) registration and firmware), and a
 * flash directory — what the Tencent tests share.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'aedes';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { ensureTlsMaterial } from '../../src/broker/tls-material.js';
import type { DeviceRegistry } from '../../src/cloud/registry.js';
import { parseRegistry } from '../../src/cloud/registry-file.js';
import { startVirtualCloud, type RunningCloud } from '../../src/cloud/virtual-cloud.js';
import { memoryLinkOpener, type StreamBroker } from '../../src/mqtt/memory-link.js';
import { brokerLinkOpener } from '../../src/modem/link-opener.js';
import { Modem } from '../../src/modem/modem.js';
import { COMMAND_SETS } from '../../src/vendors/registry.js';
import { directoryFlashStore } from '../../src/modem/module-flash.js';
import { MemoryPort } from '../../src/port/memory-port.js';
import { loadProfile } from '../../src/profiles/load-profile.js';
import type { Profile } from '../../src/profiles/profile.js';
import type { TimingMode } from '../../src/modem/timing.js';
import type { TestClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';

export const OK = '\r\nOK\r\n';
/** Information lines then OK, as the engine frames them. */
export const reply = (...lines: string[]): string => `\r\n${lines.join('\r\n')}\r\n${OK}`;
/** OK, then the result line written on its own. */
export const okThen = (...results: string[]): string => OK + results.map((r) => `\r\n${r}\r\n`).join('');
export const cme = (n: number): string => `\r\n+CME ERROR: ${n}\r\n`;

export interface HarnessOptions {
  /**
   * The Tencent profile (default `tencent-qcloud`, the ESP8266 build). The manual's commands the
   * ESP8266 build lacks (AT+TCREGNET, AT+TCCERT*, the 3GPP basics) are tested on
   * `tencent-qcloud-cellular`, whose data path is up once the driver dials it ({@link dialUp}).
   */
  profile?: 'tencent-qcloud' | 'tencent-qcloud-cellular';
  /** Start the broker's TLS listener (and trust its CA). */
  tls?: boolean;
  /** Attach the virtual cloud with this registry (raw registry data or a registry). */
  registry?: unknown;
  /** Serve the cloud's HTTP and HTTPS side (needs `registry`). */
  http?: boolean;
  firmwareDir?: string;
  /** Keep the flash in this directory (default: a fresh one). */
  flashDir?: string;
  /** Change the profile before the modem is built. */
  tweak?: (p: Profile) => void;
  /** Default 'fast'. */
  timing?: TimingMode;
  /**
   * Run the modem on this clock. Every wait of the harness (waitFor, at, exchange) then moves
   * module time forward in small steps until the output is there, and its limit is module time:
   * reconnection back-off and <cmdtimeout> take no real time.
   */
  clock?: TestClock;
  /**
   * Reach the broker through the in-memory link (no sockets; a TLS target is carried in memory
   * without a handshake, so certificate sign-in needs the real link).
   */
  memory?: boolean;
  /** With `memory`: what the link reaches instead of the broker itself (a packet filter). */
  via?: (broker: StreamBroker) => StreamBroker;
  /** Reuse a running broker (and cloud) instead of starting one. */
  reuse?: { broker: EmbeddedBroker; cloud?: RunningCloud; stateDir: string };
}

export interface TencentHarness {
  modem: Modem;
  port: MemoryPort;
  broker: EmbeddedBroker;
  cloud: RunningCloud | undefined;
  stateDir: string;
  flashDir: string;
  /** Send a line (CR appended) and wait until at least `expected` has arrived; returns the output. */
  exchange(line: string, expected: string, timeoutMs?: number): Promise<string>;
  /** Send a line and wait for its final result code (or prompt); returns the output. */
  at(line: string): Promise<string>;
  send(bytes: string | Buffer): void;
  /** Wait until the output (since the last clear) contains `pattern`. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  output(): string;
  clear(): void;
  /** Move module time forward (needs `clock`). */
  advance(ms: number): Promise<void>;
  /** Publish to the device as the cloud (broker-internal publish). */
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<void>;
  /** Publishes the device made, as the broker saw them. */
  published: BrokerPublish[];
  /** The broker's client for the device (to drop it). */
  deviceClient(): Client | undefined;
  /** Stop the modem only (the broker stays, for a restart). */
  stopModem(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Options for the cellular build (`tencent-qcloud-cellular`), optionally over more options; the
 * test then dials the data path with {@link dialUp} before it needs the network.
 */
export const cellular = (opts: HarnessOptions = {}): HarnessOptions => ({ ...opts, profile: 'tencent-qcloud-cellular' });

/**
 * The cellular build's data path: AT+XIIC=1 (Neoway's PPP link) brings it up and the Tencent set
 * reports it (+TCREGNET:0,NET_OK, §5.6), as a driver does before AT+TCMQTTCONN.
 */
export async function dialUp(h: TencentHarness): Promise<void> {
  if ((await h.at('AT+XIIC=1')) !== OK) throw new Error(`AT+XIIC=1 failed: ${JSON.stringify(h.output())}`);
  await h.waitFor('+TCREGNET:0,NET_OK\r\n');
  h.clear();
}

/** How far a clock-driven wait moves module time between two looks at the output. */
const CLOCK_STEP_MS = 10;

const FINAL = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n$|\r\n>\r\n$/;

let tlsTemplate: Promise<string> | undefined;
/**
 * One CA and server certificate for every broker of the test process, copied into each state
 * directory: openssl takes a few hundred milliseconds to make a set, which every test paid.
 */
async function shareTlsMaterial(stateDir: string): Promise<void> {
  tlsTemplate ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-tc-tls-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await ensureTlsMaterial(dir);
    return dir;
  })();
  cpSync(path.join(await tlsTemplate, 'tls'), path.join(stateDir, 'tls'), { recursive: true });
}

export async function startTencent(opts: HarnessOptions = {}): Promise<TencentHarness> {
  const owned = !opts.reuse;
  const stateDir = opts.reuse?.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'vmodem-tc-'));
  if (owned && (opts.tls || opts.http)) await shareTlsMaterial(stateDir);
  const broker = opts.reuse?.broker ?? (await startEmbeddedBroker({ port: 0, ...(opts.tls ? { tlsPort: 0, stateDir } : {}) }));
  let cloud = opts.reuse?.cloud;
  if (owned && opts.registry !== undefined) {
    const registry = typeof (opts.registry as DeviceRegistry).products === 'function' ? (opts.registry as DeviceRegistry) : parseRegistry(opts.registry);
    cloud = await startVirtualCloud({
      broker,
      registry,
      stateDir,
      ...(opts.firmwareDir ? { firmwareDir: opts.firmwareDir } : {}),
      ...(opts.http ? { httpPort: 0, httpsPort: 0 } : {}),
    });
  }
  const log = silentLogger();
  const links = opts.memory
    ? memoryLinkOpener(opts.via ? opts.via(broker.aedes) : broker.aedes, { log })
    : brokerLinkOpener(
        {
          plain: { host: broker.host, port: broker.port },
          ...(broker.tlsPort !== undefined ? { tls: { host: broker.host, port: broker.tlsPort, ca: broker.ca } } : {}),
        },
        log,
      );
  const profile = loadProfile(opts.profile ?? 'tencent-qcloud');
  opts.tweak?.(profile);
  const port = new MemoryPort();
  const clock = opts.clock;
  const modem = new Modem({ profile, port, log, links, commandSets: COMMAND_SETS, timing: opts.timing ?? 'fast', bootUrcs: false, ...(clock ? { clock } : {}) });
  modem.engine.settings.echo = false;
  const flashDir = opts.flashDir ?? path.join(stateDir, 'flash', modem.device.imei);
  modem.device.flash = directoryFlashStore(flashDir);
  // The HTTPS side uses the CA of the state dir (the broker's, when it has a TLS listener).
  if (cloud?.http) modem.device.cloud = { httpUrl: cloud.http.httpUrl, httpsUrl: cloud.http.httpsUrl, ca: (await ensureTlsMaterial(stateDir)).ca };

  const published: BrokerPublish[] = [];
  const off = broker.onPublish((p) => published.push(p));
  const clients = new Map<string, Client>();
  const onClient = (c: Client) => clients.set(c.id, c);
  broker.aedes.on('client', onClient);

  const output = () => port.host.received.toString('latin1');
  /** On the test clock: step module time until `done`, failing once `limitMs` of it has passed. */
  const drive = async (done: () => boolean, limitMs: number, what: string): Promise<string> => {
    for (let spent = 0; !done(); spent += CLOCK_STEP_MS) {
      if (spent >= limitMs) throw new Error(`no ${what} within ${limitMs} ms of module time; output: ${JSON.stringify(output())}`);
      await clock!.advance(CLOCK_STEP_MS);
    }
    return output();
  };
  const matches = (pattern: string | RegExp) => () => (typeof pattern === 'string' ? output().includes(pattern) : pattern.test(output()));
  const waitFor = (pattern: string | RegExp, timeoutMs = 5000): Promise<string> =>
    clock ? drive(matches(pattern), timeoutMs, JSON.stringify(String(pattern))) : waitReal(pattern, timeoutMs);
  const waitReal = (pattern: string | RegExp, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const test = () => (typeof pattern === 'string' ? output().includes(pattern) : pattern.test(output()));
      if (test()) return resolve(output());
      const stop = port.host.onData(() => {
        if (test()) {
          stop();
          clearTimeout(t);
          resolve(output());
        }
      });
      const t = setTimeout(() => {
        stop();
        reject(new Error(`timed out waiting for ${JSON.stringify(String(pattern))}; output: ${JSON.stringify(output())}`));
      }, timeoutMs);
    });
  let modemStopped = false;
  const stopModem = async () => {
    if (modemStopped) return;
    modemStopped = true;
    await modem.stop();
  };
  return {
    modem,
    port,
    broker,
    cloud,
    stateDir,
    flashDir,
    output,
    waitFor,
    published,
    send: (b) => port.host.send(b),
    clear: () => port.host.clear(),
    at: async (line) => {
      port.host.clear();
      port.host.send(`${line}\r`);
      return waitFor(FINAL);
    },
    exchange: async (line, expected, timeoutMs = 5000) => {
      port.host.clear();
      port.host.send(`${line}\r`);
      if (clock) {
        await drive(() => output().length >= expected.length, timeoutMs, `${expected.length} bytes`);
        // Give a stray extra line the chance to show up.
        await clock.advance(5);
        return output();
      }
      const deadline = Date.now() + timeoutMs;
      while (output().length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      // Give a stray extra line the chance to show up.
      await new Promise((r) => setTimeout(r, 5));
      return output();
    },
    publish: (topic, payload, qos = 0) =>
      new Promise<void>((resolve, reject) =>
        broker.aedes.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, messageId: 0 } as never,
          (err?: Error) => (err ? reject(err) : resolve()),
        ),
      ),
    advance: async (ms) => {
      if (!clock) throw new Error('advance() needs the harness clock');
      await clock.advance(ms);
    },
    deviceClient: () => [...clients.values()].filter((c) => !c.closed).pop(),
    stopModem,
    stop: async () => {
      await stopModem();
      off();
      broker.aedes.removeListener('client', onClient);
      if (owned) {
        await cloud?.close();
        await broker.close();
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}
