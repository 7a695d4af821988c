/**
 * Tencent IoT Hub / IoT Explorer MQTT sign-in (FACTS.md "Cloud sign-in schemes"):
 *
 * - Key (PSK) mode: clientId = productId + deviceName; username =
 *   `{productId}{deviceName};{sdkappid};{connid};{expiry}` (sdkappid 12010126 in the docs,
 *   21010406 in the C SDK — any is accepted; connid a few random characters; expiry in unix
 *   seconds, refused once past); password = lower-hex HMAC-SHA256 (or SHA1) of the username keyed
 *   with the base64-decoded PSK, followed by `;hmacsha256` (or `;hmacsha1`).
 * - Certificate mode: the TLS client certificate identifies the device (the password is not
 *   used); it must be the certificate the registry pins for that device.
 *
 * Refusals: a wrong signature, an expired username or an unknown device get CONNACK 4 (bad user
 * name or password) — the AT manual's §6.1 lists it as QCLOUD_ERR_MQTT_CONNACK_BAD_USERDATA
 * (-116). A certificate-mode device without its certificate gets 5 (not authorized,
 * QCLOUD_ERR_MQTT_CONNACK_NOT_AUTHORIZED -117). A clientId that is not productId + deviceName gets
 * 2 (identifier rejected, -114).
 */
import { randomBytes } from 'node:crypto';
import type { DeviceEntry } from '../registry.js';
import { decodeBase64, hexEqual, hmac } from '../crypto.js';
import { acceptDevice, refuse, unknownDevice, type SignInContext, type SignInRequest, type SignInResult } from '../sign-in.js';

export const TENCENT_RC = { identifierRejected: 2, badCredentials: 4, notAuthorized: 5 } as const;

/** The C SDK's QCLOUD_IOT_DEVICE_SDK_APPID. */
export const TENCENT_SDK_APPID = '21010406';
/** Tencent product IDs are 10 characters (e.g. CTQS08Y5LG); used to split clientIds of unknown products. */
const PRODUCT_ID_LENGTH = 10;

const USERNAME = /^([^;]+);(\d+);([^;]+);(\d+)$/;
const PASSWORD = /^([0-9A-Fa-f]+);(hmacsha256|hmacsha1)$/;

export interface TencentCredentialsInput {
  productId: string;
  deviceName: string;
  /** The base64 PSK. */
  deviceSecret: string;
  /** Unix seconds; the C SDK uses LONG_MAX when the clock is unknown. */
  expiry: number | bigint;
  connId?: string;
  sdkAppId?: string;
  algorithm?: 'hmacsha256' | 'hmacsha1';
}

/** Device side: the clientId/username/password a module computes for PSK mode. */
export function tencentCredentials(input: TencentCredentialsInput): { clientId: string; username: string; password: string } {
  const clientId = `${input.productId}${input.deviceName}`;
  const connId = input.connId ?? randomBytes(4).toString('base64url').slice(0, 5);
  const username = `${clientId};${input.sdkAppId ?? TENCENT_SDK_APPID};${connId};${input.expiry}`;
  const algorithm = input.algorithm ?? 'hmacsha256';
  const key = decodeBase64(input.deviceSecret);
  if (!key) throw new Error('the Tencent device secret (PSK) must be base64');
  const sign = hmac(algorithm === 'hmacsha1' ? 'sha1' : 'sha256', key, username).toString('hex');
  return { clientId, username, password: `${sign};${algorithm}` };
}

/** Verify a PSK-mode password against the device's base64 PSK. */
export function verifyTencentPassword(username: string, password: string, deviceSecret: string): boolean {
  const m = PASSWORD.exec(password);
  const key = decodeBase64(deviceSecret);
  if (!m || !key) return false;
  const expected = hmac(m[2] === 'hmacsha1' ? 'sha1' : 'sha256', key, username).toString('hex');
  return hexEqual(m[1]!, expected);
}

/** Split `{productId}{deviceName}` using the registry's products, else Tencent's 10-character ids. */
function splitClient(ctx: SignInContext, text: string): { productId: string; deviceName: string } | undefined {
  const candidates = ctx.registry.productsPrefixing('tencent', text);
  const known = candidates.find((p) => p.devices.has(text.slice(p.productId.length))) ?? candidates[0];
  if (known) return { productId: known.productId, deviceName: text.slice(known.productId.length) };
  if (text.length <= PRODUCT_ID_LENGTH) return undefined;
  return { productId: text.slice(0, PRODUCT_ID_LENGTH), deviceName: text.slice(PRODUCT_ID_LENGTH) };
}

export function tencentSignIn(req: SignInRequest, ctx: SignInContext): SignInResult | null {
  const m = req.username !== undefined ? USERNAME.exec(req.username) : null;
  if (!m) return null;
  const [, client, , , expiryText] = m as unknown as [string, string, string, string, string];
  if (req.clientId !== client) {
    return refuse(TENCENT_RC.identifierRejected, 'clientId is not productId + deviceName of the username');
  }
  const ids = splitClient(ctx, client);
  if (!ids) return refuse(TENCENT_RC.badCredentials, 'cannot tell product and device apart');
  // Expiry first: the platform refuses a stale username whatever the signature.
  if (Number(expiryText) * 1000 < ctx.nowMs) return refuse(TENCENT_RC.badCredentials, 'username expiry is in the past');

  const device = ctx.registry.device('tencent', ids.productId, ids.deviceName);
  if (!device) return unknownDevice(ctx, 'tencent', ids.productId, ids.deviceName, TENCENT_RC.badCredentials);
  return checkDevice(req, ctx, device);
}

function checkDevice(req: SignInRequest, ctx: SignInContext, device: DeviceEntry): SignInResult {
  const cert = req.peerCertificate;
  if (device.certificate && cert) {
    if (cert.fingerprint256 === device.certificate.fingerprint256) return acceptDevice(ctx, device, 'certificate');
    return refuse(TENCENT_RC.notAuthorized, 'client certificate is not the one registered for the device');
  }
  if (device.deviceSecret !== undefined) {
    const password = req.password?.toString('utf8') ?? '';
    if (verifyTencentPassword(req.username!, password, device.deviceSecret)) return acceptDevice(ctx, device, 'psk');
    return refuse(TENCENT_RC.badCredentials, 'signature does not match the device secret');
  }
  if (device.certificate) return refuse(TENCENT_RC.notAuthorized, 'certificate-mode device connected without its client certificate');
  return refuse(TENCENT_RC.badCredentials, 'device has no credentials yet (dynamic registration pending)');
}
