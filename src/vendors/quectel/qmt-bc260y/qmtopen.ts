/**
 * AT+QMTOPEN 打开 MQTT 客户端网络 — open a network for MQTT client (BC260Y-CN manual §3.3.2).
 *   AT+QMTOPEN=?  → +QMTOPEN: (0-4),<host_name>,(1-65535)
 *   AT+QMTOPEN?   → +QMTOPEN: <TCP_connectID>,"<host_name>",<port> per opened client (none: OK)
 *   AT+QMTOPEN=<TCP_connectID>,"<host_name>",<port> → OK, then +QMTOPEN: <TCP_connectID>,<result>
 * <result>: -1 open failed, 0 ok, 1 parameter error, 2 identifier occupied, 3 PDP activation
 * failed, 4 DNS failure, 5 network disconnected. <host_name> is at most 100 bytes.
 *
 * The connection goes to the configured broker whatever host is named; the name is reported back
 * as given (§6.1 queries it back quoted). Arguments that cannot be decoded (type, index or port
 * range, a name over 100 bytes) answer 8507 at once; a name of the right length that is neither
 * an IP address nor a DNS name ("可为 IP 地址或域名") answers OK and then <result> 1 "参数错误",
 * since the module only finds that out when it starts resolving.
 */
import net from 'node:net';
import { ok, type CommandDef } from '../../../at/types.js';
import type { Bc260yContext } from './data.js';
import { bcArgs, connectIdParam, connectIdRange } from './errors.js';

/** Host names (RFC 1123 labels; `_` tolerated, as resolvers do) and IPv4/IPv6 literals. */
const LABEL = '[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST_RE = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*\\.?$`);
const isHost = (host: string): boolean => net.isIP(host) !== 0 || HOST_RE.test(host);

export function qmtopenCommand(q: Bc260yContext): CommandDef {
  return {
    name: '+QMTOPEN',
    test: () => ok(`+QMTOPEN: ${connectIdRange(q)},<host_name>,(1-65535)`),
    read: () =>
      ok(
        ...q.clients
          .filter((c) => c.state !== 'idle' && c.state !== 'opening')
          .map((c) => `+QMTOPEN: ${c.idx},"${c.host}",${c.port}`),
      ),
    set: (ctx) =>
      bcArgs(
        q,
        ctx,
        [connectIdParam(q), { name: 'host_name', type: 'string', maxLength: q.data.maxHostLength }, { name: 'port', type: 'int', min: 1, max: 65535 }],
        ([idx, host, port]) => {
          const client = q.client(idx);
          if (!isHost(host)) {
            q.device.urc(`+QMTOPEN: ${client.idx},1`, q.device.timing.delay('open'));
            return ok();
          }
          client.open(host, port);
          return ok();
        },
      ),
  };
}
