/**
 * AT+QMTUNS — unsubscribe from topics (EC200 manual §3.3.7).
 *   AT+QMTUNS=?  → +QMTUNS: (0-5),<msgid>,list of ["topic"]
 *   AT+QMTUNS=<client_idx>,<msgid>,"<topic1>"[,"<topic2>"…]
 *                → OK, then +QMTUNS: <client_idx>,<msgid>,<result>[,<value>]
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { clientRange, fail } from './args.js';
import type { QmtContext } from './context.js';
import { decodeConnectedRequest } from './request.js';
import { decodeTopics } from './topics.js';

export function qmtunsCommand(q: QmtContext): CommandDef {
  return {
    name: '+QMTUNS',
    test: () => ok(`+QMTUNS: ${clientRange(q)},<msgid>,list of ["topic"]`),
    set: (ctx) => {
      const req = decodeConnectedRequest(q, ctx.args);
      if (typeof req === 'string') return fail(req);
      const topics = decodeTopics(req.rest, q.data.maxTopicsPerRequest, q.data.maxTopicLength, false);
      if (typeof topics === 'string') return fail(topics);
      req.client.unsubscribe(req.msgid, topics);
      return ok();
    },
  };
}
