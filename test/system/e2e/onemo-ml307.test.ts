/**
 * End to end: an ML307R (OneMO) vmodem on a real PTY, a python3 "firmware" process that opens
 * the device like a UART (os.open + termios raw), and Debian's mosquitto / mosquitto_pub /
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
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const running: RunningVmodem[] = [];
const brokers: MosquittoHandle[] = [];

afterEach(async () => {
  await killAllFirmware();
  await Promise.all(running.splice(0).map((v) => v.stop()));
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
});

async function vmodem(opts: VmodemOptions = {}): Promise<RunningVmodem> {
  const link = path.join(os.tmpdir(), `vmodem-ml307-${process.pid}-${randomBytes(4).toString('hex')}`);
  const vm = await startVmodem({ profile: 'onemo-ml307', link, mqttPort: 0, timing: 'fast', ...opts });
  running.push(vm);
  return vm;
}

/** The firmware opens the device, waits for the module to be ready and turns echo off. */
async function firmwareOn(vm: RunningVmodem): Promise<Firmware> {
  const fw = startFirmware();
  await fw.open(vm.linkPath!);
  await fw.readUntil('\r\n+MATREADY\r\n');
  await fw.at('ATE0');
  expect(await fw.at('AT')).toBe(OK);
  return fw;
}

/** Send a command, expect exactly `response`, then read through the URC that must follow it. */
async function atThen(fw: Firmware, line: string, response: string, urc: string | RegExp, timeoutMs = 10_000): Promise<string> {
  expect(await fw.at(line)).toBe(response);
  return (await fw.readUntil(urc, timeoutMs)).text;
}

const portOf = (vm: RunningVmodem) => Number(new URL(vm.brokerUrl).port);

