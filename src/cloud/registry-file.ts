/**
 * Reading and validating a device registry file (YAML or JSON; see
 * fixtures/registry/example.yaml for the documented format): {@link REGISTRY_SCHEMA} (zod) checks
 * shapes, types and allowed values, then a few rules across fields (what each platform allows,
 * pairs, duplicates, certificate files). Every error names the file and the field, e.g.
 * `devices.yaml: products[0].devices[1].deviceSecret: must be base64 (the Tencent PSK)`.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { firstProblem, strictMapping } from '../util/schema.js';
import { MAX_ALIAS_COUNT } from '../util/yaml-limits.js';
import { decodeBase64 } from './crypto.js';
import { DeviceRegistry, PLATFORMS, type NewDevice, type NewProduct, type Platform, type TopicRule } from './registry.js';
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
    data = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: MAX_ALIAS_COUNT });
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
  if (data === null || data === undefined) throw new RegistryError(file, '', 'is empty (expected a "products" list)');
  const r = REGISTRY_SCHEMA.safeParse(data);
  if (!r.success) {
    const { field, message } = firstProblem(r.error);
    throw new RegistryError(file, field, message);
  }
  const products = new Rules(file, opts.baseDir ?? process.cwd()).root(r.data);
  try {
    return new DeviceRegistry(products, true, opts.file);
  } catch (err) {
    throw new RegistryError(file, 'products', (err as Error).message);
  }
}

// ---- the schema (zod): shapes, types and allowed values ----

const NAME = /^[^\s/+#]+$/;
const NON_EMPTY = 'must be a non-empty string';

/** Text; a number is taken as its digits (YAML reads `productId: 12345` as a number). */
const text = z.preprocess(
  (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v),
  z.string({ error: NON_EMPTY }).min(1, { error: NON_EMPTY }),
);
const name = text.refine((s) => NAME.test(s), { error: 'must not contain spaces, "/", "+" or "#"' });
const optionalText = text.nullish();

/** A topic rule: a filter, or `{ topic, access }`. */
const topicRule = z
  .preprocess(
    (v) => (typeof v === 'string' ? { topic: v } : v),
    strictMapping({
      topic: z.string({ error: NON_EMPTY }),
      access: z.enum(['pub', 'sub', 'pubsub'], { error: 'must be pub, sub or pubsub' }).optional(),
    }),
  )
  .refine((t) => validTopicFilter(t.topic), { error: (iss) => `"${(iss.input as { topic: string }).topic}" is not a valid MQTT topic filter` });
const topics = z.array(topicRule, { error: 'must be a list of topic filters' }).nullish();

const DEVICE = strictMapping({
  deviceName: name.optional(),
  deviceId: name.optional(),
  deviceSecret: optionalText,
  certificate: text.optional(),
  clientId: optionalText,
  deviceToken: optionalText,
  topics,
});

const PRODUCT = strictMapping({
  platform: z.enum(PLATFORMS, {
    error: (iss) => (typeof iss.input === 'string' && iss.input !== '' ? `unknown platform "${iss.input}" (expected one of ${PLATFORMS.join(', ')})` : NON_EMPTY),
  }),
  productId: name.optional(),
  productKey: name.optional(),
  productSecret: optionalText,
  accessKey: optionalText,
  autoCreate: z.boolean({ error: 'must be true or false' }).optional(),
  topics,
  devices: z.array(DEVICE, { error: 'must be a list of devices' }).nullish(),
});

/** A registry file's shape; what depends on the platform is checked by {@link Rules}. */
export const REGISTRY_SCHEMA = strictMapping({
  version: z.literal(1, { error: 'must be 1' }).optional(),
  products: z.array(PRODUCT, { error: 'must be a list of products' }),
});

type RawRegistry = z.infer<typeof REGISTRY_SCHEMA>;
type RawProduct = z.infer<typeof PRODUCT>;
type RawDevice = z.infer<typeof DEVICE>;
type RawTopics = z.infer<typeof topics>;

