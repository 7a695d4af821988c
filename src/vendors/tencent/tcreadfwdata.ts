/**
 * AT+TCREADFWDATA — 读取模组缓存的固件数据 (腾讯云 IoT MQTT AT 指令 V3.1.3 §4.3).
 *   AT+TCREADFWDATA=?      → +TCREADFWDATA:"LEN_FOR_READ"
 *   AT+TCREADFWDATA=<len>  → OK, then +TCREADFWDATA:<len>,<hexdata>  (the §4.3 example's order)
 * Each read moves the offset on. A read shorter than <len> reached the end; reading again is an
 * error until AT+TCFWINFO? sets the offset back to 0. During a download → error.
 *
 * Where the manual is silent:
 * - The test form's name (printed `+TCREADFWINFO`) is taken as the command's own.
 * - <hexdata> is upper-case hex (the example's `01020AF5`), <len> in the line the bytes read.
 * - <len> is 1–`limits.readFwData` (2048) bytes, else 204; no cached firmware 205; reading at the
 *   end 209 (Command execution error); during a download 208.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { tcArgs } from './args.js';
import type { TencentContext } from './context.js';
import { cmeError, CME, stateError } from './errors.js';

export function tcreadfwdataCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCREADFWDATA',
    test: () => ok(q.fmt.line('TCREADFWDATA', '"LEN_FOR_READ"')),
    set: (ctx) =>
      tcArgs(ctx, [{ name: 'len', type: 'int', min: 1, max: q.data.limits.readFwData }], ([len]) => {
        if (q.ota.downloading) return stateError('an OTA download is running');
        const r = q.ota.read(len);
        if (!r.ok) return r.why === 'no-firmware' ? cmeError(CME.noFirmware, 'no firmware cached') : cmeError(CME.execution, 'read past the end of the firmware');
        q.report(q.fmt.line('TCREADFWDATA', `${r.data.length},${r.data.toString('hex').toUpperCase()}`));
        return ok();
      }),
  };
}
