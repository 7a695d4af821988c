/**
 * AT+IMQTTPUBEX — 指定长度发布消息 (manual §2.13 "AT+MQTTPUBEX 指定长度发布消息"; the update
 * record names it AT+IMQTTTPUBEX and its example answers +IMQTTPUBEX — AT+IMQTTPUBEX,
 * AT+MQTTPUBEX and AT+IMQTTTPUBEX are all accepted).
 *   AT+IMQTTPUBEX=<topic>,<qos>,<retained>,<size>  → >, then exactly <size> bytes, OK,
 *                                                   then +IMQTTPUBEX:<packetID>,<status>
 *   AT+IMQTTPUBEX=?  → OK
 *   AT+IMQTTPUBEX?   → OK
 * <size> "最大 1024"; <status> 0 success, 1 failure. The payload is any bytes (JSON, binary): the
 * data mode takes exactly <size> of them, CR, LF, Ctrl+Z included, as YUGE drivers send
 * (shared/FACTS.md: they wait for the `>` byte and send exactly the length, no CR/LF).
 *
 * Where the manual is silent:
 * - The prompt is the profile's (`\r\n>`, as §2.13's `>test message!!` shows it); the data is
 *   not echoed.
 * - ERROR before the prompt when not connected, for a topic with wildcards, or <size> outside
 *   1–1024. If the connection ends while the host is sending, or no byte arrives for the
 *   profile's dataIdleTimeoutMs, the module answers ERROR and publishes nothing.
 */
import { ok, type CommandDef, type DataEnd, type Outcome } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import { fail, imqttArgs, str } from './args.js';
import type { YugeContext } from './context.js';
import { publishNow, publishProblem } from './publish.js';

export function imqttpubexCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTPUBEX',
    aliases: ['+MQTTPUBEX', '+IMQTTTPUBEX'],
    test: () => ok(),
    read: () => ok(),
    set: (ctx) =>
      imqttArgs(
        ctx,
        [
          str('topic', q.data.maxTopicLength, { minLength: 1 }),
          { name: 'qos', type: 'int', min: 0, max: 2 },
          { name: 'retained', type: 'int', values: [0, 1] },
          { name: 'size', type: 'int', min: 1, max: q.data.maxMessageLength },
        ],
        ([topic, qos, retained, size]): Outcome => {
          const problem = publishProblem(q, topic, size);
          if (problem) return fail(problem);
          return {
            type: 'prompt',
            spec: { mode: 'fixed', length: size, idleTimeoutMs: q.data.dataIdleTimeoutMs, echo: false },
            onData: (end: DataEnd): Outcome => {
              if (end.kind !== 'complete') return fail(`data input ${end.kind} after ${end.payload.length} of ${size} bytes`);
              return publishNow(q, topic, oneOf(qos, [0, 1, 2]), end.payload, retained === 1, '+IMQTTPUBEX');
            },
          };
        },
      ),
  };
}
