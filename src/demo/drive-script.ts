/**
 * Drive scripts (issue 12 §2): the transcript format (src/transcript/transcript.ts) turned into
 * a small firmware program for `vmodem start --drive <script>`, one run per modem, speaking
 * through the modem's serial port.
 *
 * From transcripts:
 *   > AT+QMTOPEN=0,"h",1883     send the line, then CR (`@eol crlf`: CRLF)
 *   >> payload\x1a              send raw bytes (escapes \r \n \t \\ \xHH), no terminator
 *   < OK                        wait for this line (other lines meanwhile go to the handlers)
 *   <~ ^\+QMTOPEN: 0,(\d+)$     wait for a line matching; its groups become ${1}…${9}
 *   < >                         wait for the data prompt
 *   # comment, // comment, @profile <id>, @eol cr|crlf
 * Added for fleets:
 *   ${imei} ${name} ${index} ${rand} ${seq} ${time}   variables in any sent text or expectation
 *   @let <name> <text>          a variable of your own; ${#name} is its length in bytes
 *   @wait <ms> [jitter <ms>]    sleep (handlers still run)
 *   @repeat <n|forever> [every <ms>] [jitter <ms>] … @end
 *                               a loop; `every` is the period from one start to the next, jitter a
 *                               random ± spread so a fleet does not publish in lock step
 *   @label <name> / @goto <name>   jump (labels at the top level)
 *   @on <regex> goto <label>    when a line matching comes (any time), drop what the script was
 *                               doing and go on at the label (reconnect when +QMTSTAT comes)
 *   @on <regex> … @end          when a line matching comes, run the block when the script next
 *                               waits (@wait, the pause between loop iterations, its end) — never
 *                               between a command and its answer — e.g. echo a received command
 *                               back; groups are ${1}…; the first @on whose regex matches wins
 *   @timeout <ms>               how long `<` / `<~` wait (default 15000); a timeout goes to the
 *                               `@onerror` label, or back to the start after a 1 s pause
 *   @onerror <label>
 *   @fail <regex>               a line matching it while `<` / `<~` waits (and not what they wait
 *                               for) fails the expectation at once: after a 1 s pause the script
 *                               goes on at `@onerror` as after a timeout — a firmware reacts to
 *                               ERROR without waiting out its timer (`@fail ^(ERROR|\+CME ERROR: .*)$`)
 * Added for reuse (one script for a fleet, a test and `vmodem demo`):
 *   @param <name> <default>     a variable the runner may be given from outside (`--drive-param
 *                               name=value`); the default may use other variables
 *   ${name} as a time           `@wait ${period}`, `every ${period}`, `jitter ${j}`: read when used,
 *                               so a handler that changes the variable changes the period
 *   ${rand:MIN:MAX}             a random number in [MIN, MAX] with as many decimals as MIN or MAX
 *                               (a changing sensor reading: ${rand:21.5:23.5})
 *   @goto <label> if <text> ~ <regex>   (or !~) jump only when the expanded text matches (polling:
 *                               ask again until AT+CEREG? says registered)
 *   @status <state> [detail]    tell whoever runs the script where it is (`vmodem demo` shows it
 *                               in the dashboard: starting, registering, connecting, online, …)
 */
import { TranscriptSyntaxError, unescapeBytes } from '../transcript/transcript.js';

/** Milliseconds: a number, or text with variables (`${period}`) read when the statement runs. */
export type DriveMs = number | string;

/** `@goto <label> if <text> ~ <regex>`: the condition. */
export interface DriveCondition {
  text: string;
  pattern: string;
  negate: boolean;
}

export type DriveStmt =
  | { kind: 'send'; text: string; raw: boolean; line: number }
  | { kind: 'expect'; text: string; line: number }
  | { kind: 'match'; pattern: string; line: number }
  | { kind: 'wait'; ms: DriveMs; jitter: DriveMs; line: number }
  | { kind: 'let'; name: string; text: string; line: number }
  | { kind: 'repeat'; count: number | null; every: DriveMs; jitter: DriveMs; body: DriveStmt[]; line: number }
  | { kind: 'label'; name: string; line: number }
  | { kind: 'goto'; label: string; when?: DriveCondition; line: number }
  | { kind: 'status'; state: string; detail: string; line: number };

export interface DriveHandler {
  pattern: RegExp;
  goto?: string;
  body?: DriveStmt[];
  line: number;
}

export interface DriveParam {
  name: string;
  /** The default value (variables expanded when the run starts). */
  text: string;
}

export interface DriveScript {
  steps: DriveStmt[];
  /** `@param` declarations in order. */
  params: DriveParam[];
  handlers: DriveHandler[];
  eol: string;
  timeoutMs: number;
  onError?: string;
  /** `@fail`: lines that fail the expectation waiting for an answer. */
  failOn?: RegExp;
  profile?: string;
  source?: string;
}

