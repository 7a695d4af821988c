/**
 * AT+TCMODULE — 模组信息读取 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.8).
 *   AT+TCMODULE  → Module HW name: …
 *                  Module FW version: …
 *                  Module Mac addr: … (Wi-Fi) | Module IMEI: … (cellular)
 *                  [more lines], OK
 * The first three lines are required "且名称须与文档保持一致"; the profile gives them (the §2.8
 * example's ESP-WROOM-02D lines), with `{mac}` and `{imei}` filled in.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { TencentContext } from './context.js';

export function tcmoduleCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCMODULE',
    exec: () => ok(...q.data.moduleInfo.map((l) => l.replaceAll('{mac}', q.data.mac).replaceAll('{imei}', q.device.imei))),
  };
}
