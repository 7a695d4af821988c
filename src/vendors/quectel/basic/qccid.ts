/**
 * AT+QCCID — show ICCID (Quectel LTE Standard / NB-IoT AT commands manuals, "AT+QCCID"):
 * `+QCCID: <ICCID>`. The ICCID is settings.radio.iccid, else derived from the IMEI.
 */
import { error, ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { CME_SIM_NOT_INSERTED } from '../../common/cpin.js';

export function qccidCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+QCCID',
    test: () => ok(),
    exec: () => (net.simPresent ? ok(`+QCCID: ${net.iccid}`) : error(CME_SIM_NOT_INSERTED, 'SIM not inserted')),
  };
}
