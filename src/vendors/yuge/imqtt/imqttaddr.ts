/**
 * AT+IMQTTADDR — 设置 MQTT 服务端 ip 地址, 端口和客户端 ID (manual §2.4
 * "AT+IMQTTADDR 设置 MQTT 服务端 ip 地址, 端口和客户端 ID").
 *   AT+IMQTTADDR=<addr>,<port>,<clientId>  → OK
 *   AT+IMQTTADDR?                           → +IMQTTADDR:<addr>,<port>,<clientId>  OK
 *   AT+IMQTTADDR=?                          → OK
 * Arguments quoted or bare as in the example (`AT+IMQTTADDR=203.156.205.55,1883,"testMQTT"`).
 * §2.16 sets only host and port for AT+IMQTTDYNREG (`…,1883,""`: "clientid 可以不设置"), and a
 * clientId with commas must be quoted ("clientid 含有 ',' 号, 所以参数必须加上双引号").
 *
 * Where the manual is silent:
 * - <clientId> may be left out (as empty). <port> is 1–65535.
 * - The read form follows the syntax row and prints <clientId> too; §2.4's example shows only
 *   `+IMQTTADDR:203.156.205.55,1883`. A driver reading two fields still finds them first.
 * - Whatever host is named, the connection goes to the broker vmodem is configured with (the
 *   name is kept and reported).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { optional } from '../../common/decode.js';
import { imqttArgs, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';

export function imqttaddrCommand(q: YugeContext): CommandDef {
  const d = q.data;
  return {
    name: '+IMQTTADDR',
    test: () => ok(),
    read: () => {
      const c = q.client.config;
      return ok(line('+IMQTTADDR', `${textToAt(c.addr)},${c.port},${textToAt(c.clientId)}`));
    },
    set: (ctx) =>
      imqttArgs(
        ctx,
        [
          str('addr', d.maxAddrLength, { minLength: 1 }),
          { name: 'port', type: 'int', min: 1, max: 65535 },
          optional(str('clientId', d.maxClientIdLength)),
        ],
        ([addr, port, clientId]) => {
          const c = q.client.config;
          c.addr = textFromAt(addr);
          c.port = port;
          c.clientId = textFromAt(clientId ?? '');
          return ok();
        },
      ),
  };
}
