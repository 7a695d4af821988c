import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { openLink } from '../../src/mqtt/link.js';
import type { CloseReason, MqttLink } from '../../src/mqtt/types.js';
import { freePort } from '../helpers/mosquitto.js';

const brokers: EmbeddedBroker[] = [];
const links: MqttLink[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  for (const l of links.splice(0)) l.destroy();
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function start(opts: Parameters<typeof startEmbeddedBroker>[0] = { port: 0 }): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker(opts);
  brokers.push(b);
  return b;
}

async function link(port: number, clientId: string, extra: { username?: string; password?: string } = {}) {
  const l = await openLink({ target: { host: '127.0.0.1', port, tls: false }, timeoutMs: 2000 });
  links.push(l);
  const outcome = await l.connect({ clientId, protocolVersion: 4, keepalive: 0, clean: true, timeoutMs: 2000, ...extra });
  return { l, outcome };
}

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('startEmbeddedBroker', () => {
  it('listens on an ephemeral port on 127.0.0.1 by default', async () => {
    const b = await start();
    expect(b.host).toBe('127.0.0.1');
    expect(b.port).toBeGreaterThan(0);
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    const { outcome } = await link(b.port, 'c1');
    expect(outcome).toEqual({ kind: 'accepted', sessionPresent: false });
  });

  it('listens on a chosen port', async () => {
    const port = await freePort();
    const b = await start({ port });
    expect(b.port).toBe(port);
  });

  it('rejects a busy port with a clear message and code EADDRINUSE', async () => {
    const b = await start();
    const err = (await startEmbeddedBroker({ port: b.port }).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toMatch(new RegExp(`port ${b.port} .*already in use`));
    expect(err.message).toContain('--mqtt-port');

    // Also when something other than a broker holds the port.
    const other = net.createServer();
    servers.push(other);
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as net.AddressInfo).port;
    await expect(startEmbeddedBroker({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('reports client publishes through onPublish (no $SYS, no broker-internal)', async () => {
    const b = await start();
    const seen: BrokerPublish[] = [];
    const off = b.onPublish((m) => seen.push(m));
    const { l } = await link(b.port, 'pub-client');
    await l.publish(17, 'obs/a', Buffer.from('one'), { qos: 1, retain: true }, { timeoutMs: 2000, retries: 0 });
    // A second client (test/system/broker/embedded-broker-mosquitto.test.ts uses mosquitto_pub).
    const { l: other } = await link(b.port, 'other-client');
    expect(await other.publish(0, 'obs/b', Buffer.from('two'), { qos: 0, retain: false }, { timeoutMs: 2000, retries: 0 })).toEqual({ kind: 'ok', value: undefined });
    await new Promise<void>((r) => b.aedes.publish({ cmd: 'publish', topic: 'obs/internal', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, () => r()));
    await waitFor(() => seen.length >= 2);
    expect(seen.map((m) => m.topic)).toEqual(['obs/a', 'obs/b']);
    expect(seen[0]).toMatchObject({ clientId: 'pub-client', qos: 1, retain: true, dup: false, messageId: 17 });
    expect(seen[0]!.payload.toString()).toBe('one');
    expect(seen.every((m) => !m.topic.startsWith('$SYS'))).toBe(true);

    off();
    await l.publish(18, 'obs/c', Buffer.from('three'), { qos: 1, retain: false }, { timeoutMs: 2000, retries: 0 });
    expect(seen).toHaveLength(2);
  });

  it('applies the authenticator given at start and setAuthenticator later', async () => {
    const b = await start({ port: 0, authenticate: async ({ username }) => username === 'a' });
    expect((await link(b.port, 'x1', { username: 'a' })).outcome.kind).toBe('accepted');
    expect((await link(b.port, 'x2', { username: 'b' })).outcome).toEqual({ kind: 'refused', returnCode: 5 });

    b.setAuthenticator(({ password }) => (password?.toString() === 'pw' ? true : 4));
    expect((await link(b.port, 'x3', { username: 'b', password: 'pw' })).outcome.kind).toBe('accepted');
    expect((await link(b.port, 'x4', { username: 'b', password: 'no' })).outcome).toEqual({
      kind: 'refused',
      returnCode: 4,
    });

    b.setAuthenticator(() => {
      throw Object.assign(new Error('server busy'), { returnCode: 3 });
    });
    expect((await link(b.port, 'x5')).outcome).toEqual({ kind: 'refused', returnCode: 3 });

    b.setAuthenticator(null);
    expect((await link(b.port, 'x6')).outcome.kind).toBe('accepted');
  });

  it('close() drops MQTT clients and idle sockets, frees the port, and is idempotent', async () => {
    const b = await startEmbeddedBroker({ port: 0 });
    const { l } = await link(b.port, 'held');
    const closed = new Promise<CloseReason>((r) => l.once('close', r));
    // A raw TCP connection that never sends CONNECT must not keep close() waiting.
    const idle = net.connect({ host: '127.0.0.1', port: b.port });
    idle.on('error', () => {});
    await new Promise<void>((r) => idle.once('connect', () => r()));
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));

    await b.close();
    await b.close();
    expect(['remote-closed', 'error']).toContain(await closed);
    await idleClosed;

    const again = await start({ port: b.port });
    expect(again.port).toBe(b.port);
  });
});
