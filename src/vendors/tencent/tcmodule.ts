/**
 * AT+TCMODULE — 模组信息读取 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.8).
 *   AT+TCMODULE  → Module HW name: …
 *                  Module FW version: …
 *                  Module Mac addr: … (Wi-Fi) | Module IMEI: … (cellular)
 *                  [more lines], OK
 * The first three lines are required "且名称须与文档保持一致"; the profile gives them (the §2.8
 * example's ESP-WROOM-02D lines), with `{mac}` and `{imei}` filled in, and the firmware name and
 * compile time of the build (settings.tencent-qcloud.firmware → builds): Tencent's test reports of
 * real ESP8266 modules print 'Module FW version: QCloud_AT_ESP8266_v2.1.0' / 'Module FW compiled
 * time: Aug 18 2020 11:39:32' (v2.1.0) and 'QCloud_AT_ESP_WiFi_v1.2.0' / 'Jan  2 2020 15:37:39'
 * (v1.2.0); the manual's §2.8 example 'QCloud_AT_v1.0.0_ESP_WiFi' / 'Jun 11 2019 20:30:10'.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { TencentContext } from './context.js';

export function tcmoduleCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCMODULE',
    exec: () => {
      const build = q.data.builds?.[q.fw.firmware];
      return ok(
        ...q.data.moduleInfo.map((l) =>
          l
            .replaceAll('{mac}', q.data.mac)
            .replaceAll('{imei}', q.device.imei)
            .replaceAll('{fwVersion}', build?.version ?? q.device.profile.identity.revision)
            .replaceAll('{fwCompiled}', build?.compiled ?? ''),
        ),
      );
    },
  };
}
