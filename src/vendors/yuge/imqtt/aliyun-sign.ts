/**
 * The Aliyun sign-in the module computes itself (manual §2.15 AT+IMQTTAUTH, §2.16
 * AT+IMQTTDYNREG). The module runs Aliyun's Link SDK for C 4.x: §2.16's connwl clientId ends in
 * `_v=sdk-c-4.1.0`, and the formats below are that SDK's (core_auth.c, aiot_dynregmq_api.c),
 * checked against shared/FACTS.md "Cloud sign-in schemes":
 *
 * - One device, one secret: clientId `{pk}.{dn}|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,
 *   securemode={3 TCP|2 TLS},signmethod=hmacsha256,ext=3|` (the SDK's fixed timestamp), username
 *   `{dn}&{pk}`, password = upper-case hex HMAC-SHA256 keyed with the DeviceSecret over
 *   `clientId{pk}.{dn}deviceName{dn}productKey{pk}timestamp2524608000000`.
 * - Dynamic registration (one product, one secret): clientId
 *   `{dn}.{pk}|random={r},authType={register|regnwl},securemode={2|-2},signmethod=hmacsha256|`,
 *   username `{dn}&{pk}`, password = HMAC-SHA256(ProductSecret, `deviceName{dn}productKey{pk}random{r}`).
 *   The platform answers on `/ext/register` (`deviceSecret`) or `/ext/regnwl` (`clientId`,
 *   `deviceToken`) and disconnects.
 * - After `regnwl`, the sign-in is clientId `{clientId}|authType=connwl,securemode=-2,_ss=1,ext=3,
 *   _v=sdk-c-4.1.0|`, username `{dn}&{pk}`, password = deviceToken — exactly the triple §2.16's
 *   example reports.
 *
 * Secrets never leave this file except as the computed password.
 */
import { createHmac, randomInt } from 'node:crypto';

export const ALIYUN_SDK_VERSION = 'sdk-c-4.1.0';
/** The SDK signs with a fixed timestamp (core_auth.h CORE_AUTH_TIMESTAMP). */
export const ALIYUN_SDK_TIMESTAMP = '2524608000000';

export interface AliyunCredentials {
  clientId: string;
  username: string;
  password: string;
}

const hmacSha256Hex = (key: string, text: string): string => createHmac('sha256', Buffer.from(key, 'utf8')).update(text, 'utf8').digest('hex').toUpperCase();

/** AT+IMQTTAUTH's triple → the CONNECT fields (one device, one secret). */
export function aliyunDeviceCredentials(a: { productKey: string; deviceName: string; deviceSecret: string }, tls: boolean): AliyunCredentials {
  const id = `${a.productKey}.${a.deviceName}`;
  return {
    clientId: `${id}|timestamp=${ALIYUN_SDK_TIMESTAMP},_ss=1,_v=${ALIYUN_SDK_VERSION},securemode=${tls ? 2 : 3},signmethod=hmacsha256,ext=3|`,
    username: `${a.deviceName}&${a.productKey}`,
    password: hmacSha256Hex(a.deviceSecret, `clientId${id}deviceName${a.deviceName}productKey${a.productKey}timestamp${ALIYUN_SDK_TIMESTAMP}`),
  };
}

/** AT+IMQTTDYNREG's request → the CONNECT of a dynamic registration. `random` as the SDK makes it: a decimal uint32. */
export function aliyunRegisterCredentials(
  r: { productKey: string; deviceName: string; productSecret: string; noWhitelist: boolean },
  random: string = String(randomInt(0, 2 ** 32 - 1)),
): AliyunCredentials {
  const authType = r.noWhitelist ? 'regnwl' : 'register';
  return {
    clientId: `${r.deviceName}.${r.productKey}|random=${random},authType=${authType},securemode=${r.noWhitelist ? -2 : 2},signmethod=hmacsha256|`,
    username: `${r.deviceName}&${r.productKey}`,
    password: hmacSha256Hex(r.productSecret, `deviceName${r.deviceName}productKey${r.productKey}random${random}`),
  };
}

/** What `/ext/regnwl` returned → the triple to sign in with (mode 2 of AT+IMQTTDYNREG). */
export function aliyunConnwlCredentials(r: { productKey: string; deviceName: string; clientId: string; deviceToken: string }): AliyunCredentials {
  return {
    clientId: `${r.clientId}|authType=connwl,securemode=-2,_ss=1,ext=3,_v=${ALIYUN_SDK_VERSION}|`,
    username: `${r.deviceName}&${r.productKey}`,
    password: r.deviceToken,
  };
}
