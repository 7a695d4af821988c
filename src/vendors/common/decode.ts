/** Decode-or-answer helpers shared by command handlers. */
import { decodeArgs, type Decoded, type ParamSpec } from '../../at/decode-args.js';
import { error, type CommandContext, type Outcome } from '../../at/types.js';

/** 3GPP TS 27.007 §9.2.1: 50 "Incorrect parameters", 3 "operation not allowed". */
export const CME_INCORRECT_PARAMETERS = 50;
export const CME_NOT_ALLOWED = 3;

/**
 * Decode the set-form arguments; on failure answer with `onError` (default: CME 50, rendered per
 * AT+CMEE). Vendor commands that document a plain `ERROR` pass `error()`.
 */
export function withArgs(
  ctx: CommandContext,
  params: readonly ParamSpec[],
  run: (values: Decoded) => Outcome | Promise<Outcome>,
  onError: (problem: string) => Outcome = (problem) => error(CME_INCORRECT_PARAMETERS, problem),
): Outcome | Promise<Outcome> {
  const r = decodeArgs(params, ctx.args);
  if (!r.ok) return onError(r.problem);
  return run(r.values);
}
