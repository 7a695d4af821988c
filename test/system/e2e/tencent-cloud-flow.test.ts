/**
 * End to end (issue 10 §4): Tencent firmware on the tencent-qcloud profile through a real PTY,
 * against the virtual cloud as `vmodem start` runs it (zero-config): it connects, publishes an
 * escaped AT+TCMQTTPUBL payload that arrives unescaped, gets the time from `$sys/operation`,
 * receives `report_reply` for a property report, answers a `control` sent through the control
 * API with `control_reply`, and disconnects (`+TCMQTTDISCON,2`, then OK). The "firmware" is a
 * python3 process that opens the device like a UART.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../src/control/ctl-client.js';
import { startVmodem, type RunningVmodem } from '../../../src/vmodem.js';
import { killAllFirmware, startFirmware, type Firmware } from '../../helpers/firmware.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3');

const OK = '\r\nOK\r\n';
const PID = 'S3EUVBRJLB';
const DN = 'test_device';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  await killAllFirmware();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function start(): Promise<{ vm: RunningVmodem; fw: Firmware; client: ControlClient }> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-tc-flow-'));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const link = path.join(os.tmpdir(), `vmodem-tc-flow-${process.pid}-${randomBytes(4).toString('hex')}`);
  const vm = await startVmodem({ profile: 'tencent-qcloud', link, mqttPort: 0, timing: 'fast', stateDir, control: { port: 0 } });
  cleanups.push(() => vm.stop());
  const fw = startFirmware();
  await fw.open(vm.linkPath!);
  await fw.readUntil('\r\nready\r\n');
  expect(await fw.at('ATE0')).toBe(`ATE0\r${OK}`);
  return { vm, fw, client: new ControlClient({ url: vm.control!.url, token: vm.control!.token }) };
}

/** A command answered OK, then its `+TC…` result line. */
async function okThen(fw: Firmware, line: string, result: string): Promise<void> {
  expect(await fw.at(line), line).toBe(OK);
  expect((await fw.readUntil(/\r\n\+TC[^\r]*\r\n/)).text, line).toBe(`\r\n${result}\r\n`);
}

const HEAD = /\+TCMQTTRCVPUB:"([^"]*)",(\d+),"/;

/**
 * The next +TCMQTTRCVPUB: topic, announced length and payload, read by its length as drivers do
 * (the payload may hold line breaks). `already`: what was read before that may hold it whole
 * (a URC is never split, so its header there means all of it is).
 */
async function received(fw: Firmware, already = ''): Promise<{ topic: string; length: number; payload: string }> {
  let m = HEAD.exec(already);
  if (m) {
    const start = m.index + m[0].length;
    return { topic: m[1]!, length: Number(m[2]), payload: already.slice(start, start + Number(m[2])) };
  }
  const head = (await fw.readUntil(HEAD)).text;
  m = HEAD.exec(head)!;
  const length = Number(m[2]);
  const rest = (await fw.readUntil(new RegExp(`^[\\s\\S]{${length}}"\\r\\n`))).text;
  return { topic: m[1]!, length, payload: rest.slice(0, length) };
}

/** A publish's `+TC…:OK` and the message it brings back, in whichever order they come. */
async function resultAndMessage(fw: Firmware, result: string): Promise<{ topic: string; length: number; payload: string }> {
  const text = (await fw.readUntil(`\r\n${result}\r\n`)).text;
  return received(fw, text);
}

