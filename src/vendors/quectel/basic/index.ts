/** Quectel basics shared by its modules (not MQTT): AT+QSCLK, AT+QCCID, AT+QPOWD. */
import type { CommandSet, Device } from '../../../modem/device.js';
import { qccidCommand } from './qccid.js';
import { qpowdCommand } from './qpowd.js';
import { qsclkCommand } from './qsclk.js';

export function quectelBasicCommandSet(device: Device): CommandSet {
  const qsclk = qsclkCommand(device);
  return { commands: [qsclk.command, qccidCommand(device), qpowdCommand(device)], reset: qsclk.reset };
}
