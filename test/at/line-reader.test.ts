/**
 * LineReader: command-line assembly per ITU-T V.250 §5.2.1 (terminators, editing, length limit,
 * A/), and what it asks the engine to echo.
 */
import { describe, expect, it } from 'vitest';
import { LineReader, type LineEvent } from '../../src/at/line-reader.js';

/** Feed a string; collect the echo bytes and the events. */
function run(input: string | Buffer, maxLength = 1024, reader = new LineReader(maxLength)) {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const echo: number[] = [];
  const events: LineEvent[] = [];
  for (const b of bytes) {
    const r = reader.feed(b);
    echo.push(...r.echo);
    if (r.event) events.push(r.event);
  }
  return { echo: Buffer.from(echo).toString('latin1'), events, reader };
}

describe('terminators', () => {
  it('ends a line at CR and echoes from A through the CR', () => {
    expect(run('AT+CSQ\r')).toEqual(expect.objectContaining({ echo: 'AT+CSQ\r', events: [{ kind: 'line', body: '+CSQ' }] }));
  });

  it('accepts a lone LF as the terminator (drivers that send only \\n)', () => {
    const r = run('AT+CSQ\n');
    expect(r.events).toEqual([{ kind: 'line', body: '+CSQ' }]);
    expect(r.echo).toBe('AT+CSQ\n');
  });

  it('swallows the LF of CRLF: one line, LF not echoed, no empty second line', () => {
    const r = run('AT\r\nAT+X\r\n');
    expect(r.events).toEqual([
      { kind: 'line', body: '' },
      { kind: 'line', body: '+X' },
    ]);
    expect(r.echo).toBe('AT\rAT+X\r');
  });

  it('reports that the line ended with CR until the next byte arrives', () => {
    const r = run('AT\r');
    expect(r.reader.lineEndedWithCr).toBe(true);
    r.reader.feed(0x0a);
    expect(r.reader.lineEndedWithCr).toBe(false);
    expect(run('AT\n').reader.lineEndedWithCr).toBe(false);
  });

  it('accepts lower-case and mixed-case prefixes (at, aT, At)', () => {
    expect(run('at\raT\rAt+x\r').events).toEqual([
      { kind: 'line', body: '' },
      { kind: 'line', body: '' },
      { kind: 'line', body: '+x' },
    ]);
  });

  it('keeps the body bytes as typed (the parser upper-cases names, not the reader)', () => {
    expect(run('AT+qmtopen=0,"Host"\r').events).toEqual([{ kind: 'line', body: '+qmtopen=0,"Host"' }]);
  });
});

describe('junk before AT', () => {
  it('drops junk between lines silently and echoes none of it', () => {
    const r = run('xyz\x00\xff\x1a\r\n  AT\r');
    expect(r.events).toEqual([{ kind: 'line', body: '' }]);
    expect(r.echo).toBe('AT\r');
  });

  it('does not echo an A that turns out to be junk (A not followed by T)', () => {
    const r = run('ABCAT\r');
    expect(r.events).toEqual([{ kind: 'line', body: '' }]);
    expect(r.echo).toBe('AT\r');
  });

  it('treats AAT as junk A then AT, echoing only AT', () => {
    const r = run('AAAT+X\r');
    expect(r.events).toEqual([{ kind: 'line', body: '+X' }]);
    expect(r.echo).toBe('AT+X\r');
  });

  it('ignores a CR or LF with no AT before it (no empty line event)', () => {
    expect(run('\r\r\n\n').events).toEqual([]);
    expect(run('A\r').events).toEqual([]);
  });

  it('is busy only while a line is in progress', () => {
    const reader = new LineReader(1024);
    expect(reader.busy).toBe(false);
    reader.feed(0x41);
    expect(reader.busy).toBe(true);
    run('T\r', 1024, reader);
    expect(reader.busy).toBe(false);
  });
});

describe('backspace (S5)', () => {
  it('removes the previous character with 0x08 and echoes the backspace', () => {
    const r = run('AT+CSQX\x08\r');
    expect(r.events).toEqual([{ kind: 'line', body: '+CSQ' }]);
    expect(r.echo).toBe('AT+CSQX\x08\r');
  });

  it('removes the previous character with DEL (0x7F) too', () => {
    expect(run('AT+CSQQ\x7f\r').events).toEqual([{ kind: 'line', body: '+CSQ' }]);
  });

  it('backspacing over the T and retyping it still gives a line', () => {
    const r = run('AT\x08T+X\r');
    expect(r.events).toEqual([{ kind: 'line', body: '+X' }]);
    expect(r.echo).toBe('AT\x08T+X\r');
  });

  it('backspacing over the whole AT abandons the line', () => {
    const r = run('AT\x08\x08\r');
    expect(r.events).toEqual([]);
    expect(r.echo).toBe('AT\x08\x08');
  });

  it('a backspace on an empty line body with nothing to delete does not underflow', () => {
    expect(run('AT+\x08\x08\x08\x08AT\r').events).toEqual([{ kind: 'line', body: '' }]);
  });

  it('a backspace over a held (unechoed) A echoes nothing', () => {
    expect(run('A\x08AT\r').echo).toBe('AT\r');
  });
});

describe('length limit', () => {
  it('accepts a line of exactly maxLength characters including AT', () => {
    const body = 'X'.repeat(8 - 2);
    expect(run(`AT${body}\r`, 8).events).toEqual([{ kind: 'line', body }]);
  });

  it('reports overflow (once) for a line one character longer than maxLength', () => {
    expect(run(`AT${'X'.repeat(7)}\r`, 8).events).toEqual([{ kind: 'overflow' }]);
  });

  it('reports a single overflow for a 10 KB line and stops echoing past the limit', () => {
    const r = run(`AT${'X'.repeat(10 * 1024)}\r`, 1024);
    expect(r.events).toEqual([{ kind: 'overflow' }]);
    expect(r.echo).toBe(`AT${'X'.repeat(1022)}\r`);
  });

  it('is ready for the next line after an overflow', () => {
    expect(run(`AT${'X'.repeat(100)}\rAT+Y\r`, 16).events).toEqual([{ kind: 'overflow' }, { kind: 'line', body: '+Y' }]);
  });

  it('follows setMaxLength', () => {
    const reader = new LineReader(1024);
    reader.setMaxLength(4);
    expect(run('ATXYZ\r', 4, reader).events).toEqual([{ kind: 'overflow' }]);
  });
});

describe('A/ (repeat last command, V.250 §6.2.1)', () => {
  it('reports repeat at the slash, without waiting for a terminator', () => {
    const r = run('A/');
    expect(r.events).toEqual([{ kind: 'repeat' }]);
    expect(r.echo).toBe('A/');
  });

  it('accepts lower-case a/', () => {
    expect(run('a/').events).toEqual([{ kind: 'repeat' }]);
  });

  it('does not treat a slash inside a line as A/', () => {
    expect(run('AT+A/B\r').events).toEqual([{ kind: 'line', body: '+A/B' }]);
  });
});

describe('reset', () => {
  it('forgets a partial line', () => {
    const reader = new LineReader(1024);
    run('AT+PART', 1024, reader);
    reader.reset();
    expect(run('+X\rAT\r', 1024, reader).events).toEqual([{ kind: 'line', body: '' }]);
  });
});
