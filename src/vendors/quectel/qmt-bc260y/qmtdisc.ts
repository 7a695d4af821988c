/**
 * AT+QMTDISC 断开客户端与 MQTT 服务器的连接 — disconnect a client from MQTT server (BC260Y-CN manual
 * §3.3.5).
 *   AT+QMTDISC=?  → +QMTDISC: (0-4)
 *   AT+QMTDISC=<TCP_connectID> → OK, then +QMTDISC: <TCP_connectID>,<result> (-1 failed, 0 ok)
 * DISCONNECT is sent and the network closes with it (§6.1 needs no AT+QMTCLOSE afterwards). An
 * index with no network open answers <result> -1.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Bc260yContext } from './data.js';
import { bcArgs, connectIdParam, connectIdRange } from './errors.js';

export function qmtdiscCommand(q: Bc260yContext): CommandDef {
  return {
    name: '+QMTDISC',
    test: () => ok(`+QMTDISC: ${connectIdRange(q)}`),
    set: (ctx) =>
      bcArgs(q, ctx, [connectIdParam(q)], ([idx]) => {
        q.client(idx).disconnect();
        return ok();
      }),
  };
}
