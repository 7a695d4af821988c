/**
 * Starting a whole vmodem: the broker (embedded Aedes, or an external one), the PTY at its
 * stable link, and the modem of the chosen profile behind it. The CLI and library users share
 * this one code path.
 */
import { mkdir } from 'node:fs/promises';
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

/** Parse --broker: mqtt://host[:port] (1883) or mqtts://host[:port] (8883). */
export function parseBrokerUrl(url: string): BrokerEndpoints {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VmodemConfigError(`--broker "${url}" is not a URL; use mqtt://host:port or mqtts://host:port`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new VmodemConfigError(`--broker "${url}" names no host`);
  if (u.protocol === 'mqtt:' || u.protocol === 'tcp:') return { plain: { host, port: Number(u.port || 1883) } };
  if (u.protocol === 'mqtts:' || u.protocol === 'ssl:' || u.protocol === 'tls:') {
    const port = Number(u.port || 8883);
    // Firmware that opens without TLS still reaches a TLS-only broker? No: the module would fail.
    return { plain: { host, port }, tls: { host, port, rejectUnauthorized: false } };
  }
  throw new VmodemConfigError(`--broker "${url}": unsupported scheme ${u.protocol} (use mqtt:// or mqtts://)`);
}

export async function startVmodem(opts: VmodemOptions = {}): Promise<RunningVmodem> {
  const log = opts.log ?? silentLogger();
  let profile: Profile;
  try {
    profile = loadProfile(opts.profile ?? DEFAULT_PROFILE);
  } catch (err) {
    throw new VmodemConfigError((err as Error).message);
  }
  if (opts.stateDir) {
    try {
      await mkdir(opts.stateDir, { recursive: true });
    } catch (err) {
      throw new VmodemConfigError(`--state-dir ${opts.stateDir}: ${(err as Error).message}`);
    }
  }

  let broker: EmbeddedBroker | undefined;
  let endpoints: BrokerEndpoints;
  let brokerUrl: string;
  if (opts.broker) {
    endpoints = parseBrokerUrl(opts.broker);
    brokerUrl = opts.broker;
  } else {
    try {
      broker = await startEmbeddedBroker({ port: opts.mqttPort ?? DEFAULT_MQTT_PORT, log: log.child({ component: 'broker' }) });
    } catch (err) {
      throw new VmodemConfigError((err as Error).message);
    }
    endpoints = { plain: { host: broker.host, port: broker.port } };
    brokerUrl = broker.url;
  }

  const link = opts.link === undefined ? DEFAULT_LINK : opts.link ?? undefined;
  let port: PtyPort;
  try {
    port = await openPtyPort({ link, log: log.child({ component: 'pty' }) });
  } catch (err) {
    await broker?.close();
    throw new VmodemConfigError((err as Error).message);
  }

  const modem = new Modem({
    profile,
    port,
    log: log.child({ component: 'modem', profile: profile.id }),
    links: brokerLinkOpener(endpoints, log.child({ component: 'mqtt' })),
    timing: opts.timing ?? 'real',
  });
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
