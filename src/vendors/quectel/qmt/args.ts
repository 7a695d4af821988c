/**
 * Argument rules shared by the QMT commands. The EC200 manual documents a plain `ERROR` for
 * every failure of these commands ("若出现任何错误：ERROR"), whatever AT+CMEE says.
 */
import { decodeArgs, type DecodedOf, type IntParam, type ParamSpec } from '../../../at/decode-args.js';
import { error, type CommandContext, type Outcome } from '../../../at/types.js';
import { withArgs } from '../../common/decode.js';
import type { QmtContext } from './context.js';

export const fail = (reason: string): Outcome => error(undefined, reason);

/** An integer parameter that must be given (decodes to `number`, never `undefined`). */
export type RequiredInt = Omit<IntParam, 'optional'>;

export function clientIdxParam(q: QmtContext): RequiredInt {
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

/**
 * Decode `<index>,<values…>` where the values' list is not written in place (AT+QMTCFG's
 * options, here and on the BC260Y): `run` gets the index and the values typed by `params`. The
 * line is checked as one list — arity first, then each parameter in order — so the problems are
 * those decodeArgs gives for `[idxParam, ...params]`.
 */
export function withIndexedArgs<const Ps extends readonly ParamSpec[]>(
  ctx: CommandContext,
  idxParam: RequiredInt,
  params: Ps,
  run: (idx: number, values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
  onError: (problem: string) => Outcome,
): Outcome | Promise<Outcome> {
  const count = params.length + 1;
  if (ctx.args.length > count) return onError(`too many arguments (${ctx.args.length} > ${count})`);
  const head = decodeArgs([idxParam], ctx.args.slice(0, 1));
  if (!head.ok) return onError(head.problem);
  const rest = decodeArgs(params, ctx.args.slice(1));
  if (!rest.ok) return onError(rest.problem);
  return run(head.values[0], rest.values);
}
