/**
 * AT+QMTSUB — subscribe to topics (EC200 manual §3.3.6).
 *   AT+QMTSUB=?  → +QMTSUB: (0-5),<msgid>,list of ["topic",qos]
 *   AT+QMTSUB=<client_idx>,<msgid>,"<topic1>",<qos1>[,"<topic2>",<qos2>…]
 *                → OK, then +QMTSUB: <client_idx>,<msgid>,<result>[,<value>]
 * <value> is the granted QoS list on success (128 for a refused topic), the retransmission count
 * with <result> 1.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { clientRange, fail } from './args.js';
import type { QmtContext } from './context.js';
import { decodeConnectedRequest } from './request.js';
import { decodeTopics } from './topics.js';

export function qmtsubCommand(q: QmtContext): CommandDef {
  return {
    name: '+QMTSUB',
    test: () => ok(`+QMTSUB: ${clientRange(q)},<msgid>,list of ["topic",qos]`),
    set: (ctx) => {
      const req = decodeConnectedRequest(q, ctx.args);
      if (typeof req === 'string') return fail(req);
      const topics = decodeTopics(req.rest, q.data.maxTopicsPerRequest, q.data.maxTopicLength, true);
      if (typeof topics === 'string') return fail(topics);
      req.client.subscribe(req.msgid, topics);
      return ok();
    },
  };
}
