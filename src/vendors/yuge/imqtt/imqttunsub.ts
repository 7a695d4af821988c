/**
 * AT+IMQTTUNSUB — 退订主题 (manual §2.10 "AT+IMQTTUNSUB 退订主题").
 *   AT+IMQTTUNSUB=<topic>  → OK, then +IMQTTUNSUB:<packetid>,<status>
 *   AT+IMQTTUNSUB?         → +IMQTTUNSUB:<topic>,<status>  OK
 *   AT+IMQTTUNSUB=?        → OK
 * <status>: 0 success, -1 failure. The syntax rows write `+IMQTTUNSUB=…`; the examples print
 * `+IMQTTUNSUB:7,0` and `+IMQTTUNSUB:/a1R3d3WsBI0/test1/user/test,0`, which is what is sent.
 *
 * Where the manual is silent: -1 means no UNSUBACK within <TIMEOUT> (or the connection ended
 * first); ERROR when not connected or the filter is not valid. The read form reports the last
 * unsubscription (none yet: just OK).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { fail, imqttArgs, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';
import { validFilter } from './topics.js';

export function imqttunsubCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTUNSUB',
    test: () => ok(),
    read: () => {
      const last = q.client.lastUnsubscribe;
      return last ? ok(line('+IMQTTUNSUB', `${textToAt(last.topic)},${last.status}`)) : ok();
    },
    set: (ctx) =>
      imqttArgs(ctx, [str('topic', q.data.maxTopicLength, { minLength: 1 })], ([topicRaw]) => {
        const topic = textFromAt(topicRaw);
        if (!validFilter(topic)) return fail(`"${topic}" is not a valid topic filter`);
        if (q.client.state !== 'connected') return fail(`client is ${q.client.state}, not connected`);
        return q.client.unsubscribe(topic) ? ok() : fail('the session refused the request');
      }),
  };
}
