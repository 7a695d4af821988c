/**
 * Starting a whole vmodem: the broker (embedded Aedes, or an external one), the PTY at its
 * stable link, and the modem of the chosen profile behind it. The CLI and library users share
 * this one code path.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import { startVirtualCloud, type RunningCloud } from './cloud/virtual-cloud.js';
import type { CloudEndpoints } from './modem/cloud-endpoints.js';
import { brokerLinkOpener, type BrokerEndpoints } from './modem/link-opener.js';
import { Modem } from './modem/modem.js';
import type { RadioSettings } from './modem/radio-settings.js';
import type { WifiSettings } from './modem/wifi-station.js';
import { loadCommandSets } from './vendors/load-command-sets.js';
import type { TimingMode } from './modem/timing.js';
import { openPtyPort, type PtyPort } from './port/pty-port.js';
import { PacedPort } from './port/paced-port.js';
import { checkLinkPath } from './port/device-link.js';
import { ModemController } from './control/controller.js';
import { ApiError, startControlServer, validToken, type ControlServer } from './control/http-api.js';
import { NetworkFaults } from './control/network-faults.js';
import { HostAccess } from './control/host-access.js';
import type { Scenario, ScenarioRun } from './control/scenario.js';
import { createRecorder, type Recorder } from './record/recorder.js';
import { loadValidatedProfile } from './profiles/profile-files.js';
import type { Profile } from './profiles/profile.js';
import { silentLogger } from './util/logger.js';
import { fdLimitWarning, openFileLimit } from './util/fd-limit.js';
import { parseRedisUrl, type RedisEndpoint } from './util/redis-url.js';
import type { ClusterDirectory } from './control/cluster-directory.js';
import { driveFleet, loadDriveScript, type DrivenFleet } from './demo/drive-fleet.js';
import type { DriveScript } from './demo/drive-script.js';
import os from 'node:os';

export const DEFAULT_PROFILE = 'quectel-ec200';
export const DEFAULT_LINK = '/tmp/vmodem0';
export const DEFAULT_MQTT_PORT = 1883;
/** With the dashboard, up to this many modems have their PTY opens watched (one python helper each). */
const MAX_WATCHED_WITH_UI = 8;

// What only some starts need is loaded when they need it: scenarios (YAML), the cluster (ioredis).
// Loading every module up front made a cold `vmodem start` take 0.6–1.3 s (issue 12 §3).
const scenarioModule = () => import('./control/scenario.js');
const clusterModules = async () => ({ ...(await import('./util/redis-conn.js')), ...(await import('./control/cluster-directory.js')) });

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
  /**
   * How many modems of the profile to start (links /tmp/vmodem0 … /tmp/vmodemN-1, each with its
   * own IMEI), all on one broker. Default 1. Ignored when `modems` is given.
   */
  count?: number;
  /**
   * Number the started modems from this index: names modem<N>…, IMEIs the profile's base + N…
   * (default 0). Each node of a cluster needs its own range, or two nodes' modems share IMEIs —
   * and the client ids firmware builds from them. `index` stays the position in this process.
   */
  firstIndex?: number;
  /** Modems to start, each with its own profile, link, name or IMEI (a config file's list). */
  modems?: ModemSpec[];
  /**
   * Radio and SIM defaults for every modem over each profile's settings.radio (config file
   * `radio:`; operator, APN, IP, ICCID/IMSI, cell ids, timings — src/modem/radio-settings.ts).
   */
  radio?: Partial<RadioSettings>;
  /**
   * Access point and station defaults for every Wi-Fi modem over its profile's settings.wifi
   * (config file `wifi:`; SSID, password, addresses, signal, join at boot — src/modem/wifi-station.ts).
   * Modems without Wi-Fi ignore it; a `wifi` that no modem can use is a VmodemConfigError.
   */
  wifi?: Partial<WifiSettings>;
  /** Pace serial output at this baud rate (10 bits per byte); 0 or absent = as fast as possible. */
  baud?: number;
  /** Record every byte, URC and MQTT packet as JSON lines (one file; modems are told apart). */
  record?: string;
  /** The virtual cloud's device registry (YAML/JSON; see fixtures/registry/example.yaml). */
  registry?: string;
  /** Firmware images the virtual cloud serves for OTA (file name = image name). */
  firmwareDir?: string;
  /** Port of the embedded broker's TLS listener (needs stateDir; 0 = a free port). */
  mqttTlsPort?: number;
  /**
   * Ports of the virtual cloud's HTTP and HTTPS endpoints (Tencent device registration, firmware
   * downloads) on 127.0.0.1; default 0 = a free port each (printed in the banner). HTTPS needs
   * stateDir. Firmware built with a fixed server address needs them fixed (issue 10 §4).
   */
  cloudHttpPort?: number;
  cloudHttpsPort?: number;
  /**
   * Serve the HTTP + WebSocket control API on 127.0.0.1:<port> (0 = a free port). Every request
   * must carry the token (generated when absent); see src/control/API.md.
   */
  control?: { port: number; token?: string; ui?: boolean | string };
  /**
   * Run this scenario (a YAML file, or one parsed with parseScenario) against the modems once
   * they are up; see the README, "Scenarios". A file that does not parse fails the start.
   */
  scenario?: string | Scenario;
  /**
   * Be one node of a cluster meeting in this Redis (`redis://host:port`, issue 12 §1): the
   * embedded broker shares messages, retained messages and sessions with the other nodes, the
   * virtual cloud shares its registrations and firmware, and the modems are listed cluster-wide.
   */
  cluster?: string;
  /** This node's id in the cluster (default `<hostname>-<pid>`). */
  nodeId?: string;
  /**
   * Give every modem a built-in firmware on its own PTY that runs this drive script (issue 12 §2,
   * src/demo/drive-script.ts; examples in fixtures/drive/).
   */
  drive?: string;
  /** Values for the drive script's `@param`s (`--drive-param name=value`). */
  driveParams?: Record<string, string>;
}

