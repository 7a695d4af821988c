/** Decode-or-answer helpers shared by command handlers. */
import { decodeArgs, type DecodedOf, type IntParam, type ParamSpec, type StringParam } from '../../at/decode-args.js';
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

/**
 * A decoded integer as the literal union its parameter's range stands for (`<qos>` min 0 max 2
 * → `oneOf(qos, [0, 1, 2])`: `0 | 1 | 2`), where the range is written as min/max because that is
 * how the manual prints it (`(0-2)` in the test form, "above 2" in the log). The decoder has
 * already checked the range, so a value outside `allowed` means the list and the parameter
 * disagree — a bug: it throws, and the engine logs it and answers ERROR.
 */
export function oneOf<const V extends number>(value: number, allowed: readonly V[]): V {
  const v = allowed.find((a) => a === value);
  if (v === undefined) throw new RangeError(`${value} not in (${allowed.join(',')})`);
  return v;
}

/**
 * The same parameter, bracketed in the manual: it may be left out and then decodes to
 * `undefined` (`optional(int('ssl_id', 0, 5))` → `number | undefined`).
 */
export const optional = <P extends ParamSpec>(p: P): P & { optional: true } => ({ ...p, optional: true });

/** An integer parameter that must be given: it decodes to `number`, never `undefined`. */
export type RequiredIntParam = Omit<IntParam, 'optional'>;

/** An integer parameter in [min, max] (the option tables of AT+QMTCFG, AT+MQTTCFG, …). */
export const intParam = (name: string, min: number, max: number): RequiredIntParam => ({ name, type: 'int', min, max });
/** A 0/1 switch. */
export const flagParam = (name: string): RequiredIntParam & { values: readonly [0, 1] } => ({ name, type: 'int', values: [0, 1] });
/** A quoted string parameter, with optional length bounds. */
export const stringParam = (name: string, maxLength?: number, minLength?: number): Omit<StringParam, 'optional'> => ({
  name,
  type: 'string',
  minLength,
  maxLength,
});

/**
 * Decode `<index>,<values…>` where the values' list is built apart from the index (a table of
 * configuration options: AT+QMTCFG, AT+MQTTCFG): `run` gets the index and the values typed by
 * `params`, which a `const` type parameter keeps from the caller. The line is checked as one
 * list — arity first, then each parameter in order — so the problems are those of
 * `withArgs(ctx, [idxParam, ...params], …)`.
 */
export function withIndexedArgs<const Ps extends readonly ParamSpec[]>(
  ctx: CommandContext,
  idxParam: RequiredIntParam,
  params: Ps,
  run: (idx: number, values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
  onError: (problem: string) => Outcome = (problem) => error(CME_INCORRECT_PARAMETERS, problem),
): Outcome | Promise<Outcome> {
  const count = params.length + 1;
  if (ctx.args.length > count) return onError(`too many arguments (${ctx.args.length} > ${count})`);
  const head = decodeArgs([idxParam], ctx.args.slice(0, 1));
  if (!head.ok) return onError(head.problem);
  const rest = decodeArgs(params, ctx.args.slice(1));
  if (!rest.ok) return onError(rest.problem);
  return run(head.values[0], rest.values);
}
