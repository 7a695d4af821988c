/**
 * Neoway basics (N-series modules, e.g. the N21 that Tencent's QCloud AT firmware supports):
 * the internal-stack PPP link AT+XIIC that the module's own TCP/IP and MQTT commands ride on.
 * 3GPP basics (AT+CPIN?, AT+CSQ, AT+CREG?, AT+CGATT) are the `common` set's.
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { xiicCommand } from './xiic.js';

export const NEOWAY_BASIC_SET_ID = 'neoway-basic';

export function neowayBasicCommandSet(device: Device): CommandSet {
  const data = (device.profile.settings[NEOWAY_BASIC_SET_ID] ?? {}) as { xiicIpSpace?: boolean };
  return { commands: [xiicCommand(device, data.xiicIpSpace ?? false)] };
}
