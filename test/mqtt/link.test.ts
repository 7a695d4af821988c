import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Packet } from 'mqtt-packet';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { openLink } from '../../src/mqtt/link.js';
import {
  LinkOpenError,
  type BrokerTarget,
  type CloseReason,
  type ConnectOptions,
  type IncomingMessage,
  type MqttLink,
} from '../../src/mqtt/types.js';
import { freePort } from '../helpers/mosquitto.js';
import { startFakeBroker, startSilentServer, type FakeBroker } from './fake-broker.js';

const NO_RETRY = { timeoutMs: 3000, retries: 0 };

const links: MqttLink[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const l of links.splice(0)) l.destroy();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tcp(port: number, host = '127.0.0.1'): BrokerTarget {
  return { host, port, tls: false };
}

async function open(target: BrokerTarget, timeoutMs = 2000): Promise<MqttLink> {
  const link = await openLink({ target, timeoutMs });
  links.push(link);
  return link;
}

function connOpts(clientId: string, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { clientId, protocolVersion: 4, keepalive: 0, clean: true, timeoutMs: 2000, ...extra };
}

async function connected(target: BrokerTarget, clientId: string, extra: Partial<ConnectOptions> = {}): Promise<MqttLink> {
  const link = await open(target);
  const outcome = await link.connect(connOpts(clientId, extra));
  expect(outcome).toEqual({ kind: 'accepted', sessionPresent: false });
  expect(link.state).toBe('connected');
  return link;
}

function nextClose(link: MqttLink): Promise<CloseReason> {
  return once(link, 'close').then(([reason]) => reason as CloseReason);
}

function collect(link: MqttLink): IncomingMessage[] {
  const got: IncomingMessage[] = [];
  link.on('message', (m) => got.push(m));
  return got;
}

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function expectOpenFailure(p: Promise<unknown>, reason: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LinkOpenError);
  expect((err as LinkOpenError).reason).toBe(reason);
}

// ------------------------------------------------------------------------------------------------

