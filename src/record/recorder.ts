/**
 * `--record <file.jsonl>`: writes every byte in each direction, every URC, every command line and
 * the device's MQTT traffic to a JSON Lines file, with timestamps (format: FORMAT.md).
 *
 * Three taps, each optional:
 * - the AT engine (`engine` option or `attach(engine)`): its 'input', 'output' and 'command' events;
 * - the device's MQTT links (`wrapLinks(opener)` around the LinkOpener given to the Modem): every
 *   packet the device sends and receives, attributed to the device exactly, whatever broker it
 *   talks to (embedded, external, TLS, behind a fault proxy);
 * - the embedded broker (`broker` option): Aedes events for every client, including the cloud
 *   side (publishes made through the control API have clientId null).
 *
 * Records are queued and written in order on the next turn of the event loop (one write per
 * batch); `flush()` and `close()` write synchronously.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AedesPublishPacket, Client, Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { AtEngine } from '../at/engine.js';
import type { EmbeddedBroker } from '../broker/embedded-broker.js';
import type { LinkOpener } from '../modem/device.js';
import type { MqttLink, RetryPolicy } from '../mqtt/types.js';
import type { RetryPolicyExtras } from '../mqtt/link.js';
import type { Profile } from '../profiles/profile.js';
import { realClock, type Clock } from '../util/clock.js';
import { RECORDING_FORMAT, isPrintable, recordBytes, type RecordingRecord, type StartRecord } from './format.js';

export interface RecorderOptions {
  /** The .jsonl file; created or truncated. */
  file: string;
  /** The modem's AT engine; or attach it later with `attach()` (the Modem needs the wrapped links first). */
  engine?: AtEngine;
  /** The embedded broker, to record what every client does on it. */
  broker?: EmbeddedBroker;
  /** Profile (or its id) for the start record. */
  profile?: Profile | string;
  /** Timing mode of the modem, for the start record (`vmodem check` replays with the same). */
  timing?: string;
  /** Extra fields for the start record. */
  meta?: Record<string, unknown>;
  /** Time source for `t` (default: performance.now()). */
  clock?: Clock;
  /** Where a write failure is reported (recording then stops; the modem carries on). */
  log?: Logger;
}

export interface Recorder {
  readonly file: string;
  /** Start recording the engine's traffic (once; later calls with another engine throw). */
  attach(engine: AtEngine): void;
  /** A LinkOpener whose links are recorded; give it to the Modem instead of `links`. */
  wrapLinks(links: LinkOpener): LinkOpener;
  /** Add a caller's record (`{ type: 'event', name, ...data }`), e.g. a fault injected. */
  event(name: string, data?: Record<string, unknown>): void;
  /** Write queued records now. */
  flush(): void;
  /** Write a stop record, detach every tap and close the file. Idempotent. */
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Lines of a URC write, without the CRLF framing. */
function urcLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    const end = i === bytes.length || (bytes[i] === 0x0d && bytes[i + 1] === 0x0a);
    if (!end) continue;
    if (i > start) lines.push(bytes.subarray(start, i));
    i += 1;
    start = i + 1;
  }
  return lines;
}

function payloadFields(payload: Buffer | string | undefined): Record<string, unknown> {
  const buf = payload === undefined ? Buffer.alloc(0) : typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const b = recordBytes(buf);
  return { payload: b.text !== undefined ? { text: b.text, hex: b.hex } : { hex: b.hex }, length: buf.length };
}

type Outcome = { kind: string; value?: unknown; returnCode?: number; sessionPresent?: boolean };

