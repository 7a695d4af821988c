/**
 * The virtual cloud of a cluster (issue 12 §1): what one node's cloud learns at run time —
 * credentials issued by dynamic registration, activations, firmware images added through the
 * control API — is shared with every node through Redis, not a home-made protocol. Each change is
 * written to a Redis hash (so a node that starts later loads it) and announced on a channel (so
 * running nodes apply it at once; sign-ins are decided synchronously from the local registry).
 *
 * Keys (prefix `vmodem:`): `cloud:devices` (field platform/product/device → JSON),
 * `cloud:firmware` (field image name → bytes), channel `cloud:changed`.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { openRedis } from '../util/redis-conn.js';
import type { RedisEndpoint } from '../util/redis-url.js';
import type { FirmwareCatalog } from './firmware-catalog.js';
import type { DeviceEntry, DeviceRegistry } from './registry.js';
import { apply, persistedDevice, validEntry, type PersistedDevice } from './registry-state.js';

export const CLOUD_KEYS = {
  devices: 'vmodem:cloud:devices',
  firmware: 'vmodem:cloud:firmware',
  changed: 'vmodem:cloud:changed',
} as const;

type Change =
  | { node: string; kind: 'device'; device: PersistedDevice }
  | { node: string; kind: 'firmware'; name: string; present: boolean };

export interface SharedCloudState {
  /** Resolves once every change made here so far is in Redis. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

function deviceField(d: { platform: string; productId: string; deviceName: string }): string {
  return `${d.platform}/${d.productId}/${d.deviceName}`;
}

/**
 * Load the cluster's cloud state into `registry` and `firmware`, then keep both in step with the
 * other nodes.
 */
export async function shareCloudState(
  registry: DeviceRegistry,
  firmware: FirmwareCatalog,
  opts: { redis: RedisEndpoint; nodeId: string; log?: Logger },
): Promise<SharedCloudState> {
  const log = (opts.log ?? silentLogger()).child({ component: 'cloud-cluster' });
  const node = opts.nodeId;
  const db: Redis = openRedis(opts.redis, 'cloud', log);
  const sub: Redis = openRedis(opts.redis, 'cloud-sub', log);

  const applyDevice = (e: unknown): void => {
    if (!validEntry(e)) {
      log.warn({ entry: e }, 'cluster cloud state: not a device entry; ignored');
      return;
    }
    apply(registry, e, log);
  };
  const applyFirmware = async (name: string, present: boolean): Promise<void> => {
    if (!present) {
      firmware.remove(name, { quiet: true });
      return;
    }
    const data = await db.hgetBuffer(CLOUD_KEYS.firmware, name);
    if (data) firmware.add(name, data, { quiet: true });
  };

  // Subscribe before loading: a change made between the load and the subscription is not lost
  // (applying one twice is harmless).
  sub.on('message', (_channel: string, text: string) => {
    let change: Change;
    try {
      change = JSON.parse(text) as Change;
    } catch {
      return;
    }
    if (change.node === node) return;
    if (change.kind === 'device') applyDevice(change.device);
    else if (change.kind === 'firmware' && typeof change.name === 'string') {
      applyFirmware(change.name, change.present).catch((err: unknown) => log.warn({ err, name: change.name }, 'cluster cloud state: cannot load a firmware image'));
    }
  });
  await sub.subscribe(CLOUD_KEYS.changed);

  const devices = await db.hgetall(CLOUD_KEYS.devices);
  for (const text of Object.values(devices)) {
    try {
      applyDevice(JSON.parse(text));
    } catch {
      log.warn('cluster cloud state: a device entry is not JSON; ignored');
    }
  }
  const images = await db.hgetallBuffer(CLOUD_KEYS.firmware);
  for (const [name, data] of Object.entries(images)) {
    try {
      firmware.add(name, data, { quiet: true });
    } catch (err) {
      log.warn({ name, err: (err as Error).message }, 'cluster cloud state: bad firmware name; ignored');
    }
  }
  log.info({ devices: Object.keys(devices).length, firmware: Object.keys(images).length }, 'cluster cloud state loaded');

  let writing: Promise<unknown> = Promise.resolve();
  const queue = (what: string, fn: () => Promise<unknown>): void => {
    writing = writing.then(fn).catch((err: unknown) => log.warn({ err, what }, 'cluster cloud state: cannot write to Redis'));
  };
  const onDevice = (d: DeviceEntry): void => {
    const device = persistedDevice(d);
    queue('device', () =>
      db.multi().hset(CLOUD_KEYS.devices, deviceField(device), JSON.stringify(device)).publish(CLOUD_KEYS.changed, JSON.stringify({ node, kind: 'device', device } satisfies Change)).exec(),
    );
  };
  registry.on('change', onDevice);
  firmware.onChange((name, data) => {
    const change = JSON.stringify({ node, kind: 'firmware', name, present: data !== null } satisfies Change);
    queue('firmware', () =>
      (data ? db.multi().hset(CLOUD_KEYS.firmware, name, data) : db.multi().hdel(CLOUD_KEYS.firmware, name)).publish(CLOUD_KEYS.changed, change).exec(),
    );
  });

  let closing: Promise<void> | undefined;
  return {
    flush: async () => {
      await writing;
    },
    close: () =>
      (closing ??= (async () => {
        registry.off('change', onDevice);
        firmware.onChange(undefined);
        await writing;
        sub.disconnect();
        db.disconnect();
      })()),
  };
}
