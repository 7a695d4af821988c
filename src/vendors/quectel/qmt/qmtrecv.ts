/**
 * AT+QMTRECV — read messages from the buffer (EC200 manual §3.3.9), used with recv/mode 1.
 *   AT+QMTRECV=?  → OK
 *   AT+QMTRECV?   → +QMTRECV: <client_idx>,<store_status_0>,…,<store_status_4> per connected client
 *   AT+QMTRECV=<client_idx>[,<recv_id>] → the stored messages (freed once read), OK;
 *                   ERROR when that client has no MQTT connection.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { clientIdxParam, fail, qmtArgs } from './args.js';
import type { QmtContext } from './context.js';

export function qmtrecvCommand(q: QmtContext): CommandDef {
  return {
    name: '+QMTRECV',
    test: () => ok(),
    read: () =>
      ok(
        ...q.clients
          .filter((c) => c.state === 'connected')
          .map((c) => `+QMTRECV: ${c.idx},${c.storeStatus().join(',')}`),
      ),
    set: (ctx) =>
      qmtArgs(
        ctx,
        [clientIdxParam(q), { name: 'recv_id', type: 'int', min: 0, max: q.data.recvSlots - 1, optional: true }],
        ([idx, recvId]) => {
          const client = q.client(idx);
          if (client.state !== 'connected') return fail(`client ${client.idx} has no MQTT connection`);
          return ok(...client.takeStored(recvId));
        },
      ),
  };
}
