/**
 * The session core on the in-memory broker link and a clock the test drives: packet-id rules,
 * in-flight refusal, retransmission in virtual time, loss, reconnection, message ordering.
 */
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { memoryLinkOpener } from '../../src/mqtt/memory-link.js';
import { MqttSession, type PacketIdRule, type ReconnectDelays, type SessionLoss } from '../../src/mqtt/session.js';
import type { ConnectOptions, IncomingMessage } from '../../src/mqtt/types.js';
import { TestClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { startFakeBroker, type FakeBroker } from './fake-broker.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CONNECT: ConnectOptions = { clientId: 'dev', protocolVersion: 4, keepalive: 0, clean: true, timeoutMs: 5000 };
const RETRY = { timeoutMs: 20_000, retries: 0 };

interface Rig {
  session: MqttSession;
  clock: TestClock;
  events: string[];
  messages: IncomingMessage[];
  network: { up: boolean };
}

async function embedded(): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker({ port: 0 });
  cleanups.push(() => b.close());
  return b;
}

function rig(broker: { handle: EmbeddedBroker['aedes']['handle'] } | FakeBroker, ids: PacketIdRule, extra: { reconnect?: () => ReconnectDelays | undefined } = {}): Rig {
  const clock = new TestClock();
  const network = { up: true };
  const session = new MqttSession({
    name: 't',
    links: memoryLinkOpener(broker),
    clock,
    log: silentLogger(),
    dataReady: () => network.up,
    ids,
    reconnect: extra.reconnect,
    onFault: (err) => {
      throw err;
    },
  });
  const events: string[] = [];
  const messages: IncomingMessage[] = [];
  session.on('lost', (l: SessionLoss) => events.push(`lost:${l.reason}:${l.phase}:${l.willReconnect}`));
  session.on('reconnecting', () => events.push('reconnecting'));
  session.on('reconnected', () => events.push('reconnected'));
  session.on('reconnect-failed', (f) => events.push(`gave-up:${f.last.kind}`));
  session.on('message', (m) => messages.push(m));
  cleanups.push(() => session.destroy());
  return { session, clock, events, messages, network };
}

const plan = () => ({ target: { host: 'h', port: 1883, tls: false }, openTimeoutMs: 1000, connect: CONNECT });

async function connect(r: Rig): Promise<void> {
  expect(await r.session.start(plan)).toEqual({ kind: 'connected', sessionPresent: false });
}

