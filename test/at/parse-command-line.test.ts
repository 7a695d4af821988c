/**
 * parseCommandLine / splitArgs: the body of a command line (everything after `AT`) into
 * commands, per ITU-T V.250 §5.2–§5.4.
 */
import { describe, expect, it } from 'vitest';
import { CommandSyntaxError, parseCommandLine, splitArgs } from '../../src/at/parse-command-line.js';

const one = (body: string, opts = {}) => {
  const cmds = parseCommandLine(body, opts);
  expect(cmds).toHaveLength(1);
  return cmds[0]!;
};

describe('extended commands: the four forms', () => {
  it('parses `+NAME=?` as the test form with no arguments', () => {
    expect(one('+QMTOPEN=?')).toEqual({ name: '+QMTOPEN', form: 'test', args: [], argText: '' });
  });

  it('parses `+NAME?` as the read form', () => {
    expect(one('+CMEE?')).toEqual({ name: '+CMEE', form: 'read', args: [], argText: '' });
  });

  it('parses `+NAME=<args>` as the set form and keeps the argument text as typed', () => {
    expect(one('+QMTOPEN=0,"broker.example.com",1883')).toEqual({
      name: '+QMTOPEN',
      form: 'set',
      argText: '0,"broker.example.com",1883',
      args: [
        { kind: 'int', value: 0, text: '0' },
        { kind: 'string', value: 'broker.example.com', text: '"broker.example.com"' },
        { kind: 'int', value: 1883, text: '1883' },
      ],
    });
  });

  it('parses a bare `+NAME` as the exec form', () => {
    expect(one('+CSQ')).toEqual({ name: '+CSQ', form: 'exec', args: [], argText: '' });
  });

  it('upper-cases command names whatever case the host typed', () => {
    expect(one('+qmtCfg="Version",0').name).toBe('+QMTCFG');
    expect(one('+cmee?')).toMatchObject({ name: '+CMEE', form: 'read' });
  });

  it('keeps the case of quoted values (only names are case-insensitive)', () => {
    expect(one('+qmtcfg="Version",0').args[0]).toEqual({ kind: 'string', value: 'Version', text: '"Version"' });
  });

  it('accepts the other extended prefixes ($ ^ % # *) and name characters such as / . - _ :', () => {
    expect(one('$QCPWD?').name).toBe('$QCPWD');
    expect(one('^SYSINFO').name).toBe('^SYSINFO');
    expect(one('+A/B.C-D_E:F=1').name).toBe('+A/B.C-D_E:F');
  });

  it('rejects a prefix with no name', () => {
    expect(() => parseCommandLine('+=1')).toThrow(CommandSyntaxError);
  });
});

describe('arguments', () => {
  it('keeps commas inside quoted strings as data', () => {
    expect(one('+X="a,b",",",3').args).toEqual([
      { kind: 'string', value: 'a,b', text: '"a,b"' },
      { kind: 'string', value: ',', text: '","' },
      { kind: 'int', value: 3, text: '3' },
    ]);
  });

  it('keeps a semicolon inside a quoted string as data instead of ending the command', () => {
    const cmds = parseCommandLine('+X="a;b";+Y');
    expect(cmds.map((c) => c.name)).toEqual(['+X', '+Y']);
    expect(cmds[0]!.args[0]).toMatchObject({ kind: 'string', value: 'a;b' });
  });

  it('turns empty positions into empty arguments (leading, middle, trailing)', () => {
    expect(one('+X=,1,,"s",').args).toEqual([
      { kind: 'empty', text: '' },
      { kind: 'int', value: 1, text: '1' },
      { kind: 'empty', text: '' },
      { kind: 'string', value: 's', text: '"s"' },
      { kind: 'empty', text: '' },
    ]);
  });

  it('treats `+X=` with nothing after it as one empty argument', () => {
    expect(one('+X=')).toEqual({ name: '+X', form: 'set', args: [{ kind: 'empty', text: '' }], argText: '' });
  });

  it('treats an empty quoted string as a string, not as an empty argument', () => {
    expect(one('+X=""').args).toEqual([{ kind: 'string', value: '', text: '""' }]);
  });

  it('reports unquoted tokens that are not decimal numbers (0xFFFF, 1.5, keys) as bare', () => {
    expect(one('+X=0xFFFF,1.5,abc,12ab').args).toEqual([
      { kind: 'bare', value: '0xFFFF', text: '0xFFFF' },
      { kind: 'bare', value: '1.5', text: '1.5' },
      { kind: 'bare', value: 'abc', text: 'abc' },
      { kind: 'bare', value: '12ab', text: '12ab' },
    ]);
  });

  it('parses signed decimal numbers as integers', () => {
    expect(one('+X=-1,+2,007').args).toEqual([
      { kind: 'int', value: -1, text: '-1' },
      { kind: 'int', value: 2, text: '+2' },
      { kind: 'int', value: 7, text: '007' },
    ]);
  });

  it('ignores spaces around arguments and commas', () => {
    expect(one('+X= 1 , "a" ,2').args).toEqual([
      { kind: 'int', value: 1, text: '1' },
      { kind: 'string', value: 'a', text: '"a"' },
      { kind: 'int', value: 2, text: '2' },
    ]);
  });

  it('keeps the bytes of a quoted string as they are (latin1, binary safe)', () => {
    expect(one('+X="\xff\x00\x80"').args[0]).toMatchObject({ kind: 'string', value: '\xff\x00\x80' });
  });

  it('throws on an unterminated quoted string', () => {
    expect(() => parseCommandLine('+QMTOPEN=0,"host,1883')).toThrow(CommandSyntaxError);
    expect(() => parseCommandLine('+X="')).toThrow(/unterminated/);
    expect(() => splitArgs('"abc')).toThrow(CommandSyntaxError);
  });

  it('throws on junk right after a closing quote', () => {
    expect(() => parseCommandLine('+X="a"b,1')).toThrow(CommandSyntaxError);
  });

  it('throws on a quote inside an unquoted argument', () => {
    expect(() => parseCommandLine('+X=a"b"')).toThrow(CommandSyntaxError);
  });

  it('with backslashInQuotes, \\" does not end the string and the escape is kept for the vendor', () => {
    const c = one('+X="a\\"b",1', { backslashInQuotes: true });
    expect(c.args).toEqual([
      { kind: 'string', value: 'a\\"b', text: '"a\\"b"' },
      { kind: 'int', value: 1, text: '1' },
    ]);
  });

  it('without backslashInQuotes, a backslash is an ordinary character', () => {
    expect(one('+X="a\\",1').args).toEqual([
      { kind: 'string', value: 'a\\', text: '"a\\"' },
      { kind: 'int', value: 1, text: '1' },
    ]);
  });
});

