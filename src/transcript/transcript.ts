/**
 * Transcripts: a plain-text conversation between a host and a modem, used by the project's own
 * tests (fixtures/transcripts/**.at) and writable by hand.
 *
 *   # comment            // comment (the manuals' style)
 *   > AT+QMTOPEN=0,"h",1883      host sends the line, then CR (CRLF with `@eol crlf`)
 *   >> payload\x1a               host sends raw bytes (escapes: \r \n \t \\ \xHH), no terminator
 *   < +QMTOPEN: 0,0              the next line the modem prints, exactly
 *   <~ ^\+QMTRECV: 0,\d+,        the next line matches this regular expression
 *   < >                          the data-mode prompt (`> ` after a line break)
 *   ! publish <topic> <payload> [qos] [retain]   the cloud publishes to the device
 *   ! expect-publish <topic> <payload>           the device published this (broker side)
 *                                <payload>: a JSON string (sent as UTF-8) or hex:<bytes> for
 *                                binary; <topic>: as is, or a JSON string when it has spaces
 *   @echo on|off                 echo setting for the run (default off)
 *   @eol cr|crlf                 line ending the host uses (default cr)
 *   @profile <id>                the profile to run against (`vmodem check`; tests use the folder)
 *   @boot on|off                 the modem prints its boot URCs (e.g. RDY) first (default off)
 *   @timing fast|real            profile delays as on the module, or shrunk (default fast)
 */

export type Step =
  | { kind: 'send'; bytes: Buffer; line: number }
  | { kind: 'expect'; text: string; line: number }
  | { kind: 'expect-match'; pattern: RegExp; line: number }
  | { kind: 'publish'; topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean; line: number }
  | { kind: 'expect-publish'; topic: string; payload: Buffer; line: number };

export interface Transcript {
  steps: Step[];
  echo: boolean;
  /** `@profile <id>`, when given. */
  profile?: string;
  /** `@boot on|off`, when given: whether the modem starts with its boot URCs. */
  boot?: boolean;
  /** `@timing fast|real`, when given. */
  timing?: 'fast' | 'real';
}

export class TranscriptSyntaxError extends Error {}

export function unescapeBytes(text: string): Buffer {
  // Text between escapes is encoded a run at a time (a drive script sends a payload this way
  // every period, per modem: a Buffer per character was most of a fleet's garbage, issue 12 §3).
  if (!text.includes('\\')) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  const bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length) parts.push(Buffer.from(bytes));
    bytes.length = 0;
  };
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') continue;
    if (i > run) {
      flushBytes();
      parts.push(Buffer.from(text.slice(run, i), 'utf8'));
    }
    const n = text[++i];
    if (n === 'r') bytes.push(13);
    else if (n === 'n') bytes.push(10);
    else if (n === 't') bytes.push(9);
    else if (n === '\\') bytes.push(92);
    else if (n === 'x') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new TranscriptSyntaxError(`bad \\x escape "${hex}"`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else throw new TranscriptSyntaxError(`unknown escape \\${n}`);
    run = i + 1;
  }
  flushBytes();
  if (run < text.length) parts.push(Buffer.from(text.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * The inverse of {@link unescapeBytes}: printable ASCII stays as it is, CR/LF/TAB and backslash
 * become `\r` `\n` `\t` `\\`, anything else `\xHH`. A space at either end is written `\x20` so
 * editors that trim lines cannot change the bytes.
 */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  bytes.forEach((b, i) => {
    if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x20 && (i === 0 || i === bytes.length - 1)) out += '\\x20';
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  });
  return out;
}

/** A payload as a transcript writes it: a JSON string when it is plain UTF-8 text, else hex:. */
export function formatPayload(payload: Uint8Array): string {
  const buf = Buffer.from(payload);
  const text = buf.toString('utf8');
  // Round-trips, and no control characters other than TAB/CR/LF (JSON would escape them anyway).
  if (Buffer.from(text, 'utf8').equals(buf) && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    return JSON.stringify(text);
  }
  return `hex:${buf.toString('hex')}`;
}

