/**
 * Running scenarios against real modems (PTY + embedded broker), observed the way the firmware
 * sees them: through the PTY (the python firmware in another process) and on the broker. The
 * example scenarios run with their times shortened.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startModem, startModems, type VirtualModem } from '../../src/api.js';
import { parseScenario, runScenario, ScenarioError, type ScenarioEvent, type ScenarioRun } from '../../src/control/scenario.js';
import { startFirmware, type Firmware } from '../helpers/firmware.js';
import { atThenUrc, onCleanup, openAndConnect, reply, urc, useE2eCleanup } from '../helpers/e2e-harness.js';

useE2eCleanup();

const FIXTURES = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'scenarios');

async function firmwareOn(link: string): Promise<Firmware> {
  const fw = startFirmware();
  await fw.open(link);
  expect((await fw.readUntil('RDY\r\n')).text).toBe('\r\nRDY\r\n');
  return fw;
}

async function setup(): Promise<{ modem: VirtualModem; fw: Firmware }> {
  const modem = await startModem();
  onCleanup(() => modem.stop());
  return { modem, fw: await firmwareOn(modem.link!) };
}

function track(run: ScenarioRun): ScenarioRun {
  onCleanup(() => run.stop());
  return run;
}

/** Read URC lines until every pattern has matched one of them (in any order); returns them all. */
async function urcsUntil(fw: Firmware, want: RegExp[]): Promise<string[]> {
  const lines: string[] = [];
  const left = [...want];
  while (left.length > 0) {
    const line = (await fw.readUntil(/\r\n[^\r\n]+\r\n/)).text.trim();
    lines.push(line);
    const i = left.findIndex((re) => re.test(line));
    if (i >= 0) left.splice(i, 1);
  }
  return lines;
}

/** AT+QMTPUBEX with QoS 1; returns the URCs up to its result plus those `also` wants. */
async function publish(fw: Firmware, msgid: number, topic: string, payload: string, also: RegExp[] = []): Promise<string[]> {
  const cmd = `AT+QMTPUBEX=0,${msgid},1,0,"${topic}",${Buffer.byteLength(payload)}`;
  expect(await fw.at(cmd)).toBe(`${cmd}\r\r\n> `);
  await fw.send(payload);
  expect((await fw.readUntil('\r\nOK\r\n')).text).toBe('\r\nOK\r\n');
  return urcsUntil(fw, [new RegExp(`^\\+QMTPUBEX: 0,${msgid},0$`), ...also]);
}

const RECV = /^\+QMTRECV: 0,\d+,"([^"]+)","(.*)"$/;

function received(lines: string[]): { topic: string; payload: unknown }[] {
  return lines.flatMap((l) => {
    const m = RECV.exec(l);
    return m ? [{ topic: m[1]!, payload: JSON.parse(m[2]!) as unknown }] : [];
  });
}