describe('packet ids', () => {
  it('refuses a caller id still in flight, a bad id, and requests while not connected — never throws', async () => {
    const broker = await embedded();
    const held: (() => void)[] = [];
    broker.aedes.authorizeSubscribe = (_c, sub, cb) => held.push(() => cb(null, sub));
    const r = rig(broker.aedes, { source: 'caller' });
    expect(await r.session.subscribe([{ topic: 'a', qos: 1 }], { id: 1, retry: RETRY })).toEqual({ kind: 'rejected', reason: 'not-connected' });
    await connect(r);
    const first = r.session.subscribe([{ topic: 'a', qos: 1 }], { id: 1, retry: RETRY });
    expect(r.session.inFlight(1)).toBe(true);
    expect(await r.session.subscribe([{ topic: 'b', qos: 1 }], { id: 1, retry: RETRY })).toEqual({ kind: 'rejected', reason: 'in-flight' });
    expect(await r.session.unsubscribe(['a'], { id: 1, retry: RETRY })).toEqual({ kind: 'rejected', reason: 'in-flight' });
    expect(await r.session.publish('t', Buffer.from('x'), { id: 1, qos: 1, retain: false, retry: RETRY })).toEqual({ kind: 'rejected', reason: 'in-flight' });
    expect(await r.session.subscribe([{ topic: 'b', qos: 1 }], { id: 0, retry: RETRY })).toEqual({ kind: 'rejected', reason: 'bad-id' });
    expect(await r.session.subscribe([{ topic: 'b', qos: 1 }], { id: 65536, retry: RETRY })).toEqual({ kind: 'rejected', reason: 'bad-id' });
    while (held.length === 0) await r.clock.advance(0);
    held.shift()!();
    expect(await first).toEqual({ kind: 'ok', id: 1, value: [1] });
    expect(r.session.inFlight(1)).toBe(false);
    expect(r.session.subscriptions.get('a')).toBe(1);
  });

  it('counts from 1, skips ids in flight, numbers QoS 0 when the rule says so, and restarts after CONNECT', async () => {
    const broker = await embedded();
    const r = rig(broker.aedes, { source: 'counter', qos0TakesId: true, afterConnect: 1 });
    await connect(r);
    const ids: number[] = [];
    const onId = (id: number) => ids.push(id);
    await r.session.subscribe([{ topic: 'a', qos: 0 }], { retry: RETRY, onId });
    await r.session.publish('t', Buffer.from('x'), { qos: 0, retain: false, retry: RETRY, onId });
    await r.session.publish('t', Buffer.from('y'), { qos: 1, retain: false, retry: RETRY, onId });
    expect(ids).toEqual([2, 3, 4]);
    await r.session.disconnect();
    await connect(r);
    await r.session.unsubscribe(['a'], { retry: RETRY, onId });
    expect(ids).toEqual([2, 3, 4, 2]);
  });

  it('picks the packet id itself for a caller id of 0 when the rule allows it (never 0 on the wire)', async () => {
    const fake = await startFakeBroker({ onPacket: (p) => p.cmd === 'subscribe' });
    cleanups.push(() => fake.close());
    const r = rig(fake, { source: 'caller', zeroPicks: true });
    await connect(r);
    const ids: number[] = [];
    void r.session.subscribe([{ topic: 'a', qos: 1 }], { id: 0, retry: RETRY, onId: (id) => ids.push(id) });
    void r.session.subscribe([{ topic: 'b', qos: 1 }], { id: 0, retry: RETRY, onId: (id) => ids.push(id) });
    await r.clock.advance(0);
    expect(ids).toEqual([65535, 65534]);
    expect(fake.received.filter((p) => p.cmd === 'subscribe').map((p) => (p as { messageId: number }).messageId)).toEqual([65535, 65534]);
  });

  it('gives QoS 0 publishes no id when the rule says they take none', async () => {
    const broker = await embedded();
    const r = rig(broker.aedes, { source: 'counter', qos0TakesId: false });
    await connect(r);
    const r0 = await r.session.publish('t', Buffer.from('x'), { qos: 0, retain: false, retry: RETRY });
    const r1 = await r.session.publish('t', Buffer.from('y'), { qos: 1, retain: false, retry: RETRY });
    expect([r0, r1]).toEqual([
      { kind: 'ok', id: 0, value: undefined },
      { kind: 'ok', id: 1, value: undefined },
    ]);
  });
});

describe('retransmission on the injected clock', () => {
  it('waits 20 s of virtual time, retransmits with DUP, then times out and frees the id', async () => {
    const fake = await startFakeBroker({ onPacket: (p) => p.cmd === 'publish' });
    cleanups.push(() => fake.close());
    const r = rig(fake, { source: 'caller' });
    await connect(r);
    const notices: number[] = [];
    const result = r.session.publish('t', Buffer.from('x'), {
      id: 9,
      qos: 1,
      retain: false,
      retry: { timeoutMs: 20_000, retries: 2, onRetransmit: (n) => notices.push(n) },
    });
    await r.clock.advance(19_999);
    expect(notices).toEqual([]);
    await r.clock.advance(1);
    expect(notices).toEqual([1]);
    await r.clock.advance(40_000);
    expect(await result).toEqual({ kind: 'timeout', id: 9 });
    expect(notices).toEqual([1, 2]);
    const dups = fake.received.filter((p) => p.cmd === 'publish').map((p) => (p as { dup: boolean }).dup);
    expect(dups).toEqual([false, true, true]);
    expect(r.session.inFlight(9)).toBe(false);
  });
});

