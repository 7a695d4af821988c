/**
 * Splits the body of one command line (everything after the `AT` prefix) into commands, per
 * ITU-T V.250 §5.2/§5.4: basic commands (`E0`, `&F`, `Z`, `I`, `S3=13`), extended commands
 * (`+NAME`, four forms) concatenated with `;`. Knows no vendor.
 */
import type { Form, ParsedCommand, RawArg } from './types.js';

export class CommandSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandSyntaxError';
  }
}

export interface ParseOptions {
  /**
   * Inside quotes, a backslash escapes the next character (so `\"` does not end the string).
   * The escape is kept in the string's `value` for the vendor to interpret.
   */
  backslashInQuotes?: boolean;
}

const EXT_PREFIX = /[+$^%#*]/;
const EXT_NAME_CHAR = /[A-Za-z0-9!%\-./:_]/;

/** Parse a line body. Throws CommandSyntaxError on malformed input. */
export function parseCommandLine(body: string, opts: ParseOptions = {}): ParsedCommand[] {
  const commands: ParsedCommand[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === ' ') {
      i++;
      continue;
    }
    if (c === ';') {
      i++;
      continue;
    }
    if (EXT_PREFIX.test(c)) {
      const [cmd, next] = parseExtended(body, i, opts);
      commands.push(cmd);
      i = next;
      continue;
    }
    const [cmd, next] = parseBasic(body, i);
    commands.push(cmd);
    i = next;
  }
  return commands;
}

function parseExtended(body: string, start: number, opts: ParseOptions): [ParsedCommand, number] {
  let i = start + 1;
  while (i < body.length && EXT_NAME_CHAR.test(body[i]!)) i++;
  const name = body.slice(start, i).toUpperCase();
  if (name.length < 2) throw new CommandSyntaxError('empty extended command name');
  let form: Form = 'exec';
  let argText = '';
  if (body.startsWith('=?', i)) {
    form = 'test';
    i += 2;
  } else if (body[i] === '?') {
    form = 'read';
    i += 1;
  } else if (body[i] === '=') {
    form = 'set';
    i += 1;
    const end = findCommandEnd(body, i, opts);
    argText = body.slice(i, end);
    i = end;
  }
  // Anything but the separator after the form is junk (e.g. `AT+X?junk`).
  while (body[i] === ' ') i++;
  if (i < body.length && body[i] !== ';') throw new CommandSyntaxError(`unexpected "${body[i]}" after ${name}`);
  const args = form === 'set' ? splitArgs(argText, opts) : [];
  return [{ name, form, args, argText }, i];
}

/** Basic commands: one letter or `&` + letter, then an optional number, `?` or `=value`. */
function parseBasic(body: string, start: number): [ParsedCommand, number] {
  let i = start;
  let name = body[i]!.toUpperCase();
  i++;
  if (name === '&' || name === '\\') {
    if (i >= body.length || !/[A-Za-z]/.test(body[i]!)) throw new CommandSyntaxError('bad basic command');
    name += body[i]!.toUpperCase();
    i++;
  } else if (!/[A-Z]/.test(name)) {
    throw new CommandSyntaxError(`unexpected character 0x${body.charCodeAt(start).toString(16)}`);
  }
  if (name === 'S') {
    // S-parameters: S<n>? or S<n>=<v>
    const m = /^(\d+)(\?|=(\d*))?/.exec(body.slice(i));
    if (!m) throw new CommandSyntaxError('bad S-parameter');
    i += m[0].length;
    const sname = `S${Number(m[1])}`;
    if (m[2] === '?') return [{ name: sname, form: 'read', args: [], argText: '' }, i];
    if (m[2]?.startsWith('=')) {
      const text = m[3] ?? '';
      return [{ name: sname, form: 'set', args: [toRawArg(text, false)], argText: text }, i];
    }
    return [{ name: sname, form: 'exec', args: [], argText: '' }, i];
  }
  const m = /^\d*/.exec(body.slice(i))!;
  i += m[0].length;
  if (body[i] === '?') return [{ name, form: 'read', args: [], argText: '' }, i + 1];
  if (m[0].length > 0) {
    return [{ name, form: 'set', args: [toRawArg(m[0], false)], argText: m[0] }, i];
  }
  return [{ name, form: 'exec', args: [], argText: '' }, i];
}

/** The end of an argument list: the first `;` outside quotes. */
function findCommandEnd(body: string, start: number, opts: ParseOptions): number {
  let inQuote = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (inQuote) {
      if (c === '\\' && opts.backslashInQuotes) i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === ';') return i;
  }
  if (inQuote) throw new CommandSyntaxError('unterminated quoted string');
  return body.length;
}

/** Split `a,"b,c",,3` into raw arguments; commas inside quotes are data. */
export function splitArgs(text: string, opts: ParseOptions = {}): RawArg[] {
  const args: RawArg[] = [];
  let i = 0;
  // `AT+X=` with nothing after it is one empty argument (the command decides what that means).
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw new CommandSyntaxError('unterminated quoted string');
        const c = text[j]!;
        if (c === '\\' && opts.backslashInQuotes && j + 1 < text.length) {
          value += c + text[j + 1];
          j += 2;
          continue;
        }
        if (c === '"') break;
        value += c;
        j++;
      }
      args.push({ kind: 'string', value, text: text.slice(i, j + 1) });
      i = j + 1;
      while (text[i] === ' ') i++;
      if (i < text.length && text[i] !== ',') throw new CommandSyntaxError('junk after quoted string');
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',') {
        if (text[j] === '"') throw new CommandSyntaxError('quote inside unquoted argument');
        j++;
      }
      args.push(toRawArg(text.slice(i, j).trim(), true));
      i = j;
    }
    if (i >= text.length) break;
    i++; // the comma
  }
  return args;
}

function toRawArg(text: string, allowBare: boolean): RawArg {
  if (text === '') return { kind: 'empty', text };
  if (/^[+-]?\d+$/.test(text)) return { kind: 'int', value: Number(text), text };
  if (!allowBare) throw new CommandSyntaxError(`bad number "${text}"`);
  return { kind: 'bare', value: text, text };
}
