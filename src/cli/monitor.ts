/**
 * `vmodem start --monitor` (issue 14 §7): the serial conversation on the terminal as it happens —
 * what the firmware sent (`>`), the modem's responses (`<`), URCs (`<` … `(urc)`) and data prompts
 * — so a developer sees what the firmware does without the control API. Printable text is shown
 * as is, other bytes as `\xHH`; colours only on a terminal. Echo is not shown (it repeats the
 * host's line). Lines are the engine's own chunks split at CR/LF, so this knows no vendor.
 */
import type { ModemInstance } from '../vmodem.js';

const COLOURS = { host: '\x1b[36m', response: '\x1b[32m', error: '\x1b[31m', urc: '\x1b[33m', prompt: '\x1b[35m', dim: '\x1b[2m', reset: '\x1b[0m' };

function show(bytes: string): string {
  let out = '';
  for (const c of bytes) {
    const code = c.charCodeAt(0);
    out += code >= 0x20 && code <= 0x7e ? c : `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export interface MonitorOptions {
  write(line: string): void;
  colour: boolean;
  /** Shown before each line when several modems share the terminal. */
  name?: string;
  /** ms since start for the time column (default: performance.now). */
  now?: () => number;
}

/** Turns the engine's input and output chunks into monitor lines. */
export class SerialMonitor {
  private input = '';
  private readonly started: number;
  constructor(private readonly o: MonitorOptions) {
    this.started = this.now();
  }

  private now(): number {
    return this.o.now ? this.o.now() : performance.now();
  }

  private line(kind: keyof typeof COLOURS, mark: string, text: string, suffix = ''): void {
    const t = ((this.now() - this.started) / 1000).toFixed(3).padStart(8);
    const who = this.o.name ? `${this.o.name} ` : '';
    const c = this.o.colour;
    const body = `${mark} ${text}${suffix}`;
    this.o.write(c ? `${COLOURS.dim}${t}${COLOURS.reset} ${who}${COLOURS[kind]}${body}${COLOURS.reset}\n` : `${t} ${who}${body}\n`);
  }

  /** Bytes the host wrote: a line per CR (or LF); the rest waits for its end or for output. */
  onInput(b: Buffer): void {
    this.input += b.toString('latin1');
    for (;;) {
      const m = /[\r\n]/.exec(this.input);
      if (!m) break;
      const text = this.input.slice(0, m.index);
      this.input = this.input.slice(m.index + 1);
      if (text !== '') this.line('host', '>', show(text));
    }
  }

  /** Bytes the modem wrote, of the engine's kind. */
  onOutput(b: Buffer, kind: string): void {
    if (kind === 'echo') return;
    // Data typed after a prompt has no line end: show it before the answer it caused.
    if (this.input !== '') {
      this.line('host', '>', show(this.input), ' (data)');
      this.input = '';
    }
    if (kind === 'prompt') {
      this.line('prompt', '<', show(b.toString('latin1').replace(/^\r\n/, '').trimEnd()), ' (prompt)');
      return;
    }
    for (const raw of b.toString('latin1').split(/\r\n|\r|\n/)) {
      if (raw === '') continue;
      if (kind === 'urc') this.line('urc', '<', show(raw), ' (urc)');
      else this.line(/^(ERROR|\+CME ERROR|\+CMS ERROR|NO CARRIER)/.test(raw) ? 'error' : 'response', '<', show(raw));
    }
  }
}

/** Print every modem's conversation; returns the function that stops it. */
export function attachMonitor(modems: readonly ModemInstance[], write: (s: string) => void, colour: boolean): () => void {
  const offs = modems.map((m) => {
    const mon = new SerialMonitor({ write, colour, ...(modems.length > 1 ? { name: m.name } : {}) });
    const onIn = (b: Buffer) => mon.onInput(b);
    const onOut = (b: Buffer, kind: string) => mon.onOutput(b, kind);
    m.modem.engine.on('input', onIn);
    m.modem.engine.on('output', onOut);
    return () => {
      m.modem.engine.off('input', onIn);
      m.modem.engine.off('output', onOut);
    };
  });
  return () => offs.forEach((f) => f());
}
