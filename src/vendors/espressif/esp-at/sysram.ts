/**
 * AT+SYSRAM — query current remaining heap size and minimum heap size (ESP-AT Basic AT Commands):
 *   AT+SYSRAM? → +SYSRAM:<remaining RAM size>,<minimum heap size>  OK
 * The figures are the profile's (settings["esp-at"].sysram), a QCloud ESP8266 module at idle.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { EspAtContext } from './context.js';

export function sysramCommand(q: EspAtContext): CommandDef {
  return { name: '+SYSRAM', read: () => ok(`+SYSRAM:${q.data.sysram[0]},${q.data.sysram[1]}`) };
}