describe.skipIf(need.missing)(`ML307R (OneMO) end to end through a real PTY${need.note}`, () => {
  it('connects, subscribes, receives and publishes QoS 0/1/2 and retained messages; the will fires on AT+CFUN=0', async () => {
    const vm = await vmodem();
    const port = portOf(vm);
    const fw = await firmwareOn(vm);

    expect(await fw.at('ATI')).toBe(reply('Mobiletek', 'ML307R-DC', 'Revision: ML307R-DC-MBRH0S01'));
    for (const line of ['AT+MQTTCFG="willoption",0,1,1,0', 'AT+MQTTCFG="willpayload",0,"ml/status","gone"', 'AT+MQTTCFG="keepalive",0,60']) {
      expect(await fw.at(line)).toBe(OK);
    }
    await atThen(fw, 'AT+MQTTCONN=0,"mqtt.heclouds.com",6002,"ml307-e2e","user","pass"', OK, '\r\n+MQTTURC: "conn",0,0\r\n');
    expect(await fw.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 2'));
    expect(await fw.at('AT+MQTTCONN=0,"mqtt.heclouds.com"')).toBe('\r\n+CME ERROR: 604\r\n');

    // Subscribe and receive what another device publishes.
    await atThen(fw, 'AT+MQTTSUB=0,"ml/down",1,"ml/cmd/#",2', reply('+MQTTSUB: 0,1'), '\r\n+MQTTURC: "suback",0,1,1,2\r\n');
    expect(await fw.at('AT+MQTTSUB=0')).toBe(reply('+MQTTSUB: "ml/down",1,"ml/cmd/#",2'));
    await mosquittoPub(port, 'ml/down', 'hello from cloud', { qos: 1 });
    const recv = await fw.readUntil(/\+MQTTURC: "publish",0,\d+,"ml\/down",16,16,hello from cloud\r\n/);
    expect(recv.text).toMatch(/"publish",0,[1-9]\d*,/); // QoS 1 delivery carries a packet id
    await mosquittoPub(port, 'ml/cmd/reboot', Buffer.from([0x00, 0xff, 0x0d, 0x0a]), { qos: 2 });
    const bin = await fw.readUntil(/"ml\/cmd\/reboot",4,4,\x00\xff\r\n\r\n/);
    expect(bin.bytes.subarray(-6)).toEqual(Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]));

    // Publish QoS 0/1/2, inline and in data mode (exactly <msg_len> bytes, no CR/LF), seen by mosquitto_sub.
    const sub = startMosquittoSub(port, 'ml/up/#', { count: 4, qos: 2, withFlags: true, timeoutMs: 15_000 });
    await sub.ready;
    expect(await fw.at('AT+MQTTPUB=0,"ml/up/q0",0,0,0,4,"zero"')).toBe(reply('+MQTTPUB: 0,2,16'));
    await atThen(fw, 'AT+MQTTPUB=0,"ml/up/q1",1,0,0,3,"one"', reply('+MQTTPUB: 0,3,17'), '\r\n+MQTTURC: "puback",0,3,0\r\n');
    expect(await fw.at('AT+MQTTPUB=0,"ml/up/q2",2,0,0,3')).toBe('\r\n> ');
    await fw.send('two');
    await fw.readUntil(`${reply('+MQTTPUB: 0,4,17')}\r\n+MQTTURC: "pubrec",0,4,0\r\n\r\n+MQTTURC: "pubcomp",0,4,0\r\n`);
    expect(await fw.at('AT+MQTTCFG="encoding",0,1')).toBe(OK);
    await atThen(fw, 'AT+MQTTPUB=0,"ml/up/hex",1,0,0,2,CAFE', reply('+MQTTPUB: 0,5,17'), '\r\n+MQTTURC: "puback",0,5,0\r\n');
    // mosquitto may deliver the QoS 2 message after later ones: compare by topic.
    const got = Object.fromEntries((await sub.done).map((g) => [g.topic, [g.payload, g.qos, g.retain]]));
    expect(got).toEqual({
      'ml/up/q0': ['zero', 0, false],
      'ml/up/q1': ['one', 1, false],
      'ml/up/q2': ['two', 2, false],
      'ml/up/hex': [expect.any(String), 1, false], // 0xCA 0xFE: its bytes are checked in the unit tests
    });

    // Retained: a subscriber that comes later still gets it, flagged retained.
    expect(await fw.at('AT+MQTTCFG="encoding",0,0')).toBe(OK);
    await atThen(fw, 'AT+MQTTPUB=0,"ml/retained",1,1,0,4,"kept"', reply('+MQTTPUB: 0,6,21'), '\r\n+MQTTURC: "puback",0,6,0\r\n');
    const late = await startMosquittoSub(port, 'ml/retained', { withFlags: true, timeoutMs: 5000 }).done;
    expect(late).toEqual([{ topic: 'ml/retained', payload: 'kept', retain: true, qos: 0 }]);

    // The radio goes off: the connection dies without DISCONNECT and the broker publishes the will.
    const will = startMosquittoSub(port, 'ml/status', { timeoutMs: 10_000 });
    await will.ready;
    expect(await fw.at('AT+CFUN=0')).toBe(OK);
    await fw.readUntil('\r\n+MQTTURC: "conn",0,6\r\n');
    expect(await will.done).toEqual([{ topic: 'ml/status', payload: 'gone' }]);
    expect(await fw.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
    expect(await fw.at('AT+MQTTCONN=0,"mqtt.heclouds.com"')).toBe('\r\n+CME ERROR: 605\r\n');
    expect(await fw.at('AT')).toBe(OK);
    await fw.exit();
  }, 60_000);

  it('tries to reconnect when the external broker (--broker) goes away, then reports "conn",<id>,4', async () => {
    const mosq = await startMosquitto();
    brokers.push(mosq);
    const vm = await vmodem({ broker: `mqtt://127.0.0.1:${mosq.port}` });
    const fw = await firmwareOn(vm);
    await atThen(fw, 'AT+MQTTCONN=2,"mqtt.example.com",1883,"ml307-drop"', OK, '\r\n+MQTTURC: "conn",2,0\r\n');
    await atThen(fw, 'AT+MQTTSUB=2,"ml/x",0', reply('+MQTTSUB: 2,1'), '\r\n+MQTTURC: "suback",2,1,0\r\n');
    expect(await fw.at('AT+MQTTSUB=0,"ml/x",0')).toBe('\r\n+CME ERROR: 602\r\n'); // client 0 is not connected
    await mosq.kill();
    // "reconn" defaults to 3 attempts 20 s apart (200 ms with fast timing).
    await fw.readUntil('\r\n+MQTTURC: "conn",2,1\r\n');
    expect(await fw.at('AT+MQTTSTATE=2')).toBe(reply('+MQTTSTATE: 1'));
    await fw.readUntil('\r\n+MQTTURC: "conn",2,4\r\n');
    expect(await fw.at('AT')).toBe(OK);
    expect(await fw.at('AT+MQTTSTATE=2')).toBe(reply('+MQTTSTATE: 3'));
    await atThen(fw, 'AT+MQTTCONN=2,"mqtt.example.com",1883,"ml307-drop"', OK, '\r\n+MQTTURC: "conn",2,6\r\n');
    await fw.exit();
  }, 60_000);

  it('reports "conn",<id>,3 when mosquitto refuses the password (or an empty client id), and connects with the right one', async () => {
    const mosq = await startMosquitto({ passwordFile: { user: 'ml307', pass: 's3cret' } });
    brokers.push(mosq);
    const vm = await vmodem({ broker: `mqtt://127.0.0.1:${mosq.port}` });
    const fw = await firmwareOn(vm);
    await atThen(fw, 'AT+MQTTCONN=0,"mqtt.example.com",1883,"ml307-pw","ml307","wrong"', OK, '\r\n+MQTTURC: "conn",0,3\r\n');
    expect(await fw.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
    // clean 0 (the default) with no client id is refused as "identifier rejected" [MQTT-3.1.3-8].
    await atThen(fw, 'AT+MQTTCONN=0,"mqtt.example.com",1883,"","ml307","s3cret"', OK, '\r\n+MQTTURC: "conn",0,3\r\n');
    await atThen(fw, 'AT+MQTTCONN=0,"mqtt.example.com",1883,"ml307-pw","ml307","s3cret"', OK, '\r\n+MQTTURC: "conn",0,0\r\n');
    await atThen(fw, 'AT+MQTTDISC=0', OK, '\r\n+MQTTURC: "conn",0,2\r\n');
    expect(await fw.at('AT+MQTTDISC=0')).toBe('\r\n+CME ERROR: 602\r\n');
    await fw.exit();
  }, 60_000);
});
