/**
 * Argument rules shared by the QMT commands. The EC200 manual documents a plain `ERROR` for
 * every failure of these commands ("若出现任何错误：ERROR"), whatever AT+CMEE says.
 */
import type { DecodedOf, ParamSpec } from '../../../at/decode-args.js';
import { error, type CommandContext, type Outcome } from '../../../at/types.js';
import { withArgs, type RequiredIntParam } from '../../common/decode.js';
import type { QmtContext } from './context.js';

export const fail = (reason: string): Outcome => error(undefined, reason);

export function clientIdxParam(q: QmtContext): RequiredIntParam {
  return { name: 'client_idx', type: 'int', min: 0, max: q.data.maxClientIdx };
}

/** `(0-5)` for test-command responses. */
export function clientRange(q: QmtContext): string {
  return `(0-${q.data.maxClientIdx})`;
}

/**
 * Decode with the QMT error rule (plain ERROR). A parameter list written in place types `run`'s
 * values (see DecodedOf).
 */
export function qmtArgs<const Ps extends readonly ParamSpec[]>(
  ctx: CommandContext,
  params: Ps,
  run: (values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
): Outcome | Promise<Outcome> {
  return withArgs(ctx, params, run, fail);
}
