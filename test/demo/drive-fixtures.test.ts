/**
 * Every shipped drive script (fixtures/drive/<profile>-telemetry.at and -echo.at, issue 12 §2)
 * run as `vmodem start --drive` runs it (startVmodem's `drive` in this process): the modem's real
 * PTY, the embedded broker, fast timing and a short period (`driveParams`, the CLI's
 * `--drive-param`). A plain mqtt.js client checks that the readings arrive, that the telemetry
 * script obeys its command topic and reconnects through its handler when the broker drops the
 * session, and that the echo script publishes back what it is sent. A script that stops working
 * for its profile fails here. Tests run concurrently: each waits on the PTY and the broker, not
 * the CPU. (The CLI path itself: test/demo/drive-demo.test.ts, test/system/drive.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { describe, it, type TestContext } from 'vitest';
import { listProfileIds } from '../../src/profiles/load-profile.js';
import { silentLogger } from '../../src/util/logger.js';
import { startVmodem } from '../../src/vmodem.js';

const DRIVE = path.resolve(import.meta.dirname, '../../fixtures/drive');

/** Where each profile's scripts publish and listen (Tencent: the platform's topic rules). */
interface Topics {
  telemetry: string;
  command: string;
  state: string;
  echoIn: string;
  echoOut: string;
}
const fleetTopics = (imei: string): Topics => ({
  telemetry: `fleet/${imei}/telemetry`,
  command: `fleet/${imei}/cmd`,
  state: `fleet/${imei}/state`,
  echoIn: `fleet/${imei}/cmd`,
  echoOut: `fleet/${imei}/echo`,
});
/** Tencent: {pid}/{dn}/event (publish), /control (subscribe), /data (both). */
const tencentTopics = (): Topics => ({
  telemetry: 'CTQS08Y5LG/modem0/event',
  command: 'CTQS08Y5LG/modem0/control',
  state: 'CTQS08Y5LG/modem0/data',
  echoIn: 'CTQS08Y5LG/modem0/control',
  echoOut: 'CTQS08Y5LG/modem0/data',
});
const TENCENT = new Set(['tencent-qcloud', 'tencent-qcloud-cellular']);

/** A strict registry with the Tencent product the scripts sign in to and the first modem's device. */
function tencentRegistry(dir: string): string {
  const file = path.join(dir, 'registry.yaml');
  fs.writeFileSync(file, ['products:', '  - platform: tencent', '    productId: CTQS08Y5LG', '    devices:', '      - deviceName: modem0', '        deviceSecret: ZHNkIGRzZCA=', ''].join('\n'));
  return file;
}

/**
 * The script on a fresh modem (real PTY, embedded broker), and an observer on its broker; cleaned up
 * by the test's own onTestFinished (concurrent tests: the global one would pick any running test).
 */
async function run({ onTestFinished }: TestContext, profile: string, kind: 'telemetry' | 'echo', driveParams: Record<string, string> = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-drive-'));
  onTestFinished(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const vm = await startVmodem({
    profile,
    link: null,
    mqttPort: 0,
    timing: 'fast',
    stateDir: tmp,
    drive: path.join(DRIVE, `${profile}-${kind}.at`),
    driveParams,
    ...(TENCENT.has(profile) ? { registry: tencentRegistry(tmp) } : {}),
    log: silentLogger(),
  });
  onTestFinished(() => vm.stop());
  const imei = vm.modems[0]!.imei;
  const client = mqtt.connect(`mqtt://127.0.0.1:${vm.broker!.port}`, { clientId: `observer-${kind}`, reconnectPeriod: 0 });
  onTestFinished(() => void client.end(true));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const topics = TENCENT.has(profile) ? tencentTopics() : fleetTopics(imei);
  const messages: { topic: string; text: string }[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload) => {
    messages.push({ topic, text: payload.toString() });
    for (const w of waiters) w();
  });
  /** Resolves with the messages on `topic` once `ok` holds for them. */
  const until = (topic: string, ok: (texts: string[]) => boolean): Promise<string[]> =>
    new Promise((resolve) => {
      const check = () => {
        const texts = messages.filter((m) => m.topic === topic).map((m) => m.text);
        if (ok(texts)) {
          waiters.delete(check);
          resolve(texts);
        }
      };
      waiters.add(check);
      check();
    });
  const subscribe = (t: string) => client.subscribeAsync(t, { qos: 1 });
  const publish = (t: string, text: string) => client.publishAsync(t, text, { qos: 1 });
  return { vm, imei, topics, until, subscribe, publish, messages };
}

