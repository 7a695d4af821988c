/**
 * The HTTPS call behind AT+TCDEVREG (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.7): sign the request with
 * the product secret of AT+TCPRDINFOSET, post it to the registration server (the virtual cloud's
 * `POST /device/register`), decrypt the device secret (or certificate) from the reply.
 *
 * The module signs the production host name (`dynreg.host` of the profile); the request goes to
 * the virtual cloud's HTTPS side (HTTP for tlsmode 0, as the SDK's no-TLS build does), or to the
 * other one when only that runs. Without a virtual cloud the call cannot be made: -8
 * (QCLOUD_ERR_HTTP_CONN), as a module without a route to the server reports.
 */
import type { Device } from '../../modem/device.js';
import type { TencentProfileData } from './context.js';
import { dynregErrorCode, DYNREG, SDK } from './errors.js';
import type { PrdInfo } from './flash.js';
import { HttpFailure, httpRequest } from './http.js';
import { decryptDynregPayload, decodePsk, dynregRequest } from './sign.js';

const TIMEOUT_MS = 10_000;
const MAX_REPLY = 16 * 1024;

export type Registered =
  | { kind: 'psk'; psk: string }
  | { kind: 'cert'; cert: string; key: string };

export type DynregResult = { ok: true; registered: Registered } | { ok: false; code: number; why: string };

export async function registerDevice(device: Device, data: TencentProfileData, prd: PrdInfo): Promise<DynregResult> {
  const cloud = device.cloud;
  const base = prd.tlsmode === 0 ? (cloud?.httpUrl ?? cloud?.httpsUrl) : (cloud?.httpsUrl ?? cloud?.httpUrl);
  if (!base) return { ok: false, code: SDK.httpConnect, why: 'no registration server (the virtual cloud has no HTTP side)' };
  const { body, headers } = dynregRequest({
    productId: prd.productId,
    deviceName: prd.deviceName,
    productSecret: prd.productSecret,
    host: data.dynreg.host,
    algorithm: data.dynreg.algorithm,
  });
  let reply;
  try {
    reply = await httpRequest(new URL('/device/register', base), {
      method: 'POST',
      headers,
      body,
      timeoutMs: TIMEOUT_MS,
      maxBytes: MAX_REPLY,
      ...(cloud?.ca ? { ca: cloud.ca } : {}),
    });
  } catch (err) {
    const code = err instanceof HttpFailure ? err.code : SDK.http;
    return { ok: false, code, why: (err as Error).message };
  }
  if (reply.status === 404) return { ok: false, code: SDK.httpNotFound, why: 'HTTP 404' };
  if (reply.status === 401 || reply.status === 403) return { ok: false, code: SDK.httpAuth, why: `HTTP ${reply.status}` };
  if (reply.status !== 200) return { ok: false, code: SDK.http, why: `HTTP ${reply.status}` };
  let json: { Response?: { Error?: { Code?: unknown; Message?: unknown }; Payload?: unknown; Len?: unknown } };
  try {
    json = JSON.parse(reply.body.toString('utf8')) as typeof json;
  } catch {
    return { ok: false, code: SDK.jsonParse, why: 'reply is not JSON' };
  }
  const response = json?.Response;
  if (response?.Error) return { ok: false, code: dynregErrorCode(response.Error.Code), why: String(response.Error.Message ?? response.Error.Code) };
  if (typeof response?.Payload !== 'string') return { ok: false, code: SDK.jsonParse, why: 'reply has no Payload' };
  const plain = decryptDynregPayload(response.Payload, prd.productSecret);
  let info: { encryptionType?: unknown; psk?: unknown; clientCert?: unknown; clientKey?: unknown };
  try {
    info = JSON.parse(plain ?? '') as typeof info;
  } catch {
    return { ok: false, code: DYNREG.InternalError, why: 'payload does not decrypt to JSON' };
  }
  if (info?.encryptionType === 2 && typeof info.psk === 'string' && decodePsk(info.psk)) return { ok: true, registered: { kind: 'psk', psk: info.psk } };
  if (info?.encryptionType === 1 && typeof info.clientCert === 'string' && typeof info.clientKey === 'string') {
    return { ok: true, registered: { kind: 'cert', cert: info.clientCert, key: info.clientKey } };
  }
  return { ok: false, code: DYNREG.InternalError, why: 'payload carries no credentials' };
}
