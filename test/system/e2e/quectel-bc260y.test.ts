/**
 * End to end: a BC260Y-CN vmodem on a real PTY, a python3 "firmware" process that opens the
 * device like a UART (os.open + termios raw), and Debian's mosquitto / mosquitto_pub /
 * mosquitto_sub as the broker and the other devices of the cloud.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startVmodem, type RunningVmodem, type VmodemOptions } from '../../../src/vmodem.js';
import { killAllFirmware, startFirmware, type Firmware } from '../../helpers/firmware.js';
import { mosquittoPub, startMosquitto, startMosquittoSub, type MosquittoHandle } from '../../helpers/mosquitto.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3', 'mosquitto', 'mosquitto_sub', 'mosquitto_pub');

const OK = '\r\nOK\r\n';
const running: RunningVmodem[] = [];
const brokers: MosquittoHandle[] = [];

afterEach(async () => {
  await killAllFirmware();
  await Promise.all(running.splice(0).map((v) => v.stop()));
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
});

async function vmodem(opts: VmodemOptions = {}): Promise<RunningVmodem> {
  const link = path.join(os.tmpdir(), `vmodem-bc260y-${process.pid}-${randomBytes(4).toString('hex')}`);
  const vm = await startVmodem({ profile: 'quectel-bc260y', link, mqttPort: 0, timing: 'fast', ...opts });
  running.push(vm);
  return vm;
}

/** The firmware opens the device, sees the module boot, turns echo off and enables CME codes. */
async function firmwareOn(vm: RunningVmodem): Promise<Firmware> {
  const fw = startFirmware();
  await fw.open(vm.linkPath!);
  await fw.readUntil('\r\nRDY\r\n');
  await fw.at('ATE0');
  expect(await fw.at('AT+CMEE=1')).toBe(OK);
  return fw;
}

/** Send a command and read through its final result code and the URC that must follow it. */
async function atThen(fw: Firmware, line: string, urc: string | RegExp, timeoutMs = 10_000): Promise<string> {
  expect(await fw.at(line)).toBe(OK);
  return (await fw.readUntil(urc, timeoutMs)).text;
}

async function openAndConnect(fw: Firmware, idx: number, clientId: string, creds = ''): Promise<void> {
  await atThen(fw, `AT+QMTOPEN=${idx},"iot-as-mqtt.example.com",1883`, `+QMTOPEN: ${idx},0\r\n`);
  await atThen(fw, `AT+QMTCONN=${idx},"${clientId}"${creds}`, `+QMTCONN: ${idx},0,0\r\n`);
}

const portOf = (vm: RunningVmodem) => Number(new URL(vm.brokerUrl).port);

