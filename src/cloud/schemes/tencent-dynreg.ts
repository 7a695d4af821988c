/**
 * Tencent dynamic registration over HTTP(S) (FACTS.md "Tencent dynamic registration"):
 * `POST /device/register` with body `{"ProductId","DeviceName"}` and headers
 * X-TC-Algorithm/Timestamp/Nonce/Signature; string to sign =
 * `POST\n{host}\n/device/register\n\n{alg}\n{timestamp}\n{nonce}\n{lowerhex sha256(body)}`,
 * signature = Base64(HMAC(productSecret, that)). Reply `{"Response":{"Len":n,"Payload":<base64>,
 * "RequestId":…}}`, payload = AES-128-CBC (key = first 16 characters of the product secret, IV =
 * sixteen ASCII '0', zero padding) of `{"encryptionType":2,"psk":…}`; Len = the plaintext length.
 *
 * Real SDKs vary, so the verifier accepts: SHA-1 body hash on the hmacsha1 path, a signature that
 * is Base64 of the hex digest or the hex digest itself, and as host the request's Host header (with
 * or without port) or Tencent's gateway names — a module talking to the virtual cloud still signs
 * the host it believes it reaches.
 *
 * The older endpoint `POST /register/dev` (the 2019-era C SDK the AT firmware is built on) is
 * also served: body `{"deviceName","nonce","productId","timestamp","signature"}`, signature =
 * Base64 of the hex HMAC-SHA1 (product secret) of
 * `deviceName={dn}&nonce={n}&productId={pid}&timestamp={ts}`, reply
 * `{"code":0,"message":"success","len":n,"payload":<base64>}` or `{"code":<1000–1031>,"message"}`.
 *
 * Outcomes follow the AT manual (§2.7 rules, §6.3 codes): unknown product 1004, bad request 1006,
 * bad signature 1010, no product secret 1011, unlisted device without `autoCreate` 1020, a device
 * that has already signed in (registered and activated) 1021; a registered device that never
 * signed in is registered again with a new PSK.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { hash, hmac, safeEqual } from '../crypto.js';
import type { DeviceEntry } from '../registry.js';
import type { SignInContext } from '../sign-in.js';
import { TENCENT_DYNREG_ERRORS, type TencentDynregError } from '../../platform/tencent.js';

// The §6.3 table is shared with the Tencent AT command set, so it lives in src/platform.
export { TENCENT_DYNREG_ERRORS, type TencentDynregError };

/** Host names a module may have signed besides the Host header it sent. */
export const TENCENT_DYNREG_HOSTS = ['ap-guangzhou.gateway.tencentdevices.com', 'gateway.tencentdevices.com'];

const IV = Buffer.from('0000000000000000', 'ascii');

/** The first 16 bytes of the secret; a shorter one is zero-filled, as the C SDK's strncpy into a zeroed key does. */
function aesKey(productSecret: string): Buffer {
  const key = Buffer.alloc(16);
  Buffer.from(productSecret, 'utf8').copy(key, 0, 0, 16);
  return key;
}

/** AES-128-CBC with zero padding, Base64 — the registration reply payload. */
export function encryptTencentPayload(plaintext: string, productSecret: string): string {
  const data = Buffer.from(plaintext, 'utf8');
  const padded = Buffer.alloc(Math.ceil(data.length / 16) * 16 || 16);
  data.copy(padded);
  const cipher = createCipheriv('aes-128-cbc', aesKey(productSecret), IV);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

/** Device side: decrypt a registration payload (trailing zero padding removed). */
export function decryptTencentPayload(payloadBase64: string, productSecret: string): string {
  const data = Buffer.from(payloadBase64, 'base64');
  const decipher = createDecipheriv('aes-128-cbc', aesKey(productSecret), IV);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end).toString('utf8');
}

function stringToSign(host: string, alg: string, timestamp: string, nonce: string, bodyHashHex: string): string {
  return `POST\n${host}\n/device/register\n\n${alg}\n${timestamp}\n${nonce}\n${bodyHashHex}`;
}

