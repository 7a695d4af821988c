/**
 * Credentials the module computes itself when AT+QMTCONN omits <username>/<password> and a
 * platform was configured with AT+QMTCFG (EC200 manual §3.3.1 note 5): Aliyun ("aliauth"),
 * OneNET ("onenet"), Huawei IoTDA ("hwauth", "hwprodid"). The schemes are the platforms' own
 * (see shared/FACTS.md "Cloud sign-in schemes").
 */
import { createHmac } from 'node:crypto';
import type { QmtClientConfig } from './client-config.js';

export interface Credentials {
  clientId: string;
  username?: string;
  password?: string;
}

export function platformCredentials(cfg: QmtClientConfig, clientId: string, now = new Date()): Credentials | undefined {
  if (cfg.aliauth) return aliyunCredentials(cfg.aliauth, clientId, cfg.ssl.enabled);
  if (cfg.onenet) return onenetCredentials(cfg.onenet, clientId, now);
  if (cfg.hwauth) return huaweiCredentials(clientId, cfg.hwauth.deviceSecret, now);
  if (cfg.hwprodid) return huaweiCredentials(`${cfg.hwprodid.productId}_${cfg.hwprodid.nodeId}`, cfg.hwprodid.productSecret, now);
  return undefined;
}

/** Aliyun one-device-one-secret, hmacsha1; securemode 3 over TCP, 2 over TLS. */
export function aliyunCredentials(
  a: { productKey: string; deviceName: string; deviceSecret: string },
  clientId: string,
  tls: boolean,
): Credentials {
  const content = `clientId${clientId}deviceName${a.deviceName}productKey${a.productKey}`;
  return {
    clientId: `${clientId}|securemode=${tls ? 2 : 3},signmethod=hmacsha1|`,
    username: `${a.deviceName}&${a.productKey}`,
    password: createHmac('sha1', a.deviceSecret).update(content).digest('hex').toUpperCase(),
  };
}

/** OneNET token: clientId = device name, username = product id, password = signed token. */
export function onenetCredentials(o: { productId: string; accessKey: string }, deviceName: string, now: Date): Credentials {
  const version = '2018-10-31';
  const res = `products/${o.productId}/devices/${deviceName}`;
  const et = Math.floor(now.getTime() / 1000) + 365 * 24 * 3600;
  const method = 'sha1';
  const sign = createHmac('sha1', Buffer.from(o.accessKey, 'base64'))
    .update(`${et}\n${method}\n${res}\n${version}`)
    .digest('base64');
  const token = `version=${version}&res=${encodeURIComponent(res)}&et=${et}&method=${method}&sign=${encodeURIComponent(sign)}`;
  return { clientId: deviceName, username: o.productId, password: token };
}

/** Huawei IoTDA: clientId `{deviceId}_0_0_{YYYYMMDDHH}`, password = HMAC-SHA256(key=timestamp, secret). */
export function huaweiCredentials(deviceId: string, secret: string, now: Date): Credentials {
  const p = (n: number) => String(n).padStart(2, '0');
  const ts = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}${p(now.getUTCHours())}`;
  return {
    clientId: `${deviceId}_0_0_${ts}`,
    username: deviceId,
    password: createHmac('sha256', ts).update(secret).digest('hex'),
  };
}
