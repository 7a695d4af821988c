/**
 * AT+TCREGNET — 网络注册 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.1; URC §5.6).
 *   AT+TCREGNET=?  → +TCREGNET:"MODULE_TYPE(0/1)","ACTION(0/1)","SSID","PSW"(WIFI_MODULE),"APN"(CELLULAR_MODULE)
 *   AT+TCREGNET?   → +TCREGNET:<module_type>,<state>,<ip>[,<ssid>,<pw>][,<csq>]  OK
 *   AT+TCREGNET=<module_type>,<action>[,<ssid>,<pw>][,<apn>]
 *                  → OK, then +TCREGNET:<module_type>,NET_OK | NET_FAIL,<errcode> | NET_CLOSE
 * Wi-Fi (type 1) joins with <ssid> and <pw> (each ≤ 48 bytes); cellular (type 0) dials <apn>;
 * <action> 0 leaves the network (nothing more after it). The network closing on its own is
 * reported `+TCREGNET:<type>,NET_CLOSE` too (§2.1 example "拨号成功后, 网络断开").
 *
 * Where the manual is silent:
 * - The test form's text (the manual prints a mangled copy of the read form's) follows the set
 *   form's syntax.
 * - The read form prints the IP quoted and nothing for it when not joined (§2.1 examples
 *   `0,1,"123.10.2.10",23` and `0,0,,23`); Wi-Fi prints the saved SSID and password quoted, as
 *   the manual documents; cellular prints <csq> (AT+CSQ's <rssi>).
 * - An empty <pw> joins an open hotspot.
 * - See network.ts for how the join is emulated.
 */
import { decodeArgs } from '../../at/decode-args.js';
import { ok, type CommandDef, type Outcome } from '../../at/types.js';
import { refuseBusy } from './args.js';
import type { TencentContext } from './context.js';
import { badParam, cmeError, CME } from './errors.js';
import { quote } from './format.js';
import type { JoinRequest } from './network.js';

/** OK now; `+TCREGNET:<type>,NET_OK` or `NET_FAIL,<errcode>` when the join is done. */
function join(q: TencentContext, req: JoinRequest): Outcome {
  const started = q.jobs.start('AT+TCREGNET', async () => {
    const rc = await q.net.join(req);
    return q.fmt.line('TCREGNET', rc === 0 ? `${req.type},NET_OK` : `${req.type},NET_FAIL,${rc}`);
  });
  return started ? ok() : cmeError(CME.notComplete, 'another command has not reported its result yet');
}

export function tcregnetCommand(q: TencentContext): CommandDef {
  const L = q.data.limits;
  return {
    name: '+TCREGNET',
    // <pw> is a secret.
    sensitive: true,
    test: () => ok(q.fmt.line('TCREGNET', '"MODULE_TYPE(0/1)","ACTION(0/1)","SSID","PSW"(WIFI_MODULE),"APN"(CELLULAR_MODULE)')),
    read: () => {
      const n = q.net;
      const state = n.ready ? 1 : 0;
      const ip = state ? quote(n.ip) : '';
      const tail = n.type === 1 ? `${quote(n.ssid)},${quote(n.password)}` : String(q.device.network.rssi);
      return ok(q.fmt.line('TCREGNET', `${n.type},${state},${ip},${tail}`));
    },
    set: (ctx): Outcome => {
      const [typeArg, actionArg, ...rest] = ctx.args;
      if (!typeArg || !actionArg) return badParam('AT+TCREGNET needs <module_type> and <action>');
      const head = decodeArgs(
        [
          { name: 'module_type', type: 'int', values: [0, 1] },
          { name: 'action', type: 'int', values: [0, 1] },
        ],
        [typeArg, actionArg],
      );
      if (!head.ok) return badParam(head.problem);
      const [mt, action] = head.values;
      const busy = refuseBusy(q);
      if (busy) return busy;
      if (action === 0) {
        if (rest.length > 0) return badParam('<action> 0 takes no more arguments');
        // NET_CLOSE first: the MQTT connection's +TCMQTTDISCON follows it.
        q.report(q.fmt.line('TCREGNET', `${mt},NET_CLOSE`), 'result');
        q.net.leave(mt);
        return ok();
      }
      if (mt === 1) {
        if (rest.length !== 2) return badParam('a Wi-Fi join needs <ssid> and <pw>');
        const wifi = decodeArgs(
          [
            { name: 'ssid', type: 'string', minLength: 1, maxLength: L.ssid },
            { name: 'pw', type: 'string', maxLength: L.password },
          ],
          rest,
        );
        if (!wifi.ok) return badParam(wifi.problem);
        const [ssid, password] = wifi.values;
        return join(q, { type: 1, ssid, password });
      }
      if (rest.length !== 1) return badParam('a cellular join needs <apn>');
      const cell = decodeArgs([{ name: 'apn', type: 'string', maxLength: L.apn }], rest);
      if (!cell.ok) return badParam(cell.problem);
      return join(q, { type: 0, apn: cell.values[0] });
    },
  };
}