/** The modem's radio overrides: its own `radio:` over the shared one (operator and PSM merged per field). */
function radioFor(shared: Partial<RadioSettings> | undefined, own: Partial<RadioSettings> | undefined): { radio?: Partial<RadioSettings> } {
  if (!shared && !own) return {};
  const radio: Partial<RadioSettings> = { ...shared, ...own };
  if (shared?.operator || own?.operator) radio.operator = { ...shared?.operator, ...own?.operator } as RadioSettings['operator'];
  if (shared?.psm || own?.psm) radio.psm = { ...shared?.psm, ...own?.psm } as RadioSettings['psm'];
  return { radio };
}

/** The modem's Wi-Fi overrides: its own `wifi:` over the shared one, field by field. */
function wifiFor(shared: Partial<WifiSettings> | undefined, own: Partial<WifiSettings> | undefined): { wifi?: Partial<WifiSettings> } {
  return shared || own ? { wifi: { ...shared, ...own } } : {};
}

export interface ModemSpec {
  /** Name used by the control API (default `modem<index>`). */
  name?: string;
  profile?: string;
  link?: string | null;
  imei?: string;
  /** Radio and SIM defaults of this modem, over VmodemOptions.radio (config file `modems[i].radio`). */
  radio?: Partial<RadioSettings>;
  /** Wi-Fi settings of this modem, over VmodemOptions.wifi (config file `modems[i].wifi`); its profile must have Wi-Fi. */
  wifi?: Partial<WifiSettings>;
}

/** One running modem: its PTY, its serial pacing, the modem itself and its controller. */
export interface ModemInstance {
  readonly name: string;
  readonly index: number;
  readonly profile: Profile;
  readonly modem: Modem;
  readonly port: PtyPort;
  readonly serial: PacedPort;
  readonly controller: ModemController;
  /** Typing on the port from the dashboard, and whether a firmware holds it. */
  readonly host: HostAccess;
  /** /dev/pts/N */
  readonly devicePath: string;
  readonly linkPath?: string;
  readonly imei: string;
}

