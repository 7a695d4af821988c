/**
 * End to end through a real PTY (issue 10 §3): a python3 "firmware" process brings up Tencent's
 * QCloud AT module the way drivers do — on the ESP8266 profile with the ESP-AT Wi-Fi commands
 * (AT+CWJAP, AT+CIPSTA?), on the Neoway cellular profile with AT+XIIC=1 — then connects with
 * AT+TCMQTTCONN and publishes; mosquitto_sub reads what arrives at the broker. The control side
 * takes the access point away and brings it back.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startVmodem, type RunningVmodem } from '../../../src/vmodem.js';
import { killAllFirmware, startFirmware, type Firmware } from '../../helpers/firmware.js';
import { startMosquittoSub } from '../../helpers/mosquitto.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3', 'mosquitto_sub');

const OK = '\r\nOK\r\n';
const REGISTRY = { products: [{ platform: 'tencent', productId: 'CTQS08Y5LG', devices: [{ deviceName: 'device1', deviceSecret: 'ZHNkIGRzZCA=' }] }] };
const reply = (...lines: string[]): string => `\r\n${lines.join('\r\n')}\r\n${OK}`;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  await killAllFirmware();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function start(profile: string): Promise<{ vm: RunningVmodem; port: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-tcw-e2e-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const registry = path.join(dir, 'registry.json');
  writeFileSync(registry, JSON.stringify(REGISTRY));
  const link = path.join(os.tmpdir(), `vmodem-tcw-${process.pid}-${randomBytes(4).toString('hex')}`);
  const vm = await startVmodem({ profile, link, mqttPort: 0, timing: 'fast', stateDir: dir, registry });
  cleanups.push(() => vm.stop());
  return { vm, port: Number(new URL(vm.brokerUrl).port) };
}

/** A command answered OK, then its `+TC…` result line. */
async function okThen(fw: Firmware, line: string, result: string): Promise<void> {
  expect(await fw.at(line)).toBe(OK);
  expect((await fw.readUntil(/\r\n\+[^\r]*\r\n/, 10_000)).text).toBe(`\r\n${result}\r\n`);
}

/** Device information, MQTT connection and one escaped publish that must arrive unescaped. */
async function connectAndPublish(fw: Firmware, port: number, typed: string, expected: string): Promise<void> {
  await okThen(fw, 'AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","ZHNkIGRzZCA="', '+TCDEVINFOSET:OK');
  await okThen(fw, 'AT+TCMQTTCONN=0,5000,240,1,1', '+TCMQTTCONN:OK');
  const sub = startMosquittoSub(port, 'CTQS08Y5LG/device1/data', { count: 1, qos: 1, timeoutMs: 15_000 });
  await sub.ready;
  await okThen(fw, `AT+TCMQTTPUB="CTQS08Y5LG/device1/data",1,"${typed}"`, '+TCMQTTPUB:OK');
  expect(await sub.done).toEqual([{ topic: 'CTQS08Y5LG/device1/data', payload: expected }]);
}

describe.skipIf(need.missing)(`Tencent QCloud AT bring-up through a real PTY${need.note}`, () => {
  it('ESP8266: restarts with AT+RST, joins Wi-Fi with AT+CWJAP, reads its IP, connects and publishes', async () => {
    const { vm, port } = await start('tencent-qcloud');
    const fw = startFirmware();
    await fw.open(vm.linkPath!);
    await fw.readUntil('\r\nready\r\n');
    // Drivers restart the module first and wait for `ready`; echo is on again after it.
    expect(await fw.at('AT+RST')).toBe(`AT+RST\r${OK}`);
    await fw.readUntil('\r\nready\r\n');
    await fw.readUntil('\r\nWIFI GOT IP\r\n');
    expect(await fw.at('ATE0')).toBe(`ATE0\r${OK}`);
    expect(await fw.at('AT+CWMODE=1')).toBe(OK);
    expect(await fw.at('AT+CIPMODE=0')).toBe(OK);
    expect(await fw.at('AT+CWQAP')).toBe(OK);
    await fw.readUntil('\r\nWIFI DISCONNECT\r\n');
    expect(await fw.at('AT+CWJAP="TP-LINK-E10","12345678"')).toBe(reply('WIFI CONNECTED', 'WIFI GOT IP'));
    expect(await fw.at('AT+CIPSTA?')).toBe(reply('+CIPSTA:ip:"192.168.1.100"', '+CIPSTA:gateway:"192.168.1.1"', '+CIPSTA:netmask:"255.255.255.0"'));
    expect(await fw.at('AT+NOSUCH')).toBe('\r\nERR CODE:0x01090000\r\n\r\nERROR\r\n');
    await connectAndPublish(fw, port, '{\\"on\\":1\\,\\"t\\":2}', '{"on":1,"t":2}');

    // The access point goes: WIFI DISCONNECT, the MQTT connection drops; back: it rejoins.
    vm.modems[0]!.controller.setWifi({ ap: false });
    await fw.readUntil('\r\nWIFI DISCONNECT\r\n');
    expect((await fw.readUntil(/\r\n\+TCMQTTDISCON,-?\d+\r\n/, 10_000)).text).toMatch(/\+TCMQTTDISCON,-\d+\r\n$/);
    vm.modems[0]!.controller.setWifi({ ap: true, rssi: -70 });
    await fw.readUntil('\r\nWIFI CONNECTED\r\n\r\nWIFI GOT IP\r\n', 10_000);
    await fw.readUntil('\r\n+TCMQTTRECONNECTED\r\n', 20_000);
    expect(await fw.at('AT+CWJAP?')).toBe(reply('+CWJAP:"TP-LINK-E10","c8:3a:35:5e:10:e1",6,-70,0,1,3,0'));
  });

  it('Neoway cellular: the same MQTT flow after AT+XIIC=1', async () => {
    const { vm, port } = await start('tencent-qcloud-cellular');
    const fw = startFirmware();
    await fw.open(vm.linkPath!);
    expect(await fw.at('ATE0')).toBe(`ATE0\r${OK}`);
    expect(await fw.at('AT+CPIN?')).toBe(reply('+CPIN: READY'));
    expect(await fw.at('AT+CREG?')).toBe(reply('+CREG: 0,1'));
    expect(await fw.at('AT+CGATT?')).toBe(reply('+CGATT: 1'));
    expect(await fw.at('AT+XIIC?')).toBe(reply('+XIIC:    0,0.0.0.0'));
    expect(await fw.at('AT+XIIC=1')).toBe(OK);
    await fw.readUntil('\r\n+TCREGNET:0,NET_OK\r\n');
    expect(await fw.at('AT+XIIC?')).toBe(reply('+XIIC:    1,10.245.3.118'));
    // Only '"' is escaped on cellular builds: "\," reaches the cloud as typed.
    await connectAndPublish(fw, port, '{\\"on\\":1\\,\\"t\\":2}', '{"on":1\\,"t":2}');
  });
});