const ID = /^[A-Za-z_][A-Za-z0-9_]*$/;

function num(text: string | undefined, what: string, where: (m: string) => Error): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < 0) throw where(`${what} must be a whole number of milliseconds (got ${text ?? 'nothing'})`);
  return n;
}

/** Milliseconds, or a text made of variables (`${period}`) that is read at run time. */
function ms(text: string | undefined, what: string, where: (m: string) => Error): DriveMs {
  if (text !== undefined && /^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|\d)+$/.test(text) && text.includes('${')) return text;
  return num(text, what, where);
}

/** A run-time millisecond value: whole and not negative, or an Error naming the statement. */
export function msValue(text: string, what: string): number {
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < 0) throw new Error(`${what}: "${text}" is not a whole number of milliseconds`);
  return n;
}

/** `every <ms>` / `jitter <ms>` options after a directive. */
function timing(words: string[], where: (m: string) => Error): { every: DriveMs; jitter: DriveMs } {
  let every: DriveMs = 0;
  let jitter: DriveMs = 0;
  for (let i = 0; i < words.length; i += 2) {
    if (words[i] === 'every') every = ms(words[i + 1], 'every', where);
    else if (words[i] === 'jitter') jitter = ms(words[i + 1], 'jitter', where);
    else throw where(`unknown option "${words[i]}" (every <ms>, jitter <ms>)`);
  }
  return { every, jitter };
}

export function parseDriveScript(source: string, file?: string): DriveScript {
  const script: DriveScript = { steps: [], params: [], handlers: [], eol: '\r', timeoutMs: 15_000 };
  if (file) script.source = file;
  /** Open blocks: the statement list being filled, and what closes it. */
  const stack: { list: DriveStmt[]; what: string; line: number }[] = [{ list: script.steps, what: 'top', line: 0 }];
  const labels = new Set<string>();
  const gotos: { label: string; line: number }[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const where = (msg: string) => new TranscriptSyntaxError(`${file ? `${file}:` : 'line '}${line}: ${msg}`);
    const text = raw.replace(/^\s+/, '');
    if (text === '' || text.startsWith('#') || text.startsWith('//')) return;
    const list = stack[stack.length - 1]!.list;
    if (text.startsWith('@')) {
      const [key, ...words] = text.slice(1).trim().split(/\s+/);
      const rest = text.slice(1).trim().slice(key!.length).trim();
      switch (key) {
        case 'profile':
          script.profile = words[0];
          return;
        case 'eol':
          script.eol = words[0] === 'crlf' ? '\r\n' : '\r';
          return;
        case 'timeout':
          script.timeoutMs = num(words[0], '@timeout', where);
          return;
        case 'fail':
          if (!rest) throw where('@fail needs a regular expression');
          try {
            script.failOn = new RegExp(rest);
          } catch (err) {
            throw where(`bad regular expression: ${(err as Error).message}`);
          }
          return;
        case 'onerror':
          if (!words[0]) throw where('@onerror needs a label');
          script.onError = words[0];
          gotos.push({ label: words[0], line });
          return;
        case 'wait': {
          const wait = ms(words[0], '@wait', where);
          list.push({ kind: 'wait', ms: wait, jitter: timing(words.slice(1), where).jitter, line });
          return;
        }
        case 'param': {
          const name = words[0] ?? '';
          if (stack.length > 1) throw where('@param only at the top level');
          if (!ID.test(name) || /^\d/.test(name)) throw where(`@param needs a name (letters, digits, _), got "${name}"`);
          if (script.params.some((p) => p.name === name)) throw where(`@param ${name} twice`);
          script.params.push({ name, text: rest.slice(name.length).trim() });
          return;
        }
        case 'status':
          if (!words[0]) throw where('@status needs a state');
          list.push({ kind: 'status', state: words[0], detail: rest.slice(words[0].length).trim(), line });
          return;
        case 'let': {
          const name = words[0] ?? '';
          if (!ID.test(name)) throw where(`@let needs a name (letters, digits, _), got "${name}"`);
          list.push({ kind: 'let', name, text: rest.slice(name.length).trim(), line });
          return;
        }
        case 'label':
          if (stack.length > 1) throw where('@label only at the top level (outside @repeat and @on)');
          if (!words[0]) throw where('@label needs a name');
          labels.add(words[0]);
          list.push({ kind: 'label', name: words[0], line });
          return;
        case 'goto': {
          if (!words[0]) throw where('@goto needs a label');
          gotos.push({ label: words[0], line });
          if (words.length === 1) {
            list.push({ kind: 'goto', label: words[0], line });
            return;
          }
          // @goto <label> if <text> ~ <regex> (or !~): the text may hold spaces, the regex too.
          const cond = /^if\s+(.*?)\s+(!?~)\s+(.+)$/.exec(rest.slice(words[0].length).trim());
          if (!cond) throw where('@goto <label> if <text> ~ <regex> (or !~)');
          try {
            new RegExp(cond[3]!.replace(/\$\{[^}]*\}/g, 'x'));
          } catch (err) {
            throw where(`bad regular expression: ${(err as Error).message}`);
          }
          list.push({ kind: 'goto', label: words[0], when: { text: cond[1]!, pattern: cond[3]!, negate: cond[2] === '!~' }, line });
          return;
        }
        case 'repeat': {
          const c = words[0];
          const count = c === 'forever' ? null : num(c, '@repeat count', where);
          const body: DriveStmt[] = [];
          list.push({ kind: 'repeat', count, ...timing(words.slice(1), where), body, line });
          stack.push({ list: body, what: '@repeat', line });
          return;
        }
        case 'on': {
          if (stack.length > 1) throw where('@on only at the top level');
          const m = /^(.*?)\s+goto\s+(\S+)$/.exec(rest);
          let pattern: RegExp;
          try {
            pattern = new RegExp(m ? m[1]! : rest);
          } catch (err) {
            throw where(`bad regular expression: ${(err as Error).message}`);
          }
          if (m) {
            script.handlers.push({ pattern, goto: m[2]!, line });
            gotos.push({ label: m[2]!, line });
          } else {
            const body: DriveStmt[] = [];
            script.handlers.push({ pattern, body, line });
            stack.push({ list: body, what: '@on', line });
          }
          return;
        }
        case 'end':
          if (stack.length === 1) throw where('@end without @repeat or @on');
          stack.pop();
          return;
        default:
          throw where(`unknown directive @${key}`);
      }
    }
    if (text.startsWith('>> ')) {
      // Checked now, expanded (variables first, then escapes) when sent.
      unescapeCheck(text.slice(3), where);
      list.push({ kind: 'send', text: text.slice(3), raw: true, line });
    } else if (text.startsWith('> ')) list.push({ kind: 'send', text: text.slice(2), raw: false, line });
    else if (text.startsWith('<~ ')) {
      try {
        new RegExp(text.slice(3).replace(/\$\{[^}]*\}/g, 'x'));
      } catch (err) {
        throw where(`bad regular expression: ${(err as Error).message}`);
      }
      list.push({ kind: 'match', pattern: text.slice(3), line });
    } else if (text === '< >' || text.startsWith('< ')) list.push({ kind: 'expect', text: text.slice(2), line });
    else throw where(`cannot read "${raw}"`);
  });
  if (stack.length > 1) {
    const open = stack[stack.length - 1]!;
    throw new TranscriptSyntaxError(`${file ? `${file}:` : 'line '}${open.line}: ${open.what} without @end`);
  }
  for (const g of gotos) {
    if (!labels.has(g.label)) throw new TranscriptSyntaxError(`${file ? `${file}:` : 'line '}${g.line}: no @label ${g.label}`);
  }
  return script;
}

