/**
 * Typed decoding of raw AT arguments against a parameter list, with the range checks the
 * manuals give. A failed decode names the parameter and the rule, for logs.
 */
import type { RawArg } from './types.js';

export interface IntParam {
  name: string;
  type: 'int';
  min?: number;
  max?: number;
  /** Allowed values when they are a list rather than a range. */
  values?: readonly number[];
  optional?: boolean;
}

export interface StringParam {
  name: string;
  type: 'string';
  minLength?: number;
  maxLength?: number;
  /** Accept an unquoted token too (some modules do). */
  allowBare?: boolean;
  optional?: boolean;
}

export type ParamSpec = IntParam | StringParam;

/** What any parameter list decodes to, when its shape is not known to the compiler. */
export type Decoded = (number | string | undefined)[];

/**
 * The value one parameter decodes to: an int is a `number` — or the union of its `values` when
 * they are written out in place (`values: [0, 1, 4]` → `0 | 1 | 4`); a string is a `string`.
 */
export type ParamValue<P extends ParamSpec> = P extends { type: 'int'; values: readonly (infer V extends number)[] }
  ? number extends V
    ? number
    : V
  : P extends { type: 'int' }
    ? number
    : string;

/** A parameter with `optional` (unless it is literally `false`) may be absent: `undefined`. */
type MaybeAbsent<P extends ParamSpec> = 'optional' extends keyof P ? (P extends { optional: false } ? never : undefined) : never;

/**
 * The typed tuple a parameter list decodes to: `[{ type: 'int' }, { type: 'string', optional:
 * true }]` → `[number, string | undefined]`. A list whose length is unknown (typed as
 * `ParamSpec[]`) decodes to {@link Decoded}, as before.
 */
export type DecodedOf<Ps extends readonly ParamSpec[]> = number extends Ps['length']
  ? Decoded
  : { -readonly [K in keyof Ps]: Ps[K] extends ParamSpec ? ParamValue<Ps[K]> | MaybeAbsent<Ps[K]> : never };

export type DecodeResult<V = Decoded> = { ok: true; values: V } | { ok: false; problem: string };

/**
 * Decode `args` against `params`: arity, type and range. Missing optional values are undefined.
 * Written in place, the parameter list types the result (see {@link DecodedOf}), so handlers
 * need no casts.
 */
export function decodeArgs<const Ps extends readonly ParamSpec[]>(params: Ps, args: readonly RawArg[]): DecodeResult<DecodedOf<Ps>> {
  if (args.length > params.length) return { ok: false, problem: `too many arguments (${args.length} > ${params.length})` };
  const values: Decoded = [];
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const a = args[i];
    if (!a || a.kind === 'empty') {
      if (!p.optional) return { ok: false, problem: `missing <${p.name}>` };
      values.push(undefined);
      continue;
    }
    const v = decodeOne(p, a);
    if (typeof v === 'object') return { ok: false, problem: v.problem };
    values.push(v);
  }
  // Each value was checked against its parameter above: the tuple type is what was decoded.
  return { ok: true, values: values as DecodedOf<Ps> };
}

export function decodeOne(p: ParamSpec, a: RawArg): number | string | { problem: string } {
  if (p.type === 'int') {
    if (a.kind !== 'int') return { problem: `<${p.name}> must be an integer` };
    const v = a.value;
    if (p.values && !p.values.includes(v)) return { problem: `<${p.name}>=${v} not in (${p.values.join(',')})` };
    if (p.min !== undefined && v < p.min) return { problem: `<${p.name}>=${v} below ${p.min}` };
    if (p.max !== undefined && v > p.max) return { problem: `<${p.name}>=${v} above ${p.max}` };
    return v;
  }
  let s: string;
  if (a.kind === 'string') s = a.value;
  else if (p.allowBare && (a.kind === 'bare' || a.kind === 'int')) s = a.text;
  else return { problem: `<${p.name}> must be a quoted string` };
  if (p.minLength !== undefined && Buffer.byteLength(s, 'latin1') < p.minLength) return { problem: `<${p.name}> shorter than ${p.minLength}` };
  if (p.maxLength !== undefined && Buffer.byteLength(s, 'latin1') > p.maxLength) return { problem: `<${p.name}> longer than ${p.maxLength}` };
  return s;
}

/** Render a range for test-command responses: `(0-5)` or `(0,1)`. */
export function rangeText(p: IntParam): string {
  if (p.values) return `(${p.values.join(',')})`;
  return `(${p.min ?? 0}-${p.max ?? 0})`;
}
