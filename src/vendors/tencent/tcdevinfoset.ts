/**
 * AT+TCDEVINFOSET — 平台设备信息设置 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.2).
 *   AT+TCDEVINFOSET=?  → +TCDEVINFOSET:"TLSMODE(0/1/2)","PRODUCTID","DEVICENAME","DEVICESECRET"(TLSMODE=0/1) or "CERTNAME"(TLSMODE=2)
 *   AT+TCDEVINFOSET?   → +TCDEVINFOSET:<tlsmode>,<productId>,<devicename>[,<devicesecret_checksum>] or [,<certname>]  OK
 *                        (the secret itself is never printed, only its BCC, §1.2.6)
 *   AT+TCDEVINFOSET=<tlsmode>,<productId>,<devicename>[,<devicesecret>][,<certname>]
 *                      → OK, then +TCDEVINFOSET:OK | +TCDEVINFOSET:FAIL,<err_code>
 * <productId> ≤ 10, <devicename> ≤ 48 bytes; <devicesecret> for tlsmode 0/1, <certname> for 2,
 * which must name a certificate stored with AT+TCCERTADD ("该命令校验证书是否存在及合法").
 * Saved to flash (survives power-off). Refused (208) while connected to the cloud or during OTA.
 *
 * Where the manual is silent:
 * - §7.2 passes the certificate name as the 4th argument (`AT+TCDEVINFOSET=2,"MND067I4BM",
 *   "dev_g1","general_cdev1_cert.crt"`): with tlsmode 2 the 5th argument is used when present,
 *   else the 4th. With tlsmode 0/1 a 5th argument is ignored.
 * - A secret that is not base64 (the PSK is base64, and the SDK decodes it) is 204.
 * - The certificate check: no such certificate → FAIL,204; not a PEM certificate, or no stored
 *   private key belongs to it → FAIL,203 (check failed). A flash that cannot be written → FAIL,207.
 * - Without device information the read form answers OK alone.
 *
 * Real modules (firmware.ts): firmware v2 ends the read form with the product region
 * (`+TCDEVINFOSET:1,"S3EUVBRJLB","test_device",110,"ap-guangzhou"` in Tencent's v2.1.0 test
 * report); v2 takes a region as the last argument of the set form (tlsmode 0/1: the fifth), else
 * the profile's `region` is used.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { refuseBusy, refuseConnectedOrOta, tcArgs, TLSMODE_PARAM } from './args.js';
import { checkCertFile, findKeyFor } from './certs.js';
import type { TencentContext } from './context.js';
import { badParam, CME } from './errors.js';
import { REGION_MAX } from './firmware.js';
import { bcc, quote } from './format.js';
import type { DevInfo } from './flash.js';
import { decodePsk } from './sign.js';

/** The stored key pair for a certificate name, or why there is none (§6.2 code). */
export function certPair(q: TencentContext, certName: string): { cert: Buffer; key: Buffer } | { error: number; why: string } {
  const cert = q.flash.cert(certName);
  if (!cert) return { error: CME.invalidParam, why: `no certificate named ${certName}` };
  const check = checkCertFile(certName, cert);
  if (!check.ok || check.kind !== 'cert') return { error: CME.checkFailed, why: check.ok ? `${certName} is a key, not a certificate` : check.problem };
  const keys = q.flash
    .certNames()
    .filter((n) => n.toLowerCase().endsWith('.key'))
    .map((name) => ({ name, data: q.flash.cert(name)! }));
  const keyName = findKeyFor(cert, keys);
  if (!keyName) return { error: CME.checkFailed, why: `no stored private key belongs to ${certName}` };
  return { cert, key: q.flash.cert(keyName)! };
}

export function tcdevinfosetCommand(q: TencentContext): CommandDef {
  const L = q.data.limits;
  return {
    name: '+TCDEVINFOSET',
    sensitive: true,
    test: () =>
      ok(q.fmt.line('TCDEVINFOSET', '"TLSMODE(0/1/2)","PRODUCTID","DEVICENAME","DEVICESECRET"(TLSMODE=0/1) or "CERTNAME"(TLSMODE=2)')),
    read: () => {
      const info = q.flash.devInfo();
      if (!info) return ok();
      const last = info.tlsmode === 2 ? quote(info.certName ?? '') : String(bcc(info.deviceSecret ?? ''));
      const region = q.fw.region ? `,${quote(info.region ?? q.fw.region)}` : '';
      return ok(q.fmt.line('TCDEVINFOSET', `${info.tlsmode},${quote(info.productId)},${quote(info.deviceName)},${last}${region}`));
    },
    set: (ctx) =>
      tcArgs(
        ctx,
        [
          TLSMODE_PARAM,
          { name: 'productId', type: 'string', minLength: 1, maxLength: L.productId },
          { name: 'devicename', type: 'string', minLength: 1, maxLength: L.deviceName },
          { name: 'devicesecret', type: 'string', optional: true },
          { name: 'certname', type: 'string', optional: true },
        ],
        ([tlsmode, pid, dn, fourth, fifth]) => {
          const refused = refuseBusy(q) ?? refuseConnectedOrOta(q);
          if (refused) return refused;
          const info: DevInfo = { tlsmode, productId: pid, deviceName: dn };
          let check: (() => number) | undefined;
          if (tlsmode === 2) {
            const certName = fifth ?? fourth;
            if (!certName || certName.length > L.certName) return badParam('tlsmode 2 needs <certname>');
            info.certName = certName;
            check = () => {
              const pair = certPair(q, certName);
              if ('error' in pair) {
                q.log.info({ certName, why: pair.why }, 'AT+TCDEVINFOSET certificate check failed');
                return pair.error;
              }
              return 0;
            };
          } else {
            const secret = fourth;
            if (secret === undefined) return badParam(`tlsmode ${tlsmode} needs <devicesecret>`);
            if (secret.length > L.deviceSecret || !decodePsk(secret)) return badParam('<devicesecret> must be the base64 PSK');
            info.deviceSecret = secret;
            if (q.fw.region && fifth !== undefined) {
              const region = fifth;
              if (region.length < 1 || region.length > REGION_MAX) return badParam(`<region> must be 1-${REGION_MAX} bytes`);
              info.region = region;
            }
          }
          const rc = check?.() ?? 0;
          if (rc === 0) {
            try {
              q.flash.setDevInfo(info);
              q.log.info({ tlsmode, productId: info.productId, deviceName: info.deviceName }, 'device information saved');
            } catch (err) {
              q.log.warn({ err }, 'flash write failed');
              q.report(q.fmt.fail('TCDEVINFOSET', CME.flash), 'result');
              return ok();
            }
          }
          q.report(rc === 0 ? q.fmt.ok('TCDEVINFOSET') : q.fmt.fail('TCDEVINFOSET', rc), 'result');
          return ok();
        },
      ),
  };
}
