/**
 * Argument rules shared by the AT+IMQTT* commands. The manual documents one failure reply for
 * every command, a plain `ERROR` (§2.8 "OK +IMQTTCONN: <state> OR ERROR"; no error codes
 * anywhere), so a missing, extra, malformed or out-of-range argument answers `ERROR` whatever
 * AT+CMEE says.
 *
 * Arguments may come quoted or bare, as in the manual's own examples
 * (`AT+IMQTTADDR=203.156.205.55,1883,"testMQTT"`, `AT+IMQTTPUB=/a/b,1,test message!!`): every
 * string parameter accepts an unquoted token. The parser trims spaces around a bare token
 * (`AT+IMQTTLWT= will_topic,…` stores `will_topic`).
 */
import { withArgs } from '../../common/decode.js';
import { type DecodedOf, type ParamSpec, type StringParam } from '../../../at/decode-args.js';
import { error, type CommandContext, type Outcome } from '../../../at/types.js';

/** The plain `ERROR` of every IMQTT failure; `reason` goes to the debug log only. */
export const fail = (reason: string): Outcome => error(undefined, reason);

/** A string parameter that may come quoted or bare; required unless wrapped in `optional()`. */
export function str(name: string, maxLength: number, opts: { minLength?: number } = {}): Omit<StringParam, 'optional'> {
  return { name, type: 'string', allowBare: true, maxLength, ...opts };
}

/**
 * Decode with the IMQTT error rule (plain ERROR). A parameter list written in place types `run`'s
 * values (see DecodedOf).
 */
export function imqttArgs<const Ps extends readonly ParamSpec[]>(
  ctx: CommandContext,
  params: Ps,
  run: (values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
): Outcome | Promise<Outcome> {
  return withArgs(ctx, params, run, fail);
}

export { textFromAt, textToAt } from '../../../at/text.js';


/** An even-length hex string (either case) to bytes; a string is the reason it is not hex. */
export function hexToBytes(text: string): Buffer | string {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) return 'message is not an even-length HEXString';
  return Buffer.from(text, 'hex');
}
