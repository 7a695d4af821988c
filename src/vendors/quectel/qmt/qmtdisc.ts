/**
 * AT+QMTDISC — disconnect a client from MQTT server (EC200 manual §3.3.5).
 *   AT+QMTDISC=?  → +QMTDISC: (0-5)
 *   AT+QMTDISC=<client_idx> → OK, then +QMTDISC: <client_idx>,<result> (-1 failed, 0 ok)
 * DISCONNECT is sent and the network closes with it.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { clientIdxParam, clientRange, qmtArgs } from './args.js';
import type { QmtContext } from './context.js';

export function qmtdiscCommand(q: QmtContext): CommandDef {
  return {
    name: '+QMTDISC',
    test: () => ok(`+QMTDISC: ${clientRange(q)}`),
    set: (ctx) =>
      qmtArgs(ctx, [clientIdxParam(q)], ([idx]) => {
        q.client(idx).disconnect();
        return ok();
      }),
  };
}
