/** The `quectel-nbiot` set: what Quectel NB-IoT modules (BC260Y) add for the bring-up — AT+QRST. */
import type { CommandSet, Device } from '../../../modem/device.js';
import { qrstCommand } from './qrst.js';

export const QUECTEL_NBIOT_SET_ID = 'quectel-nbiot';

export function quectelNbiotCommandSet(device: Device): CommandSet {
  return { commands: [qrstCommand(device)] };
}
