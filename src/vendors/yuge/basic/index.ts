/**
 * The `yuge-basic` set: what YUGE CLM920 modules add for the bring-up — AT+ICCID (YUGE drivers
 * read the ICCID from an "ICCID:" line). The rest of the bring-up is 27.007 (`cellular`).
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { iccidCommand } from '../../common/iccid.js';

export const YUGE_BASIC_SET_ID = 'yuge-basic';

export function yugeBasicCommandSet(device: Device): CommandSet {
  return { commands: [iccidCommand(device)] };
}
