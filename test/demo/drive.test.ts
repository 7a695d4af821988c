/**
 * Drive scripts (issue 12 §2): the parser, and the runner as a firmware on an in-memory port of a
 * real modem (embedded broker, TestClock) — the fixtures under fixtures/drive/ publish on their
 * period, reconnect after +QMTSTAT, and echo commands back.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { DriveRunner } from '../../src/demo/drive-runner.js';
import { parseDriveScript } from '../../src/demo/drive-script.js';
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
    for (const f of ['quectel-ec200-telemetry.at', 'quectel-ec200-echo.at', 'quectel-bc260y-telemetry.at']) expect(fixture(f).steps.length).toBeGreaterThan(3);
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
