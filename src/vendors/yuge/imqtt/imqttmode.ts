/**
 * AT+IMQTTMODE — 设置 MQTT 连接方式 (manual §2.1 "AT+IMQTTMODE 设置 MQTT 连接方式").
 *   AT+IMQTTMODE=<mode>,<tls>[,<recvMode>]  → OK
 *   AT+IMQTTMODE?                            → +IMQTTMODE:<mode>,<tls>,<recvMode>  OK
 *   AT+IMQTTMODE=?                           → OK
 * <mode>: 1 Aliyun MQTT (the module signs in with AT+IMQTTAUTH's triple), 2 standard MQTT.
 * <tls>: 0 TCP, 1 TLS. <recvMode>: 0 report at once (+IMQTTRCVPUB), 1 cache for AT+IMQTTRECV
 * ("可以使用 AT+IMQTTRECVMODE 切换").
 *
 * Where the manual is silent: §2.1's own example leaves <recvMode> out (`AT+IMQTTMODE=2,0`), so
 * it is optional and keeps its value when omitted; the read form always prints all three, as its
 * example does (`+IMQTTMODE:2,0,0`). <mode> and <tls> apply from the next AT+IMQTTCONN (or
 * AT+IMQTTDYNREG); <recvMode> at once.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { imqttArgs } from './args.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';

export function imqttmodeCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTMODE',
    test: () => ok(),
    read: () => {
      const c = q.client.config;
      return ok(line('+IMQTTMODE', `${c.mode},${c.tls ? 1 : 0},${c.recvMode}`));
    },
    set: (ctx) =>
      imqttArgs(
        ctx,
        [
          { name: 'mode', type: 'int', values: [1, 2] },
          { name: 'tls', type: 'int', values: [0, 1] },
          { name: 'recvMode', type: 'int', values: [0, 1], optional: true },
        ],
        ([mode, tls, recvMode]) => {
          const c = q.client.config;
          c.mode = mode;
          c.tls = tls === 1;
          if (recvMode !== undefined) c.recvMode = recvMode;
          return ok();
        },
      ),
  };
}
