/**
 * AT+CIFSR — obtain the local IP address and MAC address (ESP-AT TCP/IP AT Commands, "AT+CIFSR"):
 *   AT+CIFSR → +CIFSR:STAIP,<"Station IP address">  +CIFSR:STAMAC,<"Station MAC address">  OK
 * Station mode only (the virtual module has no SoftAP side). Not connected: STAIP "0.0.0.0".
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { quote, type EspAtContext } from './context.js';

export function cifsrCommand(q: EspAtContext): CommandDef {
  return {
    name: '+CIFSR',
    exec: () => ok(`+CIFSR:STAIP,${quote(q.wifi.ip)}`, `+CIFSR:STAMAC,${quote(q.wifi.settings.mac)}`),
  };
}