describe('scenario timelines through the PTY', () => {
  it('at: steps run once, in time order (registration lost, then back)', async () => {
    const { modem, fw } = await setup();
    expect(await fw.at('AT+CEREG=1')).toBe(reply('AT+CEREG=1'));
    const sc = parseScenario('steps:\n  - at: 0s\n    do: { registration: lost }\n  - at: 100ms\n    do: { registration: registered }\n');
    const run = track(runScenario(sc, modem.vmodem));
    expect((await fw.readUntil(urc('+CEREG: 0'))).text).toBe(urc('+CEREG: 0'));
    expect((await fw.readUntil(urc('+CEREG: 1'))).text).toBe(urc('+CEREG: 1'));
    await run.done;
    expect(run.finished).toBe(true);
    expect(run.errors).toEqual([]);
    expect(run.events.filter((e) => e.kind === 'action').map((e) => e.action)).toEqual(['registration lost', 'registration registered']);
  });

  it('every: with times runs n times with {{n}}, then the scenario is done', async () => {
    const { modem, fw } = await setup();
    const sc = parseScenario('steps:\n  - every: 50ms\n    times: 3\n    do:\n      - inject: "tick {{n}} on {{modem}}\\r\\n"\n');
    const run = track(runScenario(sc, modem.controller));
    expect((await fw.readUntil('tick 3 on modem0\r\n')).text).toBe('tick 1 on modem0\r\ntick 2 on modem0\r\ntick 3 on modem0\r\n');
    await run.done;
    expect(run.events.filter((e) => e.kind === 'fired').map((e) => e.n)).toEqual([1, 2, 3]);
  });

  it('when: urc reacts to what the modem printed ({{urc}} and the groups)', async () => {
    const { modem, fw } = await setup();
    await openAndConnect(fw, 'sc-urc');
    const sc = parseScenario(
      "steps:\n  - when: { urc: '^\\+QMTSTAT: (\\d),(\\d)$' }\n    times: 1\n    do:\n      - inject: \"seen [{{urc}}] client {{1}} code {{2}}\\r\\n\"\n  - at: 0s\n    do: drop\n",
    );
    const run = track(runScenario(sc, modem.vmodem));
    expect((await fw.readUntil(urc('+QMTSTAT: 0,1'))).text).toBe(urc('+QMTSTAT: 0,1'));
    expect((await fw.readUntil('code 1\r\n')).text).toBe('seen [+QMTSTAT: 0,1] client 0 code 1\r\n');
    await run.done;
  });

  it('modem: refs pick modems by index or name; an unknown ref fails before anything runs', async () => {
    const vm = await startModems({ modems: [{ name: 'tracker' }, { name: 'meter', profile: 'quectel-bc260y' }] });
    onCleanup(() => vm.stop());
    const [tracker, meter] = vm.modems;
    const fwT = await firmwareOn(tracker!.link!);
    const fwM = startFirmware();
    await fwM.open(meter!.link!);
    const sc = parseScenario(
      'modem: tracker\nsteps:\n  - at: 0s\n    do: { inject: "A:{{modem}}\\r\\n" }\n  - at: 0s\n    modem: 1\n    do: { inject: "B:{{modem}}:{{index}}\\r\\n" }\n  - at: 50ms\n    modem: all\n    do: { inject: "C:{{modem}}\\r\\n" }\n',
    );
    const run = track(runScenario(sc, vm.vmodem));
    expect((await fwT.readUntil('C:tracker\r\n')).text).toMatch(/^(\r\nRDY\r\n)?A:tracker\r\nC:tracker\r\n$/);
    expect((await fwM.readUntil('C:meter\r\n')).text).toMatch(/B:meter:1\r\nC:meter\r\n$/);
    await run.done;

    const bad = parseScenario('steps:\n  - at: 0s\n    modem: [tracker, gateway]\n    do: drop\n', { file: 'bad.yaml' });
    expect(() => runScenario(bad, vm.vmodem)).toThrow(ScenarioError);
    expect(() => runScenario(bad, vm.vmodem)).toThrow('bad.yaml: step 1 (at 0s): no modem "gateway" (modems: 0=tracker, 1=meter)');
  });

  it('a failing action is reported with its step and line, and the scenario carries on', async () => {
    const { modem, fw } = await setup();
    await openAndConnect(fw, 'sc-fail');
    const sc = parseScenario(
      'steps:\n  - when: { published: dev/+/up }\n    times: 2\n    do:\n      - publish: { topic: "x/{{1}}", json: { v: "{{json.missing}}" } }\n      - inject: never\n',
      { file: 'fail.yaml' },
    );
    const run = track(runScenario(sc, modem.vmodem));
    await publish(fw, 1, 'dev/a/up', '{"v":1}');
    await publish(fw, 2, 'dev/b/up', 'not json');
    await run.done;
    expect(run.errors.map((e) => e.error)).toEqual([
      'step 1 (when published dev/+/up) (line 5): publish x/a: {{json.missing}}: the payload has no such field',
      'step 1 (when published dev/+/up) (line 5): publish x/b: {{json.missing}}: the payload is not JSON',
    ]);
    // The rest of the list did not run, and the modem is fine.
    expect(run.events.some((e) => e.action === 'inject')).toBe(false);
    expect(await fw.at('AT')).toBe(reply('AT'));
  });

  it('stop() ends an open-ended scenario (done resolves)', async () => {
    const { modem } = await setup();
    const run = track(runScenario(parseScenario('steps:\n  - every: 20ms\n    do: { signal: 5 }\n'), modem.vmodem));
    const fired = new Promise<void>((resolve) => run.on('event', (e: ScenarioEvent) => e.kind === 'action' && resolve()));
    await fired;
    expect(run.finished).toBe(false);
    run.stop();
    await run.done;
    expect(run.finished).toBe(true);
  });
});

