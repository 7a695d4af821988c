/**
 * The TypeScript API for tests (vitest, jest, node:test — or plain JS):
 *
 *   import { startModem } from 'vmodem';
 *   const modem = await startModem({ profile: 'quectel-ec200' });   // PTY at modem.link + broker
 *   // … firmware opens modem.link …
 *   await modem.expectPublish({ topic: 'dev/up', payload: 'hello' }, { timeoutMs: 5000 });
 *   modem.dropSession();
 *   await modem.expectUrc(/\+QMTSTAT: 0,1/);
 *   process.stdout.write(modem.transcript());
 *   await modem.stop();
 *
 * The handle carries every ModemController operation (bound to the modem's controller, so they are
 * the same code the HTTP API and the CLI run) plus the expectations above.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AedesPublishPacket, Client } from 'aedes';
import { topicMatches } from './control/broker-faults.js';
import { ControlError, type DevicePublish, type ModemController } from './control/controller.js';
import { convertRecording } from './record/to-transcript.js';
import { recordBytes } from './record/format.js';
import { startVmodem, type ModemInstance, type RunningVmodem, type VmodemOptions } from './vmodem.js';

/** The controller operations a modem handle carries, delegated as they are. */
export const CONTROLLER_OPERATIONS = [
  'published',
  'waitForPublish',
  'dropSession',
  'stall',
  'refuseNextConnect',
  'refuseSubscribe',
  'refusePublish',
  'ackFault',
  'brokerDown',
  'brokerUp',
  'setRegistration',
  'setSignal',
  'failNextOpen',
  'setLatency',
  'override',
  'clearOverrides',
  'setResponseDelay',
  'setBaud',
  'reboot',
  'inspect',
  'watch',
] as const satisfies readonly (keyof ModemController)[];

export type ControllerOperations = Pick<ModemController, (typeof CONTROLLER_OPERATIONS)[number]>;

export interface StartModemOptions extends Omit<VmodemOptions, 'count' | 'modems' | 'link'> {
  /**
   * Where the serial device appears (a symlink to /dev/pts/N). Default: a unique path in the
   * temp directory (`modem.link`), so parallel tests never collide; null = no link (use
   * `modem.device`).
   */
  link?: string | null;
  /** Name of the modem (control API, logs). Default `modem0`. */
  name?: string;
  /** IMEI the modem reports (AT+CGSN). Default: the profile's. */
  imei?: string;
  /**
   * Keep the conversation in memory for `transcript()` (default true). Turn off for very long
   * runs.
   */
  keepTranscript?: boolean;
}

export interface ExpectPublishMatch {
  /** Topic name or filter (`+`, `#`). */
  topic: string;
  /** Exact payload: a string (compared as UTF-8) or bytes. */
  payload?: string | Buffer;
  qos?: 0 | 1 | 2;
}

export interface ExpectOptions {
  /** How long to wait (default 5000 ms). */
  timeoutMs?: number;
}

export interface ExpectPublishOptions extends ExpectOptions {
  /**
   * Which publishes count. Default `'start'`: every one since the modem started (the first match
   * is returned, as `waitForPublish` does). `'call'`: only those after this call; a number: those
   * from that position of `published()` on (take `modem.published().length` before the step
   * whose publish you expect — e.g. the same message again after a reconnect).
   */
  since?: 'start' | 'call' | number;
}

export interface ExpectUrcOptions extends ExpectOptions {
  /**
   * Which URCs count. Default: only those written after this call. `'start'`: also every URC
   * written since the modem started; a number: those from that position on (take it from
   * `modem.urcs().length` before the action whose URC you expect).
   */
  since?: 'call' | 'start' | number;
}

/** One URC line the modem wrote. */
export interface UrcLine {
  /** The line, without its CRLF framing (latin1). */
  text: string;
  /** ms since the modem started. */
  t: number;
  /** Position in `urcs()`. */
  seq: number;
}

export interface UrcMatch extends UrcLine {
  /** The RegExp's match (null when a string was expected). */
  match: RegExpExecArray | null;
}

