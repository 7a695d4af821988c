/**
 * The cluster's message bus on its own (src/broker/redis-stream-bus.ts) against a private Debian
 * redis-server: what one node emits reaches the matching listeners of every node, in order; a
 * node whose read connection is cut (CLIENT KILL) reads on from where it stopped, so nothing
 * written meanwhile is missed — the case Redis pub/sub loses; an entry it cannot decode is
 * skipped, not fatal.
 */
import { Redis } from 'ioredis';
import msgpack from 'msgpack-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { BUS_KEY, openRedisStreamBus, type RedisStreamBus } from '../../../src/broker/redis-stream-bus.js';
import { silentLogger } from '../../../src/util/logger.js';
import { openRedis } from '../../../src/util/redis-conn.js';
import { parseRedisUrl } from '../../../src/util/redis-url.js';
import { requires } from '../../helpers/requires.js';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';

const need = requires('redis-server');
const stops: (() => unknown)[] = [];
let redis: RedisHandle | undefined;
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  await redis?.stop();
  redis = undefined;
});

async function bus(url: string, name: string): Promise<{ bus: RedisStreamBus; readConn: Redis }> {
  const ep = parseRedisUrl(url);
  const readConn = openRedis(ep, `${name}-read`, silentLogger());
  const pubConn = openRedis(ep, `${name}-write`, silentLogger());
  const b = await openRedisStreamBus({ pubConn, readConn, log: silentLogger() });
  stops.push(() => {
    b.close(() => {});
    readConn.disconnect();
    pubConn.disconnect();
  });
  return { bus: b, readConn };
}

const emit = (b: RedisStreamBus, topic: string, payload: string): Promise<void> =>
  new Promise((resolve, reject) => b.emit({ topic, payload: Buffer.from(payload), qos: 1 }, (err) => (err ? reject(err) : resolve())));

function collect(b: RedisStreamBus, topic: string): string[] {
  const got: string[] = [];
  b.on(topic, (m, done) => {
    got.push(`${m.topic}=${(m.payload as Buffer).toString()}`);
    done();
  });
  return got;
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe.skipIf(need.missing)(`the cluster message bus over a Redis stream${need.note}`, { timeout: 60_000 }, () => {
  it('a message emitted on one node reaches the matching listeners of both nodes, in order, with its payload bytes', async () => {
    redis = await startRedis();
    const a = await bus(redis.url, 'a');
    const b = await bus(redis.url, 'b');
    const onA = collect(a.bus, 'dev/+/up');
    const onB = collect(b.bus, 'dev/#');
    const other = collect(b.bus, 'other/x');
    for (let i = 0; i < 20; i++) await emit(a.bus, `dev/${i % 3}/up`, `p${i}`);
    await until(() => onA.length === 20 && onB.length === 20);
    const want = Array.from({ length: 20 }, (_, i) => `dev/${i % 3}/up=p${i}`);
    expect(onA).toEqual(want);
    expect(onB).toEqual(want);
    expect(other).toEqual([]);
  });

  it('a node whose read connection is cut reads on from where it stopped: nothing written meanwhile is missed', async () => {
    redis = await startRedis();
    const a = await bus(redis.url, 'a');
    const b = await bus(redis.url, 'b');
    const onB = collect(b.bus, 't');
    await emit(a.bus, 't', 'before');
    await until(() => onB.length === 1);
    // Cut b's reader and write while it is away (ioredis reconnects it by itself).
    const admin = new Redis(redis.port, '127.0.0.1');
    stops.push(() => admin.disconnect());
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    const during = Array.from({ length: 50 }, (_, i) => `during-${i}`);
    for (const p of during) await emit(a.bus, 't', p);
    await until(() => onB.length === 51);
    expect(onB).toEqual(['t=before', ...during.map((p) => `t=${p}`)]);
  });

  it('an entry added in the very millisecond the bus started reading is delivered', async () => {
    redis = await startRedis();
    const ep = parseRedisUrl(redis.url);
    const readConn = openRedis(ep, 'same-ms-read', silentLogger());
    const pubConn = openRedis(ep, 'same-ms-write', silentLogger());
    stops.push(() => {
      readConn.disconnect();
      pubConn.disconnect();
    });
    // The bus takes "now" from Redis' TIME: make that a known millisecond (ahead of the clock, so
    // the entry below may carry that millisecond's first id explicitly).
    const [sec] = await readConn.time();
    const startMs = (Number(sec) + 10) * 1000;
    readConn.time = (async () => [String(startMs / 1000), '0']) as unknown as typeof readConn.time;
    const b = await openRedisStreamBus({ pubConn, readConn, log: silentLogger() });
    stops.push(() => b.close(() => {}));
    const got = collect(b, 't');
    const admin = new Redis(redis.port, '127.0.0.1');
    stops.push(() => admin.disconnect());
    await admin.xadd(BUS_KEY, `${startMs}-0`, 'm', msgpack.encode({ topic: 't', payload: Buffer.from('same-ms'), qos: 1 }));
    await until(() => got.length === 1);
    expect(got).toEqual(['t=same-ms']);
  });

  it('an entry no node can decode is skipped, and the messages after it are delivered', async () => {
    redis = await startRedis();
    const a = await bus(redis.url, 'a');
    const onA = collect(a.bus, 't');
    const admin = new Redis(redis.port, '127.0.0.1');
    stops.push(() => admin.disconnect());
    await admin.xadd(BUS_KEY, '*', 'm', Buffer.from([0xc1]));
    await admin.xadd(BUS_KEY, '*', 'other', 'x');
    await emit(a.bus, 't', 'after');
    await until(() => onA.length === 1);
    expect(onA).toEqual(['t=after']);
    expect(a.bus.delivered).toBe(1);
  });
});