export interface RunningVmodem {
  /** The first modem's profile, modem, PTY and paths (the single-modem case). */
  readonly profile: Profile;
  readonly modem: Modem;
  readonly port: PtyPort;
  /** /dev/pts/N */
  readonly devicePath: string;
  /** The stable link, if any. */
  readonly linkPath?: string;
  /** Every modem, in order. */
  readonly modems: readonly ModemInstance[];
  /** The broker MQTT clients (and the modems) use. */
  readonly brokerUrl: string;
  /** The embedded broker, when one was started. */
  readonly broker?: EmbeddedBroker;
  /** The virtual cloud on the embedded broker (sign-in, registration, firmware), when one runs. */
  readonly cloud?: RunningCloud;
  /** The control API, when `control` was given. */
  readonly control?: ControlServer;
  /** The scenario run, when `scenario` was given. */
  readonly scenario?: ScenarioRun;
  /** With `cluster`: this node's entry in the cluster's modem list, and the list itself. */
  readonly cluster?: ClusterDirectory;
  /** With `drive`: the script's runners, one per modem. */
  readonly drive?: DrivenFleet;
  /** The modem by index or name. */
  find(ref: string | number): ModemInstance | undefined;
  /** Stop the modems, remove the links, close the broker. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Two nodes started alike (`--count 1000` each) give their modems the same IMEIs, and firmware
 * that builds its client id from the IMEI then has each node's modem take the other's session
 * over. Say so at start, with the fix; a check that fails (Redis busy) only skips the warning.
 */
async function warnOfSharedImeis(directory: ClusterDirectory, instances: readonly { imei: string }[], log: Logger): Promise<void> {
  try {
    const ours = new Set(instances.map((m) => m.imei));
    const others = (await directory.listModems()).filter((m) => m.node !== directory.nodeId);
    const shared = others.filter((m) => ours.has(m.imei));
    if (shared.length === 0) return;
    const nodes = [...new Set(shared.map((m) => m.node))].join(', ');
    log.warn(
      { nodes, shared: shared.length, example: shared[0]!.imei },
      `cluster: ${shared.length} modem(s) on node ${nodes} have the same IMEIs as this node's (e.g. ${shared[0]!.imei}); give each node its own --first-index (e.g. --first-index ${others.length} here)`,
    );
  } catch (err) {
    log.debug({ err: String(err) }, 'cluster: could not compare IMEIs with the other nodes');
  }
}

/** `/tmp/vmodem0` → `/tmp/vmodem<i>`; a link without trailing digits gets the index appended. */
export function nthLink(link: string, i: number): string {
  if (i === 0) return link;
  const m = /^(.*?)(\d+)$/.exec(link);
  return m ? `${m[1]}${Number(m[2]) + i}` : `${link}${i}`;
}

/** The IMEI of the i-th modem: the base's first 14 digits plus i, with its Luhn check digit. */
export function nthImei(base: string, i: number): string {
  if (i === 0) return base;
  const body = String((BigInt(base.slice(0, 14)) + BigInt(i)) % 10n ** 14n).padStart(14, '0');
  let sum = 0;
  for (let k = 0; k < 14; k++) {
    let d = Number(body[k]);
    if (k % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
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
  const count = opts.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    throw new VmodemConfigError(`--count ${String(opts.count)}: must be a whole number 1–10000`);
  }
  const firstIndex = opts.firstIndex ?? 0;
  if (!Number.isInteger(firstIndex) || firstIndex < 0 || firstIndex > 99_999_999) {
    throw new VmodemConfigError(`--first-index ${String(opts.firstIndex)}: must be a whole number 0–99999999`);
  }
  const baseLink = opts.link === undefined ? DEFAULT_LINK : opts.link;
  const specs: ModemSpec[] =
    opts.modems && opts.modems.length > 0
      ? opts.modems
      : Array.from({ length: count }, (_, i) => ({ profile: opts.profile, link: baseLink === null ? null : nthLink(baseLink, i) }));
  // Check every setting before anything is started. A shipped profile the build validated is not
  // validated again: the schema (zod) is loaded only for one that was not (profile-files.ts).
  const profiles: Profile[] = [];
  for (const spec of specs) {
    const id = spec.profile ?? opts.profile ?? DEFAULT_PROFILE;
    try {
      profiles.push(loadValidatedProfile(id) ?? (await import('./profiles/load-profile.js')).loadProfile(id));
    } catch (err) {
      throw new VmodemConfigError((err as Error).message);
    }
  }
  const names = specs.map((s, i) => s.name ?? `modem${firstIndex + i}`);
  // Wi-Fi settings for a modem without a Wi-Fi station would be silently ignored: say so instead.
  const wifiAt = specs.findIndex((s, i) => s.wifi !== undefined && profiles[i]!.settings.wifi === undefined);
  if (wifiAt >= 0) throw new VmodemConfigError(`modems[${wifiAt}] (${names[wifiAt]!}): wifi is set but profile ${profiles[wifiAt]!.id} has no Wi-Fi (settings.wifi)`);
  if (opts.wifi !== undefined && profiles.every((p) => p.settings.wifi === undefined)) {
    throw new VmodemConfigError(`wifi is set but no modem has Wi-Fi (profile${profiles.length > 1 ? 's' : ''} ${[...new Set(profiles.map((p) => p.id))].join(', ')}; Wi-Fi profiles have settings.wifi, e.g. tencent-qcloud)`);
  }
  const fdWarning = fdLimitWarning(specs.length, openFileLimit());
  if (fdWarning) log.warn({ modems: specs.length, limit: openFileLimit() }, fdWarning);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new VmodemConfigError(`two modems are named "${dup}"; names must be unique`);
  const endpointsFromUrl = opts.broker !== undefined ? parseBrokerUrl(opts.broker) : undefined;
  const mqttPort = opts.mqttPort ?? DEFAULT_MQTT_PORT;
  if (!Number.isInteger(mqttPort) || mqttPort < 0 || mqttPort > 65535) {
    throw new VmodemConfigError(`--mqtt-port ${mqttPort}: must be a port number 0–65535`);
  }
  const timing = opts.timing ?? 'real';
  if (timing !== 'real' && timing !== 'fast') {
    throw new VmodemConfigError(`--timing ${String(timing)}: must be real or fast`);
  }
  const baud = opts.baud ?? 0;
  if (!Number.isInteger(baud) || baud < 0 || baud > 16_000_000) {
    throw new VmodemConfigError(`--baud ${String(opts.baud)}: must be a whole number of bits per second (e.g. 115200)`);
  }
  if (opts.control) {
    const cp = opts.control.port;
    if (!Number.isInteger(cp) || cp < 0 || cp > 65535) throw new VmodemConfigError(`--control-port ${String(cp)}: must be a port number 0–65535`);
    if (opts.control.token !== undefined && !validToken(opts.control.token)) {
      throw new VmodemConfigError('--control-token must be 8–256 characters of A–Z a–z 0–9 . _ ~ + / = -');
    }
  }
  let scenario: Scenario | undefined;
  const scenarios = opts.scenario !== undefined ? await scenarioModule() : undefined;
  try {
    scenario = typeof opts.scenario === 'string' ? scenarios!.loadScenarioFile(opts.scenario) : opts.scenario;
    if (scenario) scenarios!.checkScenarioTargets(scenario, names.map((name, index) => ({ name, index })), opts.broker === undefined);
  } catch (err) {
    throw scenarios && err instanceof scenarios.ScenarioError ? new VmodemConfigError(err.message) : err;
  }
  // Links are checked before anything starts, so a bad --link fails alone and at once.
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const link = spec.link === undefined ? (baseLink === null ? undefined : nthLink(baseLink, i)) : spec.link ?? undefined;
    if (link === undefined) continue;
    try {
      await checkLinkPath(link);
    } catch (err) {
      throw new VmodemConfigError((err as Error).message);
    }
  }
  let driveScript: DriveScript | undefined;
  if (opts.drive !== undefined) {
    try {
      driveScript = loadDriveScript(opts.drive, profiles.map((p) => p.id), opts.driveParams);
    } catch (err) {
      throw new VmodemConfigError((err as Error).message);
    }
  }
  let cluster: { redis: RedisEndpoint; nodeId: string } | undefined;
  const clusterMods = opts.cluster !== undefined ? await clusterModules() : undefined;
  if (opts.cluster !== undefined) {
    if (opts.broker !== undefined) throw new VmodemConfigError('--cluster makes the embedded broker a cluster node; it cannot be combined with --broker');
    let redis: RedisEndpoint;
    try {
      redis = parseRedisUrl(opts.cluster);
      await clusterMods!.checkRedis(redis);
    } catch (err) {
      throw new VmodemConfigError(`--cluster: ${(err as Error).message.replace(/^--cluster /, '')}`);
    }
    const nodeId = opts.nodeId ?? `${os.hostname()}-${process.pid}`;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) throw new VmodemConfigError(`--node-id ${nodeId}: use 1–64 letters, digits, '.', '_' or '-'`);
    cluster = { redis, nodeId };
  }
  if (opts.stateDir) {
    try {
      await ensureDir(opts.stateDir);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new VmodemConfigError(`--state-dir ${opts.stateDir}: cannot create (${e.code ?? e.message})`);
    }
  }

