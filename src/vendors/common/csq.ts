/** AT+CSQ — signal quality (3GPP TS 27.007 §8.5). The value is set through the network state. */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';

export function csqCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+CSQ',
    test: () => ok('+CSQ: (0-31,99),(0-7,99)'),
    exec: () => ok(net.cfun === 1 ? `+CSQ: ${net.rssi},${net.ber}` : '+CSQ: 99,99'),
  };
}
