/**
 * Scenarios: a YAML timeline of operations run against one or more modems' controllers, for CI
 * ("at 2 s drop the session; every 10 s take the broker down for 3 s; when the device publishes
 * to dev/+/up, reply on dev/<id>/down"). Every action is one ModemController operation; this file
 * only parses, validates and schedules. The schema is documented in the README ("Scenarios") and
 * in {@link SCENARIO_SCHEMA}.
 */
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { Logger } from 'pino';
import type { BrokerPublish, EmbeddedBroker } from '../broker/embedded-broker.js';
import { topicMatches, type AckFault } from './broker-faults.js';
import type { ModemController, Override } from './controller.js';
import type { OpenFault } from './network-faults.js';
import { z } from 'zod';
import { firstProblem, typeName } from '../util/schema.js';
import { yamlToJs } from '../util/yaml-limits.js';

/** A short reference of the file format (also in the README). */
export const SCENARIO_SCHEMA = `
name: <text>                  optional; shown in logs
description: <text>           optional
modem: all | <index> | <name> | [<ref>, …]   default target of every step (default: all)
steps:                        required; every step runs on its own clock
  - name: <text>              optional label for logs and errors
    modem: <ref>              optional; overrides the default target
    # exactly one trigger:
    at: <duration>            once, this long after the scenario starts
    every: <duration>         repeatedly; first run one period in (or at \`at\`); \`times\` runs (default: forever)
    when:                     each time (per modem; \`times\` caps it)
      published: { topic: <filter>, payload?: <match>, qos?: 0|1|2 }   the device published
      urc: <regular expression>                                        the modem wrote this URC line
    times: <n>
    do: <action> | [<action>, …]   run in order; a failing action ends the list for that run
durations: 250ms, 2s, 1.5s, 1m (a unit is required)
payload match: "<exact text>" | { contains: <text> } | { regex: <re> } | { json: <subset> } | { hex: <bytes> }
actions:
  publish: { topic, payload | json | hex | file, qos?: 0|1|2, retain?: bool }
  drop | reboot | clear-overrides          (bare, or with an empty value)
  stall: true|false            broker: down|up            registration: lost|registered
  registration-state: home|roaming|denied|none | { state, reject-cause?: 0-255 }
  sim: out|in                  deactivate-context | deactivate-context: <cid 1-15>
  wifi: down|up | { ap?: down|up, rssi?: <dBm -100-0> }     (Wi-Fi profiles: the access point)
  refuse-connect: 1-5          refuse-subscribe: <filter>|null     refuse-publish: <filter>|null
  puback: { delay: <duration> } | withhold | normal      (suback the same)
  signal: <rssi 0-31|99> | { rssi, ber }      fail-next-open: dns|refused|timeout
  latency: <duration>          response-delay: <duration>          baud: <rate, 0 = unpaced>
  override: { command, response: <line> | [<lines>], once?: bool, form?: exec|set|read|test }
  inject: <text> | { hex: <bytes> }          wait: <duration>          log: <text>
templates in publish topic/payload/json, inject and log: {{modem}} {{index}} {{imei}} {{n}};
  after \`when: published\`: {{topic}} {{payload}} {{1}}… (the topic's + levels) {{#}} {{json.a.b}};
  after \`when: urc\`: {{urc}} {{1}}… (the regular expression's groups)
`;

// ---------------------------------------------------------------------------------------------
// Types

/** A modem reference: its index or its name. */
export type ModemRef = number | string;
/** Which modems a step acts on. */
export type ModemSelector = 'all' | ModemRef[];

export type PayloadMatch =
  | { kind: 'exact'; bytes: Buffer }
  | { kind: 'contains'; text: string }
  | { kind: 'regex'; re: RegExp }
  | { kind: 'json'; subset: unknown };

export type Trigger =
  | { kind: 'at'; atMs: number }
  | { kind: 'every'; periodMs: number; firstMs: number; times?: number }
  | { kind: 'published'; topic: string; payload?: PayloadMatch; qos?: 0 | 1 | 2; times?: number }
  | { kind: 'urc'; re: RegExp; times?: number };

/** A string with `{{…}}` placeholders, filled in when the action runs. */
export type Template = string;

export type PayloadSource = { kind: 'text'; text: Template } | { kind: 'json'; value: unknown } | { kind: 'bytes'; bytes: Buffer };

export type ScenarioAction = { line?: number } & (
  | { op: 'publish'; topic: Template; payload: PayloadSource; qos: 0 | 1 | 2; retain: boolean }
  | { op: 'drop' }
  | { op: 'reboot' }
  | { op: 'clear-overrides' }
  | { op: 'stall'; on: boolean }
  | { op: 'broker'; up: boolean }
  | { op: 'registration'; registered: boolean }
  | { op: 'registration-state'; state: 'home' | 'roaming' | 'denied' | 'none'; rejectCause?: number }
  | { op: 'sim'; present: boolean }
  | { op: 'wifi'; ap?: boolean; rssi?: number }
  | { op: 'deactivate-context'; cid: number }
  | { op: 'refuse-connect'; code: number }
  | { op: 'refuse-subscribe'; filter: string | null }
  | { op: 'refuse-publish'; filter: string | null }
  | { op: 'puback' | 'suback'; fault: AckFault | undefined }
  | { op: 'signal'; rssi: number; ber?: number }
  | { op: 'fail-next-open'; reason: OpenFault }
  | { op: 'latency'; ms: number }
  | { op: 'response-delay'; ms: number }
  | { op: 'baud'; baud: number }
  | { op: 'override'; override: Override }
  | { op: 'inject'; text?: Template; bytes?: Buffer }
  | { op: 'wait'; ms: number }
  | { op: 'log'; message: Template }
);

export interface ScenarioStep {
  /** 1-based position in `steps`. */
  index: number;
  /** `step 2 "flap" (every 10s)`: how messages name the step. */
  label: string;
  name?: string;
  /** The step's own `modem:`; undefined = the scenario's default. */
  modem?: ModemSelector;
  trigger: Trigger;
  actions: ScenarioAction[];
  line?: number;
}

export interface Scenario {
  name?: string;
  description?: string;
  /** Default target of the steps (default 'all'). */
  modem: ModemSelector;
  steps: ScenarioStep[];
  /** The file it was read from, for messages. */
  file?: string;
}

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

