/**
 * AT+IMQTTRECV — 主动读取 MQTT 缓存消息 (manual §2.18 "AT+IMQTTRECV 主动读取 MQTT 缓存消息").
 *   AT+IMQTTRECV=<count>  → +IMQTTRECV:<packetid>,"<topic>",<messageLen>,"<message>" (oldest first)  OK
 *   AT+IMQTTRECV?         → +IMQTTRECV: <total_count>  OK
 *   AT+IMQTTRECV=?        → OK
 * In cache mode (AT+IMQTTRECVMODE=1) received messages wait here, 10 at most (§2.19.3); reading
 * removes them. Lines as the example prints them: the message lines without a space after the
 * colon, the count with one (`+IMQTTRECV: 10`); the syntax row's `+IMQTTRECV: (1-10)` for the test
 * form is not what the example answers (OK), which is followed.
 *
 * Where the manual is silent: <count> is 1–10; asking for more than are cached returns those
 * there are (none: just OK).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { imqttArgs } from './args.js';
import type { YugeContext } from './context.js';
import { spacedLine } from './format.js';

export function imqttrecvCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTRECV',
    test: () => ok(),
    read: () => ok(spacedLine('+IMQTTRECV', q.client.cache.length)),
    set: (ctx) =>
      imqttArgs(ctx, [{ name: 'count', type: 'int', min: 1, max: q.data.cacheSize }], ([count]) => ok(...q.client.readCached(count))),
  };
}
