/**
 * What AT+IMQTTPUB (§2.11), AT+IMQTTPUBIN (§2.12) and AT+IMQTTPUBEX (§2.13) share: the checks
 * before a PUBLISH goes out, and handing it to the client (client.ts numbers it and reports
 * `<resultName>:<packetID>,<status>` after OK).
 */
import { ok, type Outcome } from '../../../at/types.js';
import { fail, textFromAt } from './args.js';
import type { YugeContext } from './context.js';
import { validTopicName } from './topics.js';

/** Publish now, or the ERROR that refuses it. `topicRaw` is the topic as the parser gave it. */
export function publishNow(q: YugeContext, topicRaw: string, qos: 0 | 1 | 2, payload: Buffer, retain: boolean, resultName: string): Outcome {
  const problem = publishProblem(q, topicRaw, payload.length);
  if (problem) return fail(problem);
  return q.client.publish(textFromAt(topicRaw), payload, qos, retain, resultName) ? ok() : fail('the session refused the request');
}

/** Why a publish on `topicRaw` with `bytes` bytes cannot go out now; undefined when it can. */
export function publishProblem(q: YugeContext, topicRaw: string, bytes: number): string | undefined {
  const topic = textFromAt(topicRaw);
  if (!validTopicName(topic)) return `"${topic}" is not a topic to publish on`;
  if (bytes > q.data.maxMessageLength) return `message longer than ${q.data.maxMessageLength} bytes`;
  if (q.client.state !== 'connected') return `client is ${q.client.state}, not connected`;
  return undefined;
}