const ACTIONS = [
  'publish', 'drop', 'reboot', 'clear-overrides', 'stall', 'broker', 'registration', 'registration-state', 'sim',
  'wifi', 'deactivate-context', 'refuse-connect',
  'refuse-subscribe', 'refuse-publish', 'puback', 'suback', 'signal', 'fail-next-open', 'latency',
  'response-delay', 'baud', 'override', 'inject', 'wait', 'log',
] as const;
const BARE_ACTIONS = new Set(['drop', 'reboot', 'clear-overrides', 'deactivate-context']);
const STEP_KEYS = ['name', 'modem', 'at', 'every', 'times', 'when', 'do'];
const TOP_KEYS = ['name', 'description', 'modem', 'steps'];

/** `250ms`, `2s`, `1.5s`, `1m` → milliseconds; anything else is null. */
export function parseDuration(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(n);
}

function fmtDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Path = (string | number)[];

const TEMPLATE_RE = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** Parsing context: where we are, for messages. */
class Ctx {
  constructor(
    private readonly source: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
    readonly baseDir: string,
  ) {}

  lineOf(p: Path): number | undefined {
    if (!this.doc || !this.lines) return undefined;
    for (let n = p.length; n >= 0; n--) {
      const node = this.doc.getIn(p.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  error(p: Path, where: string, msg: string): ScenarioError {
    const line = this.lineOf(p);
    return new ScenarioError(`${this.source}${line !== undefined ? ` line ${line}` : ''}: ${where}${where ? ': ' : ''}${msg}`);
  }
}
// The values of a scenario are checked with zod schemas (the schema library every file format
// of vmodem uses); the helpers below run one and turn a failure into the file/line/step message.

/** Run `schema` on `v`; a failure is `<what> must be <allowed>, not <found>` at `p`. */
function check<T>(ctx: Ctx, p: Path, where: string, schema: z.ZodType<T>, v: unknown, message: () => string): T {
  const r = schema.safeParse(v);
  if (!r.success) throw ctx.error(p, where, message());
  return r.data;
}

const KEYS_SCHEMAS = new Map<string, z.ZodType>();
function checkKeys(ctx: Ctx, p: Path, where: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  const id = allowed.join(',');
  let schema = KEYS_SCHEMAS.get(id);
  if (!schema) KEYS_SCHEMAS.set(id, (schema = z.strictObject(Object.fromEntries(allowed.map((k) => [k, z.unknown().optional()])))));
  const r = schema.safeParse(obj);
  if (r.success) return;
  const { path: at } = firstProblem(r.error);
  const k = String(at[at.length - 1]);
  throw ctx.error([...p, k], where, `unknown key "${k}" (expected one of: ${allowed.join(', ')})`);
}

/** `250ms`, `2s`, `1.5s`, `1m` (a unit is required) → milliseconds. */
const DURATION = z.custom<string>((v) => parseDuration(v) !== null).transform((v) => parseDuration(v)!);

function duration(ctx: Ctx, p: Path, where: string, what: string, v: unknown): number {
  return check(ctx, p, where, DURATION, v, () => {
    const hint = typeof v === 'number' ? ` — write ${v}s or ${v}ms` : '';
    return `${what} must be a duration such as 500ms, 2s or 1m, not ${typeName(v)}${hint}`;
  });
}

function wholeNumber(ctx: Ctx, p: Path, where: string, what: string, v: unknown, min: number, max: number): number {
  return check(ctx, p, where, z.int().min(min).max(max), v, () => `${what} must be a whole number ${min}–${max}, not ${typeName(v)}`);
}

/** Text; YAML numbers and booleans count as their text. */
const TEXT = z.union([z.string(), z.number().transform(String), z.boolean().transform(String)]);

function text(ctx: Ctx, p: Path, where: string, what: string, v: unknown): string {
  return check(ctx, p, where, TEXT, v, () => {
    const hint = isRecord(v) ? ' (a value that starts with {{ needs quotes: "{{…}}")' : '';
    return `${what} must be text, not ${typeName(v)}${hint}`;
  });
}

function choice<T>(ctx: Ctx, p: Path, where: string, what: string, v: unknown, map: Record<string, T>): T {
  const keys = Object.keys(map) as [string, ...string[]];
  const schema = z.preprocess((x) => (typeof x === 'boolean' ? String(x) : x), z.enum(keys));
  const key = check(ctx, p, where, schema, v, () => `${what} must be ${[...new Set(keys)].filter((k) => k !== 'true' && k !== 'false').join(' or ')}, not ${typeName(v)}`);
  return map[key]!;
}

/** Pairs of hex digits; spaces and colons between them are allowed. */
const HEX = z
  .string()
  .transform((v) => v.replace(/[\s:]/g, ''))
  .pipe(z.string().regex(/^([0-9a-fA-F]{2})*$/))
  .transform((v) => Buffer.from(v, 'hex'));

function hexBytes(ctx: Ctx, p: Path, where: string, v: unknown): Buffer {
  return check(ctx, p, where, HEX, v, () => `hex must be pairs of hex digits (spaces allowed), not ${typeName(v)}`);
}

/** A modem reference: an index, or a name (a name of digits is an index). */
const MODEM_REF = z.union([
  z.int().min(0),
  z
    .string()
    .refine((r) => r.trim() !== '')
    .transform((r): ModemRef => (/^\d+$/.test(r) ? Number(r) : r)),
]);

function modemSelector(ctx: Ctx, p: Path, where: string, v: unknown): ModemSelector {
  if (v === 'all') return 'all';
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw ctx.error(p, where, 'modem: the list is empty');
  return list.map((r, i) =>
    check(ctx, Array.isArray(v) ? [...p, i] : p, where, MODEM_REF, r, () => `modem must be all, an index (0, 1, …), a name or a list of them, not ${typeName(r)}`),
  );
}

/** Check that every `{{name}}` in a template is one this step provides. */
function checkTemplate(ctx: Ctx, p: Path, where: string, t: string, vars: (name: string) => boolean): void {
  for (const m of t.matchAll(TEMPLATE_RE)) {
    if (!vars(m[1]!)) throw ctx.error(p, where, `unknown placeholder {{${m[1]}}} (this step has: ${describeVars(vars)})`);
  }
}

function describeVars(vars: (name: string) => boolean): string {
  const names = ['modem', 'index', 'imei', 'n', 'topic', 'payload', '1', '#', 'json.…', 'urc'];
  return names.filter((n) => vars(n === 'json.…' ? 'json.x' : n)).map((n) => `{{${n}}}`).join(' ');
}

function templateLeaves(ctx: Ctx, p: Path, where: string, v: unknown, vars: (name: string) => boolean): void {
  if (typeof v === 'string') checkTemplate(ctx, p, where, v, vars);
  else if (Array.isArray(v)) v.forEach((x, i) => templateLeaves(ctx, [...p, i], where, x, vars));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) templateLeaves(ctx, [...p, k], where, x, vars);
}

function payloadMatch(ctx: Ctx, p: Path, where: string, v: unknown): PayloadMatch {
  if (typeof v === 'string' || typeof v === 'number') return { kind: 'exact', bytes: Buffer.from(String(v), 'utf8') };
  if (!isRecord(v) || Object.keys(v).length !== 1) {
    throw ctx.error(p, where, 'payload must be the exact text, or one of { contains: … }, { regex: … }, { json: … }, { hex: … }');
  }
  const [k, x] = Object.entries(v)[0]!;
  const q = [...p, k];
  switch (k) {
    case 'contains':
      return { kind: 'contains', text: text(ctx, q, where, 'contains', x) };
    case 'regex':
      try {
        return { kind: 'regex', re: new RegExp(text(ctx, q, where, 'regex', x)) };
      } catch (err) {
        if (err instanceof ScenarioError) throw err;
        throw ctx.error(q, where, `bad regular expression: ${(err as Error).message}`);
      }
    case 'json':
      return { kind: 'json', subset: x };
    case 'hex':
      return { kind: 'exact', bytes: hexBytes(ctx, q, where, x) };
    default:
      throw ctx.error(q, where, `unknown payload match "${k}" (expected contains, regex, json or hex)`);
  }
}

function parseTrigger(ctx: Ctx, p: Path, where: string, s: Record<string, unknown>): Trigger {
  const has = (k: string) => s[k] !== undefined;
  const times = has('times') ? wholeNumber(ctx, [...p, 'times'], where, 'times', s.times, 1, 1_000_000_000) : undefined;
  if (has('when')) {
    if (has('at') || has('every')) throw ctx.error(p, where, 'give one trigger: at, every or when');
    const w = s.when;
    const q = [...p, 'when'];
    if (!isRecord(w) || Object.keys(w).length !== 1) throw ctx.error(q, where, 'when must be { published: { topic, payload? } } or { urc: <regular expression> }');
    if (w.published !== undefined) {
      const pub = w.published;
      const pq = [...q, 'published'];
      if (typeof pub === 'string') return { kind: 'published', topic: pub, ...(times ? { times } : {}) };
      if (!isRecord(pub)) throw ctx.error(pq, where, 'when.published must be { topic, payload?, qos? } or a topic filter');
      checkKeys(ctx, pq, where, pub, ['topic', 'payload', 'qos']);
      const topic = text(ctx, [...pq, 'topic'], where, 'when.published.topic', pub.topic);
      if (topic === '' || !validFilter(topic)) throw ctx.error([...pq, 'topic'], where, `"${topic}" is not an MQTT topic filter`);
      const t: Trigger = { kind: 'published', topic };
      if (pub.payload !== undefined) t.payload = payloadMatch(ctx, [...pq, 'payload'], where, pub.payload);
      if (pub.qos !== undefined) t.qos = wholeNumber(ctx, [...pq, 'qos'], where, 'qos', pub.qos, 0, 2) as 0 | 1 | 2;
      if (times) t.times = times;
      return t;
    }
    if (w.urc !== undefined) {
      const src = text(ctx, [...q, 'urc'], where, 'when.urc', w.urc);
      try {
        return { kind: 'urc', re: new RegExp(src), ...(times ? { times } : {}) };
      } catch (err) {
        throw ctx.error([...q, 'urc'], where, `bad regular expression: ${(err as Error).message}`);
      }
    }
    throw ctx.error(q, where, `unknown condition "${Object.keys(w)[0]}" (expected published or urc)`);
  }
  if (has('every')) {
    const periodMs = duration(ctx, [...p, 'every'], where, 'every', s.every);
    if (periodMs <= 0) throw ctx.error([...p, 'every'], where, 'every must be longer than 0');
    const firstMs = has('at') ? duration(ctx, [...p, 'at'], where, 'at', s.at) : periodMs;
    return { kind: 'every', periodMs, firstMs, ...(times ? { times } : {}) };
  }
  if (has('at')) {
    if (has('times')) throw ctx.error([...p, 'times'], where, 'times goes with every or when (an `at` step runs once)');
    return { kind: 'at', atMs: duration(ctx, [...p, 'at'], where, 'at', s.at) };
  }
  throw ctx.error(p, where, 'no trigger: give at: <duration>, every: <duration> or when: {…}');
}

function validFilter(f: string): boolean {
  const levels = f.split('/');
  return levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
}

function triggerLabel(t: Trigger): string {
  switch (t.kind) {
    case 'at':
      return `at ${fmtDuration(t.atMs)}`;
    case 'every':
      return `every ${fmtDuration(t.periodMs)}`;
    case 'published':
      return `when published ${t.topic}`;
    case 'urc':
      return `when urc /${t.re.source}/`;
  }
}

function templateVars(t: Trigger): (name: string) => boolean {
  return (name) => {
    if (['modem', 'index', 'imei', 'n'].includes(name)) return true;
    if (t.kind === 'published') return ['topic', 'payload', '#'].includes(name) || /^\d+$/.test(name) || /^json(\.[^.]+)*$/.test(name);
    if (t.kind === 'urc') return name === 'urc' || /^\d+$/.test(name);
    return false;
  };
}

function parseAction(ctx: Ctx, p: Path, where: string, raw: unknown, vars: (name: string) => boolean): ScenarioAction {
  let op: string;
  let arg: unknown;
  if (typeof raw === 'string') {
    op = raw;
    arg = null;
    if (!BARE_ACTIONS.has(op) && (ACTIONS as readonly string[]).includes(op)) throw ctx.error(p, where, `"${op}" needs a value (${op}: …)`);
  } else if (isRecord(raw) && Object.keys(raw).length === 1) {
    [op, arg] = Object.entries(raw)[0]!;
  } else {
    throw ctx.error(p, where, `an action is one "name: value" pair (or a bare drop/reboot/clear-overrides), not ${typeName(raw)}`);
  }
  if (!(ACTIONS as readonly string[]).includes(op)) throw ctx.error(p, where, `unknown action "${op}" (actions: ${ACTIONS.join(', ')})`);
  const q = typeof raw === 'string' ? p : [...p, op];
  const w = `${where}, ${op}`;
  const line = ctx.lineOf(q);
  const a = (x: ScenarioAction): ScenarioAction => (line !== undefined ? { ...x, line } : x);
  const noArg = () => {
    if (arg !== null && arg !== true) throw ctx.error(q, w, `takes no value (write "- ${op}")`);
  };
  switch (op) {
    case 'drop':
    case 'reboot':
    case 'clear-overrides':
      noArg();
      return a({ op: op as 'drop' | 'reboot' | 'clear-overrides' });
    case 'stall':
      return a({ op: 'stall', on: choice(ctx, q, w, 'stall', arg, { true: true, on: true, false: false, off: false }) });
    case 'broker':
      return a({ op: 'broker', up: choice(ctx, q, w, 'broker', arg, { down: 'down', up: 'up' }) === 'up' });
    case 'registration':
      return a({
        op: 'registration',
        registered: choice(ctx, q, w, 'registration', arg, { lost: 'lost', registered: 'registered', false: 'lost', true: 'registered' }) === 'registered',
      });
    case 'registration-state': {
      // What the network grants (issue 13): <stat> 1/5/3/0, the reject cause with denied.
      const states = { home: 'home', roaming: 'roaming', denied: 'denied', none: 'none' } as const;
      if (isRecord(arg)) {
        checkKeys(ctx, q, w, arg, ['state', 'reject-cause']);
        const state = choice(ctx, [...q, 'state'], w, 'state', arg.state ?? null, states);
        const cause = arg['reject-cause'];
        return a({ op: 'registration-state', state, ...(cause !== undefined ? { rejectCause: wholeNumber(ctx, [...q, 'reject-cause'], w, 'the reject cause', cause, 0, 255) } : {}) });
      }
      return a({ op: 'registration-state', state: choice(ctx, q, w, 'registration-state', arg, states) });
    }
    case 'sim':
      return a({ op: 'sim', present: choice(ctx, q, w, 'sim', arg, { in: 'in', out: 'out', inserted: 'in', removed: 'out', true: 'in', false: 'out' }) === 'in' });
    case 'wifi': {
      // The Wi-Fi access point (issue 10): off the air / back, and its signal (the control API's range).
      const ap = { up: 'up', down: 'down', on: 'up', off: 'down', true: 'up', false: 'down' } as const;
      if (isRecord(arg)) {
        checkKeys(ctx, q, w, arg, ['ap', 'rssi']);
        if (arg.ap === undefined && arg.rssi === undefined) throw ctx.error(q, w, 'wifi needs ap (down|up), rssi (dBm) or both');
        return a({
          op: 'wifi',
          ...(arg.ap !== undefined ? { ap: choice(ctx, [...q, 'ap'], w, 'ap', arg.ap, ap) === 'up' } : {}),
          ...(arg.rssi !== undefined ? { rssi: wholeNumber(ctx, [...q, 'rssi'], w, 'rssi (dBm)', arg.rssi, -100, 0) } : {}),
        });
      }
      return a({ op: 'wifi', ap: choice(ctx, q, w, 'wifi', arg, ap) === 'up' });
    }
    case 'deactivate-context':
      return a({ op: 'deactivate-context', cid: arg === null || arg === true ? 1 : wholeNumber(ctx, q, w, 'the context id', arg, 1, 15) });
    case 'refuse-connect':
      return a({ op: 'refuse-connect', code: wholeNumber(ctx, q, w, 'the CONNACK return code', arg, 1, 5) });
    case 'refuse-subscribe':
    case 'refuse-publish': {
      const filter = arg === null ? null : text(ctx, q, w, 'the topic filter', arg);
      if (filter !== null && !validFilter(filter)) throw ctx.error(q, w, `"${filter}" is not an MQTT topic filter`);
      return a({ op: op as 'refuse-subscribe' | 'refuse-publish', filter });
    }
    case 'puback':
    case 'suback': {
      const ack = op as 'puback' | 'suback';
      if (arg === 'withhold') return a({ op: ack, fault: { delayMs: null } });
      if (arg === 'normal') return a({ op: ack, fault: undefined });
      if (isRecord(arg) && Object.keys(arg).length === 1 && 'delay' in arg) return a({ op: ack, fault: { delayMs: duration(ctx, [...q, 'delay'], w, 'delay', arg.delay) } });
      throw ctx.error(q, w, `${op} must be { delay: <duration> }, withhold or normal, not ${typeName(arg)}`);
    }
    case 'signal': {
      const rssiOk = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && ((n >= 0 && n <= 31) || n === 99);
      const berOk = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && ((n >= 0 && n <= 7) || n === 99);
      if (typeof arg === 'number') {
        if (!rssiOk(arg)) throw ctx.error(q, w, `rssi must be 0–31 or 99, not ${arg}`);
        return a({ op: 'signal', rssi: arg });
      }
      if (isRecord(arg)) {
        checkKeys(ctx, q, w, arg, ['rssi', 'ber']);
        if (!rssiOk(arg.rssi)) throw ctx.error([...q, 'rssi'], w, `rssi must be 0–31 or 99, not ${typeName(arg.rssi)}`);
        if (arg.ber !== undefined && !berOk(arg.ber)) throw ctx.error([...q, 'ber'], w, `ber must be 0–7 or 99, not ${typeName(arg.ber)}`);
        return a({ op: 'signal', rssi: arg.rssi as number, ...(arg.ber !== undefined ? { ber: arg.ber as number } : {}) });
      }
      throw ctx.error(q, w, `signal must be an rssi (0–31, 99) or { rssi, ber }, not ${typeName(arg)}`);
    }
    case 'fail-next-open':
      return a({ op: 'fail-next-open', reason: choice(ctx, q, w, 'fail-next-open', arg, { dns: 'dns', refused: 'refused', timeout: 'timeout' }) });
    case 'latency':
    case 'response-delay':
    case 'wait': {
      const ms = duration(ctx, q, w, op, arg);
      if (op !== 'wait' && ms > 600_000) throw ctx.error(q, w, `${op} must be at most 10m`);
      return a({ op: op as 'latency' | 'response-delay' | 'wait', ms });
    }
    case 'baud':
      return a({ op: 'baud', baud: wholeNumber(ctx, q, w, 'baud', arg, 0, 16_000_000) });
    case 'log': {
      const message = text(ctx, q, w, 'log', arg);
      checkTemplate(ctx, q, w, message, vars);
      return a({ op: 'log', message });
    }
    case 'inject': {
      if (isRecord(arg)) {
        checkKeys(ctx, q, w, arg, ['hex', 'text']);
        if (arg.hex !== undefined && arg.text === undefined) return a({ op: 'inject', bytes: hexBytes(ctx, [...q, 'hex'], w, arg.hex) });
        if (arg.text !== undefined && arg.hex === undefined) arg = arg.text;
        else throw ctx.error(q, w, 'inject takes { hex } or { text }');
      }
      const t = text(ctx, q, w, 'inject', arg);
      checkTemplate(ctx, q, w, t, vars);
      return a({ op: 'inject', text: t });
    }
    case 'override': {
      if (!isRecord(arg)) throw ctx.error(q, w, 'override must be { command, response, once?, form? }');
      checkKeys(ctx, q, w, arg, ['command', 'response', 'once', 'form']);
      const command = text(ctx, [...q, 'command'], w, 'command', arg.command);
      if (!/^(AT)?[+&$%#*^]?[A-Za-z0-9_]+$/i.test(command.trim().replace(/(=\?|\?|=.*)$/, ''))) throw ctx.error([...q, 'command'], w, `"${command}" is not an AT command name (e.g. +CSQ)`);
      const resp = arg.response;
      const lines = Array.isArray(resp) ? resp.map((x, i) => text(ctx, [...q, 'response', i], w, 'response line', x)) : [text(ctx, [...q, 'response'], w, 'response', resp)];
      if (lines.length === 0) throw ctx.error([...q, 'response'], w, 'response needs at least the final result code (OK, ERROR, +CME ERROR: n)');
      const o: Override = { command, response: lines };
      if (arg.once !== undefined) {
        if (typeof arg.once !== 'boolean') throw ctx.error([...q, 'once'], w, `once must be true or false, not ${typeName(arg.once)}`);
        o.once = arg.once;
      }
      if (arg.form !== undefined) o.form = choice(ctx, [...q, 'form'], w, 'form', arg.form, { exec: 'exec', set: 'set', read: 'read', test: 'test' }) as Override['form'];
      return a({ op: 'override', override: o });
    }
    case 'publish': {
      if (!isRecord(arg)) throw ctx.error(q, w, 'publish must be { topic, payload | json | hex | file, qos?, retain? }');
      const obj = arg;
      checkKeys(ctx, q, w, arg, ['topic', 'payload', 'json', 'hex', 'file', 'qos', 'retain']);
      const topic = text(ctx, [...q, 'topic'], w, 'topic', arg.topic);
      checkTemplate(ctx, [...q, 'topic'], w, topic, vars);
      if (topic === '' || (/[#+]/.test(topic.replace(TEMPLATE_RE, '')))) throw ctx.error([...q, 'topic'], w, `"${topic}" is not a topic name (no wildcards)`);
      const sources = ['payload', 'json', 'hex', 'file'].filter((k) => obj[k] !== undefined);
      if (sources.length > 1) throw ctx.error(q, w, `give one of payload, json, hex or file (not ${sources.join(' and ')})`);
      let payload: PayloadSource = { kind: 'bytes', bytes: Buffer.alloc(0) };
      if (arg.payload !== undefined) {
        const t = text(ctx, [...q, 'payload'], w, 'payload', arg.payload);
        checkTemplate(ctx, [...q, 'payload'], w, t, vars);
        payload = { kind: 'text', text: t };
      } else if (arg.json !== undefined) {
        templateLeaves(ctx, [...q, 'json'], w, arg.json, vars);
        payload = { kind: 'json', value: arg.json };
      } else if (arg.hex !== undefined) {
        payload = { kind: 'bytes', bytes: hexBytes(ctx, [...q, 'hex'], w, arg.hex) };
      } else if (arg.file !== undefined) {
        const f = path.resolve(ctx.baseDir, text(ctx, [...q, 'file'], w, 'file', arg.file));
        try {
          payload = { kind: 'bytes', bytes: readFileSync(f) };
        } catch (err) {
          throw ctx.error([...q, 'file'], w, `cannot read ${f} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
      }
      const qos = arg.qos === undefined ? 0 : (wholeNumber(ctx, [...q, 'qos'], w, 'qos', arg.qos, 0, 2) as 0 | 1 | 2);
      if (arg.retain !== undefined && typeof arg.retain !== 'boolean') throw ctx.error([...q, 'retain'], w, `retain must be true or false, not ${typeName(arg.retain)}`);
      return a({ op: 'publish', topic, payload, qos, retain: arg.retain === true });
    }
  }
  throw ctx.error(q, w, 'unhandled action'); // unreachable: every name in ACTIONS has a case
}

function parseSteps(ctx: Ctx, root: unknown): Scenario {
  if (!isRecord(root)) throw ctx.error([], '', `a scenario is a mapping with a steps list, not ${typeName(root)}`);
  checkKeys(ctx, [], '', root, TOP_KEYS);
  const sc: Scenario = { modem: 'all', steps: [] };
  if (root.name !== undefined) sc.name = text(ctx, ['name'], '', 'name', root.name);
  if (root.description !== undefined) sc.description = text(ctx, ['description'], '', 'description', root.description);
  if (root.modem !== undefined) sc.modem = modemSelector(ctx, ['modem'], '', root.modem);
  if (!Array.isArray(root.steps) || root.steps.length === 0) throw ctx.error(['steps'], '', 'steps must be a non-empty list');
  root.steps.forEach((raw, i) => {
    const p: Path = ['steps', i];
    let where = `step ${i + 1}`;
    if (!isRecord(raw)) throw ctx.error(p, where, `a step is a mapping (at/every/when, do), not ${typeName(raw)}`);
    if (typeof raw.name === 'string') where += ` "${raw.name}"`;
    checkKeys(ctx, p, where, raw, STEP_KEYS);
    const trigger = parseTrigger(ctx, p, where, raw);
    const label = `${where} (${triggerLabel(trigger)})`;
    if (raw.do === undefined || raw.do === null) throw ctx.error(p, label, 'nothing to do: add do: <action> or a list of actions');
    const list = Array.isArray(raw.do) ? raw.do : [raw.do];
    if (list.length === 0) throw ctx.error([...p, 'do'], label, 'do: the list is empty');
    const vars = templateVars(trigger);
    const actions = list.map((x, k) => parseAction(ctx, Array.isArray(raw.do) ? [...p, 'do', k] : [...p, 'do'], label, x, vars));
    const step: ScenarioStep = { index: i + 1, label, trigger, actions };
    if (raw.name !== undefined) step.name = text(ctx, [...p, 'name'], where, 'name', raw.name);
    if (raw.modem !== undefined) step.modem = modemSelector(ctx, [...p, 'modem'], label, raw.modem);
    const line = ctx.lineOf(p);
    if (line !== undefined) step.line = line;
    sc.steps.push(step);
  });
  return sc;
}

export interface ParseScenarioOptions {
  /** File name for messages (and the directory `publish: { file }` paths are relative to). */
  file?: string;
  /** Directory relative `file:` payloads are read from (default: the file's directory, else cwd). */
  baseDir?: string;
}

/** Parse and validate scenario YAML; throws a ScenarioError naming the file, line and step. */
export function parseScenario(yamlText: string, opts: ParseScenarioOptions = {}): Scenario {
  const source = opts.file ?? 'scenario';
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    throw new ScenarioError(`${source}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const baseDir = opts.baseDir ?? (opts.file ? path.dirname(path.resolve(opts.file)) : process.cwd());
  const ctx = new Ctx(source, doc, lines, baseDir);
  const root = yamlToJs(doc, (msg) => new ScenarioError(`${source}: not valid YAML: ${msg}`));
  if (root === null || root === undefined) throw new ScenarioError(`${source}: the file is empty; a scenario needs a steps list`);
  const sc = parseSteps(ctx, root);
  if (opts.file) sc.file = opts.file;
  return sc;
}

/** Read and parse a scenario file. */
export function loadScenarioFile(file: string): Scenario {
  let textContent: string;
  try {
    textContent = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`scenario ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseScenario(textContent, { file });
}

// ---------------------------------------------------------------------------------------------
// Running

/** A modem a scenario acts on (a ModemInstance of startVmodem fits). */
export interface ScenarioModem {
  name: string;
  index: number;
  controller: ModemController;
  imei?: string;
}

/** What a scenario runs against: modems, and the embedded broker (for `when: published`). */
export interface ScenarioTarget {
  modems: readonly ScenarioModem[];
  broker?: EmbeddedBroker;
}

export interface ScenarioEvent {
  /** ms since the scenario started. */
  t: number;
  /** 1-based step index. */
  step: number;
  label: string;
  modem: string;
  /** 1-based run of this step (per modem for `when` steps). */
  n: number;
  /** `action`: one action ran (or failed); `fired`: a trigger fired; `finished`: the whole scenario is done. */
  kind: 'fired' | 'action' | 'finished';
  /** The action, e.g. `broker down`, `publish dev/1/down`. */
  action?: string;
  ok: boolean;
  error?: string;
}

export interface RunScenarioOptions {
  log?: Logger;
  /** Called for every event (also emitted as 'event'). */
  onEvent?: (e: ScenarioEvent) => void;
  /** Broker for `when: published` when the target is a bare controller. */
  broker?: EmbeddedBroker;
}

export interface ScenarioRun extends EventEmitter<{ event: [ScenarioEvent] }> {
  readonly scenario: Scenario;
  /** Every event so far (the last 10,000). */
  readonly events: readonly ScenarioEvent[];
  /** Action failures so far. */
  readonly errors: readonly ScenarioEvent[];
  /**
   * Resolves when every step has run all the times it will: `at` steps, `every` and `when` steps
   * with `times`. A scenario with an open-ended step (every/when without times) finishes only
   * when stopped. Never rejects: failed actions are in `errors`.
   */
  readonly done: Promise<void>;
  readonly finished: boolean;
  /** Cancel pending timers and triggers (an action already running completes its current call). */
  stop(): void;
}

/** Placeholder values; `__json` holds the parsed payload (undefined when it is not JSON). */
type Vars = Record<string, unknown>;

const MAX_EVENTS = 10_000;

/**
 * Check a scenario against the modems it will run on (names, indices) and whether the embedded
 * broker is there, before anything is started. Throws the ScenarioError runScenario would.
 */
export function checkScenarioTargets(scenario: Scenario, modems: readonly { name: string; index: number }[], embeddedBroker: boolean): void {
  const source = scenario.file ?? 'scenario';
  for (const step of scenario.steps) {
    const targets = selectModems(step.modem ?? scenario.modem, modems, step.label, source);
    if (targets.length === 0) throw new ScenarioError(`${source}: ${step.label}: no modem to act on`);
    if (step.trigger.kind === 'published' && !embeddedBroker) {
      throw new ScenarioError(`${source}: ${step.label}: "when: published" watches the embedded broker; this vmodem uses an external broker`);
    }
  }
}

function selectModems<M extends { name: string; index: number }>(sel: ModemSelector, modems: readonly M[], where: string, source: string): M[] {
  if (sel === 'all') return [...modems];
  return sel.map((ref) => {
    const m = typeof ref === 'number' ? modems.find((x) => x.index === ref) : modems.find((x) => x.name === ref);
    if (!m) {
      const have = modems.map((x) => `${x.index}=${x.name}`).join(', ');
      throw new ScenarioError(`${source}: ${where}: no modem ${typeof ref === 'number' ? ref : `"${ref}"`} (modems: ${have})`);
    }
    return m;
  });
}

function jsonPath(value: unknown, p: string[]): unknown {
  let cur = value;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function lookup(vars: Vars, name: string): unknown {
  if (name === 'json' || name.startsWith('json.')) {
    if (vars.__json === undefined) throw new Error(`{{${name}}}: the payload is not JSON`);
    const v = name === 'json' ? vars.__json : jsonPath(vars.__json, name.slice(5).split('.'));
    if (v === undefined) throw new Error(`{{${name}}}: the payload has no such field`);
    return v;
  }
  const v = vars[name];
  return v === undefined ? '' : v;
}

function fill(t: string, vars: Vars): string {
  return t.replace(TEMPLATE_RE, (_, name: string) => {
    const v = lookup(vars, name);
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

/** JSON leaves: a string that is exactly one placeholder keeps the value's own type. */
function fillJson(v: unknown, vars: Vars): unknown {
  if (typeof v === 'string') {
    const whole = /^\{\{\s*([^{}\s]+)\s*\}\}$/.exec(v);
    return whole ? lookup(vars, whole[1]!) : fill(v, vars);
  }
  if (Array.isArray(v)) return v.map((x) => fillJson(x, vars));
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillJson(x, vars)]));
  return v;
}

function jsonSubset(pattern: unknown, value: unknown): boolean {
  if (isRecord(pattern)) return isRecord(value) && Object.entries(pattern).every(([k, p]) => jsonSubset(p, value[k]));
  if (Array.isArray(pattern)) return Array.isArray(value) && pattern.length === value.length && pattern.every((p, i) => jsonSubset(p, value[i]));
  return pattern === value;
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}

function payloadMatches(m: PayloadMatch, payload: Buffer): boolean {
  switch (m.kind) {
    case 'exact':
      return payload.equals(m.bytes);
    case 'contains':
      return payload.toString('utf8').includes(m.text);
    case 'regex':
      return m.re.test(payload.toString('utf8'));
    case 'json': {
      const v = parseJson(payload);
      return v !== undefined && jsonSubset(m.subset, v);
    }
  }
}

/** The `+` levels (and the `#` remainder) of a topic matched by a filter. */
function wildcards(filter: string, topic: string): { plus: string[]; rest?: string } {
  const f = filter.split('/');
  const t = topic.split('/');
  const plus: string[] = [];
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return { plus, rest: t.slice(i).join('/') };
    if (f[i] === '+') plus.push(t[i] ?? '');
  }
  return { plus };
}

function describeAction(a: ScenarioAction, vars: Vars): string {
  switch (a.op) {
    case 'publish':
      return `publish ${safeFill(a.topic, vars)}`;
    case 'stall':
      return `stall ${a.on ? 'on' : 'off'}`;
    case 'broker':
      return `broker ${a.up ? 'up' : 'down'}`;
    case 'registration':
      return `registration ${a.registered ? 'registered' : 'lost'}`;
    case 'registration-state':
      return `registration-state ${a.state}${a.rejectCause !== undefined ? ` (cause ${a.rejectCause})` : ''}`;
    case 'sim':
      return `sim ${a.present ? 'in' : 'out'}`;
    case 'wifi':
      return ['wifi', ...(a.ap !== undefined ? [a.ap ? 'up' : 'down'] : []), ...(a.rssi !== undefined ? [`rssi ${a.rssi}`] : [])].join(' ');
    case 'deactivate-context':
      return `deactivate-context ${a.cid}`;
    case 'refuse-connect':
      return `refuse-connect ${a.code}`;
    case 'refuse-subscribe':
    case 'refuse-publish':
      return `${a.op} ${a.filter ?? '(clear)'}`;
    case 'puback':
    case 'suback':
      return `${a.op} ${a.fault === undefined ? 'normal' : a.fault.delayMs === null ? 'withhold' : `delay ${a.fault.delayMs}ms`}`;
    case 'signal':
      return `signal ${a.rssi}${a.ber !== undefined ? `,${a.ber}` : ''}`;
    case 'fail-next-open':
      return `fail-next-open ${a.reason}`;
    case 'latency':
    case 'response-delay':
    case 'wait':
      return `${a.op} ${a.ms}ms`;
    case 'baud':
      return `baud ${a.baud}`;
    case 'override':
      return `override ${a.override.command}`;
    case 'log':
      return `log ${safeFill(a.message, vars)}`;
    default:
      return a.op;
  }
}

function safeFill(t: string, vars: Vars): string {
  try {
    return fill(t, vars);
  } catch {
    return t;
  }
}

class Run extends EventEmitter<{ event: [ScenarioEvent] }> implements ScenarioRun {
  readonly events: ScenarioEvent[] = [];
  readonly errors: ScenarioEvent[] = [];
  readonly done: Promise<void>;
  finished = false;
  private resolveDone!: () => void;
  private readonly started = performance.now();
  private stopped = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly offs: (() => void)[] = [];
  private readonly waiting = new Set<() => void>();
  /** Finite work still to happen (steps × modems). */
  private pending = 0;
  private openEnded = false;
  /** Device client ids known per modem (filled from inspect() on a miss). */
  private readonly clientIds = new Map<ScenarioModem, Set<string>>();

  constructor(
    readonly scenario: Scenario,
    private readonly modems: readonly ScenarioModem[],
    private readonly broker: EmbeddedBroker | undefined,
    private readonly opts: RunScenarioOptions,
  ) {
    super();
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  start(): void {
    const source = this.scenario.file ?? 'scenario';
    // Resolve every target first, so a bad reference fails before anything runs.
    checkScenarioTargets(this.scenario, this.modems, this.broker !== undefined);
    const plan = this.scenario.steps.map((step) => ({ step, targets: selectModems(step.modem ?? this.scenario.modem, this.modems, step.label, source) }));
    for (const { step, targets } of plan) {
      const t = step.trigger;
      switch (t.kind) {
        case 'at':
          for (const m of targets) {
            this.pending++;
            this.schedule(t.atMs, async () => {
              await this.fire(step, m, 1, {});
              this.settle();
            });
          }
          break;
        case 'every':
          for (const m of targets) {
            if (t.times === undefined) this.openEnded = true;
            else this.pending++;
            const tick = async (n: number) => {
              await this.fire(step, m, n, {});
              if (t.times !== undefined && n >= t.times) return this.settle();
              // Next run at its place on the grid; late runs (a long `do` list) start at once.
              const due = t.firstMs + n * t.periodMs;
              this.schedule(Math.max(0, due - this.now()), () => tick(n + 1));
            };
            this.schedule(t.firstMs, () => tick(1));
          }
          break;
        case 'published':
        case 'urc':
          for (const m of targets) {
            if (t.times === undefined) this.openEnded = true;
            else this.pending++;
            this.listen(step, m);
          }
          break;
      }
    }
    this.settle(0);
  }

  private now(): number {
    return Math.round(performance.now() - this.started);
  }

  private schedule(ms: number, fn: () => unknown): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) void fn();
    }, ms);
    this.timers.add(timer);
  }

  /** One unit of finite work finished (or none, `by` = 0): resolve `done` when all have. */
  private settle(by = 1): void {
    this.pending -= by;
    if (this.pending === 0 && !this.openEnded && !this.finished) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.record({ t: this.now(), step: 0, label: this.scenario.name ?? 'scenario', modem: '', n: 0, kind: 'finished', ok: this.errors.length === 0 });
    this.opts.log?.info({ scenario: this.scenario.name, errors: this.errors.length }, 'scenario finished');
    this.resolveDone();
  }

  private owns(m: ScenarioModem, clientId: string): boolean {
    let ids = this.clientIds.get(m);
    if (ids?.has(clientId)) return true;
    ids = new Set((m.controller.inspect().clientIds as string[] | undefined) ?? []);
    this.clientIds.set(m, ids);
    return ids.has(clientId);
  }

  /** One broker listener for every `when: published` step and modem. */
  private readonly publishHandlers = new Set<(p: BrokerPublish) => void>();
  private listeningToBroker = false;

  private onPublish(handler: (p: BrokerPublish) => void): () => void {
    if (!this.listeningToBroker) {
      this.listeningToBroker = true;
      this.offs.push(
        this.broker!.onPublish((p) => {
          for (const h of [...this.publishHandlers]) h(p);
        }),
      );
    }
    this.publishHandlers.add(handler);
    return () => this.publishHandlers.delete(handler);
  }

  private listen(step: ScenarioStep, m: ScenarioModem): void {
    const t = step.trigger;
    let n = 0;
    let off: () => void = () => {};
    const hit = (vars: Vars) => {
      if (this.stopped) return;
      n++;
      const last = 'times' in t && t.times !== undefined && n >= t.times;
      if (last) off();
      const k = n;
      // React after the event that triggered it is complete (a URC is announced just before its
      // bytes are written; a publish before the broker has delivered it).
      this.schedule(0, () =>
        this.fire(step, m, k, vars).then(() => {
          if (last) this.settle();
        }),
      );
    };
    if (t.kind === 'published') {
      off = this.onPublish((p: BrokerPublish) => {
        if (!topicMatches(t.topic, p.topic)) return;
        if (t.qos !== undefined && p.qos !== t.qos) return;
        if (t.payload && !payloadMatches(t.payload, p.payload)) return;
        if (!this.owns(m, p.clientId)) return;
        const w = wildcards(t.topic, p.topic);
        const vars: Vars = { topic: p.topic, payload: p.payload.toString('utf8'), __json: parseJson(p.payload) };
        w.plus.forEach((v, i) => (vars[String(i + 1)] = v));
        if (w.rest !== undefined) vars['#'] = w.rest;
        hit(vars);
      });
    } else if (t.kind === 'urc') {
      off = m.controller.watch((e) => {
        if (e.type !== 'urc') return;
        for (const line of e.text.split(/\r?\n/)) {
          const match = t.re.exec(line.trim());
          if (!match) continue;
          const vars: Vars = { urc: line.trim() };
          match.slice(1).forEach((v, i) => (vars[String(i + 1)] = v ?? ''));
          hit(vars);
        }
      });
    }
    this.offs.push(() => off());
  }

  private record(e: ScenarioEvent): void {
    this.events.push(e);
    if (this.events.length > MAX_EVENTS) this.events.shift();
    if (e.kind === 'action' && !e.ok) this.errors.push(e);
    this.opts.onEvent?.(e);
    this.emit('event', e);
  }

  private async fire(step: ScenarioStep, m: ScenarioModem, n: number, extra: Vars): Promise<void> {
    if (this.stopped) return;
    const vars: Vars = { modem: m.name, index: String(m.index), imei: m.imei ?? '', n: String(n), ...extra };
    const base = { step: step.index, label: step.label, modem: m.name, n };
    this.record({ ...base, t: this.now(), kind: 'fired', ok: true });
    for (const a of step.actions) {
      if (this.stopped) return;
      const what = describeAction(a, vars);
      try {
        await this.perform(a, m.controller, vars);
        this.opts.log?.info({ scenario: this.scenario.name, step: step.label, modem: m.name, action: what }, 'scenario action');
        this.record({ ...base, t: this.now(), kind: 'action', action: what, ok: true });
      } catch (err) {
        const msg = (err as Error).message;
        this.opts.log?.warn({ scenario: this.scenario.name, step: step.label, modem: m.name, action: what, err: msg }, 'scenario action failed');
        this.record({ ...base, t: this.now(), kind: 'action', action: what, ok: false, error: `${step.label}${a.line !== undefined ? ` (line ${a.line})` : ''}: ${what}: ${msg}` });
        return; // the rest of this list depended on it
      }
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const done = () => {
        this.waiting.delete(done);
        this.timers.delete(timer);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.timers.add(timer);
      this.waiting.add(done); // stop() releases a waiting list (which then sees `stopped`)
    });
  }

  private async perform(a: ScenarioAction, c: ModemController, vars: Vars): Promise<void> {
    switch (a.op) {
      case 'publish': {
        const payload =
          a.payload.kind === 'text'
            ? Buffer.from(fill(a.payload.text, vars), 'utf8')
            : a.payload.kind === 'json'
              ? Buffer.from(JSON.stringify(fillJson(a.payload.value, vars)), 'utf8')
              : a.payload.bytes;
        return c.publish({ topic: fill(a.topic, vars), payload, qos: a.qos, retain: a.retain });
      }
      case 'drop':
        c.dropSession();
        return;
      case 'reboot':
        return c.reboot();
      case 'clear-overrides':
        return c.clearOverrides();
      case 'stall':
        return c.stall(a.on);
      case 'broker':
        return a.up ? c.brokerUp() : c.brokerDown();
      case 'registration':
        return c.setRegistration(a.registered);
      case 'registration-state':
        return c.setRegistrationState(a.state, a.rejectCause);
      case 'sim':
        return c.setSim(a.present);
      case 'wifi':
        return c.setWifi({ ...(a.ap !== undefined ? { ap: a.ap } : {}), ...(a.rssi !== undefined ? { rssi: a.rssi } : {}) });
      case 'deactivate-context':
        return c.deactivateContext(a.cid);
      case 'refuse-connect':
        return c.refuseNextConnect(a.code);
      case 'refuse-subscribe':
        return c.refuseSubscribe(a.filter);
      case 'refuse-publish':
        return c.refusePublish(a.filter);
      case 'puback':
      case 'suback':
        return c.ackFault(a.op, a.fault);
      case 'signal':
        return c.setSignal(a.rssi, a.ber);
      case 'fail-next-open':
        return c.failNextOpen(a.reason);
      case 'latency':
        return c.setLatency(a.ms);
      case 'response-delay':
        return c.setResponseDelay(a.ms);
      case 'baud':
        return c.setBaud(a.baud);
      case 'override':
        return c.override({ ...a.override, response: [...a.override.response] });
      case 'inject':
        return c.inject(a.bytes ?? Buffer.from(fill(a.text ?? '', vars), 'latin1'));
      case 'wait':
        return this.wait(a.ms);
      case 'log':
        this.opts.log?.info({ scenario: this.scenario.name, message: fill(a.message, vars) }, 'scenario log');
        return;
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const off of this.offs.splice(0)) off();
    for (const release of [...this.waiting]) release();
    this.finish();
  }
}

function isController(t: unknown): t is ModemController {
  return typeof (t as ModemController).dropSession === 'function' && typeof (t as ModemController).watch === 'function';
}

/**
 * Run a scenario. `target`: a started vmodem (`{ modems, broker }`), a list of modems, or one
 * controller. Bad modem references and `when: published` without the embedded broker throw a
 * ScenarioError before anything runs; failures of single actions at run time are reported as
 * events (and logged) and never throw.
 */
export function runScenario(scenario: Scenario, target: ScenarioTarget | readonly ScenarioModem[] | ModemController, opts: RunScenarioOptions = {}): ScenarioRun {
  let modems: readonly ScenarioModem[];
  let broker = opts.broker;
  if (isController(target)) modems = [{ name: target.name, index: target.index, controller: target }];
  else if (Array.isArray(target)) modems = target as readonly ScenarioModem[];
  else {
    modems = (target as ScenarioTarget).modems;
    broker ??= (target as ScenarioTarget).broker;
  }
  const run = new Run(scenario, modems, broker, opts);
  run.start();
  return run;
}
