/**
 * Drive scripts (issue 12 §2): the parser, and the runner as a firmware on an in-memory port of a
 * real modem (embedded broker, TestClock) — the fixtures under fixtures/drive/ publish on their
 * period, reconnect after +QMTSTAT, and echo commands back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { checkDriveParams, DriveRunner, type DriveRunnerOptions } from '../../src/demo/drive-runner.js';
import { parseDriveParams, parseDriveScript } from '../../src/demo/drive-script.js';
import { listProfileIds } from '../../src/profiles/load-profile.js';
import { OutputTokenizer } from '../../src/transcript/transcript.js';
import { TestClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/drive');
const fixture = (name: string) => parseDriveScript(readFileSync(path.join(FIXTURES, name), 'utf8'), name);

describe('drive script syntax', () => {
  it('reads loops, handlers, labels and the transcript lines, with variables kept for run time', () => {
    const s = parseDriveScript(
      ['@timeout 500', '@on ^\\+QMTSTAT goto again', '@label again', '> AT+X="${name}"', '@repeat 3 every 1000 jitter 100', '  >> ${payload}\\x1a', '  <~ ^OK$', '@end'].join('\n'),
    );
    expect(s.timeoutMs).toBe(500);
    expect(s.handlers).toEqual([{ pattern: /^\+QMTSTAT/, goto: 'again', line: 2 }]);
    expect(s.steps.map((x) => x.kind)).toEqual(['label', 'send', 'repeat']);
    expect(s.steps[2]).toMatchObject({ count: 3, every: 1000, jitter: 100, body: [{ kind: 'send', raw: true }, { kind: 'match' }] });
  });

  it('names the line of each mistake', () => {
    expect(() => parseDriveScript('@repeat 2\n> AT')).toThrow(/line 1: @repeat without @end/);
    expect(() => parseDriveScript('@goto nowhere')).toThrow(/line 1: no @label nowhere/);
    expect(() => parseDriveScript('> AT\n@wait soon')).toThrow(/line 2: @wait must be a whole number/);
    expect(() => parseDriveScript('@bogus')).toThrow(/unknown directive @bogus/);
  });

  it('every fixture under fixtures/drive parses', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.at'));
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) expect(fixture(f).steps.length, f).toBeGreaterThan(3);
  });

  it('every profile ships a telemetry and an echo script for its own @profile, with the parameters vmodem demo sets', () => {
    for (const id of listProfileIds()) {
      const telemetry = fixture(`${id}-telemetry.at`);
      const echo = fixture(`${id}-echo.at`);
      expect(telemetry.profile, `${id}-telemetry.at`).toBe(id);
      expect(echo.profile, `${id}-echo.at`).toBe(id);
      // vmodem demo sets the period and reads the topics (src/demo/drive-demo.ts).
      expect(telemetry.params.map((p) => p.name), `${id}-telemetry.at`).toEqual(expect.arrayContaining(['period', 'telemetry_topic', 'command_topic', 'state_topic']));
      expect(echo.params.map((p) => p.name), `${id}-echo.at`).toEqual(expect.arrayContaining(['command_topic', 'echo_topic']));
      // A reconnect handler for the vendor's connection-lost URC.
      expect(telemetry.handlers.some((h) => h.goto === 'connect'), `${id}-telemetry.at`).toBe(true);
      expect(echo.handlers.some((h) => h.goto === 'connect'), `${id}-echo.at`).toBe(true);
    }
  });

  it('reads @param, @status, times given as variables and conditional jumps', () => {
    const s = parseDriveScript(
      ['@param period 5000', '@param topic fleet/${imei}/t', '@label top', '@status online all ${name}', '@wait ${period} jitter ${j}', '@repeat forever every ${s}000', '@end', '@goto top if ${x} !~ ^[15]$'].join('\n'),
    );
    expect(s.params).toEqual([
      { name: 'period', text: '5000' },
      { name: 'topic', text: 'fleet/${imei}/t' },
    ]);
    expect(s.steps).toMatchObject([
      { kind: 'label' },
      { kind: 'status', state: 'online', detail: 'all ${name}' },
      { kind: 'wait', ms: '${period}', jitter: '${j}' },
      { kind: 'repeat', every: '${s}000' },
      { kind: 'goto', label: 'top', when: { text: '${x}', pattern: '^[15]$', negate: true } },
    ]);
    expect(() => parseDriveScript('@param 1x 2')).toThrow(/line 1: @param needs a name/);
    expect(() => parseDriveScript('@param a 1\n@param a 2')).toThrow(/line 2: @param a twice/);
    expect(() => parseDriveScript('@label a\n@goto a when x')).toThrow(/line 2: @goto <label> if <text> ~ <regex>/);
    expect(() => parseDriveScript('@wait soon${x}')).toThrow(/@wait must be a whole number/);
  });

  it('takes name=value words for --drive-param and refuses others', () => {
    expect(parseDriveParams(['period=200', 'topic=a=b', 'empty='])).toEqual({ period: '200', topic: 'a=b', empty: '' });
    expect(() => parseDriveParams(['period'])).toThrow(/--drive-param period: expected name=value/);
  });
});

/** A runner on a fake serial line: what it writes, and lines the test feeds it as the modem. */
function bare(source: string, options: DriveRunnerOptions = {}) {
  const clock = new TestClock();
  const sent: string[] = [];
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const r = new DriveRunner(parseDriveScript(source), { write: (b) => sent.push(b.toString('latin1')) }, { name: 'm0', index: 0, imei: '860000000000009' }, clock, silentLogger(), random, options);
  runner = r;
  void r.start();
  return { r, clock, sent };
}

