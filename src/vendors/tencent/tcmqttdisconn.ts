/**
 * AT+TCMQTTDISCONN — 断开 MQTT 连接 (腾讯云 IoT MQTT AT 指令 V3.1.3 §3.2).
 *   AT+TCMQTTDISCONN=?  → OK
 *   AT+TCMQTTDISCONN    → OK (after DISCONNECT), or +CME ERROR: <err>
 * Not connected → error; during OTA → error (208 both).
 *
 * Where the manual is silent: while the module is reconnecting on its own (<reconnect> 1) the
 * command stops it and answers OK. Subscriptions are forgotten; nothing else is reported.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { refuseBusy } from './args.js';
import type { TencentContext } from './context.js';
import { stateError } from './errors.js';

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
      return ok();
    },
  };
}
