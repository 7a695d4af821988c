/**
 * AT+TCPRDINFOSET — 平台产品信息设置 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.6), for dynamic
 * registration with the product secret (AT+TCDEVREG, §2.7).
 *   AT+TCPRDINFOSET=?  → +TCPRDINFOSET:"TLS_MODE(0/1/2)","PRODUCT_ID","PRODUCT_SECRET_BCC","DEVICE_NAME"
 *   AT+TCPRDINFOSET?   → +TCPRDINFOSET:<tls_mode>,<product_ID>,<product_secret_checksum>,<device_name>  OK
 *   AT+TCPRDINFOSET=<tls_mode>,<product_ID>,<product_secret>,<device_name>
 *                      → OK, then +TCPRDINFOSET:OK | +TCPRDINFOSET:FAIL,<err_code>
 * <product_ID> ≤ 10, <product_secret> ≤ 32, <device_name> ≤ 48 bytes. Saved to flash. Refused
 * (208) while connected to the cloud or during OTA. The read form prints the secret's BCC only.
 *
 * Real modules (firmware.ts): the ESP8266 builds print `"TLS_MODE(1)"` in the test form, and
 * v2 adds `"PRODUCT_REGION"` to it; v2 then takes the region as an optional fifth argument
 * (stored with the product; the device information of AT+TCDEVREG carries it on).
 *
 * Where the manual is silent: without product information the read form answers OK alone; a
 * flash that cannot be written reports FAIL,207.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { refuseBusy, refuseConnectedOrOta, tcArgs, TLSMODE_PARAM } from './args.js';
import type { TencentContext } from './context.js';
import { badParam, CME } from './errors.js';
import { REGION_MAX } from './firmware.js';
import { bcc, quote } from './format.js';

export function tcprdinfosetCommand(q: TencentContext): CommandDef {
  const L = q.data.limits;
  return {
    name: '+TCPRDINFOSET',
    sensitive: true,
    test: () => ok(q.fmt.line('TCPRDINFOSET', q.fw.prdinfosetTest)),
    read: () => {
      const p = q.flash.prdInfo();
      if (!p) return ok();
      return ok(q.fmt.line('TCPRDINFOSET', `${p.tlsmode},${quote(p.productId)},${bcc(p.productSecret)},${quote(p.deviceName)}`));
    },
    set: (ctx) =>
      tcArgs(
        ctx,
        [
          TLSMODE_PARAM,
          { name: 'product_ID', type: 'string', minLength: 1, maxLength: L.productId },
          { name: 'product_secret', type: 'string', minLength: 1, maxLength: L.productSecret },
          { name: 'device_name', type: 'string', minLength: 1, maxLength: L.deviceName },
          { name: 'product_region', type: 'string', optional: true, minLength: 1, maxLength: REGION_MAX },
        ],
        ([mode, pid, secret, dn, region]) => {
          if (region !== undefined && !q.fw.region) return badParam('<product_region> is a firmware v2 argument');
          const refused = refuseBusy(q) ?? refuseConnectedOrOta(q);
          if (refused) return refused;
          try {
            q.flash.setPrdInfo({
              tlsmode: mode,
              productId: pid,
              productSecret: secret,
              deviceName: dn,
              ...(region !== undefined ? { region } : {}),
            });
            q.log.info({ tlsmode: mode, productId: pid, deviceName: dn }, 'product information saved');
            q.report(q.fmt.ok('TCPRDINFOSET'), 'result');
          } catch (err) {
            q.log.warn({ err }, 'flash write failed');
            q.report(q.fmt.fail('TCPRDINFOSET', CME.flash), 'result');
          }
          return ok();
        },
      ),
  };
}