describe('drive language additions (fake serial line, TestClock)', () => {
  it('@param takes its default, the value given from outside wins, and a default may use other variables', async () => {
    const { r, clock, sent } = bare(['@param period 5000', '@param topic fleet/${imei}/t', '> AT+T="${topic}",${period}'].join('\n'), { params: { period: '200' } });
    await clock.advance(0);
    expect(sent).toEqual(['AT+T="fleet/860000000000009/t",200\r']);
    expect(r.get('topic')).toBe('fleet/860000000000009/t');
    expect(() => checkDriveParams(parseDriveScript('@param period 1'), { perod: '2' })).toThrow(/no @param perod \(it has period\)/);
  });

  it('a loop period given as a variable is read every iteration, so a handler can change it', async () => {
    const { r, clock, sent } = bare(['@param period 1000', '@on ^SET (\\d+)$', '  @let period ${1}', '@end', '@repeat forever every ${period}', '  > AT+P${seq}', '@end'].join('\n'));
    await clock.advance(2500);
    expect(sent).toEqual(['AT+P1\r', 'AT+P2\r', 'AT+P3\r']);
    r.feedLine('SET 5000');
    await clock.advance(1000);
    expect(sent.length).toBe(4);
    await clock.advance(4000);
    expect(sent.length).toBe(4);
    await clock.advance(1000);
    expect(sent.length).toBe(5);
  });

  it('${rand:MIN:MAX} stays within its bounds with the bounds\' decimals', async () => {
    const { clock, sent } = bare(['@repeat 50', '  > ${rand:21.5:23.5} ${rand:40:50}', '@end'].join('\n'));
    await clock.advance(0);
    expect(sent).toHaveLength(50);
    for (const line of sent) {
      const [t, h] = line.trim().split(' ').map(Number) as [number, number];
      expect(t).toBeGreaterThanOrEqual(21.5);
      expect(t).toBeLessThanOrEqual(23.5);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(40);
      expect(h).toBeLessThanOrEqual(50);
    }
    expect(sent.some((l) => /^\d+\.\d /.test(l))).toBe(true);
  });

  it('@goto … if polls until the answer says so, then goes on', async () => {
    const { r, clock, sent } = bare(['@label poll', '> AT+CEREG?', '<~ ^\\+CEREG: \\d,(\\d)', '@let stat ${1}', '@goto done if ${stat} ~ ^[15]$', '@wait 1000', '@goto poll', '@label done', '> AT+NEXT'].join('\n'));
    await clock.advance(0);
    r.feedLine('+CEREG: 0,2');
    await clock.advance(1000);
    r.feedLine('+CEREG: 0,2');
    await clock.advance(1000);
    expect(sent).toEqual(['AT+CEREG?\r', 'AT+CEREG?\r', 'AT+CEREG?\r']);
    r.feedLine('+CEREG: 0,5');
    await clock.advance(0);
    expect(sent.at(-1)).toBe('AT+NEXT\r');
  });

  it('an expectation reads lines that came in the same burst before it started waiting', async () => {
    const { r, clock, sent } = bare(['> AT+CPIN?', '< +CPIN: READY', '< OK', '> AT+NEXT'].join('\n'));
    await clock.advance(0);
    r.feedLine('+CPIN: READY');
    r.feedLine('OK');
    await clock.advance(0);
    expect(sent).toEqual(['AT+CPIN?\r', 'AT+NEXT\r']);
    expect(r.stats.timeouts).toBe(0);
  });

  it('a line from before a command is no answer to it', async () => {
    const { r, clock, sent } = bare(['@timeout 1000', '@onerror again', '@label again', '> AT+A', '@wait 10', '> AT+B', '< OK', '> AT+C'].join('\n'));
    await clock.advance(0);
    r.feedLine('OK');
    await clock.advance(10);
    expect(sent).toEqual(['AT+A\r', 'AT+B\r']);
    await clock.advance(1000);
    expect(r.stats.timeouts).toBe(1);
  });

  it('handler blocks wait for the script to wait: never between a command and its answer', async () => {
    const { r, clock, sent } = bare(['@on ^MSG (.*)$', '  > AT+REPLY=${1}', '@end', '> AT+PUB', '< >', '>> data', '< OK', '@wait 100', '> AT+AFTER'].join('\n'));
    await clock.advance(0);
    r.feedLine('MSG hi');
    r.feedLine('>');
    await clock.advance(0);
    r.feedLine('OK');
    await clock.advance(0);
    expect(sent).toEqual(['AT+PUB\r', 'data', 'AT+REPLY=hi\r']);
    await clock.advance(100);
    expect(sent.at(-1)).toBe('AT+AFTER\r');
  });

  it('@fail ends the wait at once on a refusal, also one that came in the burst before it, and goes on at @onerror after a 1 s pause', async () => {
    const { r, clock, sent } = bare(['@timeout 30000', '@fail ^(ERROR|\\+CME ERROR: .*)$', '@onerror again', '@label again', '> AT+A', '< +A: 1', '< OK', '> AT+B'].join('\n'));
    expect(() => parseDriveScript('@fail (')).toThrow(/line 1: bad regular expression/);
    await clock.advance(0);
    r.feedLine('+CME ERROR: 4');
    await clock.advance(999);
    expect(sent).toEqual(['AT+A\r']);
    await clock.advance(1);
    expect(sent).toEqual(['AT+A\r', 'AT+A\r']);
    // "+A: 1" ends the first wait; ERROR comes before `< OK` starts waiting.
    r.feedLine('+A: 1');
    r.feedLine('ERROR');
    await clock.advance(1000);
    expect(sent).toEqual(['AT+A\r', 'AT+A\r', 'AT+A\r']);
    r.feedLine('+A: 1');
    r.feedLine('OK');
    await clock.advance(0);
    expect(sent.at(-1)).toBe('AT+B\r');
    expect(r.stats).toMatchObject({ failures: 2, timeouts: 0 });
  });

  it('an expectation that accepts ERROR itself takes it before @fail does', async () => {
    const { r, clock, sent } = bare(['@fail ^ERROR$', '> AT+QIACT=1', '<~ ^(OK|ERROR)$', '> AT+NEXT'].join('\n'));
    await clock.advance(0);
    r.feedLine('ERROR');
    await clock.advance(0);
    expect(sent).toEqual(['AT+QIACT=1\r', 'AT+NEXT\r']);
    expect(r.stats.failures).toBe(0);
  });

  it('@status reports where the script is; pause stops it and resume goes on at @label resume', async () => {
    const states: string[] = [];
    const { r, clock, sent } = bare(['@status starting', '> AT', '< OK', '@label resume', '@status online ${name}', '@repeat forever every 1000', '  > AT+TICK', '@end'].join('\n'), {
      onStatus: (state, detail) => states.push(`${state}${detail ? ` ${detail}` : ''}`),
    });
    await clock.advance(0);
    r.feedLine('OK');
    await clock.advance(1500);
    expect(sent).toEqual(['AT\r', 'AT+TICK\r', 'AT+TICK\r']);
    r.pause();
    r.feedLine('MSG ignored while paused');
    await clock.advance(5000);
    expect(sent).toHaveLength(3);
    r.resume();
    await clock.advance(0);
    expect(sent).toHaveLength(4);
    expect(states).toEqual(['starting', 'online m0', 'paused the terminal has taken over the port', 'online m0']);
  });
});