describe('the example scenarios, with short times', () => {
  it('ota-command-response.yaml: each device report gets the cloud reply on dev/<id>/down', async () => {
    const { modem, fw } = await setup();
    const id = modem.imei;
    await openAndConnect(fw, `ota-${id}`);
    await atThenUrc(fw, `AT+QMTSUB=0,1,"dev/${id}/down",1`, '+QMTSUB: 0,1,0,1');
    const text = fs.readFileSync(path.join(FIXTURES, 'ota-command-response.yaml'), 'utf8').replace('wait: 500ms', 'wait: 50ms');
    const run = track(runScenario(parseScenario(text, { file: 'ota-command-response.yaml' }), modem.vmodem));

    const offer = await publish(fw, 1, `dev/${id}/up`, '{"type":"hello","seq":7,"version":"1.0.0"}', [RECV]);
    expect(received(offer)).toEqual([
      { topic: `dev/${id}/down`, payload: { cmd: 'ota', id: 7, version: '1.2.3', url: `http://firmware.example.com/${id}/1.2.3.bin`, size: 524288 } },
    ]);
    // A report no step matches gets nothing; the progress report after it gets its ack.
    await publish(fw, 2, `dev/${id}/up`, '{"type":"telemetry","temp":21}');
    const ack = await publish(fw, 3, `dev/${id}/up`, '{"type":"ota","id":7,"status":"downloading","progress":50}', [RECV]);
    expect(received(ack)).toEqual([{ topic: `dev/${id}/down`, payload: { cmd: 'ota-ack', id: 7, progress: 50 } }]);
    const reboot = await publish(fw, 4, `dev/${id}/up`, '{"type":"ota","id":7,"status":"installed"}', [RECV]);
    expect(received(reboot)).toEqual([{ topic: `dev/${id}/down`, payload: { cmd: 'reboot', id: 7 } }]);

    expect(run.events.filter((e) => e.kind === 'fired').map((e) => e.step)).toEqual([1, 2, 3]);
    expect(run.errors).toEqual([]);
    // The device's side as the broker saw it.
    expect(modem.published(`dev/${id}/up`)).toHaveLength(4);
  });

  it('broker-flaps.yaml: the connection drops on each flap, opens fail while down, the firmware reconnects', async () => {
    const { modem, fw } = await setup();
    await openAndConnect(fw, 'flappy');
    const text = fs.readFileSync(path.join(FIXTURES, 'broker-flaps.yaml'), 'utf8').replace('every: 10s', 'every: 1500ms').replace('wait: 3s', 'wait: 600ms');
    const run = track(runScenario(parseScenario(text, { file: 'broker-flaps.yaml' }), modem.vmodem));
    /** The broker's state as the scenario left it after the first `n` events. */
    const brokerState = (n: number) => {
      const last = run.events.slice(0, n).filter((e) => e.action === 'broker down' || e.action === 'broker up').pop();
      return last?.action === 'broker down' ? 'down' : 'up';
    };
    const changes = (from: number) => run.events.slice(from).filter((e) => e.action === 'broker down' || e.action === 'broker up').length;

    // Flap 1: the open connection is closed by the server.
    expect((await fw.readUntil(urc('+QMTSTAT: 0,1'))).text).toBe(urc('+QMTSTAT: 0,1'));
    expect(brokerState(run.events.length)).toBe('down');

    // A firmware's reconnect loop. Whenever the broker's state did not change during an open, the
    // result must be the one that state gives: -1 while down, 0 while up.
    const results: { state: string; code: number }[] = [];
    let connected = false;
    for (let attempt = 0; attempt < 200 && !connected; attempt++) {
      const before = run.events.length;
      const state = brokerState(before);
      expect(await fw.at('AT+QMTOPEN=0,"mqtt.example.com",1883')).toBe(reply('AT+QMTOPEN=0,"mqtt.example.com",1883'));
      const code = Number(/\+QMTOPEN: 0,(-?\d+)/.exec((await fw.readUntil(/\+QMTOPEN: 0,-?\d+\r\n/)).text)![1]);
      if (changes(before) === 0) {
        results.push({ state, code });
        expect(code, `open while the broker was ${state}`).toBe(state === 'down' ? -1 : 0);
      }
      if (code !== 0) {
        await new Promise((r) => setTimeout(r, 50)); // back-off
        continue;
      }
      // The broker may go down again at any moment: a +QMTSTAT (or ERROR) means start over.
      const answer = await fw.at('AT+QMTCONN=0,"flappy"');
      if (answer.includes('+QMTSTAT') || !answer.endsWith('\r\nOK\r\n')) continue;
      const line = (await fw.readUntil(/\+QMT(CONN|STAT): [^\r]*\r\n/)).text.trim().split('\r\n').pop();
      connected = line === '+QMTCONN: 0,0,0';
    }
    expect(connected).toBe(true);
    expect(results.length).toBeGreaterThan(0);

    // Flap 2 drops it again.
    expect((await fw.readUntil(urc('+QMTSTAT: 0,1'))).text).toBe(urc('+QMTSTAT: 0,1'));
    run.stop();
    const actions = run.events.filter((e) => e.kind === 'action').map((e) => `${e.n}:${e.action}`);
    expect(actions.slice(0, 5)).toEqual(['1:log flap 1: broker down', '1:broker down', '1:wait 600ms', '1:broker up', '1:log flap 1: broker up']);
    expect(actions).toContain('2:broker down');
    expect(run.errors).toEqual([]);
  });
});
