/**
 * What the module computes to sign in to Tencent's IoT platform (the firmware's C SDK does it;
 * FACTS.md "Cloud sign-in schemes"). Written here independently of the virtual cloud's verifier,
 * so each checks the other.
 *
 * - MQTT, key (PSK) mode: clientId = productId + deviceName; username =
 *   `{clientId};{sdkappid};{connid};{expiry}` (connid 5 random characters); password = lower-hex
 *   HMAC-SHA256 of the username keyed with the base64-decoded PSK, then `;hmacsha256`. Certificate
 *   mode sends the same user name and no password (the TLS client certificate signs in).
 * - Dynamic registration (§2.7): `POST /device/register` with `{"ProductId","DeviceName"}`,
 *   signed in X-TC-* headers with HMAC(productSecret) over
 *   `POST\n{host}\n/device/register\n\n{alg}\n{timestamp}\n{nonce}\n{hex hash(body)}`; the reply's
 *   payload is AES-128-CBC (key = first 16 bytes of the product secret, IV = sixteen '0', zero
 *   padding) of `{"encryptionType":2,"psk":…}` (or type 1 with `clientCert`/`clientKey`).
 */
import { createDecipheriv, createHash, createHmac, randomBytes, randomInt } from 'node:crypto';

const CONN_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Strict base64 of a PSK: the SDK's decoder refuses anything else. */
export function decodePsk(secret: string): Buffer | undefined {
  if (secret === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(secret) || secret.length % 4 !== 0) return undefined;
  return Buffer.from(secret, 'base64');
}

export interface MqttSignIn {
  clientId: string;
  username: string;
  /** Absent in certificate mode. */
  password?: string;
}

export function tencentUsername(productId: string, deviceName: string, sdkAppId: string, expiry: number, connId?: string): string {
  const id = connId ?? Array.from({ length: 5 }, () => CONN_ID_CHARS[randomInt(CONN_ID_CHARS.length)]).join('');
  return `${productId}${deviceName};${sdkAppId};${id};${expiry}`;
}

/** PSK mode. Throws when the secret is not base64 (AT+TCDEVINFOSET refuses such secrets). */
export function pskSignIn(input: {
  productId: string;
  deviceName: string;
  deviceSecret: string;
  sdkAppId: string;
  expiry: number;
  connId?: string;
}): MqttSignIn {
  const key = decodePsk(input.deviceSecret);
  if (!key) throw new Error('device secret is not base64');
  const username = tencentUsername(input.productId, input.deviceName, input.sdkAppId, input.expiry, input.connId);
  const sign = createHmac('sha256', key).update(username).digest('hex');
  return { clientId: `${input.productId}${input.deviceName}`, username, password: `${sign};hmacsha256` };
}

/** The request of AT+TCDEVREG. */
export function dynregRequest(input: {
  productId: string;
  deviceName: string;
  productSecret: string;
  host: string;
  algorithm: 'hmacsha256' | 'hmacsha1';
  timestamp?: number;
  nonce?: number;
}): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ ProductId: input.productId, DeviceName: input.deviceName });
  const digest = input.algorithm === 'hmacsha1' ? 'sha1' : 'sha256';
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = String(input.nonce ?? randomBytes(4).readUInt32BE() & 0x7fffffff);
  const bodyHash = createHash(digest).update(body).digest('hex');
  const toSign = `POST\n${input.host}\n/device/register\n\n${input.algorithm}\n${timestamp}\n${nonce}\n${bodyHash}`;
  return {
    body,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      Accept: 'application/json',
      'X-TC-Algorithm': input.algorithm,
      'X-TC-Timestamp': timestamp,
      'X-TC-Nonce': nonce,
      'X-TC-Signature': createHmac(digest, input.productSecret).update(toSign).digest('base64'),
    },
  };
}

/** Decrypt the registration reply's payload; undefined when it is not a whole number of blocks. */
export function decryptDynregPayload(payloadBase64: string, productSecret: string): string | undefined {
  const data = Buffer.from(payloadBase64, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) return undefined;
  const key = Buffer.alloc(16);
  Buffer.from(productSecret, 'utf8').copy(key, 0, 0, 16);
  const decipher = createDecipheriv('aes-128-cbc', key, Buffer.from('0000000000000000', 'ascii'));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end).toString('utf8');
}
