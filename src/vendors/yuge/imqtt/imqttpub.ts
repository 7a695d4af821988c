/**
 * AT+IMQTTPUB — 发布消息 (manual §2.11 "AT+IMQTTTPUB 发布消息"; the title and syntax rows spell it
 * AT+IMQTTTPUB, the examples AT+IMQTTPUB — both are accepted).
 *   AT+IMQTTPUB=<topic>,<qos>,<message>[,<retained>]  → OK, then +IMQTTPUB:<packetID>,<status>
 *   AT+IMQTTPUB?   → +IMQTTPUB:<topic>,<qos>,<message>  OK
 *   AT+IMQTTPUB=?  → OK
 * <qos> 0–2; <message> text, quoted or bare (`…,1,test message!!` and `…,1,"test message!!"` in
 * §2.11 and §3; "json 格式的数据请使用+IMQTTPUBIN 命令"); <retained> 0 (default) or 1. <status>
 * 0 success, 1 failure. The result always reads +IMQTTPUB whichever spelling was typed (§3 prints
 * both `+IMQTTPUB:4,0` and `+IMQTTTPUB:4,0` after the same command: scan slips).
 *
 * Where the manual is silent: ERROR when not connected, for a topic with wildcards, or a message
 * over the profile's maxMessageLength (1024, AT+IMQTTPUBEX's limit). The read form repeats the
 * last AT+IMQTTPUB as typed (none yet: just OK).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import { imqttArgs, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';
import { publishNow } from './publish.js';

export function imqttpubCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTPUB',
    aliases: ['+IMQTTTPUB'],
    test: () => ok(),
    read: () => {
      const last = q.client.lastPublish;
      if (!last) return ok();
      return ok(Buffer.concat([Buffer.from(line('+IMQTTPUB', `${textToAt(last.topic)},${last.qos},`), 'latin1'), last.message]));
    },
    set: (ctx) =>
      imqttArgs(
        ctx,
        [
          str('topic', q.data.maxTopicLength, { minLength: 1 }),
          { name: 'qos', type: 'int', min: 0, max: 2 },
          str('message', q.data.maxMessageLength),
          { name: 'retained', type: 'int', values: [0, 1], optional: true },
        ],
        ([topic, qos, message, retained]) => {
          const payload = Buffer.from(message, 'latin1');
          const r = publishNow(q, topic, oneOf(qos, [0, 1, 2]), payload, retained === 1, '+IMQTTPUB');
          if (r.type === 'ok') q.client.lastPublish = { topic: textFromAt(topic), qos, message: payload };
          return r;
        },
      ),
  };
}
