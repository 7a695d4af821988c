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
   * Stop the modem when the test that started it ends (default true): under vitest the handle
   * registers `stop()` with `onTestFinished`, so a test that times out or throws before its own
   * `stop()` leaves no PTY, link or broker behind. Outside a test (a `beforeAll`, another runner)
   * call `stop()` yourself; links still left at process exit are removed then.
   */
  autoStop?: boolean;
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
   * Resolve only once the device got the broker's acknowledgement of that publish (PUBACK for
   * QoS 1, PUBCOMP for QoS 2), so a fault or a stop right after the expectation cannot fail the
   * device's publish (default true). Pass false when acknowledgements are withheld on purpose
   * (`ackFault('puback', …)`).
   */
  acked?: boolean;
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

/**
 * A running modem as a test drives it. `Link` is the type of `link`: a string for a modem started
 * with a link (the default), undefined for `startModem({ link: null })`.
 */
export interface VirtualModem<Link extends string | undefined = string> extends ControllerOperations {
  readonly name: string;
  readonly index: number;
  /** Profile id, e.g. `quectel-ec200`. */
  readonly profile: string;
  readonly imei: string;
  /** The stable path the firmware opens (undefined when started with `link: null`). */
  readonly link: Link;
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
   * see `ExpectPublishOptions.since`. For QoS 1 and 2 it resolves once the device has the
   * broker's acknowledgement (`ExpectPublishOptions.acked`). Rejects with a ControlError (code
   * `timeout`) after `timeoutMs`, listing what the device did publish.
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

/** How a publish is shown in a timeout message: topic, payload (text or hex), qos. */
function describePublish(p: DevicePublish): string {
  const text = p.payload.toString('utf8');
  const payload = /^[\x20-\x7e]*$/.test(text) ? JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text) : `hex:${p.payload.subarray(0, 32).toString('hex')}${p.payload.length > 32 ? '…' : ''}`;
  return `${p.topic} ${payload} (qos ${p.qos})`;
}

/**
 * Which of the device's QoS 1/2 publishes still wait for the broker's acknowledgement, by packet
 * id, as the MQTT packets pass between the modem and the broker (the controller's event stream).
 * A link whose packets are not seen (TLS) has no entry: nothing is waited for there.
 */
class AckTracker {
  private readonly pending = new Map<number, number>();
  private readonly listeners = new Set<() => void>();
  readonly off: () => void;

  constructor(controller: ModemController) {
    this.off = controller.watch((e) => {
      if (e.type !== 'mqtt' || e.messageId === undefined) return;
      const id = e.messageId;
      if (e.dir === 'up' && e.cmd === 'publish' && (e.qos ?? 0) > 0) this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
      else if (e.dir === 'down' && (e.cmd === 'puback' || e.cmd === 'pubcomp')) {
        const n = (this.pending.get(id) ?? 0) - 1;
        if (n > 0) this.pending.set(id, n);
        else this.pending.delete(id);
        for (const l of [...this.listeners]) l();
      }
    });
  }

  /** Resolves once no publish with this id waits for its acknowledgement (at once if none does). */
  acked(id: number): { done: Promise<void>; cancel(): void } {
    let cancel = () => {};
    const done = new Promise<void>((resolve) => {
      if (!this.pending.has(id)) return resolve();
      const check = () => {
        if (this.pending.has(id)) return;
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
      cancel = () => this.listeners.delete(check);
    });
    return { done, cancel };
  }
}

/**
 * Wait for a matching publish at position `from` or later of the controller's `published()`,
 * then (with `acked`) for its acknowledgement to reach the device — all within `timeoutMs`.
 */
function publishSince(
  controller: ModemController,
  vm: RunningVmodem,
  match: { topic: string; payload?: Buffer; qos?: number },
  from: number,
  timeoutMs: number,
  acks: AckTracker | undefined,
): Promise<DevicePublish> {
  const ok = (p: DevicePublish) =>
    topicMatches(match.topic, p.topic) && (match.payload === undefined || p.payload.equals(match.payload)) && (match.qos === undefined || p.qos === match.qos);
  const find = () => controller.published().slice(from).find(ok);
  const broker = vm.broker;
  if (!broker) return Promise.reject(new ControlError('external-broker', 'waiting for publishes needs the embedded broker (vmodem was started with --broker)', 409));
  const what = JSON.stringify({ ...match, payload: match.payload?.toString() });
  return new Promise((resolve, reject) => {
    let hit: DevicePublish | undefined;
    let cancelAck = () => {};
    let off = () => {};
    const finish = (p: DevicePublish) => {
      off();
      if (!acks || p.qos === 0 || !p.messageId) {
        clearTimeout(timer);
        resolve(p);
        return;
      }
      const a = acks.acked(p.messageId);
      cancelAck = a.cancel;
      void a.done.then(() => {
        clearTimeout(timer);
        resolve(p);
      });
    };
    const timer = setTimeout(() => {
      off();
      cancelAck();
      if (hit) {
        reject(new ControlError('timeout', `the device published ${describePublish(hit)} but the broker's ${hit.qos === 2 ? 'PUBCOMP' : 'PUBACK'} did not reach it within ${timeoutMs} ms (with acknowledgements withheld on purpose, pass { acked: false })`, 408));
        return;
      }
      const seen = controller.published().slice(from);
      const list = seen.length ? seen.slice(-10).map(describePublish).join(', ') + (seen.length > 10 ? ` (the last 10 of ${seen.length})` : '') : '(none)';
      reject(new ControlError('timeout', `no publish matching ${what} from position ${from} within ${timeoutMs} ms; published: ${list}`, 408));
    }, timeoutMs);
    hit = find();
    if (hit) return finish(hit);
    // The controller's own listener was added first, so published() already holds this one.
    off = broker.onPublish(() => {
      if (hit) return;
      hit = find();
      if (hit) finish(hit);
    });
  });
}

/**
 * Wrap one modem of a started vmodem as a test handle. `stopAll` is what `stop()` does (the
 * whole vmodem, for startModem).
 */
export function modemHandle(vm: RunningVmodem, inst: ModemInstance, opts: { keepTranscript?: boolean; stop?: () => Promise<void> } = {}): VirtualModem<string | undefined> {
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

  // The device's publishes awaiting their PUBACK/PUBCOMP (expectPublish resolves after them).
  const acks = vm.broker ? new AckTracker(controller) : undefined;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      acks?.off();
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

  const handle: VirtualModem<string | undefined> = {
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
      if (!vm.broker) return Promise.reject(new ControlError('external-broker', 'waiting for publishes needs the embedded broker (vmodem was started with --broker)', 409));
      const from = o.since === undefined || o.since === 'start' ? 0 : o.since === 'call' ? controller.published().length : Math.max(0, o.since);
      return publishSince(controller, vm, m, from, timeoutMs, o.acked === false ? undefined : acks);
    },
    expectUrc,
    urcs: () => urcs.slice(),
    transcript,
    stop,
  };
  return handle;
}

