/**
 * AT+CWSTATE — query the Wi-Fi state and Wi-Fi information (ESP-AT Wi-Fi AT Commands, v2.2):
 *   AT+CWSTATE? → +CWSTATE:<state>,<"ssid">  OK
 * <state>: 0 no connection started, 1 connected without an IPv4 address, 2 connected with an
 * address, 3 connecting or reconnecting, 4 disconnected.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { quote, type EspAtContext } from './context.js';

export function cwstateCommand(q: EspAtContext): CommandDef {
  return {
    name: '+CWSTATE',
    read: () => {
      const w = q.wifi;
      const state = w.online ? 2 : w.state === 'connected' ? 1 : w.state === 'connecting' ? 3 : w.current ? 4 : 0;
      return ok(`+CWSTATE:${state},${quote(w.current?.ssid ?? '')}`);
    },
  };
}
