/**
 * The virtual cloud and the modem list of a cluster, in process (issue 12 §1): two embedded
 * brokers as nodes of one private redis-server, each with its virtual cloud; a registration,
 * an activation and a firmware image made on one node are seen on the other, and the directory
 * lists the modems of both and forgets a node that stops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embedded-broker.js';
import { startVirtualCloud, type RunningCloud } from '../../../src/cloud/virtual-cloud.js';
import { startClusterDirectory, type ClusterDirectory } from '../../../src/control/cluster-directory.js';
import { parseRedisUrl } from '../../../src/util/redis-url.js';
import { requires } from '../../helpers/requires.js';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';

const need = requires('redis-server');
const stops: (() => Promise<unknown>)[] = [];
let redis: RedisHandle | undefined;
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  await redis?.stop();
  redis = undefined;
});

async function node(url: string, nodeId: string): Promise<{ broker: EmbeddedBroker; cloud: RunningCloud }> {
  const cluster = { redis: parseRedisUrl(url), nodeId };
  const broker = await startEmbeddedBroker({ port: 0, cluster });
  stops.push(() => broker.close());
  const cloud = await startVirtualCloud({ broker, cluster });
  stops.push(() => cloud.close());
  return { broker, cloud };
}

async function eventually<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await fn();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await fn();
  }
  return v;
}

const fakeModem = (name: string, index: number, state: string) => ({
  name,
  index,
  profile: { id: 'quectel-ec200' },
  imei: `86000000000000${index}`,
  devicePath: `/dev/pts/${index}`,
  controller: { clusterState: () => state },
});

describe.skipIf(need.missing)(`the cloud of a cluster over redis-server${need.note}`, () => {
  it('a firmware image and a device registration made on one node are known on the other', async () => {
    redis = await startRedis();
    const a = await node(redis.url, 'a');
    const b = await node(redis.url, 'b');
    a.cloud.firmware.add('fw-2.0.bin', Buffer.from('image bytes'));
    const img = await eventually(() => b.cloud.firmware.get('fw-2.0.bin'), (v) => v !== undefined);
    expect(img?.md5).toBe((await a.cloud.firmware.get('fw-2.0.bin'))?.md5);

    const product = a.cloud.registry.ensureProduct('tencent', 'PROD1');
    const device = a.cloud.registry.ensureDevice(product, 'dev1');
    a.cloud.registry.update(device, { registered: true, deviceSecret: 'issued-secret', activated: true });
    const seen = await eventually(() => b.cloud.registry.product('tencent', 'PROD1')?.devices.get('dev1'), (d) => d?.activated === true);
    expect(seen).toMatchObject({ registered: true, activated: true, deviceSecret: 'issued-secret' });

    // A node that starts later loads both from Redis.
    const c = await node(redis.url, 'c');
    expect((await c.cloud.firmware.get('fw-2.0.bin'))?.size).toBe(11);
    expect(c.cloud.registry.product('tencent', 'PROD1')?.devices.get('dev1')?.deviceSecret).toBe('issued-secret');

    a.cloud.firmware.remove('fw-2.0.bin');
    expect(await eventually(() => b.cloud.firmware.get('fw-2.0.bin'), (v) => v === undefined)).toBeUndefined();
  });

  it('the directory lists every node\'s modems with their state, and drops a node that stops', async () => {
    redis = await startRedis();
    const ep = parseRedisUrl(redis.url);
    const dirs: ClusterDirectory[] = [];
    const a = await startClusterDirectory({ redis: ep, nodeId: 'node-a', modems: [fakeModem('m0', 0, 'connected'), fakeModem('m1', 1, 'offline')], refreshMs: 200 });
    dirs.push(a);
    const b = await startClusterDirectory({ redis: ep, nodeId: 'node-b', modems: [fakeModem('m0', 0, 'online')], refreshMs: 200 });
    dirs.push(b);
    stops.push(async () => {
      for (const d of dirs) await d.close();
    });
    expect((await b.listModems()).map((m) => `${m.node}/${m.name}/${m.state}`)).toEqual(['node-a/m0/connected', 'node-a/m1/offline', 'node-b/m0/online']);
    expect((await a.listNodes()).map((n) => [n.node, n.modems])).toEqual([['node-a', 2], ['node-b', 1]]);
    await a.close();
    expect((await b.listModems()).map((m) => m.node)).toEqual(['node-b']);
  });
});
