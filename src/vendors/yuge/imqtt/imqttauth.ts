/**
 * AT+IMQTTAUTH — 阿里云平台非动态注册三元组（一机一密） (manual §2.15
 * "AT+IMQTTAUTH 阿里云平台非动态注册三元组（一机一密）").
 *   AT+IMQTTAUTH=<ProduceKey>,<DeviceName>,<DeviceSecret>  → OK
 *   AT+IMQTTAUTH?   → +IMQTTAUTH:<ProduceKey>,<DeviceName>,<DeviceSecret>  OK
 *   AT+IMQTTAUTH=?  → OK
 * With AT+IMQTTMODE=1 the module computes the Aliyun sign-in from the triple itself
 * (aliyun-sign.ts): AT+IMQTTUSER and AT+IMQTTADDR's clientId are then not used.
 *
 * The manual's example spells the command AT+IMQTTAUTU (a slip, also accepted) and prints the
 * secret back in the read form, which is followed. Where the manual is silent: all three empty
 * (`AT+IMQTTAUTH="","",""`) removes the triple; one or two empty is refused.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { fail, imqttArgs, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';

export function imqttauthCommand(q: YugeContext): CommandDef {
  const d = q.data;
  return {
    name: '+IMQTTAUTH',
    aliases: ['+IMQTTAUTU'],
    sensitive: true,
    test: () => ok(),
    read: () => {
      const a = q.client.config.auth;
      return ok(line('+IMQTTAUTH', a ? [a.productKey, a.deviceName, a.deviceSecret].map(textToAt).join(',') : ',,'));
    },
    set: (ctx) =>
      imqttArgs(
        ctx,
        [str('ProduceKey', d.maxProductKeyLength), str('DeviceName', d.maxDeviceNameLength), str('DeviceSecret', d.maxSecretLength)],
        ([pk, dn, ds]) => {
          const [productKey, deviceName, deviceSecret] = [textFromAt(pk), textFromAt(dn), textFromAt(ds)];
          const empty = [productKey, deviceName, deviceSecret].filter((v) => v === '').length;
          if (empty === 3) {
            q.client.config.auth = undefined;
            return ok();
          }
          if (empty > 0) return fail('ProduceKey, DeviceName and DeviceSecret are all needed');
          q.client.config.auth = { productKey, deviceName, deviceSecret };
          return ok();
        },
      ),
  };
}
