/**
 * Aliyun IoT Platform MQTT sign-in (FACTS.md "Cloud sign-in schemes"):
 *
 * - One device, one secret: clientId `{id}|securemode=3,signmethod=hmacsha1[,timestamp=…]|`
 *   (securemode 2 = TLS; other parameters such as `_v`, `gw`, `ext` are ignored), username
 *   `{deviceName}&{productKey}`, password = hex HMAC (md5/sha1/sha256 per signmethod; hmacmd5 when
 *   absent) keyed with the DeviceSecret as UTF-8 over the name-sorted concatenation of the present
 *   parameters among clientId (the `{id}` part), deviceName, productKey, timestamp; hex compared
 *   case-insensitively. Public vector: secret `secret`, hmacsha1, clientId 12345, deviceName
 *   device, productKey pk, timestamp 789 → FAFD82A3D602B37FB0FA8B7892F24A477F851A14.
 * - Dynamic registration (one product, one secret) over MQTT: clientId
 *   `{id}|securemode=2,authType=register,random={r},signmethod=hmacsha256|` (or `authType=regnwl`,
 *   securemode -2), password = hex HMAC(ProductSecret, `deviceName{dn}productKey{pk}random{r}`).
 *   After CONNACK the platform publishes `{"productKey","deviceName","deviceSecret"}` on
 *   `/ext/register` (or `{"clientId","productKey","deviceName","deviceToken"}` on `/ext/regnwl`)
 *   and disconnects. `register` needs a pre-registered device (listed in the registry, or the
 *   product has `autoCreate`); `regnwl` registers any name. A device that has already signed in
 *   (activated) cannot register again (YUGE CLM920 manual §2.16).
 * - `authType=connwl`: the clientId issued by `regnwl` and password = deviceToken.
 *
 * Refusals (Aliyun's "troubleshooting" page for MQTT return codes; SDK users with a wrong triple
 * see -35 MQTT_CONNACK_BAD_USERDATA_ERROR, e.g. espressif/esp-aliyun#78): wrong signature,
 * unknown product or device → 4; malformed clientId parameters → 2; dynamic registration not
 * allowed (no product secret, activated device) → 5.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { hexEqual, hmac, type HmacAlgorithm } from '../crypto.js';
import type { DeviceEntry, ProductEntry } from '../registry.js';
import {
  acceptDevice,
  refuse,
  unknownDevice,
  type SignInContext,
  type SignInRequest,
  type SignInResult,
} from '../sign-in.js';

export const ALIYUN_RC = { identifierRejected: 2, badCredentials: 4, notAuthorized: 5 } as const;

export type AliyunSignMethod = 'hmacmd5' | 'hmacsha1' | 'hmacsha256';

const SIGN_METHODS: Record<string, HmacAlgorithm> = { hmacmd5: 'md5', hmacsha1: 'sha1', hmacsha256: 'sha256' };

/** `{id}|k=v,k=v|` → the id and the parameters; undefined when the clientId is not in that form. */
export function parseAliyunClientId(clientId: string): { id: string; params: Map<string, string> } | undefined {
  const m = /^([^|]*)\|([^|]*)\|$/.exec(clientId);
  if (!m) return undefined;
  const params = new Map<string, string>();
  for (const part of m[2]!.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return { id: m[1]!, params };
}

/** The signed text of one-device-one-secret sign-in: present parameters sorted by name, no separators. */
export function aliyunSignContent(p: { clientId: string; deviceName: string; productKey: string; timestamp?: string }): string {
  const entries: [string, string][] = [
    ['clientId', p.clientId],
    ['deviceName', p.deviceName],
    ['productKey', p.productKey],
  ];
  if (p.timestamp !== undefined) entries.push(['timestamp', p.timestamp]);
  return entries
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}${v}`)
    .join('');
}

export function aliyunSign(method: AliyunSignMethod, secret: string, content: string): string {
  return hmac(SIGN_METHODS[method]!, Buffer.from(secret, 'utf8'), content).toString('hex');
}

/** Device side: one-device-one-secret credentials (what YUGE's AT+IMQTTAUTH computes). */
export function aliyunCredentials(input: {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
  /** The `{id}` part; default `{productKey}.{deviceName}` as Aliyun's SDKs use. */
  clientId?: string;
  timestamp?: string;
  signMethod?: AliyunSignMethod;
  /** 2 = TLS, 3 = plain TCP (default). */
  secureMode?: number;
}): { clientId: string; username: string; password: string } {
  const id = input.clientId ?? `${input.productKey}.${input.deviceName}`;
  const method = input.signMethod ?? 'hmacsha256';
  const params = [`securemode=${input.secureMode ?? 3}`, `signmethod=${method}`];
  if (input.timestamp !== undefined) params.push(`timestamp=${input.timestamp}`);
  const content = aliyunSignContent({ clientId: id, deviceName: input.deviceName, productKey: input.productKey, timestamp: input.timestamp });
  return {
    clientId: `${id}|${params.join(',')}|`,
    username: `${input.deviceName}&${input.productKey}`,
    password: aliyunSign(method, input.deviceSecret, content),
  };
}

/** Device side: the CONNECT of a dynamic registration (`register` = pre-registered, `regnwl` = not). */
export function aliyunRegisterCredentials(input: {
  productKey: string;
  deviceName: string;
  productSecret: string;
  authType: 'register' | 'regnwl';
  random?: string;
  signMethod?: AliyunSignMethod;
  clientId?: string;
}): { clientId: string; username: string; password: string } {
  const random = input.random ?? String(randomInt(1, 1_000_000));
  const method = input.signMethod ?? 'hmacsha256';
  const secureMode = input.authType === 'register' ? 2 : -2;
  const id = input.clientId ?? `${input.deviceName}.${input.productKey}`;
  return {
    clientId: `${id}|securemode=${secureMode},authType=${input.authType},random=${random},signmethod=${method}|`,
    username: `${input.deviceName}&${input.productKey}`,
    password: aliyunSign(method, input.productSecret, `deviceName${input.deviceName}productKey${input.productKey}random${random}`),
  };
}

/** Device side: signing in with what `/ext/regnwl` returned. */
export function aliyunConnwlCredentials(input: { clientId: string; productKey: string; deviceName: string; deviceToken: string }): {
  clientId: string;
  username: string;
  password: string;
} {
  return {
    clientId: `${input.clientId}|authType=connwl,securemode=-2,_ss=1,ext=3|`,
    username: `${input.deviceName}&${input.productKey}`,
    password: input.deviceToken,
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomAlnum(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** A DeviceSecret shaped like Aliyun's (32 hex characters). */
export function newAliyunDeviceSecret(): string {
  return randomBytes(16).toString('hex');
}

function signMethodOf(params: Map<string, string>, fallback: AliyunSignMethod): AliyunSignMethod | undefined {
  const raw = params.get('signmethod');
  if (raw === undefined) return fallback;
  const m = raw.toLowerCase();
  return m in SIGN_METHODS ? (m as AliyunSignMethod) : undefined;
}

export function aliyunSignIn(req: SignInRequest, ctx: SignInContext): SignInResult | null {
  const parsed = parseAliyunClientId(req.clientId);
  const amp = req.username?.lastIndexOf('&') ?? -1;
  if (!parsed || amp <= 0 || amp === req.username!.length - 1) return null;
  const deviceName = req.username!.slice(0, amp);
  const productKey = req.username!.slice(amp + 1);
  const password = req.password?.toString('utf8') ?? '';
  const authType = parsed.params.get('authType');

  if (authType === 'register' || authType === 'regnwl') {
    return dynamicRegistration(ctx, authType, parsed.params, productKey, deviceName, password);
  }
  if (authType === 'connwl') return connwl(ctx, parsed.id, productKey, deviceName, password);
  if (authType !== undefined) return refuse(ALIYUN_RC.identifierRejected, `unknown authType ${authType}`);

  const method = signMethodOf(parsed.params, 'hmacmd5');
  if (!method) return refuse(ALIYUN_RC.identifierRejected, 'unknown signmethod');
  const device = ctx.registry.device('aliyun', productKey, deviceName);
  if (!device) return unknownDevice(ctx, 'aliyun', productKey, deviceName, ALIYUN_RC.badCredentials);
  if (device.deviceSecret === undefined) return refuse(ALIYUN_RC.badCredentials, 'device has no DeviceSecret yet (dynamic registration pending)');
  const timestamp = parsed.params.get('timestamp');
  const content = aliyunSignContent({ clientId: parsed.id, deviceName, productKey, ...(timestamp !== undefined ? { timestamp } : {}) });
  if (!hexEqual(password, aliyunSign(method, device.deviceSecret, content))) {
    return refuse(ALIYUN_RC.badCredentials, 'signature does not match the DeviceSecret');
  }
  return acceptDevice(ctx, device, 'device secret');
}

function connwl(ctx: SignInContext, clientId: string, productKey: string, deviceName: string, token: string): SignInResult {
  const device = ctx.registry.device('aliyun', productKey, deviceName);
  if (!device || device.deviceToken === undefined) {
    if (!device && !ctx.registry.strict) return unknownDevice(ctx, 'aliyun', productKey, deviceName, ALIYUN_RC.badCredentials);
    return refuse(ALIYUN_RC.badCredentials, 'no deviceToken was issued to this device');
  }
  if (clientId !== device.clientId || token !== device.deviceToken) {
    return refuse(ALIYUN_RC.badCredentials, 'clientId or deviceToken does not match what /ext/regnwl issued');
  }
  return acceptDevice(ctx, device, 'device token');
}

function dynamicRegistration(
  ctx: SignInContext,
  authType: 'register' | 'regnwl',
  params: Map<string, string>,
  productKey: string,
  deviceName: string,
  password: string,
): SignInResult {
  const random = params.get('random');
  const method = signMethodOf(params, 'hmacsha256');
  if (random === undefined || random === '') return refuse(ALIYUN_RC.identifierRejected, 'dynamic registration without random');
  if (!method) return refuse(ALIYUN_RC.identifierRejected, 'unknown signmethod');

  const registry = ctx.registry;
  let product: ProductEntry | undefined = registry.product('aliyun', productKey);
  if (registry.strict) {
    if (!product) return refuse(ALIYUN_RC.badCredentials, 'unknown product');
    if (product.productSecret === undefined) return refuse(ALIYUN_RC.notAuthorized, 'dynamic registration is not enabled for the product (no productSecret)');
  }
  // Zero-config: a product without a known secret cannot be checked, so it is trusted.
  if (product?.productSecret !== undefined) {
    const expected = aliyunSign(method, product.productSecret, `deviceName${deviceName}productKey${productKey}random${random}`);
    if (!hexEqual(password, expected)) return refuse(ALIYUN_RC.badCredentials, 'signature does not match the ProductSecret');
  }
  product ??= registry.ensureProduct('aliyun', productKey);

  let device: DeviceEntry | undefined = product.devices.get(deviceName);
  if (!device) {
    if (authType === 'register' && registry.strict && !product.autoCreate) {
      return refuse(ALIYUN_RC.badCredentials, 'device is not pre-registered (authType=register)');
    }
    device = registry.ensureDevice(product, deviceName);
  }
  if (device.activated) return refuse(ALIYUN_RC.notAuthorized, 'device is already activated; dynamic registration refused');

  let reply: { topic: string; payload: string };
  if (authType === 'register') {
    // A pre-registered device keeps the DeviceSecret it was created with.
    const deviceSecret = device.deviceSecret ?? newAliyunDeviceSecret();
    registry.update(device, { deviceSecret, registered: true });
    reply = { topic: '/ext/register', payload: JSON.stringify({ productKey, deviceName, deviceSecret }) };
  } else {
    // A registry may fix what is issued (so transcripts are reproducible); otherwise fresh values
    // shaped like the platform's (YUGE manual §2.16 example).
    const clientId = device.clientId ?? `${randomAlnum(20)}000100`;
    const deviceToken = device.deviceToken ?? `^1^${ctx.nowMs}^${randomBytes(8).toString('hex').slice(0, 15)}`;
    registry.update(device, { clientId, deviceToken, registered: true });
    reply = { topic: '/ext/regnwl', payload: JSON.stringify({ clientId, productKey, deviceName, deviceToken }) };
  }
  return {
    accept: true,
    detail: `dynamic registration (${authType})`,
    session: {
      platform: 'aliyun',
      productId: productKey,
      deviceName,
      device,
      purpose: 'register',
      // A registration connection may do nothing but receive its reply.
      policy: { extra: [], platform: [] },
      replyThenClose: reply,
    },
  };
}
