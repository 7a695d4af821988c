/**
 * AT+QMTCLOSE 关闭 MQTT 客户端网络 — close a network for MQTT client (BC260Y-CN manual §3.3.3).
 *   AT+QMTCLOSE=?  → +QMTCLOSE: (0-4)
 *   AT+QMTCLOSE=<TCP_connectID> → OK, then +QMTCLOSE: <TCP_connectID>,<result> (-1 failed, 0 ok)
 * The socket closes without DISCONNECT. An index with no network open answers <result> -1
 * ("关闭网络失败": there is nothing to close); one still opening is abandoned with 0.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Bc260yContext } from './data.js';
import { bcArgs, connectIdParam, connectIdRange } from './errors.js';

export function qmtcloseCommand(q: Bc260yContext): CommandDef {
  return {
    name: '+QMTCLOSE',
    test: () => ok(`+QMTCLOSE: ${connectIdRange(q)}`),
    set: (ctx) =>
      bcArgs(q, ctx, [connectIdParam(q)], ([idx]) => {
        q.client(idx).close();
        return ok();
      }),
  };
}
