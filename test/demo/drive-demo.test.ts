/**
 * `vmodem demo` runs the profile's drive script (src/demo/drive-demo.ts, issue 11 and issue 12
 * §2): readings published, a command topic obeyed, the status the dashboard shows, a pause while
 * the dashboard's terminal holds the port — in this process, through the modem's real PTY, fast
 * timing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startDriveDemo, type DemoStatus, type DriveDemo } from '../../src/demo/drive-demo.js';
import { loadDriveScript } from '../../src/demo/drive-fleet.js';
import { silentLogger } from '../../src/util/logger.js';
import { startVmodem, type RunningVmodem } from '../../src/vmodem.js';
import { uniqueLink } from '../cli/helpers.js';
import { runMain, startDemoMain, useMainCleanup } from '../cli/in-process.js';

useMainCleanup();

const DRIVE = path.resolve(import.meta.dirname, '../../fixtures/drive');

let vm: RunningVmodem | undefined;
let demo: DriveDemo | undefined;
let tmp: string | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await demo?.stop();
  await vm?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  vm = demo = tmp = undefined;
});

async function observer(port: number): Promise<{ client: MqttClient; on: (topic: string, ok: (texts: string[]) => boolean) => Promise<string[]> }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: `observer-${clients.length}`, reconnectPeriod: 0 });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const seen: { topic: string; text: string }[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload) => {
    seen.push({ topic, text: payload.toString() });
    for (const w of waiters) w();
  });
  const on = async (topic: string, ok: (texts: string[]) => boolean) => {
    await client.subscribeAsync(topic, { qos: 1 });
    return new Promise<string[]>((resolve) => {
      const check = () => {
        const texts = seen.filter((m) => m.topic === topic).map((m) => m.text);
        if (!ok(texts)) return;
        waiters.delete(check);
        resolve(texts);
      };
      waiters.add(check);
      check();
    });
  };
  return { client, on };
}

describe('the demo firmware is the profile\'s drive script (startDriveDemo, real PTY)', { timeout: 30_000 }, () => {
  it('reports its status to the dashboard, obeys the command topic, pauses for the terminal and carries on when handed back', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-demo-'));
    vm = await startVmodem({ profile: 'quectel-ec200', link: null, mqttPort: 0, timing: 'fast', stateDir: tmp, log: silentLogger() });
    const m = vm.modems[0]!;
    const notes: DemoStatus[] = [];
    const waiters = new Set<() => void>();
    const unwatch = m.controller.watch((e) => {
      if (e.type !== 'state' || e.what !== 'demo') return;
      notes.push(e.detail as DemoStatus);
      for (const w of waiters) w();
    });
    const note = (ok: (s: DemoStatus) => boolean) =>
      new Promise<DemoStatus>((resolve) => {
        const check = () => {
          const s = notes.find(ok);
          if (!s) return;
          waiters.delete(check);
          resolve(s);
        };
        waiters.add(check);
        check();
      });
    const script = loadDriveScript(path.join(DRIVE, 'quectel-ec200-telemetry.at'), ['quectel-ec200'], { period: '200', jitter: '0' });
    demo = startDriveDemo(m, script, { period: '200', jitter: '0' }, silentLogger());

    const online = await note((s) => s.state === 'online' && s.published >= 2);
    expect(online).toMatchObject({
      profile: 'quectel-ec200',
      clientId: `modem0-${m.imei}`,
      topics: { telemetry: `fleet/${m.imei}/telemetry`, command: `fleet/${m.imei}/cmd`, state: `fleet/${m.imei}/state` },
      intervalMs: 200,
      commands: 0,
    });
    const changes = notes.map((s) => s.state).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    expect(changes.slice(0, 4)).toEqual(['starting', 'registering', 'connecting', 'online']);

    const o = await observer(vm.broker!.port);
    const states = o.on(`fleet/${m.imei}/state`, (t) => t.some((x) => x.includes('"interval":2')));
    await o.client.publishAsync(`fleet/${m.imei}/cmd`, '{"interval":2}', { qos: 1 });
    expect(JSON.parse((await states).find((x) => x.includes('"interval"'))!)).toEqual({ ack: { interval: 2 }, interval: 2 });
    expect(await note((s) => s.commands === 1 && s.intervalMs === 2000)).toBeTruthy();

    m.host.takeOver(true);
    await note((s) => s.state === 'paused');
    const pausedAt = notes.length;
    m.host.takeOver(false);
    // Handed back: the script reconnects from its @label resume and publishes again.
    const back = await note((s) => notes.indexOf(s) > pausedAt && s.state === 'online');
    expect(notes.slice(pausedAt).map((s) => s.state)).toContain('connecting');
    expect(back.intervalMs).toBe(2000);
    await demo.stop();
    expect(notes.at(-1)!.state).toBe('stopped');
    demo = undefined;
    unwatch();
  });
});

describe('vmodem demo (in-process, PTY, fast timing)', { timeout: 30_000 }, () => {
  it('runs the profile\'s telemetry script and names its topics in the banner', async () => {
    const run = await startDemoMain(['--profile', 'quectel-bc260y', '--link', uniqueLink(), '--timing', 'fast', '--interval', '1']);
    const imei = /fleet\/(\d{15})\/telemetry/.exec(run.banner)![1]!;
    expect(run.banner).toContain(`demo:    fixtures/drive/quectel-bc260y-telemetry.at as modem0-${imei}`);
    expect(run.banner).toContain(`publishes to fleet/${imei}/telemetry and fleet/${imei}/state,`);
    expect(run.banner).toContain(`listens on fleet/${imei}/cmd (try {"led":"on"} or {"interval":2})`);
    const port = Number(/broker: {2}mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(run.banner)![1]);
    const o = await observer(port);
    const readings = await o.on(`fleet/${imei}/telemetry`, (t) => t.length >= 1);
    expect(JSON.parse(readings[0]!)).toMatchObject({ imei, seq: 1, led: 'off' });
    const states = o.on(`fleet/${imei}/state`, (t) => t.some((x) => x.includes('"ack"')));
    await o.client.publishAsync(`fleet/${imei}/cmd`, '{"led":"on"}', { qos: 1 });
    expect(JSON.parse((await states).find((x) => x.includes('"ack"'))!)).toEqual({ ack: { led: 'on' }, led: 'on' });
  });

  it('runs the user\'s own script with --drive and its --drive-param values', async () => {
    const script = path.join(DRIVE, 'yuge-clm920-echo.at');
    const run = await startDemoMain(['--profile', 'yuge-clm920', '--link', uniqueLink(), '--timing', 'fast', '--drive', script, '--drive-param', 'command_topic=demo/in', '--drive-param', 'echo_topic=demo/out']);
    expect(run.banner).toMatch(/demo: {4}fixtures\/drive\/yuge-clm920-echo\.at as modem0-\d{15}\n {11}listens on demo\/in/);
    const port = Number(/broker: {2}mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(run.banner)![1]);
    const o = await observer(port);
    const echoed = o.on('demo/out', (t) => t.length >= 1);
    // The script subscribes once connected: send until the echo comes.
    const timer = setInterval(() => void o.client.publishAsync('demo/in', 'hello', { qos: 1 }), 100);
    try {
      expect((await echoed)[0]).toBe('hello');
    } finally {
      clearInterval(timer);
    }
  });

  it('refuses a script for another profile, an unknown --drive-param and a bad --interval in one line', async () => {
    const other = await runMain(['demo', '--link', uniqueLink(), '--drive', path.join(DRIVE, 'yuge-clm920-echo.at')]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^vmodem: --drive .*yuge-clm920-echo\.at: the script is for @profile yuge-clm920, a modem runs quectel-ec200 \(see `vmodem demo --help`\)\n$/);
    const param = await runMain(['demo', '--link', uniqueLink(), '--drive-param', 'colour=red']);
    expect(param.code).toBe(2);
    expect(param.stderr).toMatch(/^vmodem: --drive-param: the script has no @param colour \(it has period, .*\)/);
    const interval = await runMain(['demo', '--interval', '0']);
    expect(interval.code).toBe(2);
    expect(interval.stderr).toBe('vmodem: --interval must be at least 1 second (see `vmodem demo --help`)\n');
  });

  it('--help names the shipped scripts; vmodem start --help too', async () => {
    const demoHelp = await runMain(['demo', '--help']);
    expect(demoHelp.stdout).toContain('fixtures/drive/<profile>-telemetry.at');
    expect(demoHelp.stdout).toContain('fixtures/drive/<profile>-echo.at');
    expect(demoHelp.stdout).toContain('--drive <script>');
    const startHelp = await runMain(['start', '--help']);
    expect(startHelp.stdout).toMatch(/fixtures\/drive\/<profile>-telemetry\.at and\s+<profile>-echo\.at/);
    expect(startHelp.stdout).toContain('--drive-param <name=value>');
  });
});
