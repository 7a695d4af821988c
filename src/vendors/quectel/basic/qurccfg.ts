/**
 * AT+QURCCFG — configure URC indication options (Quectel LTE Standard AT commands manual,
 * "AT+QURCCFG"): `AT+QURCCFG="urcport"[,"<urcportvalue>"]`, the port URCs go to ("usbat",
 * "usbmodem", "uart1"). Accepted and read back; vmodem has one port and prints URCs on it
 * whatever the setting (firmware sets "uart1" so that URCs reach its UART — as they do here).
 */
import { error, ok, type CommandDef } from '../../../at/types.js';
import { withArgs } from '../../common/decode.js';

const PORTS = ['usbat', 'usbmodem', 'uart1'];

export function qurccfgCommand(defaultPort = 'usbat'): { command: CommandDef; reset: () => void } {
  let port = defaultPort;
  return {
    command: {
      name: '+QURCCFG',
      test: () => ok(`+QURCCFG: "urcport",(${PORTS.map((p) => `"${p}"`).join(',')})`),
      set: (ctx) =>
        withArgs(
          ctx,
          [
            { name: 'name', type: 'string', maxLength: 16 },
            { name: 'value', type: 'string', maxLength: 16, optional: true },
          ],
          ([name, value]) => {
            if (name.toLowerCase() !== 'urcport') return error(undefined, `unknown option ${String(name)}`);
            if (value === undefined) return ok(`+QURCCFG: "urcport","${port}"`);
            const v = value.toLowerCase();
            if (!PORTS.includes(v)) return error(undefined, `urcport ${v}`);
            port = v;
            return ok();
          },
          () => error(undefined, 'bad AT+QURCCFG arguments'),
        ),
    },
    // The setting is saved in NV on the module: ATZ and reboots keep it.
    reset: () => undefined,
  };
}
