/**
 * Reading and validating a device registry file (YAML or JSON; see
 * fixtures/registry/example.yaml for the documented format). Every error names the file and the
 * field, e.g. `devices.yaml: products[0].devices[1].deviceSecret: must be base64 (Tencent PSK)`.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { decodeBase64 } from './crypto.js';
import { DeviceRegistry, PLATFORMS, type NewDevice, type NewProduct, type Platform, type TopicAccess, type TopicRule } from './registry.js';
import { validTopicFilter } from './topics.js';

export class RegistryError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    detail: string,
  ) {
    super(field ? `${file}: ${field}: ${detail}` : `${file}: ${detail}`);
    this.name = 'RegistryError';
  }
}

/** Load and validate a registry file (`.yaml`, `.yml` or `.json`; other names are tried as YAML, a superset of JSON). */
export async function loadRegistry(file: string): Promise<DeviceRegistry> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RegistryError(file, '', e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code ?? e.message})`);
  }
  let data: unknown;
  try {
    data = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RegistryError(file, '', `not valid ${file.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  return parseRegistry(data, { file, baseDir: path.dirname(path.resolve(file)) });
}

/**
 * Validate registry data already parsed. `file` names the source in errors; relative certificate
 * paths are resolved against `baseDir` (default: the current directory).
 */
export function parseRegistry(data: unknown, opts: { file?: string; baseDir?: string } = {}): DeviceRegistry {
  const file = opts.file ?? '<registry>';
  const v = new Validator(file, opts.baseDir ?? process.cwd());
  const products = v.root(data);
  try {
    return new DeviceRegistry(products, true, opts.file);
  } catch (err) {
    throw new RegistryError(file, 'products', (err as Error).message);
  }
}

type Obj = Record<string, unknown>;