const profiles = listProfileIds();

describe.concurrent('every shipped drive script, through the PTY (vmodem start --drive, fast timing)', { timeout: 60_000 }, () => {
  it.for(profiles)('%s-telemetry.at publishes readings on its period and obeys its command topic', async (profile, ctx) => {
    const { expect } = ctx;
    const r = await run(ctx, profile, 'telemetry', { period: '200', jitter: '0' });
    await r.subscribe(r.topics.telemetry);
    await r.subscribe(r.topics.state);
    const readings = (await r.until(r.topics.telemetry, (t) => t.length >= 2)).map((t) => JSON.parse(t) as Record<string, unknown>);
    expect(readings[0]).toMatchObject({ imei: r.imei, name: 'modem0', index: 0, led: 'off' });
    expect(Number(readings[1]!.seq) - Number(readings[0]!.seq)).toBe(1);
    expect(readings[0]!.temperature).toBeTypeOf('number');
    await r.publish(r.topics.command, '{"led":"on"}');
    const states = await r.until(r.topics.state, (t) => t.some((x) => x.includes('"ack"')));
    expect(JSON.parse(states.find((x) => x.includes('"ack"'))!)).toMatchObject({ ack: { led: 'on' }, led: 'on' });
    const after = await r.until(r.topics.telemetry, (t) => t.some((x) => (JSON.parse(x) as { led: string }).led === 'on'));
    expect(after.length).toBeGreaterThan(2);
  });

  it.for(profiles)('%s-telemetry.at reconnects through its handler for the vendor\'s connection-lost URC when the broker drops the session', async (profile, ctx) => {
    const { expect } = ctx;
    const r = await run(ctx, profile, 'telemetry', { period: '200', jitter: '0' });
    await r.subscribe(r.topics.telemetry);
    const before = (await r.until(r.topics.telemetry, (t) => t.length >= 1)).length;
    const jumps = r.vm.drive!.stats().jumps;
    expect(r.vm.modems[0]!.controller.dropSession().dropped).toBe(1);
    const readings = await r.until(r.topics.telemetry, (t) => t.length >= before + 2);
    const seqs = readings.map((t) => (JSON.parse(t) as { seq: number }).seq);
    // Readings go on where they were (a reading in flight at the drop may be lost, and the refusal
    // of that publish may come before the URC), and the vendor's connection-lost URC took the
    // @on … goto connect handler: without it only a failed publish and @onerror (a full restart)
    // would bring the script back, and no jump would be counted.
    expect(seqs.every((q, i) => i === 0 || q > seqs[i - 1]!)).toBe(true);
    expect(r.vm.drive!.stats().timeouts).toBe(0);
    expect(r.vm.drive!.stats().jumps).toBeGreaterThan(jumps);
  });

  it.for(profiles)('%s-echo.at publishes each command it receives back on its echo topic', async (profile, ctx) => {
    const { expect } = ctx;
    const r = await run(ctx, profile, 'echo');
    await r.subscribe(r.topics.echoOut);
    // The script subscribes once connected: send until the first echo comes back, then once more.
    let echoed: string[];
    const first = r.until(r.topics.echoOut, (t) => t.length >= 1);
    const timer = setInterval(() => void r.publish(r.topics.echoIn, `hello ${profile}`), 100);
    ctx.onTestFinished(() => clearInterval(timer));
    try {
      echoed = await first;
    } finally {
      clearInterval(timer);
    }
    expect(echoed[0]).toBe(`hello ${profile}`);
    await r.publish(r.topics.echoIn, '{"n":2,"text":"two, with a comma"}');
    const all = await r.until(r.topics.echoOut, (t) => t.includes('{"n":2,"text":"two, with a comma"}'));
    expect(all).toContain('{"n":2,"text":"two, with a comma"}');
  });
});
