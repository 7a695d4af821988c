/**
 * AT+RESTORE — restore factory default settings (ESP-AT Basic AT Commands, "AT+RESTORE"): "The
 * execution of this command will restore all parameters saved in flash to factory default
 * settings of the module. The chip will be restarted when this command is executed."
 *   AT+RESTORE → OK, then the restart of AT+RST. The saved Wi-Fi configuration is erased, so the
 *   station no longer joins at boot (AT+CWJAP? answers `No AP` until AT+CWJAP). Tencent's device
 *   information lives in the QCloud partitions and survives (AT+TCRESTORE clears it).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { EspAtContext } from './context.js';

export function restoreCommand(q: EspAtContext): CommandDef {
  return {
    name: '+RESTORE',
    exec: () => {
      q.wifi.forget();
      q.state.uartDef = [...q.data.uart];
      q.restart();
      return ok();
    },
  };
}
