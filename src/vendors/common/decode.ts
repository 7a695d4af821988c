/** Decode-or-answer helpers shared by command handlers. */
import { decodeArgs, type DecodedOf, type ParamSpec } from '../../at/decode-args.js';
import { error, type CommandContext, type Outcome } from '../../at/types.js';

/** 3GPP TS 27.007 §9.2.1: 50 "Incorrect parameters", 3 "operation not allowed". */
export const CME_INCORRECT_PARAMETERS = 50;
export const CME_NOT_ALLOWED = 3;

/**
 * Decode the set-form arguments; on failure answer with `onError` (default: CME 50, rendered per
 * AT+CMEE). Vendor commands that document a plain `ERROR` pass `error()`. A parameter list
 * written in place types `run`'s values (`[{ type: 'int' }]` → `[number]`; see DecodedOf); a
 * wrapper keeps that by being generic the same way (`<const Ps extends readonly ParamSpec[]>`).
 */
export function withArgs<const Ps extends readonly ParamSpec[]>(
  ctx: CommandContext,
  params: Ps,
  run: (values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
  onError: (problem: string) => Outcome = (problem) => error(CME_INCORRECT_PARAMETERS, problem),
): Outcome | Promise<Outcome> {
  const r = decodeArgs(params, ctx.args);
  if (!r.ok) return onError(r.problem);
  return run(r.values);
}
