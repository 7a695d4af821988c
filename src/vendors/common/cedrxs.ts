/**
 * AT+CEDRXS — eDRX setting (3GPP TS 27.007 §7.40):
 *
 *   AT+CEDRXS=[<mode>,[,<AcT-type>[,<Requested_eDRX_value>]]]
 *   AT+CEDRXS?  → +CEDRXS: <AcT-type>,<Requested_eDRX_value> (while enabled)
 *   AT+CEDRXS=? → +CEDRXS: (0-3),(<AcT-type>),("0000"-"1111")
 *
 * <mode> 0 disable, 1 enable, 2 enable with the unsolicited
 * `+CEDRXP: <AcT-type>,<Requested_eDRX_value>,<NW-provided_eDRX_value>,<Paging_time_window>`
 * once the network answers (right after the OK here), 3 disable and forget the requested value.
 * <AcT-type> is the module's own (settings.radio.powerSaving.edrxActType: 4 E-UTRAN, 5 E-UTRAN
 * NB-S1); the value is 4 bits as binary digits (TS 24.008 §10.5.5.32). The network's value and
 * paging window come from the profile. eDRX does not gate delivery in the model: a module in eDRX
 * stays reachable within one cycle, which the network timing already covers.
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { CME_INCORRECT_PARAMETERS, withArgs } from './decode.js';

export function cedrxsCommand(device: Device, actType: number): { command: CommandDef; reset: () => void } {
  const settings = () => device.network.radio.powerSaving;
  let enabled = false;
  let value = '0010';
  return {
    command: {
      name: '+CEDRXS',
      test: () => ok(`+CEDRXS: (0-3),(${actType}),("0000"-"1111")`),
      read: () => (enabled ? ok(`+CEDRXS: ${actType},"${value}"`) : ok()),
      set: (ctx) =>
        withArgs(
          ctx,
          [
            { name: 'mode', type: 'int', min: 0, max: 3, optional: true },
            { name: 'AcT-type', type: 'int', values: [actType], optional: true },
            { name: 'Requested_eDRX_value', type: 'string', optional: true, minLength: 4, maxLength: 4 },
          ],
          ([mode, , v]) => {
            if (v !== undefined && !/^[01]{4}$/.test(v)) return error(CME_INCORRECT_PARAMETERS, 'eDRX value must be 4 binary digits');
            if (v !== undefined) value = v;
            const m = mode ?? 3;
            enabled = m === 1 || m === 2;
            if (m === 3) value = '0010';
            if (m === 2) {
              const s = settings();
              device.urc(`+CEDRXP: ${actType},"${value}","${s?.edrxNetwork ?? value}","${s?.edrxPtw ?? '0011'}"`);
            }
            return ok();
          },
        ),
    },
    reset: () => {
      enabled = false;
      value = '0010';
    },
  };
}
