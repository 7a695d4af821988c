/**
 * AT+QMTOPEN — open a network for MQTT client (EC200 manual §3.3.2).
 *   AT+QMTOPEN=?  → +QMTOPEN: (0-5),"hostname",(1-65535)
 *   AT+QMTOPEN?   → +QMTOPEN: <client_idx>,"<host_name>",<port> for each opened client
 *   AT+QMTOPEN=<client_idx>,"<host_name>",<port> → OK, then +QMTOPEN: <client_idx>,<result>
 * The connection goes to the configured broker whatever host is named; the name is reported back
 * as given.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { clientIdxParam, clientRange, qmtArgs } from './args.js';
import type { QmtContext } from './context.js';

export function qmtopenCommand(q: QmtContext): CommandDef {
  return {
    name: '+QMTOPEN',
    test: () => ok(`+QMTOPEN: ${clientRange(q)},"hostname",(1-65535)`),
    read: () =>
      ok(
        ...q.clients
          .filter((c) => c.state !== 'idle' && c.state !== 'opening')
          .map((c) => `+QMTOPEN: ${c.idx},"${c.host}",${c.port}`),
      ),
    set: (ctx) =>
      qmtArgs(
        ctx,
        [
          clientIdxParam(q),
          { name: 'host_name', type: 'string', minLength: 1, maxLength: q.data.maxHostLength },
          { name: 'port', type: 'int', min: 1, max: 65535 },
        ],
        ([idx, host, port]) => {
          q.client(idx).open(host, port);
          return ok();
        },
      ),
  };
}
