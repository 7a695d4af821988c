/**
 * AT+TCRESTORE — 清除模组设备信息 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.9).
 *   AT+TCRESTORE=?  → OK
 *   AT+TCRESTORE    → OK, then the module restarts
 * Clears the Tencent device and product information, the certificates and the cached OTA
 * firmware from flash, then restarts the module. Not the module information of AT+TCMODULE.
 * Refused (208) while connected to the cloud or during OTA.
 *
 * Where the manual is silent: certificates count as the device information ("腾讯云相关设备及产品
 * 信息": they are the device's credentials). The restart is the modem's (as AT+CFUN=1,1: boot
 * URCs follow) when the modem offers one, else this set's own state starts over.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { refuseBusy, refuseConnectedOrOta } from './args.js';
import type { TencentContext } from './context.js';

export function tcrestoreCommand(q: TencentContext, restart: () => void): CommandDef {
  return {
    name: '+TCRESTORE',
    test: () => ok(),
    exec: () => {
      const refused = refuseBusy(q) ?? refuseConnectedOrOta(q);
      if (refused) return refused;
      q.flash.restore();
      q.ota.forget();
      q.log.info('device information cleared; restarting');
      // After the OK is out.
      setTimeout(restart, 0);
      return ok();
    },
  };
}
