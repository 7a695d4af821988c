/**
 * AT+CIPSTAMAC — query the MAC address of the station (ESP-AT Wi-Fi AT Commands, "AT+CIPSTAMAC"):
 *   AT+CIPSTAMAC? → +CIPSTAMAC:<"mac">  OK
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { quote, type EspAtContext } from './context.js';

export function cipstamacCommand(q: EspAtContext): CommandDef {
  return { name: '+CIPSTAMAC', read: () => ok(`+CIPSTAMAC:${quote(q.wifi.settings.mac)}`) };
}