describe('openLink', () => {
  it("rejects with 'refused' when nothing listens", async () => {
    const port = await freePort();
    await expectOpenFailure(openLink({ target: tcp(port), timeoutMs: 2000 }), 'refused');
  });

  it("rejects with 'dns' for an unknown host name", async () => {
    await expectOpenFailure(openLink({ target: tcp(1883, 'no-such-host.invalid'), timeoutMs: 5000 }), 'dns');
  });

  it("rejects with 'timeout' when the TLS handshake never completes", async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    await expectOpenFailure(
      openLink({ target: { host: '127.0.0.1', port: silent.port, tls: true }, timeoutMs: 300 }),
      'timeout',
    );
  });

  it("rejects with 'tls' when the server does not speak TLS", async () => {
    const plain = await startSilentServer((sock) => {
      sock.once('data', () => sock.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    cleanups.push(() => plain.close());
    await expectOpenFailure(
      openLink({ target: { host: '127.0.0.1', port: plain.port, tls: true }, timeoutMs: 2000 }),
      'tls',
    );
  });

  it("resolves in state 'open' and destroy() closes with 'local'", async () => {
    const fake = await startFakeBroker();
    cleanups.push(() => fake.close());
    const link = await open(tcp(fake.port));
    expect(link.state).toBe('open');
    const closed = nextClose(link);
    link.destroy();
    link.destroy(); // idempotent
    expect(await closed).toBe('local');
    expect(link.state).toBe('closed');
    expect(await link.connect(connOpts('late'))).toEqual({ kind: 'closed' });
  });
});

// ------------------------------------------------------------------------------------------------

describe('over TLS (embedded broker behind tls.createServer)', () => {
  let dir: string;
  let cert: Buffer;
  let key: Buffer;
  let broker: EmbeddedBroker;
  let server: tls.Server;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-tls-'));
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
        '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(path.join(dir, 'cert.pem'));
    key = readFileSync(path.join(dir, 'key.pem'));
    broker = await startEmbeddedBroker({ port: 0 });
    server = tls.createServer({ cert, key }, broker.aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects, subscribes and receives with the right CA', async () => {
    const target: BrokerTarget = { host: '127.0.0.1', port, tls: true, ca: cert };
    const link = await connected(target, 'tls-1');
    const got = collect(link);
    expect(await link.subscribe(3, [{ topic: 'tls/t', qos: 1 }], NO_RETRY)).toEqual({ kind: 'ok', value: [1] });
    expect(await link.publish(4, 'tls/t', Buffer.from('over tls'), { qos: 1, retain: false }, NO_RETRY)).toEqual({
      kind: 'ok',
      value: undefined,
    });
    await waitFor(() => got.length === 1);
    expect(got[0]!.payload.toString()).toBe('over tls');
  });

  it("rejects with 'tls' for an untrusted certificate", async () => {
    await expectOpenFailure(openLink({ target: { host: '127.0.0.1', port, tls: true }, timeoutMs: 2000 }), 'tls');
  });

  it('accepts an untrusted certificate with rejectUnauthorized false', async () => {
    await connected({ host: '127.0.0.1', port, tls: true, rejectUnauthorized: false }, 'tls-2');
  });
});

// ------------------------------------------------------------------------------------------------

describe('against the embedded broker', () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
  });
  afterAll(async () => {
    await broker.close();
  });
  afterEach(() => {
    broker.setAuthenticator(null);
    broker.aedes.authorizeSubscribe = (_c, sub, cb) => cb(null, sub);
  });

  it('connects (3.1.1) and disconnect() closes with "disconnected"', async () => {
    const link = await connected(tcp(broker.port), 'emb-1');
    const closed = nextClose(link);
    await link.disconnect();
    expect(link.state).toBe('closed');
    expect(await closed).toBe('disconnected');
    await link.disconnect(); // no-op once closed
  });

  it('connects with MQTT 3.1 (MQIsdp)', async () => {
    await connected(tcp(broker.port), 'emb-v31', { protocolVersion: 3 });
  });

  it('refuses connect() outside state open', async () => {
    const link = await connected(tcp(broker.port), 'emb-twice');
    await expect(link.connect(connOpts('again'))).rejects.toMatchObject({ code: 'EBADSTATE' });
  });

  it('publishes QoS 0/1/2 with the caller-chosen packet ids and loops them back', async () => {
    const seen: { topic: string; messageId: number; qos: number; dup: boolean; payload: string }[] = [];
    const off = broker.onPublish((m) => {
      if (m.topic.startsWith('emb/loop')) seen.push({ ...m, payload: m.payload.toString() });
    });
    cleanups.push(off);
    const link = await connected(tcp(broker.port), 'emb-pub');
    const got = collect(link);
    expect(await link.subscribe(77, [{ topic: 'emb/loop/#', qos: 2 }], NO_RETRY)).toEqual({ kind: 'ok', value: [2] });

    expect(await link.publish(0, 'emb/loop/0', Buffer.from('zero'), { qos: 0, retain: false }, NO_RETRY)).toEqual({
      kind: 'ok',
      value: undefined,
    });
    const p1 = link.publish(1234, 'emb/loop/1', Buffer.from('one'), { qos: 1, retain: false }, NO_RETRY);
    expect(link.inflightIds()).toEqual([1234]);
    // The same id may not be reused while in flight.
    await expect(
      link.publish(1234, 'emb/loop/x', Buffer.from('dup id'), { qos: 1, retain: false }, NO_RETRY),
    ).rejects.toMatchObject({ code: 'EINFLIGHT' });
    const p2 = link.publish(65535, 'emb/loop/2', Buffer.from([0, 1, 0xff]), { qos: 2, retain: false }, NO_RETRY);
    expect(link.inflightIds()).toEqual([1234, 65535]);
    expect(await p1).toEqual({ kind: 'ok', value: undefined });
    expect(await p2).toEqual({ kind: 'ok', value: undefined });
    expect(link.inflightIds()).toEqual([]);

    await waitFor(() => got.length === 3);
    const byTopic = Object.fromEntries(got.map((m) => [m.topic, m]));
    expect(byTopic['emb/loop/0']).toMatchObject({ qos: 0, messageId: 0, retain: false, dup: false });
    expect(byTopic['emb/loop/0']!.payload.toString()).toBe('zero');
    expect(byTopic['emb/loop/1']!.qos).toBe(1);
    expect(byTopic['emb/loop/1']!.messageId).toBeGreaterThan(0);
    expect(byTopic['emb/loop/2']!.qos).toBe(2);
    expect([...byTopic['emb/loop/2']!.payload]).toEqual([0, 1, 0xff]);

    // The broker saw our ids on the wire.
    expect(seen.find((m) => m.topic === 'emb/loop/1')).toMatchObject({ messageId: 1234, qos: 1, dup: false });
    expect(seen.find((m) => m.topic === 'emb/loop/2')).toMatchObject({ messageId: 65535, qos: 2 });

    expect(await link.unsubscribe(78, ['emb/loop/#'], NO_RETRY)).toEqual({ kind: 'ok', value: undefined });
  });

  it('rejects invalid packet ids and requests before CONNACK', async () => {
    const early = await open(tcp(broker.port));
    await expect(early.subscribe(1, [{ topic: 'a', qos: 0 }], NO_RETRY)).rejects.toMatchObject({ code: 'ENOTCONN' });
    const link = await connected(tcp(broker.port), 'emb-ids');
    await expect(link.publish(0, 'a', Buffer.alloc(0), { qos: 1, retain: false }, NO_RETRY)).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(link.subscribe(70000, [{ topic: 'a', qos: 0 }], NO_RETRY)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('reports a refused subscription as 0x80', async () => {
    broker.aedes.authorizeSubscribe = (_client, sub, cb) => cb(null, sub.topic === 'forbidden' ? null : sub);
    const link = await connected(tcp(broker.port), 'emb-subref');
    expect(
      await link.subscribe(
        5,
        [
          { topic: 'allowed', qos: 1 },
          { topic: 'forbidden', qos: 1 },
        ],
        NO_RETRY,
      ),
    ).toEqual({ kind: 'ok', value: [1, 0x80] });
  });

  it('delivers retained messages with retain set', async () => {
    const a = await connected(tcp(broker.port), 'emb-ret-a');
    await a.publish(9, 'emb/retained', Buffer.from('kept'), { qos: 1, retain: true }, NO_RETRY);
    const b = await connected(tcp(broker.port), 'emb-ret-b');
    const got = collect(b);
    await b.subscribe(1, [{ topic: 'emb/retained', qos: 1 }], NO_RETRY);
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ topic: 'emb/retained', retain: true, qos: 1 });
    await a.publish(10, 'emb/retained', Buffer.alloc(0), { qos: 0, retain: true }, NO_RETRY); // clear
  });

  it('publishes the will after destroy() but not after disconnect()', async () => {
    const watcher = await connected(tcp(broker.port), 'emb-will-watch');
    const got = collect(watcher);
    await watcher.subscribe(1, [{ topic: 'emb/will/#', qos: 1 }], NO_RETRY);

    const will = { topic: 'emb/will/a', payload: Buffer.from('gone'), qos: 1 as const, retain: false };
    const a = await connected(tcp(broker.port), 'emb-will-a', { will });
    const closed = nextClose(a);
    a.destroy();
    expect(await closed).toBe('local');
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ topic: 'emb/will/a', qos: 1 });
    expect(got[0]!.payload.toString()).toBe('gone');

    const b = await connected(tcp(broker.port), 'emb-will-b', { will: { ...will, topic: 'emb/will/b' } });
    await b.disconnect();
    // A round trip through the broker after the disconnect: the will would have come first.
    await watcher.publish(2, 'emb/will/marker', Buffer.from('m'), { qos: 1, retain: false }, NO_RETRY);
    await waitFor(() => got.some((m) => m.topic === 'emb/will/marker'));
    expect(got.map((m) => m.topic)).toEqual(['emb/will/a', 'emb/will/marker']);
  });

  it('maps sign-in refusals to CONNACK return codes', async () => {
    broker.setAuthenticator(({ username, password }) => {
      if (username === 'dev' && password?.toString() === 'good') return true;
      if (username === 'dev') return 4;
      return false;
    });
    const ok = await open(tcp(broker.port));
    expect(await ok.connect(connOpts('auth-ok', { username: 'dev', password: 'good' }))).toMatchObject({
      kind: 'accepted',
    });

    const bad = await open(tcp(broker.port));
    const closed = nextClose(bad);
    expect(await bad.connect(connOpts('auth-bad', { username: 'dev', password: 'bad' }))).toEqual({
      kind: 'refused',
      returnCode: 4,
    });
    expect(await closed).toBe('remote-closed');
    expect(bad.state).toBe('closed');

    const anon = await open(tcp(broker.port));
    expect(await anon.connect(connOpts('auth-anon'))).toEqual({ kind: 'refused', returnCode: 5 });
  });

  it("closes with 'remote-closed' (or 'error') when the broker goes away; pending requests resolve 'closed'", async () => {
    const own = await startEmbeddedBroker({ port: 0 });
    cleanups.push(() => own.close());
    // Hold PUBACKs back by never delivering: QoS 1 to a broker whose persistence we stall.
    own.aedes.authorizePublish = () => {
      /* never calls back: the PUBACK never comes */
    };
    const link = await connected(tcp(own.port), 'emb-gone');
    const closed = nextClose(link);
    const pending = link.publish(3, 'x', Buffer.from('y'), { qos: 1, retain: false }, { timeoutMs: 10_000, retries: 0 });
    await waitFor(() => link.inflightIds().length === 1);
    await own.close();
    expect(['remote-closed', 'error']).toContain(await closed);
    expect(await pending).toEqual({ kind: 'closed' });
    expect(link.state).toBe('closed');
  });
});

