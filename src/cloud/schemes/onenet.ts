/**
 * OneNET (China Mobile, OneNET Studio) MQTT sign-in (FACTS.md "Cloud sign-in schemes"):
 * clientId = device name, username = product id, password = token
 * `version=2018-10-31&res=products%2F{pid}%2Fdevices%2F{dev}&et={expiry}&method={md5|sha1|sha256}&sign={urlencoded}`
 * with sign = Base64(HMAC(base64decode(key), `{et}\n{method}\n{res}\n{version}`)). The key is the
 * device key for `res=products/{pid}/devices/{dev}`, or the product access key for
 * `res=products/{pid}`. A token whose `et` (unix seconds) has passed is refused.
 *
 * Refusals: OneNET's MQTT access documentation answers an invalid token with CONNACK 5 ("非法链接,
 * 比如 token 非法") — used here for a wrong or expired sign and for an unknown device; a username
 * that is not the token's product gets 4 (bad user name or password). (These codes are not in
 * FACTS.md; they follow OneNET's CONNACK table as we know it.)
 */
import { decodeBase64, hmac, safeEqual, type HmacAlgorithm } from '../crypto.js';
import { acceptDevice, refuse, unknownDevice, type SignInContext, type SignInRequest, type SignInResult } from '../sign-in.js';

export const ONENET_RC = { badCredentials: 4, notAuthorized: 5 } as const;

export const ONENET_TOKEN_VERSION = '2018-10-31';

const METHODS: Record<string, HmacAlgorithm> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256' };

/** Parse `k=v&k=v` with percent-decoding (a literal `+` stays `+`, unlike form decoding). */
function parseToken(token: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const part of token.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    try {
      out.set(part.slice(0, eq), decodeURIComponent(part.slice(eq + 1)));
    } catch {
      return undefined;
    }
  }
  return out;
}

export function onenetSign(key: string, p: { et: string; method: string; res: string; version: string }): string | undefined {
  const raw = decodeBase64(key);
  const alg = METHODS[p.method];
  if (!raw?.length || !alg) return undefined;
  return hmac(alg, raw, `${p.et}\n${p.method}\n${p.res}\n${p.version}`).toString('base64');
}

/** Device side: a OneNET token. `deviceName` omitted = a product-level token (key = access key). */
export function onenetToken(input: {
  productId: string;
  deviceName?: string;
  key: string;
  /** Unix seconds. */
  expiry: number;
  method?: 'md5' | 'sha1' | 'sha256';
  version?: string;
}): string {
  const res = input.deviceName !== undefined ? `products/${input.productId}/devices/${input.deviceName}` : `products/${input.productId}`;
  const method = input.method ?? 'sha256';
  const version = input.version ?? ONENET_TOKEN_VERSION;
  const sign = onenetSign(input.key, { et: String(input.expiry), method, res, version });
  if (sign === undefined) throw new Error('the OneNET key must be base64');
  return `version=${version}&res=${encodeURIComponent(res)}&et=${input.expiry}&method=${method}&sign=${encodeURIComponent(sign)}`;
}

export function onenetSignIn(req: SignInRequest, ctx: SignInContext): SignInResult | null {
  const text = req.password?.toString('utf8') ?? '';
  if (!text.includes('res=') || !text.includes('sign=')) return null;
  const token = parseToken(text);
  const res = token?.get('res');
  const et = token?.get('et');
  const method = token?.get('method');
  const sign = token?.get('sign');
  if (!token || !res || !et || !method || !sign) return null;
  const version = token.get('version') ?? '';

  const m = /^products\/([^/]+)(?:\/devices\/([^/]+))?$/.exec(res);
  if (!m) return refuse(ONENET_RC.badCredentials, 'token res is not products/{pid}[/devices/{dev}]');
  const [, productId, tokenDevice] = m as unknown as [string, string, string | undefined];
  if (req.username !== productId) return refuse(ONENET_RC.badCredentials, 'username is not the product of the token');
  if (tokenDevice !== undefined && tokenDevice !== req.clientId) return refuse(ONENET_RC.notAuthorized, 'token is for another device');
  if (!/^\d+$/.test(et) || Number(et) * 1000 < ctx.nowMs) return refuse(ONENET_RC.notAuthorized, 'token has expired (et)');

  const product = ctx.registry.product('onenet', productId);
  const device = product?.devices.get(req.clientId);
  if (!device) return unknownDevice(ctx, 'onenet', productId, req.clientId, ONENET_RC.notAuthorized);
  const key = tokenDevice !== undefined ? device.deviceSecret : product?.accessKey;
  if (key === undefined) return refuse(ONENET_RC.notAuthorized, tokenDevice !== undefined ? 'device has no key' : 'product has no access key');
  const expected = onenetSign(key, { et, method, res, version });
  if (expected === undefined || !safeEqual(sign, expected)) return refuse(ONENET_RC.notAuthorized, 'token signature does not match the key');
  return acceptDevice(ctx, device, tokenDevice !== undefined ? 'device key token' : 'product key token');
}
