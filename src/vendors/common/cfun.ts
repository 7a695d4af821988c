/**
 * AT+CFUN — set phone functionality (3GPP TS 27.007 §8.2): 0 minimum, 1 full, 4 radio off.
 * Leaving full functionality drops the network, so open MQTT links end with their URC.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';

export function cfunCommand(device: Device, reboot: () => void): CommandDef {
  const net = device.network;
  return {
    name: '+CFUN',
    test: () => ok('+CFUN: (0,1,4),(0,1)'),
    read: () => ok(`+CFUN: ${net.cfun}`),
    set: (ctx) =>
      withArgs(
        ctx,
        [
          { name: 'fun', type: 'int', values: [0, 1, 4] },
          { name: 'rst', type: 'int', values: [0, 1], optional: true },
        ],
        ([fun, rst]) => {
          net.setCfun(fun);
          if (rst === 1) reboot();
          return ok();
        },
      ),
  };
}
