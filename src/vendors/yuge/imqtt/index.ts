/**
 * The YUGE CLM920 RC3/AC3 MQTT command set, as the "MQTT AT Command Manual" V1.06 describes it:
 * §2.1–§2.18 commands, §2.19 URCs. One client, no error codes (a failure is plain ERROR), lines
 * without a space after the colon (format.ts).
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { memoryFlashStore } from '../../../modem/module-flash.js';
import { YugeClient } from './client.js';
import type { YugeContext, YugeProfileData } from './context.js';
import { imqttaddrCommand } from './imqttaddr.js';
import { imqttauthCommand } from './imqttauth.js';
import { imqttconnCommand } from './imqttconn.js';
import { imqttdisconnCommand } from './imqttdisconn.js';
import { imqttdynregCommand } from './imqttdynreg.js';
import { imqttlwtCommand } from './imqttlwt.js';
import { imqttlwtbinCommand } from './imqttlwtbin.js';
import { imqttmodeCommand } from './imqttmode.js';
import { imqttparaCommand } from './imqttpara.js';
import { imqttpubCommand } from './imqttpub.js';
import { imqttpubexCommand } from './imqttpubex.js';
import { imqttpubinCommand } from './imqttpubin.js';
import { imqttrecvCommand } from './imqttrecv.js';
import { imqttrecvmodeCommand } from './imqttrecvmode.js';
import { imqttstateCommand } from './imqttstate.js';
import { imqttsubCommand } from './imqttsub.js';
import { imqttunsubCommand } from './imqttunsub.js';
import { imqttuserCommand } from './imqttuser.js';

export const YUGE_IMQTT_SET_ID = 'yuge-imqtt';

export function yugeImqttCommandSet(device: Device): CommandSet {
  const data = device.profile.settings[YUGE_IMQTT_SET_ID] as YugeProfileData | undefined;
  if (!data) throw new Error(`profile ${device.profile.id}: settings["${YUGE_IMQTT_SET_ID}"] missing`);
  // The modem's flash (a directory under the state dir) when it has one, else memory that lasts
  // as long as this command set; looked up at each use.
  const ram = memoryFlashStore();
  const flash = () => device.flash ?? ram;
  const client = new YugeClient(device, data, flash);
  const q: YugeContext = { device, data, client, flash };

  // Losing the data network ends the connection without DISCONNECT (the broker publishes the
  // will) and reports +IMQTTCONN:-1 (§2.19.1).
  device.network.on('down', () => client.networkLost());

  return {
    commands: [
      imqttmodeCommand(q),
      imqttparaCommand(q),
      imqttuserCommand(q),
      imqttaddrCommand(q),
      imqttlwtCommand(q),
      imqttlwtbinCommand(q),
      imqttconnCommand(q),
      imqttdisconnCommand(q),
      imqttsubCommand(q),
      imqttunsubCommand(q),
      imqttpubCommand(q),
      imqttpubinCommand(q),
      imqttpubexCommand(q),
      imqttstateCommand(q),
      imqttauthCommand(q),
      imqttdynregCommand(q),
      imqttrecvmodeCommand(q),
      imqttrecvCommand(q),
    ],
    // ATZ / AT&F leave the MQTT settings alone; a reboot (dispose) restores them.
    reset: () => {},
    inspect: () => client.inspect(),
    dispose: () => {
      client.destroy();
      client.resetConfig();
    },
  };
}
