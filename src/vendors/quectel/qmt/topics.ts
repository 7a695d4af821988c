/** Topic lists of AT+QMTSUB / AT+QMTUNS: `"<topic1>",<qos1>[,"<topic2>",<qos2>…]`. */
import { decodeOne, type ParamSpec } from '../../../at/decode-args.js';
import type { RawArg } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';

/** Topics are UTF-8 on the wire [MQTT-1.5.3]. */
import { textFromAt } from '../../../at/text.js';

export { textFromAt as topicFromAt };

export function topicParam(maxLength: number): ParamSpec {
  return { name: 'topic', type: 'string', minLength: 1, maxLength };
}

/** Decode `topic,qos` pairs (withQos) or bare topics; undefined on any fault. */
export function decodeTopics(args: readonly RawArg[], maxTopics: number, maxLength: number, withQos: true): { topic: string; qos: 0 | 1 | 2 }[] | string;
export function decodeTopics(args: readonly RawArg[], maxTopics: number, maxLength: number, withQos: false): string[] | string;
export function decodeTopics(
  args: readonly RawArg[],
  maxTopics: number,
  maxLength: number,
  withQos: boolean,
): { topic: string; qos: 0 | 1 | 2 }[] | string[] | string {
  const step = withQos ? 2 : 1;
  if (args.length === 0 || args.length % step !== 0) return 'topic list has the wrong number of items';
  if (args.length / step > maxTopics) return `more than ${maxTopics} topics`;
  const out: { topic: string; qos: 0 | 1 | 2 }[] = [];
  for (let i = 0; i < args.length; i += step) {
    const topic = decodeOne(topicParam(maxLength), args[i]!);
    if (typeof topic !== 'string') return typeof topic === 'object' ? topic.problem : 'bad topic';
    let qos: 0 | 1 | 2 = 0;
    if (withQos) {
      const v = decodeOne({ name: 'qos', type: 'int', min: 0, max: 2 }, args[i + 1]!);
      if (typeof v !== 'number') return typeof v === 'object' ? v.problem : 'bad qos';
      qos = oneOf(v, [0, 1, 2]);
    }
    out.push({ topic: textFromAt(topic), qos });
  }
  return withQos ? out : out.map((t) => t.topic);
}