describe.skipIf(need.missing)(`BC260Y-CN end to end through a real PTY${need.note}`, () => {
  it('connects, subscribes, receives and publishes QoS 0/1/2 and retained messages; the will fires on AT+CFUN=0', async () => {
    const vm = await vmodem();
    const port = portOf(vm);
    const fw = await firmwareOn(vm);

    expect(await fw.at('ATI')).toBe('\r\nQuectel\r\nBC260Y-CN\r\nRevision: BC260YCNAAR02A03\r\n\r\nOK\r\n');
    for (const line of ['AT+QMTCFG="will",0,1,1,0,"bc/status","gone"', 'AT+QMTCFG="showrecvlen",0,1', 'AT+QMTCFG="echomode",0,0']) {
      expect(await fw.at(line)).toBe(OK);
    }
    await openAndConnect(fw, 0, 'bc260y-e2e');
    expect(await fw.at('AT+QMTCONN?')).toBe('\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n');

    // Subscribe and receive what another device publishes.
    await atThen(fw, 'AT+QMTSUB=0,1,"bc/down",1', '\r\n+QMTSUB: 0,1,0,1\r\n');
    await mosquittoPub(port, 'bc/down', 'hello from cloud', { qos: 1 });
    const recv = await fw.readUntil(/\+QMTRECV: 0,\d+,"bc\/down",16,"hello from cloud"\r\n/);
    expect(recv.text).toMatch(/\+QMTRECV: 0,[1-9]\d*,/); // QoS 1 delivery carries a packet id

    // Publish in all three forms, QoS 0/1/2, seen by mosquitto_sub.
    const sub = startMosquittoSub(port, 'bc/up/#', { count: 3, qos: 2, withFlags: true, timeoutMs: 15_000 });
    await sub.ready;
    expect(await fw.at('AT+QMTPUB=0,0,0,0,"bc/up/q0"')).toBe('\r\n> ');
    await fw.send('zero\x1a');
    await fw.readUntil('\r\nOK\r\n\r\n+QMTPUB: 0,0,0\r\n');
    expect(await fw.at('AT+QMTPUB=0,10,1,0,"bc/up/q1",3')).toBe('\r\n> ');
    await fw.send('one');
    await fw.readUntil('\r\nOK\r\n\r\n+QMTPUB: 0,10,0\r\n');
    await atThen(fw, 'AT+QMTPUB=0,11,2,0,"bc/up/q2",3,"two"', '\r\n+QMTPUB: 0,11,0\r\n');
    const got = await sub.done;
    expect(got.map((g) => [g.topic, g.payload, g.qos, g.retain])).toEqual([
      ['bc/up/q0', 'zero', 0, false],
      ['bc/up/q1', 'one', 1, false],
      ['bc/up/q2', 'two', 2, false],
    ]);

    // Retained: a subscriber that comes later still gets it, flagged retained.
    await atThen(fw, 'AT+QMTPUB=0,12,1,1,"bc/retained",4,"kept"', '\r\n+QMTPUB: 0,12,0\r\n');
    const late = await startMosquittoSub(port, 'bc/retained', { withFlags: true, timeoutMs: 5000 }).done;
    expect(late).toEqual([{ topic: 'bc/retained', payload: 'kept', retain: true, qos: 0 }]);

    // The radio goes off: the link dies without DISCONNECT and the broker publishes the will.
    const will = startMosquittoSub(port, 'bc/status', { timeoutMs: 10_000 });
    await will.ready;
    expect(await fw.at('AT+CFUN=0')).toBe(OK);
    await fw.readUntil('\r\n+QMTSTAT: 0,7\r\n');
    expect(await will.done).toEqual([{ topic: 'bc/status', payload: 'gone' }]);
    expect(await fw.at('AT')).toBe(OK);
    await fw.exit();
  }, 60_000);

  it('reports +QMTSTAT: <id>,1 when the external broker (--broker) goes away, and keeps answering', async () => {
    const mosq = await startMosquitto();
    brokers.push(mosq);
    const vm = await vmodem({ broker: `mqtt://127.0.0.1:${mosq.port}` });
    const fw = await firmwareOn(vm);
    // MQTT 3.1 (<version_num> 0) is what this session speaks; mosquitto accepts it.
    expect(await fw.at('AT+QMTCFG="version",0,0')).toBe(OK);
    await openAndConnect(fw, 2, 'bc260y-drop');
    await atThen(fw, 'AT+QMTSUB=2,1,"bc/x",0', '\r\n+QMTSUB: 2,1,0,0\r\n');
    expect(await fw.at('AT+QMTSUB=0,1,"bc/x",0')).toBe('\r\n+CME ERROR: 8503\r\n'); // index 0 is not connected
    await mosq.kill();
    await fw.readUntil('\r\n+QMTSTAT: 2,1\r\n');
    expect(await fw.at('AT')).toBe(OK);
    expect(await fw.at('AT+QMTCONN?')).toBe(OK);
    await atThen(fw, 'AT+QMTOPEN=2,"iot-as-mqtt.example.com",1883', '\r\n+QMTOPEN: 2,-1\r\n');
    await fw.exit();
  }, 60_000);

  it('shows the refused password as +QMTCONN: 0,0,5, then connects with the right one', async () => {
    const mosq = await startMosquitto({ passwordFile: { user: 'bc', pass: 'right' } });
    brokers.push(mosq);
    const vm = await vmodem({ broker: `mqtt://127.0.0.1:${mosq.port}` });
    const fw = await firmwareOn(vm);
    await atThen(fw, 'AT+QMTOPEN=0,"iot-as-mqtt.example.com",1883', '+QMTOPEN: 0,0\r\n');
    await atThen(fw, 'AT+QMTCONN=0,"bc260y-auth","bc","wrong"', '\r\n+QMTCONN: 0,0,5\r\n');
    await fw.readUntil('\r\n+QMTSTAT: 0,1\r\n');
    await openAndConnect(fw, 0, 'bc260y-auth', ',"bc","right"');
    await atThen(fw, 'AT+QMTDISC=0', '\r\n+QMTDISC: 0,0\r\n');
    await fw.exit();
  }, 60_000);
});
