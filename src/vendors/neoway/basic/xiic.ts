/**
 * AT+XIIC — set up the PPP link (Neoway AT command manual, "AT+XIIC 建立PPP 链接"): the module's
 * internal TCP/IP stack dials the APN of context 1 (AT+CGDCONT) and gets an address.
 *   AT+XIIC=<n> → OK   (<n> 1 activate, 0 release); the link comes up afterwards
 *   AT+XIIC?    → +XIIC:    <state>,<ip>  OK   (<state> 1 up, 0 down; 0.0.0.0 while down)
 * "在使用AT+XIIC=1 建立PPP 连接之前，先要确保模组已经注册上网络" — activation needs registration;
 * without it the link simply stays down (drivers poll AT+XIIC? until `+XIIC:    1`).
 *
 * The format: the manual prints "+XIIC:1, 10.107.216.162" and notes four spaces before the 1;
 * captures of real modules show `+XIIC:    1,10.245.3.118` (N-series NB-IoT/Cat-1 firmware, 2023)
 * and older M590 ones `+XIIC:    1, 10.11.72.103`. Drivers match "+XIIC:    1" and parse with
 * `sscanf("+XIIC: %d, %s")`, which takes both; the profile's `settings["neoway-basic"].xiicIpSpace`
 * picks the older comma-space form.
 */
import { error, ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';

export function xiicCommand(device: Device, ipSpace: boolean): CommandDef {
  const net = device.network;
  const sep = ipSpace ? ', ' : ',';
  return {
    name: '+XIIC',
    test: () => ok('+XIIC: (0,1)'),
    read: () => {
      const ctx = net.contexts.get(1);
      const up = net.dataReady && ctx?.active === true;
      return ok(`+XIIC:    ${up ? 1 : 0}${sep}${up ? (ctx.ip ?? '0.0.0.0') : '0.0.0.0'}`);
    },
    set: (ctx) =>
      withArgs(
        ctx,
        [{ name: 'n', type: 'int', values: [0, 1] }],
        ([n]) => {
          if (n === 0) {
            void net.deactivate(1);
            return ok();
          }
          if (!net.contexts.has(1)) return error(undefined, 'context 1 is not defined (AT+CGDCONT)');
          // OK now; the link comes up after the activation time when the module is registered.
          void net.activate(1);
          return ok();
        },
        (problem) => error(undefined, problem),
      ),
  };
}
