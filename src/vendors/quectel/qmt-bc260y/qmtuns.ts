/**
 * AT+QMTUNS 退订主题 — unsubscribe from topics (BC260Y-CN manual §3.3.7).
 *   AT+QMTUNS=?  → +QMTUNS: (0-4),(1-65535),<topic>,<topic>,...
 *   AT+QMTUNS=<TCP_connectID>,<msgID>,"<topic1>"[,"<topic2>"…]
 *                → OK, then +QMTUNS: <TCP_connectID>,<msgID>,<result>
 * Unlike the EC200 the result has no <value>: a retransmission (with <timeout_notice> 1) is
 * reported as `+QMTUNS: <id>,<msgID>,1` without a count.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Bc260yContext } from './data.js';
import { connectIdRange, failWith, isFault } from './errors.js';
import { decodeTopicRequest } from './request.js';

export function qmtunsCommand(q: Bc260yContext): CommandDef {
  return {
    name: '+QMTUNS',
    test: () => ok(`+QMTUNS: ${connectIdRange(q)},(1-65535),<topic>,<topic>,...`),
    set: (ctx) => {
      const req = decodeTopicRequest(q, ctx.args, false);
      if (isFault(req)) return failWith(q, req.cause, req.reason);
      req.client.unsubscribe(
        req.msgid,
        req.topics.map((t) => t.topic),
      );
      return ok();
    },
  };
}
