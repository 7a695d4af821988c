/**
 * AT+COPS — PLMN selection (3GPP TS 27.007 §7.3).
 *   read  +COPS: <mode>[,<format>,<oper>,<AcT>]   (<oper> only while registered)
 *   test  +COPS: (<stat>,long,short,numeric,<AcT>),…,,(0-4),(0-2)  after a network scan
 *   set   0 automatic, 1 manual (<format>,<oper>), 2 deregister, 3 set <format> only,
 *         4 manual/automatic. Selecting a network other than the SIM's home answers CME 30
 *         ("no network service": only the home network is in coverage here).
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import type { OperatorInfo } from '../../modem/radio-settings.js';
import { sleepOn, type TimerHandle } from '../../util/clock.js';
import { CME_SIM_NOT_INSERTED } from './cpin.js';
import { withArgs } from './decode.js';
import { CME_NO_NETWORK } from './packet-domain.js';

export function copsCommand(device: Device): CommandDef {
  const net = device.network;
  const timers = new Set<TimerHandle>();
  const name = (op: OperatorInfo, format: number) => (format === 0 ? op.long : format === 1 ? op.short : op.plmn);
  const matches = (op: OperatorInfo, format: number, oper: string) => name(op, format).toUpperCase() === oper.toUpperCase();
  return {
    name: '+COPS',
    read: () => {
      if (!net.registered) return ok(`+COPS: ${net.copsMode}`);
      return ok(`+COPS: ${net.copsMode},${net.copsFormat},"${name(net.operator, net.copsFormat)}",${net.radio.act}`);
    },
    test: async () => {
      if (net.cfun !== 1) return error(CME_NO_NETWORK, 'radio off');
      // A network scan takes seconds on the module (settings.radio.scanMs).
      const ms = net.delay(net.radio.scanMs);
      if (ms > 0) await sleepOn(device.clock, timers, ms);
      const home = `(${net.registered ? 2 : 1},"${net.operator.long}","${net.operator.short}","${net.operator.plmn}",${net.radio.act})`;
      const others = net.radio.otherOperators.map((o) => `(3,"${o.long}","${o.short}","${o.plmn}",${net.radio.act})`);
      return ok(`+COPS: ${[home, ...others].join(',')},,(0-4),(0-2)`);
    },
    set: (ctx) =>
      withArgs(
        ctx,
        [
          { name: 'mode', type: 'int', values: [0, 1, 2, 3, 4] },
          { name: 'format', type: 'int', min: 0, max: 2, optional: true },
          { name: 'oper', type: 'string', maxLength: 32, optional: true },
          { name: 'AcT', type: 'int', min: 0, max: 13, optional: true },
        ],
        async ([mode, format, oper]) => {
          if (format !== undefined) net.copsFormat = format as 0 | 1 | 2;
          if (mode === 3) return ok();
          if (!net.simPresent) return error(CME_SIM_NOT_INSERTED, 'SIM not inserted');
          if (mode === 1 || mode === 4) {
            if (oper === undefined) return error(50, 'manual selection needs <oper>');
            if (!matches(net.operator, net.copsFormat, oper)) {
              if (mode === 1) return error(CME_NO_NETWORK, `${String(oper)} not in coverage`);
            }
          }
          net.selectOperator(mode as 0 | 1 | 2 | 4);
          // The set form answers once the selection is done (registered again, or deregistered).
          if (mode !== 2) await net.waitRegistered();
          return ok();
        },
      ),
  };
}
