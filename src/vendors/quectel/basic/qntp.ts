/**
 * AT+QNTP — synchronize local time with an NTP server (Quectel LTE Standard NTP application note,
 * "AT+QNTP"): `AT+QNTP=<contextID>,"<server>"[,<port>[,<autosettime>]]` answers OK, then
 * `+QNTP: <err>,"<time>"` one round trip later (local time `yyyy/MM/dd,hh:mm:ss±zz`). The
 * server is not contacted: the time is the network's (module-time.ts). <err> 561 ("open PDP
 * context failed", the TCP/IP error table) when the context is not active.
 */
import { error, ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';
import { longTimeText, moduleNow, syncModuleTime, timeZone } from '../../common/module-time.js';
import { QUECTEL_MAX_CONTEXT } from './qicsgp.js';

export const QNTP_PDP_FAILED = 561;

export function qntpCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+QNTP',
    test: () => ok(`+QNTP: (1-${QUECTEL_MAX_CONTEXT}),"<server>",(1-65535),(0,1)`),
    set: (ctx) =>
      withArgs(
        ctx,
        [
          { name: 'contextID', type: 'int', min: 1, max: QUECTEL_MAX_CONTEXT },
          { name: 'server', type: 'string', minLength: 1, maxLength: 255 },
          { name: 'port', type: 'int', min: 1, max: 65535, optional: true },
          { name: 'autosettime', type: 'int', values: [0, 1], optional: true },
        ],
        ([cid, , , autoset]) => {
          const c = net.contexts.get(cid);
          const delay = device.timing.delay('ntp', 300);
          if (!c?.active || !net.registered) {
            device.urc(`+QNTP: ${QNTP_PDP_FAILED}`, delay);
            return ok();
          }
          if (autoset !== 0) syncModuleTime(device);
          device.urc(`+QNTP: 0,"${longTimeText(moduleNow(device), timeZone(device), true)}"`, delay);
          return ok();
        },
        () => error(undefined, 'bad AT+QNTP arguments'),
      ),
  };
}
