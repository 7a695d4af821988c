/**
 * End to end: a YUGE CLM920 vmodem on a real PTY, a python3 "firmware" process that opens the
 * device like a UART (os.open + termios raw), Debian's mosquitto / mosquitto_pub / mosquitto_sub
 * as the other devices of the cloud (and as an external broker), and the virtual cloud playing
 * Aliyun for the module's own sign-in and dynamic registration.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startVmodem, type RunningVmodem, type VmodemOptions } from '../../../src/vmodem.js';
import { killAllFirmware, startFirmware, type Firmware } from '../../helpers/firmware.js';
import { mosquittoPub, startMosquitto, startMosquittoSub, type MosquittoHandle } from '../../helpers/mosquitto.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3', 'mosquitto', 'mosquitto_sub', 'mosquitto_pub');

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const REGISTRY = path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'registry', 'example.yaml');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await killAllFirmware();
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
});

function tmpDir(tag: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vmodem-yuge-${tag}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const newLink = () => path.join(os.tmpdir(), `vmodem-yuge-${process.pid}-${randomBytes(4).toString('hex')}`);

async function vmodem(opts: VmodemOptions & { link: string; stateDir: string }): Promise<RunningVmodem> {
  const vm = await startVmodem({ profile: 'yuge-clm920', mqttPort: 0, timing: 'fast', ...opts });
  cleanups.push(() => vm.stop());
  return vm;
}

/** The firmware opens the device (the CLM920 prints nothing at power-on) and turns echo off. */
async function firmwareOn(vm: RunningVmodem): Promise<Firmware> {
  const fw = startFirmware();
  await fw.open(vm.linkPath!);
  expect(await fw.at('ATE0')).toBe(`ATE0\r${OK}`);
  expect(await fw.at('AT')).toBe(OK);
  return fw;
}

/** Send a command, expect exactly `response`, then read through the URC that must follow it. */
async function atThen(fw: Firmware, line: string, response: string, urc: string | RegExp, timeoutMs = 10_000): Promise<string> {
  expect(await fw.at(line)).toBe(response);
  return (await fw.readUntil(urc, timeoutMs)).text;
}

const portOf = (vm: RunningVmodem) => Number(new URL(vm.brokerUrl).port);

