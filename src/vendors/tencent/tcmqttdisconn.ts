/**
 * AT+TCMQTTDISCONN — 断开 MQTT 连接 (腾讯云 IoT MQTT AT 指令 V3.1.3 §3.2).
 *   AT+TCMQTTDISCONN=?  → OK
 *   AT+TCMQTTDISCONN    → OK (after DISCONNECT), or +CME ERROR: <err>
 * Not connected → error; during OTA → error (208 both).
 *
 * Real modules (Tencent's published serial test reports of ESP8266 modules, firmware v1.2.0 and
 * v2.1.0: TencentCloud/tc-iot-sdk-embedded-for-esp8266, QCloud_IoT_AT_Test_Tool/
 * Test-report-sample-WiFi.md): `AT+TCMQTTDISCONN` answers `+TCMQTTDISCON,2`, then `OK`. The
 * manual mentions that URC only for server-side disconnects (§5.2); the firmware's MQTT task
 * prints it with QCLOUD_RET_MQTT_MANUALLY_DISCONNECTED (2) when the user stops it. Printed unless
 * the profile's `firmware` is `manual` (firmware.ts).
 *
 * Where the manual is silent: while the module is reconnecting on its own (<reconnect> 1) the
 * command stops it (the MQTT task ends the same way, so the line is printed too). Subscriptions
 * are forgotten.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { refuseBusy } from './args.js';
import type { TencentContext } from './context.js';
import { stateError } from './errors.js';
import { MANUALLY_DISCONNECTED } from './firmware.js';

export function tcmqttdisconnCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCMQTTDISCONN',
    test: () => ok(),
    exec: async () => {
      const refused = refuseBusy(q);
      if (refused) return refused;
      if (q.ota.downloading) return stateError('an OTA download is running');
      if (q.client.state !== 'connected' && q.client.state !== 'reconnecting') return stateError('MQTT is not connected');
      await q.client.disconnect();
      q.log.info('disconnected from the cloud (AT+TCMQTTDISCONN)');
      // `+TCMQTTDISCON,<code>` has no colon after the name (§5.2), so colonSpace does not apply.
      return q.fw.disconnectReport ? ok(`+TCMQTTDISCON,${MANUALLY_DISCONNECTED}`) : ok();
    },
  };
}