const PRODUCT_FIELDS = ['platform', 'productId', 'productKey', 'productSecret', 'accessKey', 'autoCreate', 'topics', 'devices'];
const DEVICE_FIELDS = ['deviceName', 'deviceId', 'deviceSecret', 'certificate', 'clientId', 'deviceToken', 'topics'];
const NAME = /^[^\s/+#]+$/;

class Validator {
  constructor(
    private readonly file: string,
    private readonly baseDir: string,
  ) {}

  private fail(field: string, detail: string): never {
    throw new RegistryError(this.file, field, detail);
  }

  private object(value: unknown, field: string, allowed: string[]): Obj {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'must be a mapping (key: value)');
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(field ? `${field}.${key}` : key, `unknown field (expected one of ${allowed.join(', ')})`);
    }
    return value as Obj;
  }

  private string(value: unknown, field: string): string {
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value !== 'string' || value.length === 0) this.fail(field, 'must be a non-empty string');
    return value;
  }

  private optString(value: unknown, field: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, field);
  }

  private name(value: unknown, field: string): string {
    const s = this.string(value, field);
    if (!NAME.test(s)) this.fail(field, 'must not contain spaces, "/", "+" or "#"');
    return s;
  }

  root(data: unknown): NewProduct[] {
    if (data === null || data === undefined) this.fail('', 'is empty (expected a "products" list)');
    const obj = this.object(data, '', ['version', 'products']);
    if (obj.version !== undefined && obj.version !== 1) this.fail('version', 'must be 1');
    if (!Array.isArray(obj.products)) this.fail('products', 'must be a list of products');
    const products = obj.products.map((p, i) => this.product(p, `products[${i}]`));
    const seen = new Set<string>();
    products.forEach((p, i) => {
      const key = `${p.platform}/${p.productId}`;
      if (seen.has(key)) this.fail(`products[${i}]`, `${p.platform} product ${p.productId} is listed twice`);
      seen.add(key);
    });
    return products;
  }

  private product(value: unknown, field: string): NewProduct {
    const o = this.object(value, field, PRODUCT_FIELDS);
    const platformText = this.string(o.platform, `${field}.platform`);
    if (!(PLATFORMS as readonly string[]).includes(platformText)) {
      this.fail(`${field}.platform`, `unknown platform "${platformText}" (expected one of ${PLATFORMS.join(', ')})`);
    }
    const platform = platformText as Platform;
    const idField = o.productId !== undefined ? 'productId' : 'productKey';
    if (o.productId !== undefined && o.productKey !== undefined && String(o.productId) !== String(o.productKey)) {
      this.fail(`${field}.productKey`, 'differs from productId (give one of them)');
    }
    if (o[idField] === undefined) this.fail(`${field}.${platform === 'aliyun' ? 'productKey' : 'productId'}`, 'is required');
    const productId = this.name(o[idField], `${field}.${idField}`);

    const productSecret = this.optString(o.productSecret, `${field}.productSecret`);
    if (productSecret !== undefined && (platform === 'onenet' || platform === 'huawei')) {
      this.fail(`${field}.productSecret`, `dynamic registration is not emulated for ${platform}`);
    }
    const accessKey = this.optString(o.accessKey, `${field}.accessKey`);
    if (accessKey !== undefined) {
      if (platform !== 'onenet') this.fail(`${field}.accessKey`, 'only OneNET products have an access key');
      if (!decodeBase64(accessKey)?.length) this.fail(`${field}.accessKey`, 'must be base64 (the OneNET access key)');
    }
    let autoCreate = false;
    if (o.autoCreate !== undefined) {
      if (typeof o.autoCreate !== 'boolean') this.fail(`${field}.autoCreate`, 'must be true or false');
      autoCreate = o.autoCreate;
    }
    const topics = this.topics(o.topics, `${field}.topics`);
    let devices: NewDevice[] = [];
    if (o.devices !== undefined && o.devices !== null) {
      if (!Array.isArray(o.devices)) this.fail(`${field}.devices`, 'must be a list of devices');
      devices = o.devices.map((d, i) => this.device(d, `${field}.devices[${i}]`, platform));
      const seen = new Set<string>();
      devices.forEach((d, i) => {
        if (seen.has(d.deviceName)) this.fail(`${field}.devices[${i}].deviceName`, `"${d.deviceName}" is listed twice`);
        seen.add(d.deviceName);
      });
    }
    const product: NewProduct = { platform, productId, autoCreate, topics, devices };
    if (productSecret !== undefined) product.productSecret = productSecret;
    if (accessKey !== undefined) product.accessKey = accessKey;
    return product;
  }

  private device(value: unknown, field: string, platform: Platform): NewDevice {
    const o = this.object(value, field, DEVICE_FIELDS);
    if (o.deviceName !== undefined && o.deviceId !== undefined && String(o.deviceName) !== String(o.deviceId)) {
      this.fail(`${field}.deviceId`, 'differs from deviceName (give one of them)');
    }
    const nameField = o.deviceName !== undefined ? 'deviceName' : 'deviceId';
    if (o[nameField] === undefined) this.fail(`${field}.${platform === 'huawei' ? 'deviceId' : 'deviceName'}`, 'is required');
    const device: NewDevice = { deviceName: this.name(o[nameField], `${field}.${nameField}`) };

    const secret = this.optString(o.deviceSecret, `${field}.deviceSecret`);
    if (secret !== undefined) {
      if (platform === 'tencent' && !decodeBase64(secret)?.length) this.fail(`${field}.deviceSecret`, 'must be base64 (the Tencent PSK)');
      if (platform === 'onenet' && !decodeBase64(secret)?.length) this.fail(`${field}.deviceSecret`, 'must be base64 (the OneNET device key)');
      device.deviceSecret = secret;
    }
    if (o.certificate !== undefined) {
      if (platform !== 'tencent') this.fail(`${field}.certificate`, 'certificate sign-in is only emulated for Tencent');
      device.certificate = this.certificate(o.certificate, `${field}.certificate`);
    }
    for (const key of ['clientId', 'deviceToken'] as const) {
      const value = this.optString(o[key], `${field}.${key}`);
      if (value === undefined) continue;
      if (platform !== 'aliyun') this.fail(`${field}.${key}`, 'only Aliyun devices have a regnwl clientId/deviceToken');
      device[key] = value;
    }
    if ((device.clientId === undefined) !== (device.deviceToken === undefined)) {
      this.fail(`${field}.${device.clientId === undefined ? 'clientId' : 'deviceToken'}`, 'clientId and deviceToken go together');
    }
    device.topics = this.topics(o.topics, `${field}.topics`);
    return device;
  }

  private certificate(value: unknown, field: string): { path: string; fingerprint256: string } {
    const rel = this.string(value, field);
    const file = path.resolve(this.baseDir, rel);
    let pem: Buffer;
    try {
      // Registry loading is a start-up step; a synchronous read keeps the validator simple.
      pem = readFileSync(file);
    } catch (err) {
      this.fail(field, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      return { path: file, fingerprint256: new X509Certificate(pem).fingerprint256 };
    } catch {
      this.fail(field, `${file} is not a PEM certificate`);
    }
  }

  private topics(value: unknown, field: string): TopicRule[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(field, 'must be a list of topic filters');
    return value.map((t, i) => {
      const f = `${field}[${i}]`;
      let filter: string;
      let access: TopicAccess = 'pubsub';
      if (typeof t === 'string') {
        filter = t;
      } else {
        const o = this.object(t, f, ['topic', 'access']);
        filter = this.string(o.topic, `${f}.topic`);
        if (o.access !== undefined) {
          if (o.access !== 'pub' && o.access !== 'sub' && o.access !== 'pubsub') this.fail(`${f}.access`, 'must be pub, sub or pubsub');
          access = o.access;
        }
      }
      if (!validTopicFilter(filter)) this.fail(f, `"${filter}" is not a valid MQTT topic filter`);
      return { filter, access };
    });
  }
}
