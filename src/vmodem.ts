/**
 * Starting a whole vmodem: the broker (embedded Aedes, or an external one), the PTY at its
 * stable link, and the modem of the chosen profile behind it. The CLI and library users share
 * this one code path.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import { brokerLinkOpener, type BrokerEndpoints } from './modem/link-opener.js';
import { Modem } from './modem/modem.js';
import type { TimingMode } from './modem/timing.js';
import { openPtyPort, type PtyPort } from './port/pty-port.js';
import { loadProfile } from './profiles/load-profile.js';
import type { Profile } from './profiles/profile.js';
import { silentLogger } from './util/logger.js';

export const DEFAULT_PROFILE = 'quectel-ec200';
export const DEFAULT_LINK = '/tmp/vmodem0';
export const DEFAULT_MQTT_PORT = 1883;

export interface VmodemOptions {
  /** Profile id (see `vmodem profiles`). Default quectel-ec200. */
  profile?: string;
  /** Stable path of the serial device (a symlink to /dev/pts/N). Default /tmp/vmodem0; null = none. */
  link?: string | null;
  /** Port of the embedded broker on 127.0.0.1; 0 picks a free one. Default 1883. */
  mqttPort?: number;
  /** Use this broker (mqtt://host:port or mqtts://host:port) instead of the embedded one. */
  broker?: string;
  /** Where modules keep their "flash" (profiles that persist settings). */
  stateDir?: string;
  timing?: TimingMode;
  log?: Logger;
}

export interface RunningVmodem {
  readonly profile: Profile;
  readonly modem: Modem;
  readonly port: PtyPort;
  /** /dev/pts/N */
  readonly devicePath: string;
  /** The stable link, if any. */
  readonly linkPath?: string;
  /** The broker MQTT clients (and the modem) use. */
  readonly brokerUrl: string;
  /** The embedded broker, when one was started. */
  readonly broker?: EmbeddedBroker;
  /** Stop the modem, remove the link, close the broker. Idempotent. */
  stop(): Promise<void>;
}

export class VmodemConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VmodemConfigError';
  }
}

/**
 * Parse --broker: mqtt://host[:port] (1883) or mqtts://host[:port] (8883). The firmware brings
 * its own credentials (AT+QMTCONN), so the URL carries none, nor a path.
 */
export function parseBrokerUrl(url: string): BrokerEndpoints {
  const usage = 'use mqtt://host:port or mqtts://host:port';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VmodemConfigError(`--broker "${url}" is not a valid URL; ${usage}`);
  }
  const plain = u.protocol === 'mqtt:' || u.protocol === 'tcp:';
  const tls = u.protocol === 'mqtts:' || u.protocol === 'ssl:' || u.protocol === 'tls:';
  if (!plain && !tls) throw new VmodemConfigError(`--broker "${url}": unsupported scheme ${u.protocol} (${usage})`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new VmodemConfigError(`--broker "${url}" names no host; ${usage}`);
  if (u.username || u.password) {
    throw new VmodemConfigError(`--broker "${url}": leave credentials out of the URL; the firmware sends them with AT+QMTCONN`);
  }
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash) {
    throw new VmodemConfigError(`--broker "${url}": a broker URL has no path or query; ${usage}`);
  }
  const port = Number(u.port || (tls ? 8883 : 1883));
  // URL already refuses ports above 65535 and non-digits; port 0 is no broker's port.
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VmodemConfigError(`--broker "${url}": port must be 1–65535`);
  }
  if (plain) return { plain: { host, port } };
  // A firmware that opens without SSL still goes to this host and port (and fails like the real
  // module would against a TLS-only listener).
  return { plain: { host, port }, tls: { host, port, rejectUnauthorized: false } };
}

/**
 * `mkdir -p` without `{ recursive: true }`: Node's recursive mkdir spins forever on paths under
 * /proc (it keeps getting ENOENT), so missing levels are created one at a time here.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let cur = path.resolve(dir);
  for (;;) {
    try {
      if (!(await stat(cur)).isDirectory()) throw new Error(`${cur} is not a directory`);
      break;
    } catch (err) {
      const parent = path.dirname(cur);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === cur) throw err;
      missing.push(cur);
      cur = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export async function startVmodem(opts: VmodemOptions = {}): Promise<RunningVmodem> {
  const log = opts.log ?? silentLogger();
  let profile: Profile;
  try {
    profile = loadProfile(opts.profile ?? DEFAULT_PROFILE);
  } catch (err) {
    throw new VmodemConfigError((err as Error).message);
  }
  // Check every setting before anything is started.
  const endpointsFromUrl = opts.broker !== undefined ? parseBrokerUrl(opts.broker) : undefined;
  const mqttPort = opts.mqttPort ?? DEFAULT_MQTT_PORT;
  if (!Number.isInteger(mqttPort) || mqttPort < 0 || mqttPort > 65535) {
    throw new VmodemConfigError(`--mqtt-port ${mqttPort}: must be a port number 0–65535`);
  }
  const timing = opts.timing ?? 'real';
  if (timing !== 'real' && timing !== 'fast') {
    throw new VmodemConfigError(`--timing ${String(timing)}: must be real or fast`);
  }
  if (opts.stateDir) {
    try {
      await ensureDir(opts.stateDir);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new VmodemConfigError(`--state-dir ${opts.stateDir}: cannot create (${e.code ?? e.message})`);
    }
  }

  let broker: EmbeddedBroker | undefined;
  let endpoints: BrokerEndpoints;
  let brokerUrl: string;
  if (endpointsFromUrl) {
    endpoints = endpointsFromUrl;
    brokerUrl = opts.broker!;
  } else {
    try {
      // The broker, the PTY and the MQTT links name their own component in the logs.
      broker = await startEmbeddedBroker({ port: mqttPort, log });
    } catch (err) {
      throw new VmodemConfigError((err as Error).message);
    }
    endpoints = { plain: { host: broker.host, port: broker.port } };
    brokerUrl = broker.url;
  }

  const link = opts.link === undefined ? DEFAULT_LINK : opts.link ?? undefined;
  let port: PtyPort;
  try {
    port = await openPtyPort({ link, log });
  } catch (err) {
    await broker?.close();
    throw new VmodemConfigError((err as Error).message);
  }

  let modem: Modem;
  try {
    modem = new Modem({
      profile,
      port,
      log: log.child({ profile: profile.id }),
      links: brokerLinkOpener(endpoints, log),
      timing,
    });
  } catch (err) {
    await port.close();
    await broker?.close();
    throw err;
  }
  log.info({ profile: profile.id, device: port.devicePath, link: port.linkPath, broker: brokerUrl }, 'vmodem started');

  let stopping: Promise<void> | undefined;
  return {
    profile,
    modem,
    port,
    devicePath: port.devicePath,
    linkPath: port.linkPath,
    brokerUrl,
    broker,
    stop: () =>
      (stopping ??= (async () => {
        await modem.stop();
        await port.close();
        await broker?.close();
        log.info('vmodem stopped');
      })()),
  };
}
