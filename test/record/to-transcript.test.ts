/**
 * Recording → transcript: hand-made records convert line by line; a real recorded session
 * converts to a transcript that `vmodem check` replays green (from the .at and the .jsonl).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/check/check.js';
import { createMemoryModem } from '../../src/check/memory-modem.js';
import { createRecorder } from '../../src/record/recorder.js';
import { recordBytes } from '../../src/record/format.js';
import { convertRecording, expectLine, recordingToTranscript } from '../../src/record/to-transcript.js';
import { parseTranscript, unescapeBytes } from '../../src/transcript/transcript.js';
import { BINARY, recordSession, type RecordedSession } from './session.js';

const jsonl = (...recs: object[]) => recs.map((r) => JSON.stringify(r)).join('\n') + '\n';
const io = (type: 'in' | 'out', bytes: string | Buffer, kind?: string) => ({
  type,
  t: 1,
  ...(kind ? { kind } : {}),
  ...recordBytes(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
});
const body = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('recordingToTranscript', () => {
  it('turns bytes into > / < lines, prompts and payloads into < > and >>, publishes into ! lines', () => {
    const text = recordingToTranscript(
      jsonl(
        { type: 'start', t: 0, time: '2025-01-01T00:00:00.000Z', format: 1, vmodem: '0.1.0', node: 'v20', profile: 'quectel-ec200', echo: true },
        io('in', 'AT'),
        io('out', 'AT', 'echo'),
        io('in', '\r'),
        io('out', '\r', 'echo'),
        io('out', '\r\nOK\r\n', 'response'),
        io('in', 'AT+QMTPUBEX=0,1,1,0,"up",4\r'),
        io('out', 'AT+QMTPUBEX=0,1,1,0,"up",4\r', 'echo'),
        io('out', '\r\n> ', 'prompt'),
        io('in', Buffer.from([0x00, 0x1a])),
        io('in', Buffer.from([0x0d, 0xff])),
        { type: 'mqtt', t: 2, link: 1, dir: 'out', packet: 'publish', topic: 'up', qos: 1, payload: { hex: '001a0dff' } },
        io('out', '\r\nOK\r\n', 'response'),
        { type: 'mqtt', t: 3, link: 1, dir: 'in', packet: 'publish', topic: 'up', qos: 1, payload: { hex: '001a0dff' } },
        { type: 'mqtt', t: 3, link: 1, dir: 'in', packet: 'publish', topic: 'down', qos: 1, retain: false, payload: { text: 'hi', hex: '6869' } },
        io('out', Buffer.from('\r\n+QMTRECV: 0,0,"down",2,"hi"\r\n\r\n+X: \x01 \r\n', 'latin1'), 'urc'),
        { type: 'event', t: 4, name: 'fault', op: 'drop' },
        { type: 'mqtt', t: 5, link: 1, event: 'close', reason: 'remote-closed' },
      ),
    );
    expect(body(text)).toEqual([
      '@profile quectel-ec200',
      '@echo on',
      '> AT',
      '< AT',
      '< OK',
      '> AT+QMTPUBEX=0,1,1,0,"up",4',
      '< AT+QMTPUBEX=0,1,1,0,"up",4',
      '< >',
      '>> \\x00\\x1a\\r\\xff',
      '! expect-publish up hex:001a0dff',
      '< OK',
      '! publish down "hi" 1 0',
      '< +QMTRECV: 0,0,"down",2,"hi"',
      '<~ ^\\+X: \\x01\\x20$',
    ]);
    expect(text).toContain('# event fault {"op":"drop"}');
    expect(text).toContain('# MQTT link 1 closed (remote-closed)');
    // What the lines mean is what was recorded.
    const t = parseTranscript(text);
    expect(t.echo).toBe(true);
    expect(t.profile).toBe('quectel-ec200');
    expect(t.steps.find((s) => s.kind === 'send' && s.bytes[0] === 0)).toMatchObject({ bytes: Buffer.from([0x00, 0x1a, 0x0d, 0xff]) });
    expect(t.steps.find((s) => s.kind === 'expect-publish')).toMatchObject({ topic: 'up', payload: Buffer.from([0x00, 0x1a, 0x0d, 0xff]) });
    const re = t.steps.find((s) => s.kind === 'expect-match');
    expect(re && re.kind === 'expect-match' && re.pattern.test('+X: \x01 ')).toBe(true);
  });

  it('picks @eol crlf, escapes what a > line cannot carry, and keeps line origins', () => {
    const rec = jsonl(
      { type: 'start', t: 0, time: 'x', format: 1, vmodem: '0', node: 'v', echo: false },
      io('in', 'AT\r\nAT+X="a b" \r\n'),
      io('out', '\r\nOK\r\n', 'response'),
      io('in', 'AT\r\n'),
    );
    const c = convertRecording(rec);
    const lines = c.text.split('\n');
    expect(body(c.text)).toEqual(['@eol crlf', '> AT', '>> AT+X="a b" \\r\\n', '< OK', '> AT']);
    expect(c.origins[lines.indexOf('< OK')]).toBe(3);
    expect(c.origins[lines.indexOf('> AT')]).toBe(2);
    expect(unescapeBytes('AT+X="a b" \\r\\n').toString('latin1')).toBe('AT+X="a b" \r\n');
    expect(body(recordingToTranscript(jsonl(io('in', ' AT \r'))))).toEqual(['>> \\x20AT \\r']);
  });

  it('writes an exact regular expression for lines that are not plain text', () => {
    const line = expectLine('+QMTRECV: 0,1,"t",3,"a.(\u00ff"');
    expect(line).toBe('<~ ^\\+QMTRECV: 0,1,"t",3,"a\\.\\(\\xff"$');
    const re = new RegExp(line.slice(3));
    expect(re.test('+QMTRECV: 0,1,"t",3,"a.(\u00ff"')).toBe(true);
    expect(re.test('+QMTRECV: 0,1,"t",3,"aX(\u00ff"')).toBe(false);
  });

  it('rejects what is not a recording, naming the line', () => {
    expect(() => recordingToTranscript('{"type":"start","t":0}\nnot json\n')).toThrow(/recording line 2: not JSON/);
  });
});

describe('recording → transcript → vmodem check', () => {
  let session: RecordedSession;
  beforeAll(async () => {
    session = await recordSession();
  });
  afterAll(() => rmSync(session.dir, { recursive: true, force: true }));

  it('the converted transcript of a real session reads as the conversation', () => {
    const text = recordingToTranscript(readFileSync(session.file, 'utf8'));
    const lines = body(text);
    expect(lines.slice(0, 8)).toEqual([
      '@profile quectel-ec200',
      '@echo on',
      '> AT',
      '< AT',
      '< OK',
      '> AT+QMTOPEN=0,"broker.example.com",1883',
      '< AT+QMTOPEN=0,"broker.example.com",1883',
      '< OK',
    ]);
    expect(lines).toContain(`>> ${'\\x00\\x01\\x1a\\x1b\\r\\n\\\\"\\x7f\\x80\\x9f\\xc3(\\xffA'}`);
    expect(lines).toContain(`! expect-publish dev/up hex:${BINARY.toString('hex')}`);
    expect(lines).toContain('! publish dev/down "{\\"led\\":1}" 1 0');
    // The broker chose the delivery's packet id: any number matches on replay.
    expect(lines).toContain('<~ ^\\+QMTRECV: 0,\\d+,"dev/down","\\{"led":1\\}"$');
    expect(lines.at(-1)).toBe('< +QMTDISC: 0,0');
  });

  it('replays green from the .at and straight from the .jsonl', async () => {
    const at = join(session.dir, 'golden.at');
    writeFileSync(at, recordingToTranscript(readFileSync(session.file, 'utf8')));
    const fromAt = await runCheck({ file: at });
    expect(fromAt.report).toMatch(/^PASS /);
    expect(fromAt).toMatchObject({ ok: true, profile: 'quectel-ec200' });
    const fromJsonl = await runCheck({ file: session.file });
    expect(fromJsonl.report).toMatch(/^PASS /);
    expect(fromJsonl.ok).toBe(true);
  });

  it('a recording that starts with the boot URCs replays with @boot on', async () => {
    const file = join(session.dir, 'boot.jsonl');
    const m = createMemoryModem('quectel-ec200', { bootUrcs: true });
    const recorder = createRecorder({ file, engine: m.modem.engine, profile: 'quectel-ec200' });
    await m.waitFor('RDY\r\n');
    await m.at('AT');
    await m.stop();
    await recorder.close();
    const text = readFileSync(file, 'utf8');
    expect(JSON.parse(text.split('\n')[0]!)).toMatchObject({ type: 'start', echo: false });
    expect(body(recordingToTranscript(text))).toEqual(['@profile quectel-ec200', '@boot on', '< RDY', '> AT', '< OK']);
    expect((await runCheck({ file })).ok).toBe(true);
  });

  it('points at the recording line when a recorded session no longer matches', async () => {
    const doctored = join(session.dir, 'doctored.jsonl');
    const lines = readFileSync(session.file, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"type":"out"') && l.includes('+QMTSUB: 0,1,0,1'));
    lines[i] = JSON.stringify({ ...JSON.parse(lines[i]!), ...recordBytes(Buffer.from('\r\n+QMTSUB: 0,1,0,128\r\n')) });
    writeFileSync(doctored, lines.join('\n'));
    const r = await runCheck({ file: doctored });
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ kind: 'mismatch', recordingLine: i + 1, expected: '< +QMTSUB: 0,1,0,128', actual: '< +QMTSUB: 0,1,0,1' });
    expect(r.report).toContain(`recording line ${i + 1} (converted transcript line ${r.failure!.line})`);
    expect(r.report).toContain('-< +QMTSUB: 0,1,0,128\n+< +QMTSUB: 0,1,0,1');
  });
});