// ------------------------------------------------------------------------------------------------

describe('wire-level behaviour (scripted raw server)', () => {
  async function fake(opts: Parameters<typeof startFakeBroker>[0] = {}): Promise<FakeBroker> {
    const f = await startFakeBroker(opts);
    cleanups.push(() => f.close());
    return f;
  }

  const publishes = (packets: Packet[]) => packets.filter((p) => p.cmd === 'publish');

  it("detects a missing PINGRESP as 'ping-timeout'", async () => {
    const f = await fake({ answerPings: false });
    const link = await connected(tcp(f.port), 'ka-1', { keepalive: 1 });
    expect(await nextClose(link)).toBe('ping-timeout');
    expect(f.received.some((p) => p.cmd === 'pingreq')).toBe(true);
  });

  it("emits 'pingresp' for answered pings", async () => {
    const f = await fake();
    const link = await connected(tcp(f.port), 'ka-2', { keepalive: 1 });
    await once(link, 'pingresp');
    expect(link.state).toBe('connected');
  });

  it("returns 'timeout' when no CONNACK comes, and drops the transport", async () => {
    const f = await fake({ connack: null });
    const link = await open(tcp(f.port));
    const closed = nextClose(link);
    expect(await link.connect(connOpts('no-connack', { timeoutMs: 200 }))).toEqual({ kind: 'timeout' });
    expect(await closed).toBe('local');
  });

  it("returns 'closed' when the server hangs up before CONNACK", async () => {
    const f = await fake({ closeOnConnect: true });
    const link = await open(tcp(f.port));
    const closed = nextClose(link);
    expect(await link.connect(connOpts('hangup'))).toEqual({ kind: 'closed' });
    expect(await closed).toBe('remote-closed');
  });

  it('sends CONNECT with the chosen protocol, credentials and will', async () => {
    const f = await fake();
    await connected(tcp(f.port), 'wire-connect', {
      protocolVersion: 3,
      keepalive: 30,
      clean: false,
      username: 'u',
      password: Buffer.from('p'),
      will: { topic: 'w', payload: Buffer.from('bye'), qos: 2, retain: true },
    });
    const c = f.received[0];
    expect(c).toMatchObject({
      cmd: 'connect',
      protocolId: 'MQIsdp',
      protocolVersion: 3,
      clientId: 'wire-connect',
      keepalive: 30,
      clean: false,
      username: 'u',
      will: { topic: 'w', qos: 2, retain: true },
    });
  });

  it('retransmits an unacknowledged PUBLISH with DUP=1 and succeeds on its ack', async () => {
    const f = await fake({
      // Swallow the first PUBLISH; the default handler acks the retransmission.
      onPacket: (p, _c, seen) => p.cmd === 'publish' && publishes(seen).length === 1,
    });
    const link = await connected(tcp(f.port), 'rtx-1');
    const counts: number[] = [];
    const outcome = await link.publish(42, 't', Buffer.from('again'), { qos: 1, retain: true }, {
      timeoutMs: 150,
      retries: 3,
      onRetransmit: (n) => counts.push(n),
    });
    expect(outcome).toEqual({ kind: 'ok', value: undefined });
    expect(counts).toEqual([1]);
    const pubs = publishes(f.received);
    expect(pubs).toHaveLength(2);
    expect(pubs[0]).toMatchObject({ messageId: 42, dup: false, qos: 1, retain: true, topic: 't' });
    expect(pubs[1]).toMatchObject({ messageId: 42, dup: true, qos: 1, retain: true, topic: 't' });
    expect((pubs[1] as { payload: Buffer }).payload.toString()).toBe('again');
  });

  it("gives up with 'timeout' after the retries and frees the packet id", async () => {
    let ack = false;
    const f = await fake({ onPacket: (p) => p.cmd === 'publish' && !ack });
    const link = await connected(tcp(f.port), 'rtx-2');
    const counts: number[] = [];
    const outcome = await link.publish(7, 't', Buffer.from('x'), { qos: 1, retain: false }, {
      timeoutMs: 100,
      retries: 2,
      onRetransmit: (n) => counts.push(n),
    });
    expect(outcome).toEqual({ kind: 'timeout' });
    expect(counts).toEqual([1, 2]);
    expect(publishes(f.received).map((p) => (p as { dup: boolean }).dup)).toEqual([false, true, true]);
    expect(link.inflightIds()).toEqual([]);
    // The id is free again.
    ack = true;
    expect(await link.publish(7, 't', Buffer.from('x'), { qos: 1, retain: false }, NO_RETRY)).toEqual({
      kind: 'ok',
      value: undefined,
    });
    expect(link.state).toBe('connected');
  });

  it('retransmits PUBREL when PUBCOMP is missing (QoS 2)', async () => {
    let pubrels = 0;
    const f = await fake({ onPacket: (p) => p.cmd === 'pubrel' && ++pubrels === 1 });
    const link = await connected(tcp(f.port), 'rtx-3');
    const counts: number[] = [];
    const outcome = await link.publish(300, 't2', Buffer.from('q2'), { qos: 2, retain: false }, {
      timeoutMs: 150,
      retries: 2,
      onRetransmit: (n) => counts.push(n),
    });
    expect(outcome).toEqual({ kind: 'ok', value: undefined });
    expect(counts).toEqual([1]);
    expect(f.received.filter((p) => p.cmd !== 'connect').map((p) => p.cmd)).toEqual(['publish', 'pubrel', 'pubrel']);
  });

  it('retransmits SUBSCRIBE and UNSUBSCRIBE as they were', async () => {
    const seen = { subscribe: 0, unsubscribe: 0 };
    const f = await fake({
      onPacket: (p) => (p.cmd === 'subscribe' || p.cmd === 'unsubscribe') && ++seen[p.cmd] === 1,
    });
    const link = await connected(tcp(f.port), 'rtx-4');
    const counts: number[] = [];
    const policy = { timeoutMs: 150, retries: 1, onRetransmit: (n: number) => counts.push(n) };
    expect(await link.subscribe(11, [{ topic: 'a/#', qos: 1 }, { topic: 'b', qos: 2 }], policy)).toEqual({
      kind: 'ok',
      value: [1, 2],
    });
    expect(await link.unsubscribe(12, ['a/#'], policy)).toEqual({ kind: 'ok', value: undefined });
    expect(counts).toEqual([1, 1]);
    const subs = f.received.filter((p) => p.cmd === 'subscribe');
    expect(subs).toHaveLength(2);
    expect(subs[1]).toMatchObject({ messageId: 11, subscriptions: [{ topic: 'a/#', qos: 1 }, { topic: 'b', qos: 2 }] });
    expect(f.received.filter((p) => p.cmd === 'unsubscribe')).toHaveLength(2);
  });

  it("resolves a pending SUBSCRIBE with 'timeout' when never acknowledged", async () => {
    const f = await fake({ onPacket: (p) => p.cmd === 'subscribe' });
    const link = await connected(tcp(f.port), 'rtx-5');
    expect(await link.subscribe(1, [{ topic: 'x', qos: 0 }], { timeoutMs: 100, retries: 1 })).toEqual({
      kind: 'timeout',
    });
  });

  it('acknowledges incoming QoS 1 and QoS 2 messages and reports their ids', async () => {
    const f = await fake();
    const link = await connected(tcp(f.port), 'in-1');
    const got = collect(link);
    const conn = f.connections[0]!;
    conn.send({ cmd: 'publish', topic: 'in/1', payload: Buffer.from('a'), qos: 1, retain: false, dup: false, messageId: 501 });
    conn.send({ cmd: 'publish', topic: 'in/2', payload: Buffer.from('b'), qos: 2, retain: true, dup: true, messageId: 502 });
    await waitFor(() => f.received.some((p) => p.cmd === 'pubrec'));
    conn.send({ cmd: 'pubrel', messageId: 502 });
    await waitFor(() => got.length === 2 && f.received.some((p) => p.cmd === 'pubcomp'));
    expect(got[0]).toMatchObject({ topic: 'in/1', qos: 1, messageId: 501, retain: false, dup: false });
    expect(got[1]).toMatchObject({ topic: 'in/2', qos: 2, messageId: 502, retain: true, dup: true });
    expect(f.received.find((p) => p.cmd === 'puback')).toMatchObject({ messageId: 501 });
  });

  it("disconnect() sends DISCONNECT even with requests in flight; they resolve 'closed'", async () => {
    const f = await fake({ onPacket: (p) => p.cmd === 'publish' });
    const link = await connected(tcp(f.port), 'disc-1');
    const pending = link.publish(5, 't', Buffer.from('x'), { qos: 1, retain: false }, { timeoutMs: 10_000, retries: 0 });
    const closed = nextClose(link);
    await link.disconnect();
    expect(await closed).toBe('disconnected');
    expect(await pending).toEqual({ kind: 'closed' });
    expect(f.received.at(-1)?.cmd).toBe('disconnect');
  });
});