export function createRecorder(opts: RecorderOptions): Recorder {
  const clock = opts.clock ?? realClock;
  const t0 = clock.now();
  let fd: number;
  try {
    fd = openSync(opts.file, 'w');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot write the recording ${opts.file}: ${e.code ?? e.message}`, { cause: err });
  }
  let queue: string[] = [];
  let scheduled = false;
  let closed = false;
  let failed = false;
  const detach: (() => void)[] = [];
  let engine: AtEngine | undefined;
  let linkSeq = 0;
  const deviceClients = new Set<string>();

  const now = () => Math.round((clock.now() - t0) * 1000) / 1000;

  const flush = (): void => {
    scheduled = false;
    if (queue.length === 0 || failed) return;
    const text = queue.join('');
    queue = [];
    try {
      writeSync(fd, text);
    } catch (err) {
      failed = true;
      opts.log?.error({ err, file: opts.file }, 'cannot write the recording; recording stopped');
    }
  };

  const write = (rec: { type: RecordingRecord['type']; [key: string]: unknown }): void => {
    if (closed || failed) return;
    queue.push(`${JSON.stringify({ t: now(), ...rec })}\n`);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  const profile = typeof opts.profile === 'string' ? undefined : opts.profile;
  const start: StartRecord = {
    type: 'start',
    t: 0,
    time: new Date().toISOString(),
    format: RECORDING_FORMAT,
    vmodem: packageVersion(),
    node: process.version,
    ...(opts.profile !== undefined ? { profile: typeof opts.profile === 'string' ? opts.profile : opts.profile.id } : {}),
    ...(profile ? { module: profile.module, model: profile.identity.model, revision: profile.identity.revision } : {}),
    ...(opts.engine ? { echo: opts.engine.settings.echo } : {}),
    ...(opts.timing !== undefined ? { timing: opts.timing } : {}),
    ...opts.meta,
  };
  queue.push(`${JSON.stringify(start)}\n`);
  flush();

  const attachEngine = (e: AtEngine, announce: boolean): void => {
    if (engine === e) return;
    if (engine) throw new Error('this recorder already records another engine');
    engine = e;
    if (announce) write({ type: 'attach', echo: e.settings.echo });
    const onInput = (bytes: Buffer) => write({ type: 'in', ...recordBytes(bytes) });
    const onOutput = (bytes: Buffer, kind: 'echo' | 'response' | 'urc' | 'prompt') => {
      write({ type: 'out', kind, ...recordBytes(bytes) });
      if (kind !== 'urc') return;
      for (const line of urcLines(bytes)) {
        write(isPrintable(line) ? { type: 'urc', line: line.toString('latin1') } : { type: 'urc', line: line.toString('latin1'), hex: line.toString('hex') });
      }
    };
    const onCommand = (line: string) => write({ type: 'command', line });
    e.on('input', onInput);
    e.on('output', onOutput);
    e.on('command', onCommand);
    detach.push(() => {
      e.off('input', onInput);
      e.off('output', onOutput);
      e.off('command', onCommand);
    });
  };
  if (opts.engine) attachEngine(opts.engine, false);

  if (opts.broker) {
    const aedes = opts.broker.aedes;
    const id = (c: Client | null | undefined): string | null => c?.id ?? null;
    const tag = (clientId: string | null) => (clientId !== null && deviceClients.has(clientId) ? { device: true } : {});
    const on = <A extends unknown[]>(event: string, fn: (...args: A) => void) => {
      (aedes as unknown as { on(e: string, f: (...a: A) => void): void }).on(event, fn);
      detach.push(() => (aedes as unknown as { removeListener(e: string, f: (...a: A) => void): void }).removeListener(event, fn));
    };
    const clientEvent = (event: 'client' | 'clientDisconnect' | 'keepaliveTimeout') => (c: Client) =>
      write({ type: 'broker', event, clientId: id(c), ...tag(id(c)) });
    on('client', clientEvent('client'));
    on('clientDisconnect', clientEvent('clientDisconnect'));
    on('keepaliveTimeout', clientEvent('keepaliveTimeout'));
    on('clientError', (c: Client, err: Error) => write({ type: 'broker', event: 'clientError', clientId: id(c), ...tag(id(c)), message: err.message }));
    on('connackSent', (p: { returnCode?: number; sessionPresent?: boolean }, c: Client) =>
      write({ type: 'broker', event: 'connackSent', clientId: id(c), ...tag(id(c)), returnCode: p.returnCode ?? 0, sessionPresent: Boolean(p.sessionPresent) }),
    );
    on('publish', (p: AedesPublishPacket, c: Client | null) => {
      if (p.topic.startsWith('$SYS')) return;
      const clientId = id(c);
      write({
        type: 'broker',
        event: 'publish',
        clientId,
        ...tag(clientId),
        topic: p.topic,
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
        messageId: p.messageId ?? 0,
        ...payloadFields(p.payload as Buffer | string),
      });
    });
    on('subscribe', (subs: Subscription[], c: Client) =>
      write({ type: 'broker', event: 'subscribe', clientId: id(c), ...tag(id(c)), subscriptions: subs.map((s) => ({ topic: s.topic, qos: s.qos })) }),
    );
    on('unsubscribe', (topics: string[], c: Client) => write({ type: 'broker', event: 'unsubscribe', clientId: id(c), ...tag(id(c)), topics: [...topics] }));
    // A client acknowledged a QoS 1/2 delivery (Aedes hands over the stored packet: topic, and the
    // packet id when it kept one).
    on('ack', (p: { messageId?: number; topic?: string } | null | undefined, c: Client) =>
      write({
        type: 'broker',
        event: 'ack',
        clientId: id(c),
        ...tag(id(c)),
        ...(p?.topic !== undefined ? { topic: p.topic } : {}),
        ...(p?.messageId ? { messageId: p.messageId } : {}),
      }),
    );
  }

  const tapLink = (n: number, link: MqttLink): void => {
    const rec = (fields: Record<string, unknown>) => write({ type: 'mqtt', link: n, ...fields });
    link.on('message', (m) =>
      rec({ dir: 'in', packet: 'publish', topic: m.topic, qos: m.qos, retain: m.retain, dup: m.dup, messageId: m.messageId, ...payloadFields(m.payload) }),
    );
    link.on('pingresp', () => rec({ dir: 'in', packet: 'pingresp' }));
    link.once('close', (reason) => rec({ event: 'close', reason }));

    const withRetransmits = (policy: RetryPolicy, packet: string, messageId: number, extra: Partial<RetryPolicyExtras> = {}): RetryPolicy => ({
      ...policy,
      ...extra,
      onRetransmit: (count) => {
        rec({ event: 'retransmit', packet, messageId, count });
        policy.onRetransmit?.(count);
      },
    });
    const settle = (request: string, messageId: number, ack: string | undefined, p: Promise<Outcome>): void => {
      p.then(
        (o) => {
          if (o.kind === 'ok') {
            if (ack === 'suback') rec({ dir: 'in', packet: 'suback', messageId, granted: o.value });
            else if (ack) rec({ dir: 'in', packet: ack, messageId });
          } else rec({ event: o.kind, request, messageId });
        },
        (err: Error) => rec({ event: 'rejected', request, messageId, message: err.message }),
      );
    };

    const connect = link.connect.bind(link);
    link.connect = (o) => {
      deviceClients.add(o.clientId);
      rec({
        dir: 'out',
        packet: 'connect',
        clientId: o.clientId,
        ...(o.username !== undefined ? { username: o.username } : {}),
        hasPassword: o.password !== undefined,
        protocolVersion: o.protocolVersion,
        keepalive: o.keepalive,
        clean: o.clean,
        ...(o.will ? { will: { topic: o.will.topic, qos: o.will.qos, retain: o.will.retain, ...payloadFields(o.will.payload) } } : {}),
      });
      const p = connect(o);
      p.then(
        (out) => {
          if (out.kind === 'accepted') rec({ dir: 'in', packet: 'connack', returnCode: 0, sessionPresent: out.sessionPresent });
          else if (out.kind === 'refused') rec({ dir: 'in', packet: 'connack', returnCode: out.returnCode });
          else rec({ event: out.kind, request: 'connect' });
        },
        (err: Error) => rec({ event: 'rejected', request: 'connect', message: err.message }),
      );
      return p;
    };

    const publish = link.publish.bind(link);
    link.publish = (messageId, topic, payload, o, retry) => {
      const id = o.qos === 0 ? 0 : messageId;
      const connected = link.state === 'connected';
      if (connected) rec({ dir: 'out', packet: 'publish', topic, qos: o.qos, retain: o.retain, dup: false, messageId: id, ...payloadFields(payload) });
      const extra: Partial<RetryPolicyExtras> = {};
      if (o.qos === 2) {
        const onPubrec = (retry as RetryPolicyExtras).onPubrec;
        extra.onPubrec = () => {
          rec({ dir: 'in', packet: 'pubrec', messageId: id });
          rec({ dir: 'out', packet: 'pubrel', messageId: id });
          onPubrec?.();
        };
      }
      const p = publish(messageId, topic, payload, o, withRetransmits(retry, 'publish', id, extra));
      settle('publish', id, o.qos === 1 ? 'puback' : o.qos === 2 ? 'pubcomp' : undefined, p);
      return p;
    };

    const subscribe = link.subscribe.bind(link);
    link.subscribe = (messageId, topics, retry) => {
      if (link.state === 'connected') rec({ dir: 'out', packet: 'subscribe', messageId, subscriptions: topics.map((s) => ({ topic: s.topic, qos: s.qos })) });
      const p = subscribe(messageId, topics, withRetransmits(retry, 'subscribe', messageId));
      settle('subscribe', messageId, 'suback', p);
      return p;
    };

    const unsubscribe = link.unsubscribe.bind(link);
    link.unsubscribe = (messageId, topics, retry) => {
      if (link.state === 'connected') rec({ dir: 'out', packet: 'unsubscribe', messageId, topics: [...topics] });
      const p = unsubscribe(messageId, topics, withRetransmits(retry, 'unsubscribe', messageId));
      settle('unsubscribe', messageId, 'unsuback', p);
      return p;
    };

    const disconnect = link.disconnect.bind(link);
    link.disconnect = () => {
      if (link.state === 'connected') rec({ dir: 'out', packet: 'disconnect' });
      return disconnect();
    };
  };

  return {
    file: opts.file,
    attach: (e) => attachEngine(e, true),
    wrapLinks: (links) => ({
      resolve: (requested) => links.resolve(requested),
      open: async (o) => {
        const n = ++linkSeq;
        const target = { host: o.target.host, port: o.target.port, tls: o.target.tls };
        try {
          const link = await links.open(o);
          write({ type: 'mqtt', link: n, event: 'open', ...target });
          tapLink(n, link);
          return link;
        } catch (err) {
          const reason = (err as { reason?: unknown }).reason;
          write({ type: 'mqtt', link: n, event: 'open-failed', ...target, reason: typeof reason === 'string' ? reason : 'error', message: (err as Error).message });
          throw err;
        }
      },
    }),
    event: (name, data = {}) => write({ ...data, type: 'event', name }),
    flush,
    close: async () => {
      if (closed) return;
      write({ type: 'stop' });
      closed = true;
      for (const d of detach.splice(0)) d();
      flush();
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
    },
  };
}
