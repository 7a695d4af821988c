/**
 * AT+QMTCLOSE — close a network for MQTT client (EC200 manual §3.3.3; the manual's heading
 * spells it AT+QMTCCLOSE, an OCR slip, so both spellings are accepted).
 *   AT+QMTCLOSE=?  → +QMTCLOSE: (0-5)
 *   AT+QMTCLOSE=<client_idx> → OK, then +QMTCLOSE: <client_idx>,<result>
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { clientIdxParam, clientRange, qmtArgs } from './args.js';
import type { QmtContext } from './context.js';

export function qmtcloseCommand(q: QmtContext): CommandDef {
  return {
    name: '+QMTCLOSE',
    aliases: ['+QMTCCLOSE'],
    test: () => ok(`+QMTCLOSE: ${clientRange(q)}`),
    set: (ctx) =>
      qmtArgs(ctx, [clientIdxParam(q)], ([idx]) => {
        q.client(idx).close();
        return ok();
      }),
  };
}
