/**
 * Every shipped drive script (fixtures/drive/<profile>-telemetry.at and -echo.at, issue 12 §2)
 * run as `vmodem start --drive` in this process: the modem's real PTY, the embedded broker, fast
 * timing and a short period (`--drive-param period=…`). A plain mqtt.js client checks that the
 * readings arrive, that the telemetry script obeys its command topic, and that the echo script
 * publishes back what it is sent. A script that stops working for its profile fails here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { listProfileIds } from '../../src/profiles/load-profile.js';
import { startMain, useMainCleanup } from '../cli/in-process.js';
import { uniqueLink } from '../cli/helpers.js';

useMainCleanup();

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

let tmp: string | undefined;
const clients: MqttClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.end(true);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

/** A strict registry with the Tencent product the scripts sign in to and the first modem's device. */
function tencentRegistry(dir: string): string {
  const file = path.join(dir, 'registry.yaml');
  fs.writeFileSync(file, ['products:', '  - platform: tencent', '    productId: CTQS08Y5LG', '    devices:', '      - deviceName: modem0', '        deviceSecret: ZHNkIGRzZCA=', ''].join('\n'));
  return file;
}

async function run(profile: string, kind: 'telemetry' | 'echo', params: string[] = []) {
  const script = path.join(DRIVE, `${profile}-${kind}.at`);
  const args = ['--profile', profile, '--link', uniqueLink(), '--mqtt-port', '0', '--timing', 'fast', '--log-level', 'warn', '--drive', script];
  for (const p of params) args.push('--drive-param', p);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-drive-'));
  if (TENCENT.has(profile)) args.push('--registry', tencentRegistry(tmp));
  const ready = path.join(tmp, 'ready.json');
  const vm = await startMain([...args, '--ready-file', ready]);
  const info = JSON.parse(fs.readFileSync(ready, 'utf8')) as { modems: { imei: string }[]; ports: { mqtt: number } };
  const port = info.ports.mqtt;
  const imei = info.modems[0]!.imei;
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: `observer-${kind}`, reconnectPeriod: 0 });
  clients.push(client);
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

describe('every shipped drive script, through the PTY (vmodem start --drive, fast timing)', { timeout: 60_000 }, () => {
  it.each(profiles)('%s-telemetry.at publishes readings on its period and obeys its command topic', async (profile) => {
    const r = await run(profile, 'telemetry', ['period=200', 'jitter=0']);
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

  it.each(profiles)('%s-echo.at publishes each command it receives back on its echo topic', async (profile) => {
    const r = await run(profile, 'echo');
    await r.subscribe(r.topics.echoOut);
    // The script subscribes once connected: send until the first echo comes back, then once more.
    let echoed: string[];
    const first = r.until(r.topics.echoOut, (t) => t.length >= 1);
    const timer = setInterval(() => void r.publish(r.topics.echoIn, `hello ${profile}`), 100);
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