function unescapeCheck(text: string, where: (m: string) => Error): void {
  try {
    unescapeBytes(text.replace(/\$\{[^}]*\}/g, ''));
  } catch (err) {
    throw where((err as Error).message);
  }
}

/**
 * What `${…}` can name: the built-ins and @let variables; ${#x} is x's length in bytes;
 * `${name:arg}` passes an argument (`${rand:20:25}`).
 */
export function expand(text: string, vars: (name: string, arg?: string) => string | undefined): string {
  return text.replace(/\$\{(#?)([A-Za-z_0-9]+)(?::([^}]*))?\}/g, (whole, hash: string, name: string, arg: string | undefined) => {
    const v = arg === undefined ? vars(name) : vars(name, arg);
    if (v === undefined) return whole;
    return hash ? String(Buffer.byteLength(v, 'utf8')) : v;
  });
}

/** `${rand:MIN:MAX}`: uniform in [MIN, MAX], with as many decimals as the bounds show. */
export function randomBetween(arg: string, random: () => number): string | undefined {
  const m = /^(-?\d+(?:\.(\d+))?):(-?\d+(?:\.(\d+))?)$/.exec(arg);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = Number(m[3]);
  const decimals = Math.max(m[2]?.length ?? 0, m[4]?.length ?? 0);
  return (lo + random() * (hi - lo)).toFixed(decimals);
}

/** Escape a variable's value for use inside a regular expression expectation. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `name=value` words (`--drive-param`) as an object; throws a one-line Error on a malformed one. */
export function parseDriveParams(words: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w);
    if (!m) throw new Error(`--drive-param ${w}: expected name=value`);
    out[m[1]!] = m[2]!;
  }
  return out;
}
