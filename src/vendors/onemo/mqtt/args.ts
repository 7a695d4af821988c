/**
 * Argument rules shared by the AT+MQTT* commands. Every malformed, missing, extra or out-of-range
 * argument answers `+CME ERROR: 601` (无效参数, §5).
 */
import { decodeArgs, type Decoded, type IntParam, type ParamSpec, type StringParam } from '../../../at/decode-args.js';
import type { CommandContext, Outcome } from '../../../at/types.js';
import type { OneMoContext } from './context.js';
import { badParam } from './errors.js';

export function connectIdParam(q: OneMoContext): IntParam {
  return { name: 'connect_id', type: 'int', min: 0, max: q.data.maxConnectId };
}

/** `(0-5)` for test-command responses. */
export function connectIdRange(q: OneMoContext): string {
  return `(0-${q.data.maxConnectId})`;
}

export function topicParam(q: OneMoContext, name = 'topic'): StringParam {
  return { name, type: 'string', minLength: 1, maxLength: q.data.maxTopicLength };
}

/** Decode with the OneMO error rule (601). */
export function mqttArgs(
  ctx: CommandContext,
  params: readonly ParamSpec[],
  run: (values: Decoded) => Outcome | Promise<Outcome>,
): Outcome | Promise<Outcome> {
  const r = decodeArgs(params, ctx.args);
  if (!r.ok) return badParam(r.problem);
  return run(r.values);
}

/**
 * The parser hands strings over byte for byte (latin1); topics and the other texts are UTF-8 on
 * the wire [MQTT-1.5.3], so the bytes the firmware typed are reinterpreted as UTF-8.
 */
export function textFromAt(raw: string): string {
  return Buffer.from(raw, 'latin1').toString('utf8');
}

/** Text back to the host's bytes, in the latin1 domain the engine writes. */
export function textToAt(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
