/**
 * AT+IMQTTPUBIN — 发布 HEX 格式消息 (manual §2.12 "AT+IMQTTPUBIN 发布 HEX 格式消息"; both §3
 * examples type it AT+IMQTTTPUBIN — accepted too).
 *   AT+IMQTTPUBIN=<topic>,<qos>,<message>[,<retained>]  → OK, then +IMQTTPUB:<packetID>,<status>
 *   AT+IMQTTPUBIN?   → +IMQTTPUBIN:<topic>,<qos>,<message>  OK
 *   AT+IMQTTPUBIN=?  → OK
 * <message> is the HEXString of the payload (`74657374206d6573736167652121` = "test message!!"),
 * even length, either case; the result line is +IMQTTPUB as the syntax row and §2.12's example
 * print it. The read form repeats the last AT+IMQTTPUBIN as typed (§2.12's example keeps the
 * lower case). Other rules as AT+IMQTTPUB (the payload limit counts bytes after decoding).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import { fail, hexToBytes, imqttArgs, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';
import { publishNow } from './publish.js';

export function imqttpubinCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTPUBIN',
    aliases: ['+IMQTTTPUBIN'],
    test: () => ok(),
    read: () => {
      const last = q.client.lastPublishHex;
      return last ? ok(line('+IMQTTPUBIN', `${textToAt(last.topic)},${last.qos},${last.hex}`)) : ok();
    },
    set: (ctx) =>
      imqttArgs(
        ctx,
        [
          str('topic', q.data.maxTopicLength, { minLength: 1 }),
          { name: 'qos', type: 'int', min: 0, max: 2 },
          str('message', q.data.maxMessageLength * 2),
          { name: 'retained', type: 'int', values: [0, 1], optional: true },
        ],
        ([topic, qos, message, retained]) => {
          const payload = hexToBytes(message);
          if (typeof payload === 'string') return fail(payload);
          const r = publishNow(q, topic, oneOf(qos, [0, 1, 2]), payload, retained === 1, '+IMQTTPUB');
          if (r.type === 'ok') q.client.lastPublishHex = { topic: textFromAt(topic), qos, hex: message };
          return r;
        },
      ),
  };
}