  // Everything started so far, undone in reverse if a later step fails.
  const undo: (() => Promise<void> | void)[] = [];
  const rollback = async () => {
    for (const u of undo.reverse()) await u();
  };

  let broker: EmbeddedBroker | undefined;
  let cloud: RunningCloud | undefined;
  let cloudEndpoints: CloudEndpoints | undefined;
  let endpoints: BrokerEndpoints;
  let brokerUrl: string;
  if (endpointsFromUrl) {
    endpoints = endpointsFromUrl;
    brokerUrl = opts.broker!;
  } else {
    try {
      // The broker, the PTY and the MQTT links name their own component in the logs. With a
      // state dir it also serves MQTT over TLS (CA kept in <stateDir>/tls) for the modules' SSL modes.
      broker = await startEmbeddedBroker({
        port: mqttPort,
        log,
        ...(opts.stateDir ? { tlsPort: opts.mqttTlsPort ?? 0, stateDir: opts.stateDir } : {}),
        ...(cluster ? { cluster } : {}),
      });
    } catch (err) {
      throw new VmodemConfigError((err as Error).message);
    }
    undo.push(() => broker!.close());
    // Each modem's controller listens for the broker's publishes: many modems are not a leak.
    broker.setMaxListeners(Math.max(10, specs.length * 2 + 10));
    endpoints = { plain: { host: broker.host, port: broker.port } };
    if (broker.tlsPort !== undefined) endpoints.tls = { host: broker.host, port: broker.tlsPort, ca: broker.ca };
    brokerUrl = broker.url;
    try {
      // The virtual cloud: platform sign-in and topic rules (a registry, or accept-all), device
      // registration and firmware downloads over HTTP(S).
      cloud = await startVirtualCloud({
        broker,
        log,
        httpPort: opts.cloudHttpPort ?? 0,
        ...(opts.registry ? { registryPath: opts.registry } : {}),
        ...(opts.firmwareDir ? { firmwareDir: opts.firmwareDir } : {}),
        ...(opts.stateDir ? { stateDir: opts.stateDir, httpsPort: opts.cloudHttpsPort ?? 0 } : {}),
        ...(cluster ? { cluster } : {}),
      });
    } catch (err) {
      await rollback();
      // startCloudHttp names the endpoint and port it could not listen on.
      const inUse = /^(HTTPS?) port (\d+) .*in use/.exec((err as Error).message);
      if (inUse) throw new VmodemConfigError(`--cloud-${inUse[1]!.toLowerCase()}-port ${inUse[2]}: the port is in use`);
      throw new VmodemConfigError(`--registry: ${(err as Error).message}`);
    }
    const c = cloud;
    undo.push(() => c.close());
    cloudEndpoints = { httpUrl: c.http?.httpUrl, httpsUrl: c.http?.httpsUrl, ca: broker.ca };
  }

