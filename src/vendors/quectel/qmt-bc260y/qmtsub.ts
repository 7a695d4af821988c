/**
 * AT+QMTSUB 订阅主题 — subscribe to topics (BC260Y-CN manual §3.3.6).
 *   AT+QMTSUB=?  → +QMTSUB: (0-4),(1-65535),<topic>,(0-2),<topic>,(0-2),...
 *   AT+QMTSUB=<TCP_connectID>,<msgID>,"<topic1>",<qos1>[,"<topic2>",<qos2>…]
 *                → OK, then +QMTSUB: <TCP_connectID>,<msgID>,<result>[,<value>]
 * <result> 0 with the granted QoS of each topic as <value> (128 refused), 1 with the
 * retransmission count (when <timeout_notice> is 1), 2 failed (no <value>); after the last
 * retransmission the module gives the connection up (+QMTSTAT 6).
 * The manual does not say how many topics one command takes; the profile's limit applies (8507
 * beyond it).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Bc260yContext } from './data.js';
import { connectIdRange, failWith, isFault } from './errors.js';
import { decodeTopicRequest } from './request.js';

export function qmtsubCommand(q: Bc260yContext): CommandDef {
  return {
    name: '+QMTSUB',
    test: () => ok(`+QMTSUB: ${connectIdRange(q)},(1-65535),<topic>,(0-2),<topic>,(0-2),...`),
    set: (ctx) => {
      const req = decodeTopicRequest(q, ctx.args, true);
      if (isFault(req)) return failWith(q, req.cause, req.reason);
      req.client.subscribe(req.msgid, req.topics);
      return ok();
    },
  };
}
