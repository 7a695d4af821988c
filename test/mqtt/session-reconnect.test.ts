/**
 * The session core's reconnect options that Tencent's SDK needs: reconnecting through a network
 * outage (`reconnectThroughNetworkLoss`) and renewing the subscriptions a clean session held
 * (`resubscribe`). In-memory broker link, TestClock.
 */
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLinkOpener } from '../../src/mqtt/memory-link.js';
import { MqttSession, type AttemptPlan, type SessionOptions } from '../../src/mqtt/session.js';
import { TestClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';

const brokers: Aedes[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await new Promise<void>((r) => b.close(() => r()));
});

const PLAN: AttemptPlan = {
  target: { host: 'broker.example', port: 1883, tls: false },
  openTimeoutMs: 5000,
  connect: { clientId: 'dev1', protocolVersion: 4, keepalive: 0, clean: true, timeoutMs: 5000 },
};
const RETRY = { timeoutMs: 5000, retries: 0 };

async function setup(extra: Partial<SessionOptions>) {
  const broker = await Aedes.createBroker();
  brokers.push(broker);
  const clock = new TestClock();
  const net = { up: true };
  const events: string[] = [];
  const session = new MqttSession({
    name: 't',
    links: memoryLinkOpener(broker),
    clock,
    log: silentLogger(),
    dataReady: () => net.up,
    ids: { source: 'counter', qos0TakesId: false },
    reconnect: () => (n) => (n <= 3 ? 1000 * n : undefined),
    ...extra,
  });
  session.on('lost', (l) => events.push(`lost:${l.reason}:${l.willReconnect}`));
  session.on('reconnecting', () => events.push('reconnecting'));
  session.on('reconnected', () => events.push('reconnected'));
  session.on('reconnect-failed', ({ last }) => events.push(`failed:${last.kind}`));
  session.on('message', (m) => events.push(`message:${m.topic}`));
  expect(await session.start(() => PLAN)).toEqual({ kind: 'connected', sessionPresent: false });
  const publish = (topic: string) =>
    new Promise<void>((r) => broker.publish({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 0, retain: false, dup: false } as never, () => r()));
  return { broker, clock, net, events, session, publish };
}

describe('reconnecting through a network outage', () => {
  it('keeps trying while the network is down and comes back with it', async () => {
    const { clock, net, events, session } = await setup({ reconnectThroughNetworkLoss: true });
    net.up = false;
    session.networkLost();
    expect(events).toEqual(['lost:network-down:true', 'reconnecting']);
    expect(session.state).toBe('reconnecting');
    // A second report of the outage leaves the loop alone.
    session.networkLost();
    await clock.advance(1000); // attempt 1: no network
    expect(session.state).toBe('reconnecting');
    net.up = true;
    await clock.advance(2000); // attempt 2
    expect(events).toEqual(['lost:network-down:true', 'reconnecting', 'reconnected']);
    expect(session.connected).toBe(true);
  });

  it('gives up with the last no-network result when the network stays away', async () => {
    const { clock, net, events, session } = await setup({ reconnectThroughNetworkLoss: true });
    net.up = false;
    session.networkLost();
    await clock.advance(6000);
    expect(events).toEqual(['lost:network-down:true', 'reconnecting', 'failed:no-network']);
    expect(session.state).toBe('idle');
  });

  it('ends the session on a network loss without the option', async () => {
    const { clock, net, events, session } = await setup({});
    net.up = false;
    session.networkLost();
    await clock.advance(6000);
    expect(events).toEqual(['lost:network-down:false']);
    expect(session.state).toBe('idle');
  });
});

describe('renewing subscriptions after a reconnection', () => {
  it('subscribes again to what a clean session held, though its CONNACK emptied the map', async () => {
    const { broker, clock, events, session, publish } = await setup({ resubscribe: () => RETRY });
    const sub = await session.subscribe([{ topic: 'a/b', qos: 1 }], { retry: RETRY });
    expect(sub).toMatchObject({ kind: 'ok', value: [1] });
    // The broker drops the client: a loss that the reconnect policy answers.
    const clients = Object.values((broker as unknown as { clients: Record<string, { close(): void }> }).clients);
    clients[0]!.close();
    await clock.advance(0);
    expect(events).toEqual(['lost:remote-closed:true', 'reconnecting']);
    await clock.advance(1000);
    expect(events).toEqual(['lost:remote-closed:true', 'reconnecting', 'reconnected']);
    expect([...session.subscriptions]).toEqual([['a/b', 1]]);
    await publish('a/b');
    await clock.advance(0);
    expect(events.at(-1)).toBe('message:a/b');
  });
});