/** A driver's escaping for the ESP8266 firmware: `"` and `,` get a backslash. */
const escape = (s: string) => s.replace(/"/g, '\\"').replace(/,/g, '\\,');

describe.skipIf(need.missing)(`Tencent firmware against the virtual cloud through a real PTY${need.note}`, () => {
  it('connects, publishes escaped PUBL data that arrives unescaped, gets the time, a report_reply and a control', async () => {
    const { vm, fw, client } = await start();
    await okThen(fw, `AT+TCDEVINFOSET=1,"${PID}","${DN}","ZHNkIGRzZCA="`, '+TCDEVINFOSET:OK');
    await okThen(fw, 'AT+TCMQTTCONN=0,5000,240,1,1', '+TCMQTTCONN:OK');
    for (const t of [`${PID}/${DN}/data`, `$sys/operation/result/${PID}/${DN}`, `$thing/down/property/${PID}/${DN}`]) {
      await okThen(fw, `AT+TCMQTTSUB="${t}",0`, '+TCMQTTSUB:OK');
    }

    // AT+TCMQTTPUBL: the length counts the escaped bytes; the module publishes the text unescaped.
    const raw = `{"action":"test",\n    "time":1598000979,\n    "text":"${'P3FN18GP6K'.repeat(30)}"}`;
    const typed = escape(raw);
    expect(typed.length).toBe(367);
    expect(await fw.at(`AT+TCMQTTPUBL="${PID}/${DN}/data",1,${typed.length}`)).toBe(OK);
    await fw.readUntil('\r\n>\r\n');
    await fw.send(`${typed}\r\n`);
    expect(await resultAndMessage(fw, '+TCMQTTPUBL:OK')).toEqual({ topic: `${PID}/${DN}/data`, length: 355, payload: raw });
    const up = vm.modems[0]!.controller.published(`${PID}/${DN}/data`);
    expect(up.map((p) => p.payload.toString())).toEqual([raw]);

    // The time, as Tencent's test report asks for it.
    expect(await fw.at(`AT+TCMQTTPUB="$sys/operation/${PID}/${DN}",0,"${escape('{"type": "get", "resource": ["time"]}')}"`)).toBe(OK);
    const time = await resultAndMessage(fw, '+TCMQTTPUB:OK');
    expect(time.topic).toBe(`$sys/operation/result/${PID}/${DN}`);
    expect(time.length).toBe(32);
    const t = JSON.parse(time.payload) as { type: string; time: number };
    expect(t.type).toBe('get');
    expect(Math.abs(t.time - Date.now() / 1000)).toBeLessThan(600);

    // A property report: report_reply on $thing/down/property.
    const report = '{"method":"report","clientToken":"S3EUVBRJLB-1","params":{"power_switch":1,"brightness":40}}';
    expect(await fw.at(`AT+TCMQTTPUB="$thing/up/property/${PID}/${DN}",0,"${escape(report)}"`)).toBe(OK);
    const reply = await resultAndMessage(fw, '+TCMQTTPUB:OK');
    expect(reply.topic).toBe(`$thing/down/property/${PID}/${DN}`);
    expect(JSON.parse(reply.payload)).toEqual({ method: 'report_reply', clientToken: 'S3EUVBRJLB-1', code: 0, status: 'success' });

    // A control from the control API; the firmware answers with control_reply.
    const sent = client.dataTemplate({ params: { power_switch: 0 }, timeoutMs: 15_000 });
    const control = await received(fw);
    expect(control.topic).toBe(`$thing/down/property/${PID}/${DN}`);
    const c = JSON.parse(control.payload) as { method: string; clientToken: string; params: unknown };
    expect(c).toMatchObject({ method: 'control', params: { power_switch: 0 } });
    const answer = `{"method":"control_reply","code":0,"clientToken":"${c.clientToken}"}`;
    await okThen(fw, `AT+TCMQTTPUB="$thing/up/property/${PID}/${DN}",0,"${escape(answer)}"`, '+TCMQTTPUB:OK');
    expect(await sent).toMatchObject({ ok: true, clientToken: c.clientToken, reply: { method: 'control_reply', code: 0, clientToken: c.clientToken } });

    expect(await fw.at('AT+TCMQTTDISCONN')).toBe(`\r\n+TCMQTTDISCON,2\r\n${OK}`);
    await fw.exit();
  }, 60_000);
});
