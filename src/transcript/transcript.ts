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
 *   ! publish <topic> <json-string> [qos] [retain]   the cloud publishes to the device
 *   ! expect-publish <topic> <json-string>           the device published this (broker side)
 *   @echo on|off                 echo setting for the run (default off)
 *   @eol cr|crlf                 line ending the host uses (default cr)
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
}

export class TranscriptSyntaxError extends Error {}

export function unescapeBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = text[++i];
    if (n === 'r') out.push(13);
    else if (n === 'n') out.push(10);
    else if (n === 't') out.push(9);
    else if (n === '\\') out.push(92);
    else if (n === 'x') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new TranscriptSyntaxError(`bad \\x escape "${hex}"`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else throw new TranscriptSyntaxError(`unknown escape \\${n}`);
  }
  return Buffer.from(out);
}

export function parseTranscript(source: string): Transcript {
  const steps: Step[] = [];
  let echo = false;
  let eol = '\r';
  source.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const where = (msg: string) => new TranscriptSyntaxError(`line ${line}: ${msg}`);
    if (raw.trim() === '' || raw.startsWith('#') || raw.startsWith('//')) return;
    if (raw.startsWith('@')) {
      const [key, value] = raw.slice(1).trim().split(/\s+/);
      if (key === 'echo') echo = value === 'on';
      else if (key === 'eol') eol = value === 'crlf' ? '\r\n' : '\r';
      else throw where(`unknown directive @${key}`);
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
      const m = /^!\s+(publish|expect-publish)\s+(\S+)\s+("(?:[^"\\]|\\.)*")(?:\s+(\d))?(?:\s+(\d))?\s*$/.exec(raw);
      if (!m) throw where(`bad action "${raw}"`);
      const payload = Buffer.from(JSON.parse(m[3]!) as string, 'utf8');
      if (m[1] === 'publish') {
        steps.push({ kind: 'publish', topic: m[2]!, payload, qos: Number(m[4] ?? 0) as 0 | 1 | 2, retain: m[5] === '1', line });
      } else steps.push({ kind: 'expect-publish', topic: m[2]!, payload, line });
    } else throw where(`cannot read "${raw}"`);
  });
  return { steps, echo };
}

/**
 * Splits modem output into the tokens transcripts compare: lines between CRLFs (blank ones
 * skipped) and the data-mode prompt `> `.
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
      tokens.push(this.buf.slice(0, end));
      this.buf = this.buf.slice(end + 2);
    }
    return tokens;
  }

  /** Text received but not yet ended by CRLF. */
  get pending(): string {
    return this.buf;
  }
}