describe.skipIf(need.missing)(`YUGE CLM920 end to end through a real PTY${need.note}`, () => {
  it('signs in, receives and publishes (PUB, PUBIN, PUBEX, cache mode); the will fires on AT+CFUN=0', async () => {
    const vm = await vmodem({ link: newLink(), stateDir: tmpDir('state') });
    const port = portOf(vm);
    const fw = await firmwareOn(vm);

    expect(await fw.at('ATI')).toBe(reply('YUGE', 'CLM920_RC3', 'Revision: CLM920_RC3_MQTT_V1.06'));
    for (const line of [
      'AT+IMQTTMODE=2,0',
      'AT+IMQTTPARA=TIMEOUT,3,CLEAN,1,KEEPALIVE,60,VERSION,3.1.1',
      'AT+IMQTTADDR=203.156.205.55,1883,"yuge-e2e"',
      'AT+IMQTTUSER=name001,pwd001',
      'AT+IMQTTLWT=yuge/status,1,offline,1',
    ]) {
      expect(await fw.at(line), line).toBe(OK);
    }
    expect(await fw.at('AT+IMQTTUSER?')).toBe(reply('+IMQTTUSER:name001,*****'));
    // The result comes after OK, in a write of its own.
    expect(await fw.at('AT+IMQTTCONN')).toBe(OK);
    const conn = await fw.readUntil('\r\n+IMQTTCONN:0\r\n');
    expect(conn.text).toBe('\r\n+IMQTTCONN:0\r\n');
    expect(await fw.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:2'));

    // Subscribe and receive what another device publishes (text and binary).
    await atThen(fw, 'AT+IMQTTSUB=yuge/down,1', OK, '\r\n+IMQTTSUB:2,1\r\n');
    await mosquittoPub(port, 'yuge/down', 'hello from cloud', { qos: 1 });
    const recv = await fw.readUntil(/\r\n\+IMQTTRCVPUB:\d+,"yuge\/down",16,"hello from cloud"\r\n/);
    expect(recv.text).toMatch(/\+IMQTTRCVPUB:[1-9]\d*,/); // QoS 1 delivery carries a packet id
    const binary = Buffer.from([0x00, 0xff, 0x22, 0x0d, 0x0a]);
    await mosquittoPub(port, 'yuge/down', binary, { qos: 0 });
    const bin = await fw.readUntil(/\+IMQTTRCVPUB:0,"yuge\/down",5,"[\s\S]{5}"\r\n/);
    expect(bin.bytes.subarray(-9)).toEqual(Buffer.concat([Buffer.from('"'), binary, Buffer.from('"\r\n')]));

    // Publish text, HEX and data-mode messages; mosquitto_sub sees them.
    const sub = startMosquittoSub(port, 'yuge/up/#', { count: 3, qos: 2, withFlags: true, hex: true, timeoutMs: 15_000 });
    await sub.ready;
    await atThen(fw, 'AT+IMQTTPUB=yuge/up/text,0,test message!!', OK, '\r\n+IMQTTPUB:3,0\r\n');
    await atThen(fw, 'AT+IMQTTPUBIN=yuge/up/hex,1,7B2261223A317D', OK, '\r\n+IMQTTPUB:4,0\r\n');
    await fw.send('AT+IMQTTPUBEX=yuge/up/ex,2,0,6\r');
    expect((await fw.readUntil('>')).text).toBe('\r\n>');
    await fw.send(Buffer.from([0x01, 0x1a, 0x1b, 0x0d, 0x0a, 0xfe]));
    expect((await fw.readUntil('\r\n+IMQTTPUBEX:5,0\r\n')).text).toBe(`${OK}\r\n+IMQTTPUBEX:5,0\r\n`);
    const got = Object.fromEntries((await sub.done).map((g) => [g.topic, [g.payload, g.qos]]));
    expect(got).toEqual({
      'yuge/up/text': [Buffer.from('test message!!').toString('hex'), 0],
      'yuge/up/hex': [Buffer.from('{"a":1}').toString('hex'), 1],
      'yuge/up/ex': ['011a1b0d0afe', 2],
    });

    // Cache mode: announced by +IMQTTCOUNT, read with AT+IMQTTRECV.
    expect(await fw.at('AT+IMQTTRECVMODE=1')).toBe(OK);
    await mosquittoPub(port, 'yuge/down', 'one');
    await fw.readUntil('\r\n+IMQTTCOUNT: 1\r\n');
    await mosquittoPub(port, 'yuge/down', 'two');
    await fw.readUntil('\r\n+IMQTTCOUNT: 2\r\n');
    expect(await fw.at('AT+IMQTTRECV?')).toBe(reply('+IMQTTRECV: 2'));
    expect(await fw.at('AT+IMQTTRECV=5')).toBe(reply('+IMQTTRECV:0,"yuge/down",3,"one"', '+IMQTTRECV:0,"yuge/down",3,"two"'));

    // The radio goes off: the connection dies without DISCONNECT and the broker publishes the will.
    const will = startMosquittoSub(port, 'yuge/status', { qos: 1, withFlags: true, timeoutMs: 10_000 });
    await will.ready;
    expect(await fw.at('AT+CFUN=0')).toBe(OK);
    await fw.readUntil('\r\n+IMQTTCONN:-1\r\n');
    expect(await will.done).toEqual([{ topic: 'yuge/status', payload: 'offline', retain: false, qos: 1 }]);
    expect(await fw.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
    await atThen(fw, 'AT+IMQTTCONN', OK, '\r\n+IMQTTCONN:-1\r\n');
    expect(await fw.at('AT+IMQTTSUB=yuge/down,1')).toBe(ERROR);
    expect(await fw.at('AT')).toBe(OK);
    await fw.exit();
  }, 60_000);

  it('reports +IMQTTCONN:-1 when the external broker (--broker) goes away, and cannot connect until it is back', async () => {
    const mosq: MosquittoHandle = await startMosquitto();
    cleanups.push(() => mosq.stop());
    const vm = await vmodem({ link: newLink(), stateDir: tmpDir('state'), broker: `mqtt://127.0.0.1:${mosq.port}` });
    const fw = await firmwareOn(vm);
    expect(await fw.at('AT+IMQTTADDR=mqtt.example.com,1883,"yuge-drop"')).toBe(OK);
    await atThen(fw, 'AT+IMQTTCONN', OK, '\r\n+IMQTTCONN:0\r\n');
    await atThen(fw, 'AT+IMQTTSUB=yuge/x,0', OK, '\r\n+IMQTTSUB:2,0\r\n');
    await mosq.kill();
    expect((await fw.readUntil('\r\n+IMQTTCONN:-1\r\n')).text).toBe('\r\n+IMQTTCONN:-1\r\n');
    expect(await fw.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
    await atThen(fw, 'AT+IMQTTCONN', OK, '\r\n+IMQTTCONN:-1\r\n');
    await fw.exit();
  }, 60_000);

  it('registers with Aliyun (AT+IMQTTDYNREG), signs in with the triple, is refused a wrong secret and a foreign topic, and keeps the triple across a restart', async () => {
    const stateDir = tmpDir('state');
    const link = newLink();
    // The virtual cloud with the example registry comes up with the modem (--registry).
    const vm = await vmodem({ link, stateDir, registry: REGISTRY });
    const fw = await firmwareOn(vm);

    for (const line of ['AT+IMQTTMODE=1,0', 'AT+IMQTTPARA=TIMEOUT,3,CLEAN,1,KEEPALIVE,60,VERSION,3.1.1', 'AT+IMQTTADDR="a1m8qO1ceKE.iot-as-mqtt.cn-shanghai.aliyuncs.com",1883,""']) {
      expect(await fw.at(line), line).toBe(OK);
    }
    const triple = '"a1m8qO1ceKE","SDK_0004","8f920db5114396521af911861d60886d"';
    await atThen(fw, 'AT+IMQTTDYNREG=1,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg', OK, `\r\n+IMQTTDYNREG:1,${triple}\r\n`);
    // A wrong DeviceSecret is refused by the cloud (CONNACK 4): +IMQTTCONN:-1.
    expect(await fw.at('AT+IMQTTAUTH=a1m8qO1ceKE,SDK_0004,00000000000000000000000000000000')).toBe(OK);
    await atThen(fw, 'AT+IMQTTCONN', OK, '\r\n+IMQTTCONN:-1\r\n');
    expect(await fw.at(`AT+IMQTTAUTH=${triple}`)).toBe(OK);
    await atThen(fw, 'AT+IMQTTCONN', OK, '\r\n+IMQTTCONN:0\r\n');
    // Its own topics work both ways; another device's topic is refused.
    await atThen(fw, 'AT+IMQTTSUB=/a1m8qO1ceKE/SDK_0004/user/get,1', OK, '\r\n+IMQTTSUB:2,1\r\n');
    await atThen(fw, 'AT+IMQTTSUB=/a1m8qO1ceKE/device1/user/get,1', OK, '\r\n+IMQTTSUB:3,-1\r\n');
    await mosquittoPub(portOf(vm), '/a1m8qO1ceKE/SDK_0004/user/get', '{"LightSwitch":1}', { qos: 1 });
    await fw.readUntil(/\+IMQTTRCVPUB:\d+,"\/a1m8qO1ceKE\/SDK_0004\/user\/get",17,"\{"LightSwitch":1\}"\r\n/);
    const up = startMosquittoSub(portOf(vm), '/a1m8qO1ceKE/SDK_0004/user/update', { timeoutMs: 10_000 });
    await up.ready;
    // JSON goes out with AT+IMQTTPUBIN ("json 格式的数据请使用+IMQTTPUBIN 命令").
    await atThen(fw, `AT+IMQTTPUBIN=/a1m8qO1ceKE/SDK_0004/user/update,1,${Buffer.from('{"on":1}').toString('hex')}`, OK, '\r\n+IMQTTPUB:4,0\r\n');
    expect(await up.done).toEqual([{ topic: '/a1m8qO1ceKE/SDK_0004/user/update', payload: '{"on":1}' }]);
    await atThen(fw, 'AT+IMQTTDISCONN', OK, '\r\n+IMQTTCONN:-1\r\n');
    await fw.exit();
    await vm.stop();

    // Power cycle: a new vmodem on the same state dir finds the saved triple in flash.
    const vm2 = await vmodem({ link, stateDir });
    const fw2 = await firmwareOn(vm2);
    expect(await fw2.at('AT+IMQTTDYNREG=2')).toBe(reply(`+IMQTTDYNREG: 1,${triple}`, '+IMQTTDYNREG: 2,"","",""'));
    expect(await fw2.at('AT+IMQTTMODE?')).toBe(reply('+IMQTTMODE:2,0,0'));
    await fw2.exit();
  }, 60_000);
});