let broker: EmbeddedBroker | undefined;
let modem: MemoryModem | undefined;
let runner: DriveRunner | undefined;
afterEach(async () => {
  await runner?.stop();
  await modem?.stop();
  await broker?.close();
  runner = modem = broker = undefined;
});

/** A modem on an in-memory port with the runner as its firmware; every publish the broker sees. */
async function driven(scriptName: string): Promise<{ m: MemoryModem; clock: TestClock; publishes: (BrokerPublish & { t: number })[]; r: DriveRunner }> {
  broker = await startEmbeddedBroker({ port: 0 });
  const clock = new TestClock();
  const m = createMemoryModem('quectel-ec200', { broker: broker.aedes, clock, echo: true });
  modem = m;
  const publishes: (BrokerPublish & { t: number })[] = [];
  broker.onPublish((p) => publishes.push({ ...p, t: clock.now() }));
  const tokens = new OutputTokenizer();
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const r = new DriveRunner(fixture(scriptName), { write: (b) => m.port.host.send(b) }, { name: 'modem7', index: 7, imei: '866123456789012' }, clock, silentLogger(), random);
  m.port.host.onData((chunk) => {
    for (const t of tokens.push(chunk)) r.feedLine(t);
  });
  runner = r;
  void r.start();
  return { m, clock, publishes, r };
}

