/**
 * The vendor-neutral MQTT link (src/mqtt/link.ts) against Debian's mosquitto as the broker and
 * mosquitto_pub / mosquitto_sub as third-party clients (moved from test/mqtt/link.test.ts, which
 * tests it against the embedded broker and a scripted server).
 */
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openLink } from '../../../src/mqtt/link.js';
import type {
  BrokerTarget,
  CloseReason,
  ConnectOptions,
  IncomingMessage,
  MqttLink,
} from '../../../src/mqtt/types.js';
import { mosquittoPub, startMosquitto, startMosquittoSub, type MosquittoHandle } from '../../helpers/mosquitto.js';
import { requires } from '../../helpers/requires.js';

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

const need = requires('mosquitto', 'mosquitto_passwd', 'mosquitto_sub', 'mosquitto_pub');

describe.skipIf(need.missing)(`against mosquitto${need.note}`, () => {
  let mosq: MosquittoHandle;
  let secured: MosquittoHandle;
  beforeAll(async () => {
    // Assigned one by one so afterAll stops whichever started even if the other failed.
    const started = [
      startMosquitto().then((h) => (mosq = h)),
      startMosquitto({ passwordFile: { user: 'dev', pass: 's3cret' } }).then((h) => (secured = h)),
    ];
    const results = await Promise.allSettled(started);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  });
  afterAll(async () => {
    await Promise.all([mosq?.stop(), secured?.stop()]);
  });

  it('connects with MQTT 3.1.1 and MQTT 3.1 (MQIsdp)', async () => {
    const a = await connected(tcp(mosq.port), 'mq-v311');
    const b = await connected(tcp(mosq.port), 'mq-v31', { protocolVersion: 3 });
    await a.disconnect();
    await b.disconnect();
  });

  it('checks the password: accepted, or refused with return code 5', async () => {
    await connected(tcp(secured.port), 'pw-ok', { username: 'dev', password: 's3cret' });
    const bad = await open(tcp(secured.port));
    const closed = nextClose(bad);
    expect(await bad.connect(connOpts('pw-bad', { username: 'dev', password: 'wrong' }))).toEqual({
      kind: 'refused',
      returnCode: 5,
    });
    expect(await closed).toBe('remote-closed');
  });

  it('receives what mosquitto_pub publishes', async () => {
    const link = await connected(tcp(mosq.port), 'mq-sub');
    const got = collect(link);
    expect(await link.subscribe(1, [{ topic: 'mq/in/#', qos: 1 }], NO_RETRY)).toEqual({ kind: 'ok', value: [1] });
    await mosquittoPub(mosq.port, 'mq/in/a', 'hello from mosquitto_pub', { qos: 1 });
    await mosquittoPub(mosq.port, 'mq/in/b', Buffer.from([0, 0x1a, 0xff]), { qos: 0 });
    await waitFor(() => got.length === 2);
    expect(got[0]).toMatchObject({ topic: 'mq/in/a', qos: 1, retain: false });
    expect(got[0]!.messageId).toBeGreaterThan(0);
    expect(got[0]!.payload.toString()).toBe('hello from mosquitto_pub');
    expect(got[1]).toMatchObject({ topic: 'mq/in/b', qos: 0, messageId: 0 });
    expect([...got[1]!.payload]).toEqual([0, 0x1a, 0xff]);
  });

  it('publishes QoS 0/1/2 that mosquitto_sub receives', async () => {
    const sub = startMosquittoSub(mosq.port, 'mq/out/#', { count: 3, qos: 2, withFlags: true, timeoutMs: 5000 });
    cleanups.push(() => sub.kill());
    await sub.ready;
    const link = await connected(tcp(mosq.port), 'mq-pub');
    for (const qos of [0, 1, 2] as const) {
      expect(await link.publish(100 + qos, `mq/out/${qos}`, Buffer.from(`payload q${qos} with spaces`), { qos, retain: false }, NO_RETRY)).toEqual({
        kind: 'ok',
        value: undefined,
      });
    }
    const msgs = await sub.done;
    expect(msgs).toEqual([
      { topic: 'mq/out/0', payload: 'payload q0 with spaces', retain: false, qos: 0 },
      { topic: 'mq/out/1', payload: 'payload q1 with spaces', retain: false, qos: 1 },
      { topic: 'mq/out/2', payload: 'payload q2 with spaces', retain: false, qos: 2 },
    ]);
  });

  it('publishes retained messages (binary-safe) that a later mosquitto_sub gets with retain set', async () => {
    const link = await connected(tcp(mosq.port), 'mq-retain');
    const payload = Buffer.from([0x00, 0x0d, 0x0a, 0x1a, 0xff]);
    await link.publish(5, 'mq/retained', payload, { qos: 1, retain: true }, NO_RETRY);
    const msgs = await startMosquittoSub(mosq.port, 'mq/retained', { hex: true, withFlags: true, qos: 1 }).done;
    expect(msgs).toEqual([{ topic: 'mq/retained', payload: '000d0a1aff', retain: true, qos: 1 }]);
    await link.publish(6, 'mq/retained', Buffer.alloc(0), { qos: 1, retain: true }, NO_RETRY);
  });

  it('has its will published by mosquitto after destroy()', async () => {
    const sub = startMosquittoSub(mosq.port, 'mq/will', { count: 1, timeoutMs: 5000 });
    cleanups.push(() => sub.kill());
    await sub.ready;
    const link = await connected(tcp(mosq.port), 'mq-will', {
      will: { topic: 'mq/will', payload: Buffer.from('modem lost'), qos: 1, retain: false },
    });
    link.destroy();
    expect(await sub.done).toEqual([{ topic: 'mq/will', payload: 'modem lost' }]);
  });

  it("closes with 'remote-closed' when mosquitto is killed", async () => {
    const own = await startMosquitto();
    cleanups.push(() => own.stop());
    const link = await connected(tcp(own.port), 'mq-killed', { keepalive: 60 });
    const closed = nextClose(link);
    await own.kill();
    expect(['remote-closed', 'error']).toContain(await closed);
  });
});
