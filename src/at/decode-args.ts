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

export type Decoded = (number | string | undefined)[];

export type DecodeResult = { ok: true; values: Decoded } | { ok: false; problem: string };

/** Decode `args` against `params`: arity, type and range. Missing optional values are undefined. */
export function decodeArgs(params: readonly ParamSpec[], args: readonly RawArg[]): DecodeResult {
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
  return { ok: true, values };
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