// ---- the rules across fields: platforms, pairs, duplicates, certificate files ----

class Rules {
  constructor(
    private readonly file: string,
    private readonly baseDir: string,
  ) {}

  private fail(field: string, detail: string): never {
    throw new RegistryError(this.file, field, detail);
  }

  root(data: RawRegistry): NewProduct[] {
    const products = data.products.map((p, i) => this.product(p, `products[${i}]`));
    const seen = new Set<string>();
    products.forEach((p, i) => {
      const key = `${p.platform}/${p.productId}`;
      if (seen.has(key)) this.fail(`products[${i}]`, `${p.platform} product ${p.productId} is listed twice`);
      seen.add(key);
    });
    return products;
  }

  private product(o: RawProduct, field: string): NewProduct {
    const platform = o.platform;
    if (o.productId !== undefined && o.productKey !== undefined && o.productId !== o.productKey) {
      this.fail(`${field}.productKey`, 'differs from productId (give one of them)');
    }
    const productId = o.productId ?? o.productKey;
    if (productId === undefined) this.fail(`${field}.${platform === 'aliyun' ? 'productKey' : 'productId'}`, 'is required');

    const productSecret = o.productSecret ?? undefined;
    if (productSecret !== undefined && (platform === 'onenet' || platform === 'huawei')) {
      this.fail(`${field}.productSecret`, `dynamic registration is not emulated for ${platform}`);
    }
    const accessKey = o.accessKey ?? undefined;
    if (accessKey !== undefined) {
      if (platform !== 'onenet') this.fail(`${field}.accessKey`, 'only OneNET products have an access key');
      if (!decodeBase64(accessKey)?.length) this.fail(`${field}.accessKey`, 'must be base64 (the OneNET access key)');
    }
    const devices = (o.devices ?? []).map((d, i) => this.device(d, `${field}.devices[${i}]`, platform));
    const seen = new Set<string>();
    devices.forEach((d, i) => {
      if (seen.has(d.deviceName)) this.fail(`${field}.devices[${i}].deviceName`, `"${d.deviceName}" is listed twice`);
      seen.add(d.deviceName);
    });
    const product: NewProduct = { platform, productId, autoCreate: o.autoCreate ?? false, topics: rules(o.topics), devices };
    if (productSecret !== undefined) product.productSecret = productSecret;
    if (accessKey !== undefined) product.accessKey = accessKey;
    return product;
  }

  private device(o: RawDevice, field: string, platform: Platform): NewDevice {
    if (o.deviceName !== undefined && o.deviceId !== undefined && o.deviceName !== o.deviceId) {
      this.fail(`${field}.deviceId`, 'differs from deviceName (give one of them)');
    }
    const deviceName = o.deviceName ?? o.deviceId;
    if (deviceName === undefined) this.fail(`${field}.${platform === 'huawei' ? 'deviceId' : 'deviceName'}`, 'is required');
    const device: NewDevice = { deviceName };

    const secret = o.deviceSecret ?? undefined;
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
      const value = o[key] ?? undefined;
      if (value === undefined) continue;
      if (platform !== 'aliyun') this.fail(`${field}.${key}`, 'only Aliyun devices have a regnwl clientId/deviceToken');
      device[key] = value;
    }
    if ((device.clientId === undefined) !== (device.deviceToken === undefined)) {
      this.fail(`${field}.${device.clientId === undefined ? 'clientId' : 'deviceToken'}`, 'clientId and deviceToken go together');
    }
    device.topics = rules(o.topics);
    return device;
  }

  private certificate(rel: string, field: string): { path: string; fingerprint256: string } {
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
}

function rules(list: RawTopics): TopicRule[] {
  return (list ?? []).map((t) => ({ filter: t.topic, access: t.access ?? 'pubsub' }));
}
