/**
 * AT+TCDEVREG — 执行设备动态注册 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.7).
 *   AT+TCDEVREG=?  → OK
 *   AT+TCDEVREG    → OK, then +TCDEVREG:OK | +TCDEVREG:FAIL,<err_code>
 * Registers the device of AT+TCPRDINFOSET with the product secret (a real HTTPS call, dynreg.ts)
 * and saves the device secret it gets to flash as the device information (what AT+TCDEVINFOSET?
 * shows). Refused (208) while connected to the cloud or during OTA. Codes: §6.3 1000–1031 from the
 * server, §6.1 QCLOUD_ERR_HTTP_* for the transport.
 *
 * §2.7's rules, and who decides them:
 * 1. No device information yet: register. 2. Device A registered but never signed in, same A:
 * registered again, the cloud issues a new PSK. 3. A registered and signed in: the cloud refuses
 * (1021). 4. Product information names a new device B: B is registered; on success B's
 * information replaces A's, on failure A's stays. 5. The saved information is used from then on.
 * Rules 2–3 are the cloud's; the module keeps the old device information whenever registration
 * fails (rule 4).
 *
 * Where the manual is silent: without product information the command answers 208. A
 * registration that returns a PSK for a tlsmode-2 product is saved as tlsmode 1; one that
 * returns a certificate (encryptionType 1) stores `<device>_cert.crt` / `<device>_private.key` and
 * saves tlsmode 2.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { okThen, refuseBusy, refuseConnectedOrOta } from './args.js';
import type { TencentContext } from './context.js';
import { registerDevice } from './dynreg.js';
import { CME, stateError } from './errors.js';

export function tcdevregCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCDEVREG',
    test: () => ok(),
    exec: () => {
      const refused = refuseBusy(q) ?? refuseConnectedOrOta(q);
      if (refused) return refused;
      const prd = q.flash.prdInfo();
      if (!prd) return stateError('no product information (AT+TCPRDINFOSET)');
      return okThen(q, 'TCDEVREG', async () => {
        const r = await registerDevice(q.device, q.data, prd);
        if (!r.ok) {
          q.log.info({ productId: prd.productId, deviceName: prd.deviceName, code: r.code, why: r.why }, 'dynamic registration failed');
          return r.code;
        }
        try {
          if (r.registered.kind === 'psk') {
            q.flash.setDevInfo({
              tlsmode: prd.tlsmode === 2 ? 1 : prd.tlsmode,
              productId: prd.productId,
              deviceName: prd.deviceName,
              deviceSecret: r.registered.psk,
              ...(prd.region !== undefined ? { region: prd.region } : {}),
            });
          } else {
            const certName = `${prd.deviceName}_cert.crt`;
            q.flash.putCert(certName, Buffer.from(r.registered.cert, 'utf8'));
            q.flash.putCert(`${prd.deviceName}_private.key`, Buffer.from(r.registered.key, 'utf8'));
            q.flash.setDevInfo({ tlsmode: 2, productId: prd.productId, deviceName: prd.deviceName, certName, ...(prd.region !== undefined ? { region: prd.region } : {}) });
          }
        } catch (err) {
          q.log.warn({ err }, 'flash write failed');
          return CME.flash;
        }
        q.log.info({ productId: prd.productId, deviceName: prd.deviceName, kind: r.registered.kind }, 'device registered; device information saved');
        return 0;
      });
    },
  };
}
