/**
 * The OneMO (China Mobile IoT) MQTT command set, as the "MQTT用户手册" V6.7.0 describes it for the
 * ML302A/ML305A/ML307A/ML307R family: §3.1–§3.8 commands, §3.9 URCs, §5 error codes.
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { OneMoClient } from './client.js';
import type { OneMoContext, OneMoProfileData } from './context.js';
import { mqttcfgCommand } from './mqttcfg.js';
import { mqttconnCommand } from './mqttconn.js';
import { mqttdiscCommand } from './mqttdisc.js';
import { mqttpubCommand } from './mqttpub.js';
import { mqttreadCommand } from './mqttread.js';
import { mqttstateCommand } from './mqttstate.js';
import { mqttsubCommand } from './mqttsub.js';
import { mqttunsubCommand } from './mqttunsub.js';

export const ONEMO_MQTT_SET_ID = 'onemo-mqtt';

export function onemoMqttCommandSet(device: Device): CommandSet {
  const data = device.profile.settings[ONEMO_MQTT_SET_ID] as OneMoProfileData | undefined;
  if (!data) throw new Error(`profile ${device.profile.id}: settings["${ONEMO_MQTT_SET_ID}"] missing`);
  const clients = Array.from({ length: data.maxConnectId + 1 }, (_, i) => new OneMoClient(i, device, data));
  const q: OneMoContext = { device, data, clients, client: (id) => clients[id]! };

  // Losing the data network ends every connection without DISCONNECT (the broker publishes
  // wills) and reports "conn",<id>,6 (§3.9 "断开：网络异常断开").
  device.network.on('down', () => {
    for (const c of clients) c.networkLost();
  });

  return {
    commands: [
      mqttcfgCommand(q),
      mqttconnCommand(q),
      mqttsubCommand(q),
      mqttunsubCommand(q),
      mqttpubCommand(q),
      mqttreadCommand(q),
      mqttstateCommand(q),
      mqttdiscCommand(q),
    ],
    // ATZ / AT&F leave MQTT settings alone; only a reboot (dispose) restores them.
    reset: () => {},
    inspect: () => clients.map((c) => c.inspect()),
    dispose: () => {
      for (const c of clients) {
        c.destroy();
        c.resetConfig();
      }
    },
  };
}