export interface CloudPublish {
  topic: string;
  /** A string is sent as UTF-8. Default empty. */
  payload?: string | Buffer;
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

/** A running modem as a test drives it. */
export interface VirtualModem extends ControllerOperations {
  readonly name: string;
  readonly index: number;
  /** Profile id, e.g. `quectel-ec200`. */
  readonly profile: string;
  readonly imei: string;
  /** The stable path the firmware opens (undefined when started with `link: null`). */
  readonly link: string | undefined;
  /** The PTY itself, /dev/pts/N. */
  readonly device: string;
  /** mqtt://127.0.0.1:<port> of the broker (embedded unless `broker` was given). */
  readonly brokerUrl: string;
  /** The embedded broker's port (undefined with an external broker). */
  readonly mqttPort: number | undefined;
  /** The controller behind the operations (events, anything not delegated here). */
  readonly controller: ModemController;
  /** The whole vmodem (broker, PTY, modem). */
  readonly vmodem: RunningVmodem;
  /** The cloud publishes to the device (a string payload is sent as UTF-8). */
  publish(msg: CloudPublish): Promise<void>;
  /** Write bytes to the host as if the module had printed them (a string is sent as latin1). */
  inject(bytes: Buffer | string): void;
  /**
   * Wait until the device has published a matching message and return it. By default messages it
   * published before the call count too (the first match is returned), like `waitForPublish`;
   * see `ExpectPublishOptions.since`. Rejects with a ControlError (code `timeout`) after
   * `timeoutMs`.
   */
  expectPublish(match: ExpectPublishMatch, opts?: ExpectPublishOptions): Promise<DevicePublish>;
  /**
   * Wait for a URC line: a RegExp is tested against each line, a string must equal the whole
   * line (`'+QMTSTAT: 0,1'`). By default only URCs written after the call count; see
   * `ExpectUrcOptions.since`. Rejects with a ControlError (code `timeout`) listing the URCs seen.
   */
  expectUrc(pattern: RegExp | string, opts?: ExpectUrcOptions): Promise<UrcMatch>;
  /** Every URC line so far, oldest first. */
  urcs(): UrcLine[];
  /**
   * The conversation so far in the transcript format (fixtures/transcripts/*.at): `> ` host
   * lines, `< ` modem lines, `! publish` / `! expect-publish` for MQTT on the embedded broker.
   * `vmodem check` can replay it.
   */
  transcript(): string;
  /** Stop the modem and the broker, remove the link. Idempotent. */
  stop(): Promise<void>;
}

interface Waiter {
  test(line: UrcLine): RegExpExecArray | null | boolean;
  resolve(m: UrcMatch): void;
  reject(err: Error): void;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** Records kept for transcript(); older ones are dropped (the transcript notes it). */
const MAX_RECORDS = 200_000;

/** A path in the temp directory no other modem uses. */
export function uniqueLinkPath(tag = 'modem'): string {
  return path.join(os.tmpdir(), `vmodem-${tag}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

function urcLinesOf(bytes: Buffer): string[] {
  return bytes
    .toString('latin1')
    .split('\r\n')
    .map((l) => l.replace(/\r+$/, ''))
    .filter((l) => l !== '');
}

/** Wait for a matching publish at position `from` or later of the controller's `published()`. */
function publishSince(
  controller: ModemController,
  vm: RunningVmodem,
  match: { topic: string; payload?: Buffer; qos?: number },
  from: number,
  timeoutMs: number,
): Promise<DevicePublish> {
  const ok = (p: DevicePublish) =>
    topicMatches(match.topic, p.topic) && (match.payload === undefined || p.payload.equals(match.payload)) && (match.qos === undefined || p.qos === match.qos);
  const find = () => controller.published().slice(from).find(ok);
  const found = find();
  if (found) return Promise.resolve(found);
  const broker = vm.broker;
  if (!broker) return Promise.reject(new ControlError('external-broker', 'waiting for publishes needs the embedded broker (vmodem was started with --broker)', 409));
  return new Promise((resolve, reject) => {
    // The controller's own listener was added first, so published() already holds this one.
    const off = broker.onPublish(() => {
      const hit = find();
      if (!hit) return;
      off();
      clearTimeout(timer);
      resolve(hit);
    });
    const timer = setTimeout(() => {
      off();
      reject(new ControlError('timeout', `no publish matching ${JSON.stringify({ ...match, payload: match.payload?.toString() })} from position ${from} within ${timeoutMs} ms`, 408));
    }, timeoutMs);
  });
}

/**
 * Wrap one modem of a started vmodem as a test handle. `stopAll` is what `stop()` does (the
 * whole vmodem, for startModem).
 */
export function modemHandle(vm: RunningVmodem, inst: ModemInstance, opts: { keepTranscript?: boolean; stop?: () => Promise<void> } = {}): VirtualModem {
  const controller = inst.controller;
  const engine = inst.modem.engine;
  const started = performance.now();
  const now = () => Math.round((performance.now() - started) * 1000) / 1000;
  const keep = opts.keepTranscript ?? true;

  // ---- URCs ----
  const urcs: UrcLine[] = [];
  const waiters = new Set<Waiter>();
  // ---- transcript: an in-memory recording (format of --record), converted on demand ----
  const records: string[] = [];
  let dropped = 0;
  const rec = (r: Record<string, unknown>) => {
    if (!keep) return;
    records.push(JSON.stringify({ t: now(), ...r }));
    if (records.length > MAX_RECORDS) {
      records.shift();
      dropped++;
    }
  };
  const startRecord = JSON.stringify({
    type: 'start',
    t: 0,
    time: new Date().toISOString(),
    format: 1,
    profile: inst.profile.id,
    echo: engine.settings.echo,
  });

  const onInput = (b: Buffer) => rec({ type: 'in', ...recordBytes(b) });
  const onOutput = (b: Buffer, kind: string) => {
    rec({ type: 'out', kind, ...recordBytes(b) });
    if (kind !== 'urc') return;
    for (const text of urcLinesOf(b)) {
      const line: UrcLine = { text, t: Math.round(now()), seq: urcs.length };
      urcs.push(line);
      for (const w of [...waiters]) {
        const m = w.test(line);
        if (m) w.resolve({ ...line, match: m === true ? null : m });
      }
    }
  };
  engine.on('input', onInput);
  engine.on('output', onOutput);

  // MQTT as the embedded broker sees it: the device's publishes and what reached it from others.
  let offBroker = () => {};
  if (vm.broker && keep) {
    const aedes = vm.broker.aedes;
    const deviceIds = new Set<string>();
    const isDevice = (id: string) => {
      if (deviceIds.has(id)) return true;
      for (const c of (controller.inspect().clientIds as string[] | undefined) ?? []) deviceIds.add(c);
      return deviceIds.has(id);
    };
    const onPublish = (p: AedesPublishPacket, client: Client | null) => {
      if (p.topic.startsWith('$SYS')) return;
      const device = client ? isDevice(client.id) : false;
      const payload = typeof p.payload === 'string' ? Buffer.from(p.payload, 'utf8') : Buffer.from(p.payload);
      const b = recordBytes(payload);
      rec({
        type: 'broker',
        event: 'publish',
        clientId: device ? client!.id : null,
        ...(device ? { device: true } : {}),
        topic: p.topic,
        qos: p.qos,
        retain: p.retain,
        messageId: p.messageId ?? 0,
        payload: b.text !== undefined ? { text: b.text, hex: b.hex } : { hex: b.hex },
      });
    };
    aedes.setMaxListeners(Math.max(aedes.getMaxListeners(), vm.modems.length * 2 + 20));
    aedes.on('publish', onPublish);
    offBroker = () => aedes.removeListener('publish', onPublish);
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      engine.off('input', onInput);
      engine.off('output', onOutput);
      offBroker();
      for (const w of [...waiters]) w.reject(new ControlError('stopped', 'the modem was stopped while waiting for a URC', 409));
      await (opts.stop ?? vm.stop)();
    })());

  const expectUrc = (pattern: RegExp | string, o: ExpectUrcOptions = {}): Promise<UrcMatch> => {
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const from = o.since === 'start' ? 0 : typeof o.since === 'number' ? Math.max(0, o.since) : urcs.length;
    const test = (line: UrcLine): RegExpExecArray | null | boolean => {
      if (typeof pattern === 'string') return line.text === pattern;
      pattern.lastIndex = 0;
      return pattern.exec(line.text);
    };
    for (const line of urcs.slice(from)) {
      const m = test(line);
      if (m) return Promise.resolve({ ...line, match: m === true ? null : m });
    }
    if (stopping) return Promise.reject(new ControlError('stopped', 'the modem is stopped', 409));
    return new Promise<UrcMatch>((resolve, reject) => {
      const w: Waiter = {
        test,
        resolve: (m) => {
          waiters.delete(w);
          clearTimeout(timer);
          resolve(m);
        },
        reject: (err) => {
          waiters.delete(w);
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        const seen = urcs.slice(from).map((u) => u.text);
        w.reject(
          new ControlError(
            'timeout',
            `no URC matching ${typeof pattern === 'string' ? JSON.stringify(pattern) : String(pattern)} within ${timeoutMs} ms; URCs seen: ${seen.length ? seen.map((s) => JSON.stringify(s)).join(', ') : '(none)'}`,
            408,
          ),
        );
      }, timeoutMs);
      waiters.add(w);
    });
  };

  const transcript = (): string => {
    const conv = convertRecording([startRecord, ...records].join('\n'));
    const lines = conv.text.split('\n');
    // The converter's header speaks of a recording file; say where this one came from.
    lines[0] = `# vmodem ${inst.profile.id} ${inst.name}: the conversation so far (transcript())${dropped ? `; the first ${dropped} records were dropped` : ''}.`;
    return lines.join('\n');
  };

  const ops = Object.fromEntries(
    CONTROLLER_OPERATIONS.map((op) => [op, (controller[op] as (...a: unknown[]) => unknown).bind(controller)]),
  ) as unknown as ControllerOperations;

  const handle: VirtualModem = {
    ...ops,
    name: inst.name,
    index: inst.index,
    profile: inst.profile.id,
    imei: inst.imei,
    link: inst.linkPath,
    device: inst.devicePath,
    brokerUrl: vm.brokerUrl,
    mqttPort: vm.broker?.port,
    controller,
    vmodem: vm,
    publish: (msg) =>
      controller.publish({
        topic: msg.topic,
        payload: msg.payload === undefined ? Buffer.alloc(0) : typeof msg.payload === 'string' ? Buffer.from(msg.payload, 'utf8') : msg.payload,
        ...(msg.qos !== undefined ? { qos: msg.qos } : {}),
        ...(msg.retain !== undefined ? { retain: msg.retain } : {}),
      }),
    inject: (bytes) => controller.inject(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    expectPublish: (match, o = {}) => {
      const m = {
        topic: match.topic,
        ...(match.payload !== undefined ? { payload: typeof match.payload === 'string' ? Buffer.from(match.payload, 'utf8') : match.payload } : {}),
        ...(match.qos !== undefined ? { qos: match.qos } : {}),
      };
      const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      if (o.since === undefined || o.since === 'start') return controller.waitForPublish(m, timeoutMs);
      return publishSince(controller, vm, m, o.since === 'call' ? controller.published().length : Math.max(0, o.since), timeoutMs);
    },
    expectUrc,
    urcs: () => urcs.slice(),
    transcript,
    stop,
  };
  return handle;
}

/**
 * Start one modem for a test: a real PTY (at a unique temp link unless `link` is given) and the
 * embedded broker on a free port (`mqttPort: 0`), with `timing: 'fast'`. Any other startVmodem
 * option (profile, broker, baud, record, scenario, …) passes through.
 */
export async function startModem(opts: StartModemOptions = {}): Promise<VirtualModem> {
  const { name, imei, keepTranscript, link: linkOpt, ...rest } = opts;
  const ownLink = linkOpt === undefined;
  const link = ownLink ? uniqueLinkPath() : linkOpt;
  const vm = await startVmodem({
    mqttPort: 0,
    timing: 'fast',
    ...rest,
    link,
    modems: [{ ...(name !== undefined ? { name } : {}), ...(imei !== undefined ? { imei } : {}), ...(opts.profile !== undefined ? { profile: opts.profile } : {}), link }],
  });
  return modemHandle(vm, vm.modems[0]!, {
    ...(keepTranscript !== undefined ? { keepTranscript } : {}),
    stop: async () => {
      await vm.stop();
      if (ownLink && link) rmSync(link, { force: true });
    },
  });
}

export interface StartModemsOptions extends Omit<VmodemOptions, 'link'> {
  /** Base link (`<base>`, `<base+1>`, …). Default: a unique path in the temp directory. */
  link?: string | null;
  keepTranscript?: boolean;
}

/** Several modems on one broker (`count`, or a `modems` list as in a config file), each as a handle. */
export async function startModems(opts: StartModemsOptions = {}): Promise<{ modems: VirtualModem[]; vmodem: RunningVmodem; stop(): Promise<void> }> {
  const { keepTranscript, link: linkOpt, ...rest } = opts;
  const link = linkOpt === undefined ? `${uniqueLinkPath()}-0` : linkOpt;
  const vm = await startVmodem({ mqttPort: 0, timing: 'fast', ...rest, link });
  const stop = () => vm.stop();
  const modems = vm.modems.map((m) => modemHandle(vm, m, { ...(keepTranscript !== undefined ? { keepTranscript } : {}), stop }));
  return { modems, vmodem: vm, stop: async () => {
    await Promise.all(modems.map((m) => m.stop()));
  } };
}