describe('the drive runner as a modem\'s firmware (memory port, TestClock)', () => {
  it('the telemetry fixture connects as <name>-<imei> and publishes a reading every 5 s ± 0.5 s of virtual time', async () => {
    const { m, publishes } = await driven('quectel-ec200-telemetry.at');
    await m.waitFor(/(\+QMTPUBEX: 0,1,0\r\n[\s\S]*){4}/, 60_000);
    const telemetry = publishes.filter((p) => p.topic === 'fleet/866123456789012/telemetry');
    expect(telemetry.length).toBeGreaterThanOrEqual(4);
    expect(telemetry[0]!.clientId).toBe('modem7-866123456789012');
    expect(telemetry.slice(0, 4).map((p) => (JSON.parse(p.payload.toString()) as { seq: number }).seq)).toEqual([1, 2, 3, 4]);
    expect(telemetry.every((p) => p.qos === 1)).toBe(true);
    for (let i = 1; i < 4; i++) {
      const gap = telemetry[i]!.t - telemetry[i - 1]!.t;
      expect(gap).toBeGreaterThanOrEqual(4500);
      expect(gap).toBeLessThanOrEqual(5500);
    }
  });

  it('reconnects when +QMTSTAT says the broker dropped the session, and goes on publishing', async () => {
    const { m, publishes, r } = await driven('quectel-ec200-telemetry.at');
    await m.waitFor('+QMTPUBEX: 0,1,0', 60_000);
    const client = (broker!.aedes as unknown as { clients: Record<string, { close(): void }> }).clients['modem7-866123456789012'];
    client!.close();
    await m.waitFor(/\+QMTSTAT: 0,1\r\n[\s\S]*\+QMTCONN: 0,0,0\r\n[\s\S]*(\+QMTPUBEX: 0,1,0\r\n[\s\S]*){2}/, 60_000);
    expect(r.stats.jumps).toBe(1);
    expect(publishes.filter((p) => p.topic.endsWith('/telemetry')).length).toBeGreaterThanOrEqual(3);
  });

  it('the echo fixture publishes each received command back on its echo topic', async () => {
    const { m, publishes, r } = await driven('quectel-ec200-echo.at');
    await m.waitFor('+QMTSUB: 0,1,0,1', 60_000);
    for (const [i, text] of ['led=on', 'interval=10'].entries()) {
      await new Promise<void>((resolve, reject) =>
        broker!.aedes.publish({ cmd: 'publish', topic: 'fleet/866123456789012/cmd', payload: Buffer.from(text), qos: 1, retain: false, dup: false, messageId: 0 } as never, (e?: Error) => (e ? reject(e) : resolve())),
      );
      await m.waitFor(new RegExp(`(\\+QMTPUBEX: 0,2,0\\r\\n[\\s\\S]*){${i + 1}}`), 60_000);
    }
    expect(publishes.filter((p) => p.topic === 'fleet/866123456789012/echo').map((p) => p.payload.toString())).toEqual(['led=on', 'interval=10']);
    expect(r.stats.handled).toBe(2);
  });
});
