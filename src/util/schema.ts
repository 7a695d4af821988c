/**
 * What every file schema (profiles, config files, scenarios, device registries) shares: zod 4,
 * and one way to turn its first problem into a message that names the field (as a path,
 * `products[0].devices[1].deviceName`) and says what is allowed and what was found. Each loader
 * prefixes the file (and line, where it has one).
 */
import { z } from 'zod';

/** How a value reads in a message: `a list`, `a mapping`, `null`, `number 7`, `string "x"`. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

export type SchemaPath = (string | number)[];

/** `['products', 0, 'devices', 1, 'deviceName']` → `products[0].devices[1].deviceName`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

export interface SchemaProblem {
  /** Where, as keys and indexes (for a line lookup in YAML). */
  path: SchemaPath;
  /** Where, as text (`products[0].platform`); empty for the whole file. */
  field: string;
  /** What is allowed and what was found (the schema's own wording). */
  message: string;
}

/**
 * The problem to report from a failed parse: an unknown key first (a typo explains the rest),
 * otherwise the first problem in document order.
 */
export function firstProblem(error: z.ZodError): SchemaProblem {
  const issues = error.issues;
  const iss = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (iss.code === 'unrecognized_keys') path.push(iss.keys[0]!);
  return { path, field: fieldPath(path), message: iss.message };
}

/** An error message "must be <what>, not <what was found>" for a schema's `error` option. */
export function mustBe(what: string): (iss: { input?: unknown }) => string {
  return (iss) => `must be ${what}, not ${typeName(iss.input)}`;
}

/**
 * A mapping with exactly these keys: another key is "unknown <noun> (expected one of …)", a
 * value that is no mapping says so.
 */
export function strictMapping<T extends z.core.$ZodLooseShape>(shape: T, noun = 'field') {
  const keys = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown ${noun} (expected one of ${keys})` : `must be a mapping (key: value), not ${typeName(iss.input)}`),
  });
}
