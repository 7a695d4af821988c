/** `<client_idx>,<msgid>,…` of AT+QMTSUB/QMTUNS: the client must be connected (§3.3.6–3.3.7). */
import { decodeArgs } from '../../../at/decode-args.js';
import type { RawArg } from '../../../at/types.js';
import type { QmtClient } from './client.js';
import type { QmtContext } from './context.js';
import { clientIdxParam } from './args.js';

export function decodeConnectedRequest(
  q: QmtContext,
  args: readonly RawArg[],
): { client: QmtClient; msgid: number; rest: RawArg[] } | string {
  // <msgid> is 1-65535 in §3.3.6-§3.3.7, but real EC800-class modules take 0 (profile notes;
  // the module then numbers the packet itself, see the EC200 dialect).
  const head = decodeArgs([clientIdxParam(q), { name: 'msgid', type: 'int', min: 0, max: 65535 }], args.slice(0, 2));
  if (!head.ok) return head.problem;
  const client = q.client(head.values[0]);
  if (client.state !== 'connected') return `client ${client.idx} is ${client.state}, not connected`;
  const msgid = head.values[1];
  // A second request with an id still in flight would break [MQTT-2.3.1-2]; the module refuses
  // the command (as AT+QMTPUBEX does, §3.3.8) instead of sending it.
  if (msgid !== 0 && client.idInFlight(msgid)) return `msgid ${msgid} is still in flight`;
  return { client, msgid, rest: args.slice(2) };
}
