/**
 * AT+RST — restart the module (ESP-AT Basic AT Commands, "AT+RST: Restart a module").
 *   AT+RST → OK, then the module restarts: RAM settings back to power-on values (echo on), the
 *   boot message `ready`, and — with a saved Wi-Fi configuration — `WIFI CONNECTED`, `WIFI GOT IP`.
 * Drivers send it (or AT+RESTORE) first and wait for `ready` (FACTS "Tencent AT on an ESP8266").
 * The ROM bootloader's own text goes out at 74880 baud on the boot UART, not as lines a driver
 * reads on the AT port, so the AT port shows `ready` (profile settings.boot.urcs).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { EspAtContext } from './context.js';

export function rstCommand(q: EspAtContext): CommandDef {
  return {
    name: '+RST',
    exec: () => {
      q.restart();
      return ok();
    },
  };
}
