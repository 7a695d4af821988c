/**
 * Huawei Cloud IoTDA MQTT sign-in (FACTS.md "Cloud sign-in schemes"): clientId
 * `{deviceId}_0_{0|1}_{YYYYMMDDHH}`, username = deviceId, password = lower-hex HMAC-SHA256 keyed
 * with the `YYYYMMDDHH` timestamp (UTC) over the device secret. The third field is the signature
 * type: 0 = the timestamp is not checked, 1 = it is; here "checked" means the stamped hour is
 * the cloud's current hour or the one before or after it.
 *
 * Refusals: a wrong password, a stale timestamp or an unknown device get CONNACK 4 (bad user name
 * or password); a clientId whose device ID differs from the username gets 2 (identifier
 * rejected). (The codes follow MQTT 3.1.1 §3.2.2.3; FACTS.md does not record Huawei's.)
 */
import { hexEqual, hmac } from '../crypto.js';
import { acceptDevice, refuse, unknownDevice, type SignInContext, type SignInRequest, type SignInResult } from '../sign-in.js';

export const HUAWEI_RC = { identifierRejected: 2, badCredentials: 4 } as const;

const CLIENT_ID = /^(.+)_0_([01])_(\d{10})$/;
const HOUR_MS = 3_600_000;

/** `YYYYMMDDHH` in UTC. */
export function huaweiTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13).replace(/[-T]/g, '');
}

function timestampMs(ts: string): number {
  return Date.UTC(Number(ts.slice(0, 4)), Number(ts.slice(4, 6)) - 1, Number(ts.slice(6, 8)), Number(ts.slice(8, 10)));
}

export function huaweiPassword(secret: string, timestamp: string): string {
  return hmac('sha256', Buffer.from(timestamp, 'utf8'), secret).toString('hex');
}

/** Device side: IoTDA credentials for `deviceId` at time `nowMs`. */
export function huaweiCredentials(input: { deviceId: string; secret: string; nowMs: number; checkTimestamp?: boolean }): {
  clientId: string;
  username: string;
  password: string;
} {
  const ts = huaweiTimestamp(input.nowMs);
  return {
    clientId: `${input.deviceId}_0_${input.checkTimestamp === false ? 0 : 1}_${ts}`,
    username: input.deviceId,
    password: huaweiPassword(input.secret, ts),
  };
}

export function huaweiSignIn(req: SignInRequest, ctx: SignInContext): SignInResult | null {
  const m = CLIENT_ID.exec(req.clientId);
  if (!m) return null;
  const [, deviceId, signType, ts] = m as unknown as [string, string, string, string];
  if (req.username !== deviceId) return refuse(HUAWEI_RC.identifierRejected, 'clientId device ID differs from the username');
  const tsMs = timestampMs(ts);
  if (Number.isNaN(tsMs) || huaweiTimestamp(tsMs) !== ts) return refuse(HUAWEI_RC.badCredentials, 'timestamp is not YYYYMMDDHH');
  const currentHourMs = Math.floor(ctx.nowMs / HOUR_MS) * HOUR_MS;
  if (signType === '1' && Math.abs(currentHourMs - tsMs) > HOUR_MS) {
    return refuse(HUAWEI_RC.badCredentials, 'timestamp is too far from the current time');
  }
  const device = ctx.registry.findDevice('huawei', deviceId);
  if (!device) return unknownDevice(ctx, 'huawei', '', deviceId, HUAWEI_RC.badCredentials);
  if (device.deviceSecret === undefined) return refuse(HUAWEI_RC.badCredentials, 'device has no secret');
  if (!hexEqual(req.password?.toString('utf8') ?? '', huaweiPassword(device.deviceSecret, ts))) {
    return refuse(HUAWEI_RC.badCredentials, 'password does not match the device secret');
  }
  return acceptDevice(ctx, device, 'device secret');
}