describe('loss and reconnection', () => {
  it('reports a broker drop as a loss and goes idle without a policy', async () => {
    const broker = await embedded();
    const r = rig(broker.aedes, { source: 'caller' });
    await connect(r);
    for (const c of Object.values((broker.aedes as unknown as { clients: Record<string, { close(): void }> }).clients)) c.close();
    await r.clock.advance(0);
    expect(r.events).toEqual(['lost:remote-closed:connected:false']);
    expect(r.session.state).toBe('idle');
  });

  it('reconnects on the policy’s schedule in virtual time and gives up when it says so', async () => {
    const fake = await startFakeBroker();
    cleanups.push(() => fake.close());
    let accept = true;
    const r = rig(
      {
        ...fake,
        handle: (s: Duplex) => {
          if (accept) fake.handle(s);
          else s.destroy();
        },
      },
      { source: 'counter', qos0TakesId: false },
      { reconnect: () => (n) => (n <= 2 ? n * 10_000 : undefined) },
    );
    await connect(r);
    accept = false;
    for (const c of fake.connections) c.socket.destroy();
    await r.clock.advance(0);
    expect(r.events).toEqual(['lost:remote-closed:connected:true', 'reconnecting']);
    expect(r.session.state).toBe('reconnecting');
    await r.clock.advance(9_999);
    expect(fake.connections.length).toBe(1);
    await r.clock.advance(1);
    await r.clock.advance(19_999);
    expect(r.events.at(-1)).toBe('reconnecting');
    await r.clock.advance(1);
    // Both attempts found the broker hanging up before CONNACK.
    expect(r.events.at(-1)).toBe('gave-up:closed');
    expect(r.session.state).toBe('idle');
  });

  it('reports the reconnection once an attempt succeeds', async () => {
    const fake = await startFakeBroker();
    cleanups.push(() => fake.close());
    let accept = true;
    const r = rig(
      { ...fake, handle: (s: Duplex) => (accept ? fake.handle(s) : s.destroy()) },
      { source: 'counter', qos0TakesId: false },
      { reconnect: () => (n) => (n <= 3 ? 1000 : undefined) },
    );
    await connect(r);
    accept = false;
    for (const c of fake.connections) c.socket.destroy();
    await r.clock.advance(1000);
    accept = true;
    await r.clock.advance(1000);
    expect(r.events).toEqual(['lost:remote-closed:connected:true', 'reconnecting', 'reconnected']);
    expect(r.session.state).toBe('connected');
  });

  it('ends with a network-down loss and no reconnection when the network goes', async () => {
    const broker = await embedded();
    const r = rig(broker.aedes, { source: 'caller' }, { reconnect: () => () => 1000 });
    await connect(r);
    r.network.up = false;
    r.session.networkLost();
    expect(r.events).toEqual(['lost:network-down:connected:false']);
    expect(r.session.state).toBe('idle');
    expect(await r.session.start(plan)).toEqual({ kind: 'no-network' });
  });

  it('reports a refused CONNECT first, then the broker closing the transport', async () => {
    const broker = await embedded();
    broker.setAuthenticator(() => 5);
    const r = rig(broker.aedes, { source: 'caller' });
    expect((await r.session.open({ host: 'h', port: 1, tls: false }, 1000)).kind).toBe('opened');
    expect(await r.session.connect(CONNECT)).toEqual({ kind: 'refused', returnCode: 5 });
    expect(r.events).toEqual([]);
    await r.clock.advance(0);
    expect(r.events).toEqual(['lost:remote-closed:open:false']);
  });

  it('refuses an empty client id with a persistent session as CONNACK 2, without sending it', async () => {
    const broker = await embedded();
    const r = rig(broker.aedes, { source: 'caller' });
    const result = await r.session.start(() => ({ ...plan(), connect: { ...CONNECT, clientId: '', clean: false } }));
    expect(result).toEqual({ kind: 'refused', returnCode: 2 });
    expect(r.session.state).toBe('idle');
  });
});

describe('received messages', () => {
  it('delivers messages one macrotask after they arrive, in order', async () => {
    const broker = await embedded();
    const r = rig(broker.aedes, { source: 'counter', qos0TakesId: false });
    await connect(r);
    await r.session.subscribe([{ topic: 'down', qos: 1 }], { retry: RETRY });
    for (const p of ['1', '2', '3']) {
      await new Promise<void>((res) =>
        broker.aedes.publish({ cmd: 'publish', topic: 'down', payload: Buffer.from(p), qos: 1, retain: false, dup: false } as never, () => res()),
      );
    }
    await r.clock.advance(0);
    expect(r.messages.map((m) => m.payload.toString())).toEqual(['1', '2', '3']);
  });

  it('cancels its waits on destroy: no timer is left behind', async () => {
    const broker = await embedded();
    const r = rig(broker.aedes, { source: 'caller' }, { reconnect: () => () => 60_000 });
    await connect(r);
    void r.session.sleep(5000);
    r.session.destroy();
    expect(r.clock.pending).toBe(0);
  });
});
