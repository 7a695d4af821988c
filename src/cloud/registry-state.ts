/**
 * Persistence of what the virtual cloud learns at run time — credentials issued by dynamic
 * registration and which devices have signed in (activated) — so a restarted vmodem still
 * accepts a module that registered before, and still refuses a second registration of an
 * activated device. One JSON file (mode 0600: it holds secrets), rewritten atomically after each
 * change. Delete it to make the cloud forget.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { PLATFORMS, type DeviceEntry, type DeviceRegistry, type Platform } from './registry.js';

export interface PersistedDevice {
  platform: Platform;
  productId: string;
  deviceName: string;
  registered: boolean;
  activated: boolean;
  deviceSecret?: string;
  clientId?: string;
  deviceToken?: string;
}

interface StateFile {
  version: 1;
  devices: PersistedDevice[];
}

export interface RegistryStateStore {
  readonly file: string;
  /** Resolves once every change so far is on disk. */
  flush(): Promise<void>;
  /** Stop listening for changes (after a final flush). */
  close(): Promise<void>;
}

/** What is kept of one device: its dynamic state, and only the credentials the cloud issued. */
export function persistedDevice(d: DeviceEntry): PersistedDevice {
  const p: PersistedDevice = {
    platform: d.platform,
    productId: d.productId,
    deviceName: d.deviceName,
    registered: d.registered,
    activated: d.activated,
  };
  // Only credentials the cloud issued; the registry file stays the source of the others.
  if (d.registered) {
    if (d.deviceSecret !== undefined) p.deviceSecret = d.deviceSecret;
    if (d.clientId !== undefined) p.clientId = d.clientId;
    if (d.deviceToken !== undefined) p.deviceToken = d.deviceToken;
  }
  return p;
}

export function snapshot(registry: DeviceRegistry): StateFile {
  const devices: PersistedDevice[] = [];
  for (const d of registry.devices()) {
    if (!d.registered && !d.activated) continue;
    devices.push(persistedDevice(d));
  }
  return { version: 1, devices };
}

export function validEntry(e: unknown): e is PersistedDevice {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Record<string, unknown>;
  const optString = (k: string): boolean => o[k] === undefined || typeof o[k] === 'string';
  return (
    (PLATFORMS as readonly unknown[]).includes(o.platform) &&
    typeof o.productId === 'string' &&
    typeof o.deviceName === 'string' &&
    typeof o.registered === 'boolean' &&
    typeof o.activated === 'boolean' &&
    optString('deviceSecret') &&
    optString('clientId') &&
    optString('deviceToken')
  );
}

/**
 * Load `file` into `registry` (when it exists) and keep it up to date from then on. Entries for
 * products a strict registry no longer lists, or devices it lists no more (without `autoCreate`),
 * are dropped with a warning.
 */
export async function attachRegistryState(registry: DeviceRegistry, file: string, opts: { log?: Logger } = {}): Promise<RegistryStateStore> {
  const log = (opts.log ?? silentLogger()).child({ component: 'cloud-state' });
  let text: string | undefined;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file}: cannot read the cloud state (${(err as Error).message})`, { cause: err });
  }
  if (text !== undefined) {
    let data: StateFile;
    try {
      data = JSON.parse(text) as StateFile;
    } catch {
      throw new Error(`${file}: the cloud state is not valid JSON (delete it to start afresh)`);
    }
    if (data?.version !== 1 || !Array.isArray(data.devices) || !data.devices.every(validEntry)) {
      throw new Error(`${file}: not a vmodem cloud state file (version 1 with a devices list); delete it to start afresh`);
    }
    for (const e of data.devices) apply(registry, e, log);
  }

  let writing: Promise<void> = Promise.resolve();
  let dirty = false;
  const write = async (): Promise<void> => {
    if (!dirty) return;
    dirty = false;
    const body = `${JSON.stringify(snapshot(registry), null, 2)}\n`;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, body, { mode: 0o600 });
    await fs.rename(tmp, file);
  };
  const onChange = (device: DeviceEntry): void => {
    log.debug({ platform: device.platform, productId: device.productId, deviceName: device.deviceName }, 'cloud state changed');
    dirty = true;
    writing = writing.then(write).catch((err: unknown) => log.warn({ err, file }, 'cannot save the cloud state'));
  };
  registry.on('change', onChange);

  return {
    file,
    flush: () => writing,
    close: async () => {
      registry.off('change', onChange);
      await writing;
    },
  };
}

/** Put a persisted (or another cluster node's) device state into the registry without a 'change' event. */
export function apply(registry: DeviceRegistry, e: PersistedDevice, log: Logger): void {
  const where = { platform: e.platform, productId: e.productId, deviceName: e.deviceName };
  let product = registry.product(e.platform, e.productId);
  if (!product) {
    if (registry.strict) {
      log.warn(where, 'cloud state names a product the registry no longer lists; ignored');
      return;
    }
    product = registry.ensureProduct(e.platform, e.productId);
  }
  let device = product.devices.get(e.deviceName);
  if (!device) {
    if (registry.strict && !product.autoCreate) {
      log.warn(where, 'cloud state names a device the registry no longer lists; ignored');
      return;
    }
    device = registry.ensureDevice(product, e.deviceName);
  }
  // Loading is not a change: assign directly so the file is not rewritten at once.
  device.registered = e.registered;
  device.activated = e.activated;
  if (e.registered) {
    if (e.deviceSecret !== undefined) device.deviceSecret = e.deviceSecret;
    if (e.clientId !== undefined) device.clientId = e.clientId;
    if (e.deviceToken !== undefined) device.deviceToken = e.deviceToken;
  }
}
