/**
 * The `onemo-basic` set: what OneMO ML307 modules add for the bring-up — AT+ICCID and the data
 * call (AT+MIPCALL). The MQTT commands are the `onemo-mqtt` set.
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { iccidCommand } from '../../common/iccid.js';
import { mipcallCommand } from './mipcall.js';

export const ONEMO_BASIC_SET_ID = 'onemo-basic';

export function onemoBasicCommandSet(device: Device): CommandSet {
  return { commands: [iccidCommand(device), mipcallCommand(device)] };
}