describe('junk after the form', () => {
  it('throws on characters after `?` of a read command', () => {
    expect(() => parseCommandLine('+CMEE?1')).toThrow(CommandSyntaxError);
    expect(() => parseCommandLine('+CMEE?junk')).toThrow(/unexpected/);
  });

  it('throws on characters after `=?` of a test command', () => {
    expect(() => parseCommandLine('+CMEE=?x')).toThrow(CommandSyntaxError);
  });

  it('allows spaces and a `;` after the form', () => {
    expect(parseCommandLine('+CMEE? ;+CSQ').map((c) => [c.name, c.form])).toEqual([
      ['+CMEE', 'read'],
      ['+CSQ', 'exec'],
    ]);
  });
});

describe('basic commands (V.250 §5.2)', () => {
  it('parses E0 / E1 as set forms with a numeric argument', () => {
    expect(one('E0')).toEqual({ name: 'E', form: 'set', args: [{ kind: 'int', value: 0, text: '0' }], argText: '0' });
    expect(one('e1')).toMatchObject({ name: 'E', form: 'set', args: [{ kind: 'int', value: 1 }] });
  });

  it('parses a basic command without a number as the exec form', () => {
    expect(one('E')).toEqual({ name: 'E', form: 'exec', args: [], argText: '' });
    expect(one('Z')).toEqual({ name: 'Z', form: 'exec', args: [], argText: '' });
    expect(one('I')).toEqual({ name: 'I', form: 'exec', args: [], argText: '' });
  });

  it('parses I0 and Z0 with their value', () => {
    expect(one('I0')).toMatchObject({ name: 'I', form: 'set', args: [{ kind: 'int', value: 0 }] });
    expect(one('z0')).toMatchObject({ name: 'Z', form: 'set' });
  });

  it('parses `&` commands with their letter: &F, &W, &F0', () => {
    expect(one('&F')).toEqual({ name: '&F', form: 'exec', args: [], argText: '' });
    expect(one('&w')).toEqual({ name: '&W', form: 'exec', args: [], argText: '' });
    expect(one('&F0')).toMatchObject({ name: '&F', form: 'set', args: [{ kind: 'int', value: 0 }] });
  });

  it('rejects `&` with no letter after it', () => {
    expect(() => parseCommandLine('&')).toThrow(CommandSyntaxError);
    expect(() => parseCommandLine('&1')).toThrow(CommandSyntaxError);
  });

  it('parses S-parameters: S3=13 (set), S3? (read), S3 (exec), S03=13 normalised to S3', () => {
    expect(one('S3=13')).toEqual({ name: 'S3', form: 'set', args: [{ kind: 'int', value: 13, text: '13' }], argText: '13' });
    expect(one('s3?')).toEqual({ name: 'S3', form: 'read', args: [], argText: '' });
    expect(one('S3')).toEqual({ name: 'S3', form: 'exec', args: [], argText: '' });
    expect(one('S03=13').name).toBe('S3');
  });

  it('rejects an S-parameter without a register number', () => {
    expect(() => parseCommandLine('S=1')).toThrow(CommandSyntaxError);
    expect(() => parseCommandLine('S?')).toThrow(CommandSyntaxError);
  });

  it('parses a basic read form such as E?', () => {
    expect(one('E?')).toEqual({ name: 'E', form: 'read', args: [], argText: '' });
  });

  it('rejects characters that cannot start a command (digits, control bytes)', () => {
    expect(() => parseCommandLine('5')).toThrow(CommandSyntaxError);
    expect(() => parseCommandLine('\x00')).toThrow(CommandSyntaxError);
    expect(() => parseCommandLine('\x1a')).toThrow(CommandSyntaxError);
  });
});

describe('concatenation', () => {
  it('splits `E0;+CMEE=2` into two commands', () => {
    expect(parseCommandLine('E0;+CMEE=2')).toEqual([
      { name: 'E', form: 'set', args: [{ kind: 'int', value: 0, text: '0' }], argText: '0' },
      { name: '+CMEE', form: 'set', args: [{ kind: 'int', value: 2, text: '2' }], argText: '2' },
    ]);
  });

  it('chains basic commands without separators (E0V1&F) and then an extended one', () => {
    expect(parseCommandLine('E0V1&F+CSQ').map((c) => `${c.name}/${c.form}`)).toEqual(['E/set', 'V/set', '&F/exec', '+CSQ/exec']);
  });

  it('chains extended commands with `;`, ignoring empty commands and spaces', () => {
    expect(parseCommandLine(' +CSQ; ;+CGMI;').map((c) => c.name)).toEqual(['+CSQ', '+CGMI']);
  });

  it('returns no commands for an empty body', () => {
    expect(parseCommandLine('')).toEqual([]);
  });
});
