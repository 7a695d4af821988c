/**
 * Argument rules shared by the AT+MQTT* commands. Every malformed, missing, extra or out-of-range
 * argument answers `+CME ERROR: 601` (无效参数, §5).
 */
import { withArgs, type RequiredIntParam } from '../../common/decode.js';
import { type DecodedOf, type ParamSpec, type StringParam } from '../../../at/decode-args.js';
import type { CommandContext, Outcome } from '../../../at/types.js';
import type { OneMoContext } from './context.js';
import { badParam } from './errors.js';

export function connectIdParam(q: OneMoContext): RequiredIntParam {
  return { name: 'connect_id', type: 'int', min: 0, max: q.data.maxConnectId };
}

/** `(0-5)` for test-command responses. */
export function connectIdRange(q: OneMoContext): string {
  return `(0-${q.data.maxConnectId})`;
}

export function topicParam(q: OneMoContext, name = 'topic'): Omit<StringParam, 'optional'> {
  return { name, type: 'string', minLength: 1, maxLength: q.data.maxTopicLength };
}

/**
 * Decode with the OneMO error rule (601). A parameter list written in place types `run`'s values
 * (see DecodedOf).
 */
export function mqttArgs<const Ps extends readonly ParamSpec[]>(
  ctx: CommandContext,
  params: Ps,
  run: (values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
): Outcome | Promise<Outcome> {
  return withArgs(ctx, params, run, badParam);
}

export { textFromAt, textToAt } from '../../../at/text.js';