/** Device side: body and headers of `POST /device/register`. */
export function tencentDynregRequest(input: {
  productId: string;
  deviceName: string;
  productSecret: string;
  host: string;
  algorithm?: 'hmacsha256' | 'hmacsha1';
  timestamp?: number;
  nonce?: number;
}): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ ProductId: input.productId, DeviceName: input.deviceName });
  const alg = input.algorithm ?? 'hmacsha256';
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = String(input.nonce ?? randomBytes(4).readUInt32BE() & 0x7fffffff);
  const digest = alg === 'hmacsha1' ? 'sha1' : 'sha256';
  const toSign = stringToSign(input.host, alg, timestamp, nonce, hash(digest, body).toString('hex'));
  return {
    body,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'X-TC-Algorithm': alg,
      'X-TC-Timestamp': timestamp,
      'X-TC-Nonce': nonce,
      'X-TC-Signature': hmac(digest, input.productSecret, toSign).toString('base64'),
    },
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Does the X-TC-Signature match any accepted variant? */
export function verifyTencentDynregSignature(
  headers: IncomingHttpHeaders,
  body: Buffer,
  productSecret: string,
  extraHosts: string[] = [],
): boolean {
  const alg = header(headers, 'x-tc-algorithm');
  const timestamp = header(headers, 'x-tc-timestamp');
  const nonce = header(headers, 'x-tc-nonce');
  const signature = header(headers, 'x-tc-signature');
  if (!alg || !timestamp || !nonce || !signature) return false;
  const lower = alg.toLowerCase();
  if (lower !== 'hmacsha256' && lower !== 'hmacsha1') return false;
  const digest = lower === 'hmacsha1' ? 'sha1' : 'sha256';
  const hostHeader = header(headers, 'host') ?? '';
  const hosts = new Set([hostHeader, hostHeader.replace(/:\d+$/, ''), ...TENCENT_DYNREG_HOSTS, ...extraHosts]);
  const bodyHashes = new Set([hash('sha256', body).toString('hex'), hash(digest, body).toString('hex')]);
  for (const host of hosts) {
    for (const a of new Set([alg, lower])) {
      for (const h of bodyHashes) {
        const mac = hmac(digest, productSecret, stringToSign(host, a, timestamp, nonce, h));
        const hex = mac.toString('hex');
        for (const candidate of [mac.toString('base64'), Buffer.from(hex).toString('base64'), hex]) {
          if (safeEqual(signature, candidate)) return true;
        }
      }
    }
  }
  return false;
}

/** Legacy `/register/dev` signature: Base64 of the hex HMAC-SHA1 (raw-digest Base64 accepted too). */
export function verifyTencentLegacySignature(
  p: { deviceName: string; nonce: string; productId: string; timestamp: string; signature: string },
  productSecret: string,
): boolean {
  const mac = hmac('sha1', productSecret, `deviceName=${p.deviceName}&nonce=${p.nonce}&productId=${p.productId}&timestamp=${p.timestamp}`);
  return [Buffer.from(mac.toString('hex')).toString('base64'), mac.toString('base64')].some((c) => safeEqual(p.signature, c));
}

export type DynregOutcome =
  | { ok: true; device: DeviceEntry; plaintext: string; payload: string }
  | { ok: false; error: TencentDynregError; message: string };

/**
 * Decide a registration: find the product, check the signature (`verify` gets the product
 * secret), apply the §2.7 rules and issue a fresh PSK.
 */
export function registerTencentDevice(
  ctx: SignInContext,
  productId: string,
  deviceName: string,
  verify: (productSecret: string) => boolean,
): DynregOutcome {
  const fail = (error: TencentDynregError, message: string): DynregOutcome => ({ ok: false, error, message });
  const product = ctx.registry.product('tencent', productId);
  // Without the product secret the reply could not even be encrypted, zero-config or not.
  if (!product) return fail('ProductNotExists', `product ${productId} does not exist`);
  if (product.productSecret === undefined) return fail('NotSupportRegister', 'the product has no product secret (dynamic registration off)');
  if (!verify(product.productSecret)) return fail('CheckSecretError', 'signature check failed');
  let device = product.devices.get(deviceName);
  if (!device) {
    if (!product.autoCreate) return fail('NoSuchDevice', `device ${deviceName} is not pre-created and autoCreate is off`);
    device = ctx.registry.ensureDevice(product, deviceName);
  }
  if (device.activated) return fail('DeviceHasRegistered', 'the device is registered and activated');
  const psk = randomBytes(16).toString('base64');
  ctx.registry.update(device, { deviceSecret: psk, registered: true });
  const plaintext = JSON.stringify({ encryptionType: 2, psk });
  return { ok: true, device, plaintext, payload: encryptTencentPayload(plaintext, product.productSecret) };
}

/** The JSON reply of `/device/register` for an outcome. */
export function tencentDynregResponse(outcome: DynregOutcome): unknown {
  const RequestId = randomUUID();
  if (outcome.ok) {
    return { Response: { Len: Buffer.byteLength(outcome.plaintext), Payload: outcome.payload, RequestId } };
  }
  return { Response: { Error: { Code: `ErrorCode_SDK_${outcome.error}`, Message: outcome.message }, RequestId } };
}

/** The JSON reply of the legacy `/register/dev` for an outcome. */
export function tencentLegacyResponse(outcome: DynregOutcome): unknown {
  if (outcome.ok) return { code: 0, message: 'success', len: Buffer.byteLength(outcome.plaintext), payload: outcome.payload };
  return { code: TENCENT_DYNREG_ERRORS[outcome.error], message: outcome.message };
}
