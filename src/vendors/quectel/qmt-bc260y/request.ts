/**
 * `<TCP_connectID>,<msgID>,<topic…>` of AT+QMTSUB / AT+QMTUNS (§3.3.6–§3.3.7): <msgID> 1–65535,
 * topics 1–256 bytes (see ./text.ts), the client connected.
 */
import { decodeArgs, decodeOne } from '../../../at/decode-args.js';
import type { RawArg } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import type { QmtClient } from '../qmt/client.js';
import type { Bc260yContext } from './data.js';
import { connectIdParam, isFault, type Fault } from './errors.js';
import { checkTopic } from './text.js';

export interface TopicRequest {
  client: QmtClient;
  msgid: number;
  topics: { topic: string; qos: 0 | 1 | 2 }[];
}

/** Decode the request; `withQos` for `"<topic>",<qos>` pairs (AT+QMTSUB). */
export function decodeTopicRequest(q: Bc260yContext, args: readonly RawArg[], withQos: boolean): TopicRequest | Fault {
  const bad = (reason: string): Fault => ({ cause: 'invalidParameter', reason });
  const head = decodeArgs([connectIdParam(q), { name: 'msgID', type: 'int', min: 1, max: 65535 }], args.slice(0, 2));
  if (!head.ok) return bad(head.problem);
  const rest = args.slice(2);
  const step = withQos ? 2 : 1;
  if (rest.length === 0 || rest.length % step !== 0) return bad('topic list has the wrong number of items');
  if (rest.length / step > q.data.maxTopicsPerRequest) return bad(`more than ${q.data.maxTopicsPerRequest} topics`);
  const topics: TopicRequest['topics'] = [];
  for (let i = 0; i < rest.length; i += step) {
    const raw = decodeOne({ name: 'topic', type: 'string' }, rest[i]!);
    if (typeof raw !== 'string') return bad(typeof raw === 'object' ? raw.problem : 'bad topic');
    const topic = checkTopic(q, raw, 'filter');
    if (isFault(topic)) return topic;
    let qos: 0 | 1 | 2 = 0;
    if (withQos) {
      const v = decodeOne({ name: 'qos', type: 'int', min: 0, max: 2 }, rest[i + 1]!);
      if (typeof v !== 'number') return bad(typeof v === 'object' ? v.problem : 'bad qos');
      qos = oneOf(v, [0, 1, 2]);
    }
    topics.push({ topic, qos });
  }
  const client = q.client(head.values[0]);
  if (client.state !== 'connected') return { cause: 'linkError', reason: `client ${client.idx} is ${client.state}, not connected` };
  const msgid = head.values[1];
  // An id still in flight would be a second packet with the same identifier [MQTT-2.3.1-2]:
  // refused like AT+QMTPUB's (<msgID> invalid, §4 8507).
  if (client.idInFlight(msgid)) return bad(`msgID ${msgid} is still in flight`);
  return { client, msgid, topics };
}
