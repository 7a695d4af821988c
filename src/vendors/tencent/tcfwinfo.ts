/**
 * AT+TCFWINFO — 读取模组缓存的固件信息 (腾讯云 IoT MQTT AT 指令 V3.1.3 §4.2).
 *   AT+TCFWINFO=?  → +TCFWINFO:"FW_VERSION","FW_SIZE","FW_MD5","FW_MAX_SIZE_OF_MODULE"
 *   AT+TCFWINFO?   → OK, then +TCFWINFO:<fw_verion>,<fw_size>,<fw_md5>,<fw_max_size>
 *                    (the manual's order: OK first; example
 *                    `+TCFWINFO: "1.2.0",17300,"a2aa3c261ebfc1322edafd37edb6b183",262144`)
 * Every read sets the AT+TCREADFWDATA offset back to 0. During a download → error.
 * <fw_max_size> is what the module can keep (at least 128 KB; profile `fwMaxSize`).
 *
 * Where the manual is silent: without a cached firmware the answer is 205 (No valid firmware);
 * during a download 208.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { TencentContext } from './context.js';
import { cmeError, CME, stateError } from './errors.js';
import { quote } from './format.js';

export function tcfwinfoCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCFWINFO',
    test: () => ok(q.fmt.line('TCFWINFO', '"FW_VERSION","FW_SIZE","FW_MD5","FW_MAX_SIZE_OF_MODULE"')),
    read: () => {
      if (q.ota.downloading) return stateError('an OTA download is running');
      const meta = q.ota.info();
      if (!meta) return cmeError(CME.noFirmware, 'no firmware cached');
      q.report(q.fmt.line('TCFWINFO', `${quote(meta.version)},${meta.size},${quote(meta.md5)},${q.data.fwMaxSize}`));
      return ok();
    },
  };
}
