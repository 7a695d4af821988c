/**
 * `vmodem check`: a fresh modem replays a transcript; the first difference comes back as a
 * unified diff with the line number and the lines exchanged before it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/check/check.js';
import { parseTranscript } from '../../src/transcript/transcript.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'transcripts', 'quectel-ec200', 'manual-5.1.at');
const dir = mkdtempSync(join(tmpdir(), 'vmodem-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture with one line replaced; returns the file and the 1-based line number changed. */
function doctor(from: string, to: string, name = 'doctored.at', folder = dir): { file: string; line: number } {
  const lines = readFileSync(FIXTURE, 'utf8').split('\n');
  const i = lines.indexOf(from);
  expect(i).toBeGreaterThanOrEqual(0);
  lines[i] = to;
  const file = join(folder, name);
  writeFileSync(file, lines.join('\n'));
  return { file, line: i + 1 };
}

describe('runCheck', () => {
  it('passes on the EC200 manual transcript (profile from the folder name)', async () => {
    const r = await runCheck({ file: FIXTURE });
    expect(r.ok).toBe(true);
    expect(r.profile).toBe('quectel-ec200');
    expect(r.report).toMatch(/^PASS .*manual-5\.1\.at \(profile quectel-ec200, timing fast\): \d+ steps/);
  });

  it('fails on a doctored copy with the line number, -expected/+actual and the context', async () => {
    const { file, line } = doctor('< +QMTOPEN: 0,0', '< +QMTOPEN: 0,5');
    const r = await runCheck({ file, timeoutMs: 1000 });
    expect(r.ok).toBe(false);
    expect(r.failure).toEqual({ kind: 'mismatch', line, expected: '< +QMTOPEN: 0,5', actual: '< +QMTOPEN: 0,0' });
    expect(r.report.split('\n')).toEqual([
      `FAIL ${file}:${line} (profile quectel-ec200, timing fast)`,
      '  expected: < +QMTOPEN: 0,5',
      '  actual:   < +QMTOPEN: 0,0',
      '',
      '--- doctored.at (expected)',
      '+++ quectel-ec200, fresh modem (actual)',
      `@@ line ${line} @@`,
      ' < OK',
      ' > AT+QMTOPEN=?',
      ' < +QMTOPEN: (0-5),"hostname",(1-65535)',
      ' < OK',
      ' > AT+QMTOPEN=0,"iot-as-mqtt.cn-shanghai.aliyuncs.com",1883',
      ' < OK',
      '-< +QMTOPEN: 0,5',
      '+< +QMTOPEN: 0,0',
    ]);
  });

  it('reports a regular expression that does not match, and output that never came', async () => {
    const a = doctor('< +QMTRECV: 0,0,"topic/example",36,"This is the payload related to topic"', '<~ ^\\+QMTRECV: 1,', 'regex.at');
    const ra = await runCheck({ file: a.file, timeoutMs: 1000 });
    expect(ra.failure).toMatchObject({ line: a.line, expected: '<~ ^\\+QMTRECV: 1,', actual: '< +QMTRECV: 0,0,"topic/example",36,"This is the payload related to topic"' });
    expect(ra.report).toContain('-<~ ^\\+QMTRECV: 1,\n+< +QMTRECV: 0,0,');

    const b = join(dir, 'short.at');
    writeFileSync(b, '> AT\n< OK\n< +QMTSTAT: 0,1\n');
    const rb = await runCheck({ file: b, timeoutMs: 300 });
    expect(rb.failure).toMatchObject({ kind: 'mismatch', line: 3, actual: '(nothing within 300 ms)' });
    expect(rb.report).toContain('-< +QMTSTAT: 0,1\n\\ the modem printed nothing more within 300 ms');
  });

  it('reports a publish the device did not make, with what it published instead', async () => {
    const { file, line } = doctor('! expect-publish topic/pub "This is test data, hello MQTT."', '! expect-publish topic/pub "other"', 'pub.at');
    const r = await runCheck({ file, timeoutMs: 500 });
    expect(r.failure).toMatchObject({ kind: 'mismatch', line });
    expect(r.report).toContain(`-! expect-publish topic/pub "other"\n+! expect-publish topic/pub "This is test data, hello MQTT."`);
    expect(r.report).toContain('the device did not publish it within 500 ms');
  });

  it('fails when the modem prints more than the transcript expects', async () => {
    const file = join(dir, 'extra.at');
    writeFileSync(file, '> AT\n< OK\n> AT+CSQ\n');
    const r = await runCheck({ file });
    expect(r.failure).toMatchObject({ kind: 'extra-output', line: 3, actual: '< +CSQ: 24,99' });
    expect(r.report).toMatch(/the modem printed more than the transcript expects/);
    expect(r.report).toContain(' > AT+CSQ\n+< +CSQ: 24,99\n+< OK');
  });

  it('takes the profile from the option, then @profile, then the folder name, then quectel-ec200', async () => {
    const other = join(dir, 'not-a-profile');
    mkdirSync(other);
    const ml307 = join(other, 'ml307.at');
    // AT+MQTTCFG exists on the ML307 only.
    writeFileSync(ml307, '@profile onemo-ml307\n> AT+MQTTCFG=?\n<~ ^\\+MQTTCFG:\n');
    const withDirective = await runCheck({ file: ml307, settleMs: 0 });
    expect(withDirective).toMatchObject({ ok: true, profile: 'onemo-ml307' });
    const overridden = await runCheck({ file: ml307, profile: 'quectel-ec200', settleMs: 0, timeoutMs: 500 });
    expect(overridden).toMatchObject({ ok: false, profile: 'quectel-ec200' });
    copyFileSync(FIXTURE, join(other, 'copy.at'));
    expect((await runCheck({ file: join(other, 'copy.at') })).profile).toBe('quectel-ec200');
    expect(parseTranscript('@profile onemo-ml307\n').profile).toBe('onemo-ml307');
  });

  it('turns bad input into a failed check with a clear message, never a throw', async () => {
    const unknown = join(dir, 'unknown.at');
    writeFileSync(unknown, '@profile nokia-3310\n> AT\n< OK\n');
    expect(await runCheck({ file: unknown })).toMatchObject({ ok: false, failure: { kind: 'error' }, report: expect.stringMatching(/unknown profile "nokia-3310"; available: .*quectel-ec200/) });
    const bad = join(dir, 'bad.at');
    writeFileSync(bad, '> AT\n<< OK\n');
    expect((await runCheck({ file: bad })).report).toMatch(/line 2: cannot read "<< OK"/);
    expect((await runCheck({ file: join(dir, 'missing.at') })).report).toMatch(/cannot read it \(ENOENT\)/);
    const badRec = join(dir, 'bad.jsonl');
    writeFileSync(badRec, '{"type":"start","t":0}\n{oops\n');
    expect((await runCheck({ file: badRec })).report).toMatch(/not a vmodem recording: recording line 2: not JSON/);
  });
});

describe('transcript directives', () => {
  it('reads @profile, @boot and @timing, and hex:/quoted-topic publishes', () => {
    const t = parseTranscript('@profile quectel-bc260y\n@boot on\n@timing real\n! publish "a b" hex:00ff 1 1\n! expect-publish t "x"\n');
    expect(t).toMatchObject({ profile: 'quectel-bc260y', boot: true, timing: 'real' });
    expect(t.steps[0]).toMatchObject({ kind: 'publish', topic: 'a b', payload: Buffer.from([0, 255]), qos: 1, retain: true });
    expect(() => parseTranscript('@boot maybe\n')).toThrow(/line 1: @boot takes on or off/);
    expect(() => parseTranscript('! publish t hex:0 \n')).toThrow(/line 1: bad action/);
  });

  it('@boot on starts the modem with its boot URCs', async () => {
    const file = join(dir, 'boot.at');
    writeFileSync(file, '@boot on\n< RDY\n> AT\n< OK\n');
    expect((await runCheck({ file })).ok).toBe(true);
  });
});
