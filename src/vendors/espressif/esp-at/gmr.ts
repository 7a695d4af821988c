/**
 * AT+GMR — check version information (ESP-AT Basic AT Commands, "AT+GMR"):
 *   AT+GMR → <AT version info> <SDK version info> <compile time> <Bin version>  OK
 * The lines come from the profile (settings["esp-at"].gmr); they replace the 3GPP AT+GMR alias of
 * the `common` set.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { EspAtContext } from './context.js';

export function gmrCommand(q: EspAtContext): CommandDef {
  return { name: '+GMR', exec: () => ok(...q.data.gmr) };
}