/** Links of modems still running, removed when the process exits (a test run cut short). */
const liveLinks = new Set<string>();
let exitHookInstalled = false;
function removeLinkAtExit(link: string): () => void {
  liveLinks.add(link);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const l of liveLinks) rmSync(l, { force: true });
    });
  }
  return () => liveLinks.delete(link);
}

/**
 * Have the running test's teardown call `stop` (vitest's onTestFinished), so a test that times
 * out or throws leaves nothing behind. vitest is loaded only when it runs this process (it sets
 * VITEST); outside a test (a beforeAll hook) onTestFinished refuses, and the caller stops the
 * modem itself. Other runners: call stop() in afterEach.
 */
async function stopWithTest(stop: () => Promise<void>): Promise<void> {
  if (!process.env.VITEST) return;
  try {
    // A variable specifier: vitest is the user's dependency, not vmodem's.
    const runner = 'vitest';
    const v = (await import(runner)) as { onTestFinished?: (fn: () => unknown) => void };
    v.onTestFinished?.(() => stop());
  } catch {
    /* not inside a test */
  }
}

/**
 * Start one modem for a test: a real PTY (at a unique temp link unless `link` is given) and the
 * embedded broker on a free port (`mqttPort: 0`), with `timing: 'fast'`. Any other startVmodem
 * option (profile, broker, baud, record, scenario, …) passes through. Under vitest it is stopped
 * when the test ends (`autoStop`).
 */
export async function startModem(opts: StartModemOptions & { link: null }): Promise<VirtualModem<undefined>>;
export async function startModem(opts?: StartModemOptions & { link?: string }): Promise<VirtualModem>;
export async function startModem(opts?: StartModemOptions): Promise<VirtualModem<string | undefined>>;
export async function startModem(opts: StartModemOptions = {}): Promise<VirtualModem<string | undefined>> {
  const { name, imei, keepTranscript, autoStop, link: linkOpt, ...rest } = opts;
  const ownLink = linkOpt === undefined;
  const link = ownLink ? uniqueLinkPath() : linkOpt;
  const vm = await startVmodem({
    mqttPort: 0,
    timing: 'fast',
    ...rest,
    link,
    modems: [{ ...(name !== undefined ? { name } : {}), ...(imei !== undefined ? { imei } : {}), ...(opts.profile !== undefined ? { profile: opts.profile } : {}), link }],
  });
  const forget = link ? removeLinkAtExit(link) : () => {};
  const handle = modemHandle(vm, vm.modems[0]!, {
    ...(keepTranscript !== undefined ? { keepTranscript } : {}),
    stop: async () => {
      await vm.stop();
      if (ownLink && link) rmSync(link, { force: true });
      forget();
    },
  });
  if (autoStop !== false) await stopWithTest(() => handle.stop());
  return handle;
}

export interface StartModemsOptions extends Omit<VmodemOptions, 'link'> {
  /** Base link (`<base>`, `<base+1>`, …). Default: a unique path in the temp directory. */
  link?: string | null;
  keepTranscript?: boolean;
  /** As StartModemOptions.autoStop: stopped when the vitest test that started them ends (default true). */
  autoStop?: boolean;
}

/** Several modems on one broker (`count`, or a `modems` list as in a config file), each as a handle. */
export async function startModems(opts: StartModemsOptions = {}): Promise<{ modems: VirtualModem<string | undefined>[]; vmodem: RunningVmodem; stop(): Promise<void> }> {
  const { keepTranscript, autoStop, link: linkOpt, ...rest } = opts;
  const link = linkOpt === undefined ? `${uniqueLinkPath()}-0` : linkOpt;
  const vm = await startVmodem({ mqttPort: 0, timing: 'fast', ...rest, link });
  const stop = () => vm.stop();
  const modems = vm.modems.map((m) => modemHandle(vm, m, { ...(keepTranscript !== undefined ? { keepTranscript } : {}), stop }));
  const all = {
    modems,
    vmodem: vm,
    stop: async () => {
      await Promise.all(modems.map((m) => m.stop()));
    },
  };
  if (autoStop !== false) await stopWithTest(() => all.stop());
  return all;
}