/** A topic as a transcript writes it: bare, or a JSON string when it has spaces or quotes. */
export function formatTopic(topic: string): string {
  return topic === '' || /[\s"]/.test(topic) ? JSON.stringify(topic) : topic;
}

const ACTION = /^!\s+(publish|expect-publish)\s+("(?:[^"\\]|\\.)*"|\S+)\s+("(?:[^"\\]|\\.)*"|hex:[0-9a-fA-F]*)(?:\s+(\d))?(?:\s+(\d))?\s*$/;

export function parseTranscript(source: string): Transcript {
  const steps: Step[] = [];
  let echo = false;
  let eol = '\r';
  let profile: string | undefined;
  let boot: boolean | undefined;
  let timing: 'fast' | 'real' | undefined;
  source.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const where = (msg: string) => new TranscriptSyntaxError(`line ${line}: ${msg}`);
    if (raw.trim() === '' || raw.startsWith('#') || raw.startsWith('//')) return;
    if (raw.startsWith('@')) {
      const [key, value] = raw.slice(1).trim().split(/\s+/);
      if (key === 'echo') echo = value === 'on';
      else if (key === 'eol') eol = value === 'crlf' ? '\r\n' : '\r';
      else if (key === 'profile') {
        if (!value) throw where('@profile needs a profile id');
        profile = value;
      } else if (key === 'boot') {
        if (value !== 'on' && value !== 'off') throw where('@boot takes on or off');
        boot = value === 'on';
      } else if (key === 'timing') {
        if (value !== 'fast' && value !== 'real') throw where('@timing takes fast or real');
        timing = value;
      } else throw where(`unknown directive @${key}`);
      return;
    }
    if (raw.startsWith('>> ')) {
      steps.push({ kind: 'send', bytes: unescapeBytes(raw.slice(3)), line });
    } else if (raw.startsWith('> ')) {
      steps.push({ kind: 'send', bytes: Buffer.from(raw.slice(2) + eol, 'latin1'), line });
    } else if (raw.startsWith('<~ ')) {
      steps.push({ kind: 'expect-match', pattern: new RegExp(raw.slice(3)), line });
    } else if (raw === '< >' || raw.startsWith('< ')) {
      steps.push({ kind: 'expect', text: raw.slice(2), line });
    } else if (raw.startsWith('! ')) {
      const m = ACTION.exec(raw);
      if (!m) throw where(`bad action "${raw}"`);
      let topic: string;
      let payload: Buffer;
      try {
        topic = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
        payload = m[3]!.startsWith('hex:') ? parseHex(m[3]!.slice(4)) : Buffer.from(JSON.parse(m[3]!) as string, 'utf8');
      } catch (err) {
        throw where(`bad action "${raw}": ${(err as Error).message}`);
      }
      const qos = Number(m[4] ?? 0);
      if (qos > 2) throw where(`bad action "${raw}": qos must be 0, 1 or 2`);
      if (m[1] === 'publish') {
        steps.push({ kind: 'publish', topic, payload, qos: qos as 0 | 1 | 2, retain: m[5] === '1', line });
      } else steps.push({ kind: 'expect-publish', topic, payload, line });
    } else throw where(`cannot read "${raw}"`);
  });
  const t: Transcript = { steps, echo };
  if (profile !== undefined) t.profile = profile;
  if (boot !== undefined) t.boot = boot;
  if (timing !== undefined) t.timing = timing;
  return t;
}

function parseHex(hex: string): Buffer {
  if (hex.length % 2 !== 0) throw new Error('hex: needs an even number of digits');
  return Buffer.from(hex, 'hex');
}

/**
 * Splits modem output into the tokens transcripts compare: lines between CRLFs (blank ones
 * skipped) and the data-mode prompt `> `. A CR left at the end of a line is dropped: an echoed
 * command (`AT\r`) followed by a response (`\r\nOK\r\n`) reads as the lines `AT` and `OK`.
 */
export class OutputTokenizer {
  private buf = '';

  push(bytes: Buffer): string[] {
    this.buf += bytes.toString('latin1');
    const tokens: string[] = [];
    for (;;) {
      while (this.buf.startsWith('\r\n')) this.buf = this.buf.slice(2);
      if (this.buf.startsWith('> ')) {
        tokens.push('>');
        this.buf = this.buf.slice(2);
        continue;
      }
      const end = this.buf.indexOf('\r\n');
      if (end < 0) break;
      tokens.push(this.buf.slice(0, end).replace(/\r+$/, ''));
      this.buf = this.buf.slice(end + 2);
    }
    return tokens;
  }

  /** Text received but not yet ended by CRLF. */
  get pending(): string {
    return this.buf;
  }
}
