/**
 * The virtual cloud's device registry: which products and devices exist on which platform, with
 * what credentials and extra topic permissions. Loaded from a YAML/JSON file (registry-file.ts),
 * changed at run time by dynamic registration, and persisted by registry-state.ts.
 *
 * A registry loaded from a file is *strict*: a sign-in in a known platform format for a device it
 * does not list is refused. The empty registry used when no file is given is not strict: unknown
 * devices are accepted (the zero-config default), while devices it learns about (through dynamic
 * registration) are still checked.
 */
import { EventEmitter } from 'node:events';

export const PLATFORMS = ['tencent', 'aliyun', 'onenet', 'huawei'] as const;
export type Platform = (typeof PLATFORMS)[number];

export type TopicAccess = 'pub' | 'sub' | 'pubsub';

/** One topic permission: an MQTT topic filter (`+`/`#` allowed) and the direction allowed. */
export interface TopicRule {
  filter: string;
  access: TopicAccess;
}

/** Credentials and state of one device. Dynamic fields change through `DeviceRegistry.update`. */
export interface DeviceEntry {
  readonly platform: Platform;
  readonly productId: string;
  readonly deviceName: string;
  /**
   * Tencent: the base64 PSK. Aliyun: the DeviceSecret text. OneNET: the base64 device key.
   * Huawei: the device secret text.
   */
  deviceSecret: string | undefined;
  /** Certificate sign-in (Tencent certificate mode): the pinned client certificate. */
  readonly certificate: { path: string; fingerprint256: string } | undefined;
  /** Extra permissions, before the platform's own topic rules. */
  readonly topics: TopicRule[];
  /** Aliyun pre-registration-free dynamic registration (`regnwl`): the issued clientId and token. */
  clientId: string | undefined;
  deviceToken: string | undefined;
  /** Credentials came from dynamic registration (and are persisted in the state file). */
  registered: boolean;
  /** The device has signed in with its own credentials at least once. */
  activated: boolean;
}

export interface ProductEntry {
  readonly platform: Platform;
  /** Product ID (Tencent, OneNET, Huawei) or ProductKey (Aliyun). */
  readonly productId: string;
  /** Enables dynamic registration (Tencent HTTPS, Aliyun MQTT `register`/`regnwl`). */
  readonly productSecret: string | undefined;
  /** OneNET product-level access key (base64), for tokens whose `res` is `products/{pid}`. */
  readonly accessKey: string | undefined;
  /** Dynamic registration may create devices this registry does not list. */
  readonly autoCreate: boolean;
  readonly topics: TopicRule[];
  readonly devices: Map<string, DeviceEntry>;
}

/** The dynamic part of a device, as `update` takes it. */
export type DeviceState = Pick<DeviceEntry, 'deviceSecret' | 'clientId' | 'deviceToken' | 'registered' | 'activated'>;

export interface DeviceRegistryEvents {
  /** A device's dynamic state changed (dynamic registration, first sign-in). */
  change: [device: DeviceEntry];
}

function productKey(platform: Platform, productId: string): string {
  return `${platform}\u0000${productId}`;
}

export interface NewDevice {
  deviceName: string;
  deviceSecret?: string;
  certificate?: { path: string; fingerprint256: string };
  /** Aliyun: what `regnwl` issues to this device (default: random), and what `connwl` accepts. */
  clientId?: string;
  deviceToken?: string;
  topics?: TopicRule[];
}

export interface NewProduct {
  platform: Platform;
  productId: string;
  productSecret?: string;
  accessKey?: string;
  autoCreate?: boolean;
  topics?: TopicRule[];
  devices?: NewDevice[];
}

export class DeviceRegistry extends EventEmitter<DeviceRegistryEvents> {
  private readonly byProduct = new Map<string, ProductEntry>();

  /**
   * @param strict refuse sign-ins of devices the registry does not know (true for a registry file)
   * @param source where the registry came from (a file path), for messages
   */
  constructor(
    products: NewProduct[],
    readonly strict: boolean,
    readonly source?: string,
  ) {
    super();
    for (const p of products) this.addProduct(p);
  }

  /** The zero-config registry: knows nothing, accepts everyone, learns from dynamic registration. */
  static empty(): DeviceRegistry {
    return new DeviceRegistry([], false);
  }

  products(): ProductEntry[] {
    return [...this.byProduct.values()];
  }

  product(platform: Platform, productId: string): ProductEntry | undefined {
    return this.byProduct.get(productKey(platform, productId));
  }

  device(platform: Platform, productId: string, deviceName: string): DeviceEntry | undefined {
    return this.product(platform, productId)?.devices.get(deviceName);
  }

  /** The first device of `platform` named `deviceName` in any product (Huawei device IDs are global). */
  findDevice(platform: Platform, deviceName: string): DeviceEntry | undefined {
    for (const p of this.byProduct.values()) {
      if (p.platform !== platform) continue;
      const d = p.devices.get(deviceName);
      if (d) return d;
    }
    return undefined;
  }

  /** Products of `platform` whose id is a prefix of `text` (Tencent's clientId is productId + deviceName). */
  productsPrefixing(platform: Platform, text: string): ProductEntry[] {
    return this.products().filter((p) => p.platform === platform && text.startsWith(p.productId) && text.length > p.productId.length);
  }

  addProduct(p: NewProduct): ProductEntry {
    const key = productKey(p.platform, p.productId);
    if (this.byProduct.has(key)) throw new Error(`${p.platform} product ${p.productId} is listed twice`);
    const product: ProductEntry = {
      platform: p.platform,
      productId: p.productId,
      productSecret: p.productSecret,
      accessKey: p.accessKey,
      autoCreate: p.autoCreate ?? false,
      topics: p.topics ?? [],
      devices: new Map(),
    };
    this.byProduct.set(key, product);
    for (const d of p.devices ?? []) this.addDevice(product, d);
    return product;
  }

  addDevice(product: ProductEntry, d: NewDevice): DeviceEntry {
    if (product.devices.has(d.deviceName)) {
      throw new Error(`${product.platform} product ${product.productId}: device ${d.deviceName} is listed twice`);
    }
    const device: DeviceEntry = {
      platform: product.platform,
      productId: product.productId,
      deviceName: d.deviceName,
      deviceSecret: d.deviceSecret,
      certificate: d.certificate,
      topics: d.topics ?? [],
      clientId: d.clientId,
      deviceToken: d.deviceToken,
      registered: false,
      activated: false,
    };
    product.devices.set(d.deviceName, device);
    return device;
  }

  /** The product, created (without secrets) when missing — for learning in the zero-config mode. */
  ensureProduct(platform: Platform, productId: string): ProductEntry {
    return this.product(platform, productId) ?? this.addProduct({ platform, productId });
  }

  /** The device, created (without credentials) when missing. */
  ensureDevice(product: ProductEntry, deviceName: string): DeviceEntry {
    return product.devices.get(deviceName) ?? this.addDevice(product, { deviceName });
  }

  /** Change a device's dynamic state and tell listeners (the state file) about it. */
  update(device: DeviceEntry, patch: Partial<DeviceState>): void {
    let changed = false;
    for (const [k, v] of Object.entries(patch) as [keyof DeviceState, DeviceState[keyof DeviceState]][]) {
      if (device[k] !== v) {
        (device as unknown as Record<string, unknown>)[k] = v;
        changed = true;
      }
    }
    if (changed) this.emit('change', device);
  }

  /** Every device, in registry order. */
  devices(): DeviceEntry[] {
    return this.products().flatMap((p) => [...p.devices.values()]);
  }
}