  let recorder: Recorder | undefined;
  if (opts.record) {
    try {
      recorder = createRecorder({ file: opts.record, broker, profile: profiles[0], timing, log });
    } catch (err) {
      await rollback();
      throw new VmodemConfigError((err as Error).message);
    }
    const r = recorder;
    undo.push(() => r.close());
  }

  // Only the sets these profiles use are loaded (cold start, issue 12 §3).
  const commandSets = await loadCommandSets(profiles.flatMap((p) => p.commandSets));
  const instances: ModemInstance[] = [];
  try {
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const profile = profiles[i]!;
      const name = names[i]!;
      const link = spec.link === undefined ? (baseLink === null ? undefined : nthLink(baseLink, i)) : spec.link ?? undefined;
      const mlog = specs.length > 1 ? log.child({ modem: name }) : log;
      let pty: PtyPort;
      try {
        // Each watch is a small python process: for one modem always, for a few when the
        // dashboard needs to know whether a firmware holds each port.
        pty = await openPtyPort({ link, log: mlog, hostEvents: specs.length === 1 || (Boolean(opts.control?.ui) && specs.length <= MAX_WATCHED_WITH_UI) });
      } catch (err) {
        throw new VmodemConfigError((err as Error).message);
      }
      undo.push(() => pty.close());
      const serial = new PacedPort(pty);
      if (baud > 0) serial.setBaud(baud);
      const faults = await NetworkFaults.create(brokerLinkOpener(endpoints, mlog), endpoints.plain, mlog, endpoints.tls);
      undo.push(() => faults.close());
      const imei = spec.imei ?? nthImei(profile.identity.imei, firstIndex + i);
      const modem = new Modem({
        profile,
        port: serial,
        log: mlog.child({ profile: profile.id }),
        links: recorder ? recorder.wrapLinks(faults.opener) : faults.opener,
        commandSets,
        timing,
        imei,
        ...radioFor(opts.radio, spec.radio),
        ...wifiFor(opts.wifi, spec.wifi),
        stateDir: opts.stateDir,
        cloud: cloudEndpoints,
      });
      undo.push(() => modem.stop());
      recorder?.attach(modem.engine);
      const controller = new ModemController({ name, index: i, modem, port: serial, faults, linkPath: pty.linkPath, broker, cloud });
      undo.push(() => controller.dispose());
      const host = new HostAccess(serial, pty.hostWatched);
      host.watch((state) => controller.note('host', state));
      undo.push(() => host.dispose());
      instances.push({ name, index: i, profile, modem, port: pty, serial, controller, host, devicePath: pty.devicePath, linkPath: pty.linkPath, imei });
      if (specs.length > 1) mlog.info({ profile: profile.id, device: pty.devicePath, link: pty.linkPath }, 'modem started');
    }
  } catch (err) {
    await rollback();
    throw err;
  }

  const find = (ref: string | number) =>
    typeof ref === 'number' || /^\d+$/.test(ref) ? instances[Number(ref)] : instances.find((m) => m.name === ref);

  let directory: ClusterDirectory | undefined;
  if (cluster) {
    try {
      directory = await clusterMods!.startClusterDirectory({ ...cluster, modems: instances, brokerUrl, log });
    } catch (err) {
      await rollback();
      throw new VmodemConfigError(`--cluster: ${(err as Error).message}`);
    }
    const d = directory;
    undo.push(() => d.close());
    await warnOfSharedImeis(d, instances, log);
  }

  let control: ControlServer | undefined;
  if (opts.control) {
    try {
      control = await startControlServer(
        {
          modems: instances,
          find,
          brokerUrl,
          // Loaded on first use (it validates the recording's profile: zod, see above).
          toTranscript: async (recording) => (await import('./record/to-transcript.js')).recordingToTranscript(recording),
          ...(cloud ? { registry: cloud.registry } : {}),
          ...(directory ? { cluster: directory } : {}),
        },
        { port: opts.control.port, token: opts.control.token, log, ...(opts.control.ui ? { ui: opts.control.ui } : {}) },
      );
    } catch (err) {
      await rollback();
      throw err instanceof ApiError ? new VmodemConfigError(err.message) : err;
    }
    const c = control;
    undo.push(() => c.close());
    directory?.announce({ control: c.url });
  }

  let scenarioRun: ScenarioRun | undefined;
  if (scenario && scenarios) {
    try {
      scenarioRun = scenarios.runScenario(scenario, { modems: instances, broker }, { log: log.child({ component: 'scenario' }) });
    } catch (err) {
      await rollback();
      throw err instanceof scenarios.ScenarioError ? new VmodemConfigError(err.message) : err;
    }
    const r = scenarioRun;
    undo.push(() => r.stop());
  }

  let drive: DrivenFleet | undefined;
  if (driveScript) {
    const fleet = driveFleet(driveScript, instances, log, opts.driveParams ? { params: opts.driveParams } : {});
    drive = fleet;
    undo.push(() => fleet.stop());
  }

  let stopping: Promise<void> | undefined;
  const first = instances[0]!;
  log.info(
    { profile: first.profile.id, device: first.devicePath, link: first.linkPath, broker: brokerUrl, modems: instances.length, ...(cluster ? { cluster: cluster.redis.display, node: cluster.nodeId } : {}) },
    'vmodem started',
  );
  return {
    profile: first.profile,
    modem: first.modem,
    port: first.port,
    devicePath: first.devicePath,
    linkPath: first.linkPath,
    modems: instances,
    brokerUrl,
    broker,
    cloud,
    control,
    scenario: scenarioRun,
    cluster: directory,
    drive,
    find,
    stop: () =>
      (stopping ??= (async () => {
        await rollback();
        log.info('vmodem stopped');
      })()),
  };
}
