/**
 * AT+TCOTASET — OTA 功能使能控制及版本设置 (腾讯云 IoT MQTT AT 指令 V3.1.3 §4.1).
 *   AT+TCOTASET=?  → +TCOTASET:"ENABLE/DISABLE","FW_version"
 *   AT+TCOTASET?   → OK, then +TCOTASET:<ctlstate>,<fw_ver>   (the manual prints OK first)
 *   AT+TCOTASET=<ctlstate>,<fw_ver>
 *                  → OK, then +TCOTASET:OK | +TCOTASET:FAIL,<err_code>
 * <ctlstate> 1: report <fw_ver> to the cloud and listen for firmware pushes (ota.ts); 0: stop.
 * During a download → error.
 *
 * Real modules: the test form prints `+TCOTASET:1(ENABLE)/0(DISABLE),"FW_version"` (firmware
 * v1.2.0 and v2.1.0 test reports, see firmware.ts); the manual's text with profile `firmware`
 * `manual`.
 *
 * Where the manual is silent: <fw_ver> is 1–32 bytes ("V.R.C, 譬如 1.0.0" is the suggested
 * format, not enforced); the MQTT connection is needed (208 without); a failed subscription or
 * version report gives its code (-108, 202); before any AT+TCOTASET the read form prints `0,""`,
 * and <ctlstate> reads 0 again once the connection it listened on was closed with
 * AT+TCMQTTDISCONN (an auto reconnection keeps it).
 */
import { ok, type CommandDef } from '../../at/types.js';
import { okThen, refuseBusy, tcArgs } from './args.js';
import type { TencentContext } from './context.js';
import { stateError } from './errors.js';
import { quote } from './format.js';

export function tcotasetCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCOTASET',
    test: () => ok(q.fmt.line('TCOTASET', q.fw.otasetTest)),
    read: () => {
      q.report(q.fmt.line('TCOTASET', `${q.ota.listening ? 1 : 0},${quote(q.ota.version)}`));
      return ok();
    },
    set: (ctx) =>
      tcArgs(
        ctx,
        [
          { name: 'ctlstate', type: 'int', values: [0, 1] },
          { name: 'fw_ver', type: 'string', minLength: 1, maxLength: q.data.limits.version },
        ],
        ([state, version]) => {
          const refused = refuseBusy(q);
          if (refused) return refused;
          if (q.ota.downloading) return stateError('an OTA download is running');
          if (!q.client.connected) return stateError('MQTT is not connected');
          return okThen(q, 'TCOTASET', () => (state === 1 ? q.ota.enable(version) : q.ota.disable(version)));
        },
      ),
  };
}
