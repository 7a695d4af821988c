/**
 * End to end: a Tencent QCloud AT module (ESP8266 firmware) on a real PTY, a python3 "firmware"
 * process that opens the device like a UART, the virtual cloud on the embedded broker (a strict
 * registry, HTTP registration and firmware downloads), and mosquitto_pub / mosquitto_sub as the
 * cloud's other clients.
 *
 * startVmodem does not yet start the virtual cloud nor give the modem its flash; until it does,
 * the tests attach both to the running vmodem (`??=`: a no-op once startVmodem wires them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../../../src/cloud/virtual-cloud.js';
import { startVmodem, type RunningVmodem } from '../../../src/vmodem.js';
import { killAllFirmware, startFirmware, type Firmware } from '../../helpers/firmware.js';
import { mosquittoPub, startMosquittoSub } from '../../helpers/mosquitto.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3', 'mosquitto_sub', 'mosquitto_pub');

const OK = '\r\nOK\r\n';
const PS = 'hzvf5LF9S0isvBhDSauWMaIk';
const REGISTRY = {
  products: [
    { platform: 'tencent', productId: 'CTQS08Y5LG', devices: [{ deviceName: 'device1', deviceSecret: 'ZHNkIGRzZCA=' }] },
    { platform: 'tencent', productId: 'ASJ0000GX1', productSecret: PS, devices: [{ deviceName: 'xyz' }] },
  ],
};

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  await killAllFirmware();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'vmodem-tc-e2e-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

interface Running {
  vm: RunningVmodem;
  cloud: RunningCloud;
  port: number;
}

async function start(stateDir: string): Promise<Running> {
  const link = path.join(os.tmpdir(), `vmodem-tc-${process.pid}-${randomBytes(4).toString('hex')}`);
  // The virtual cloud comes up with the modem (--registry), as `vmodem start` runs it.
  const registry = path.join(stateDir, 'registry.json');
  writeFileSync(registry, JSON.stringify(REGISTRY));
  const vm = await startVmodem({ profile: 'tencent-qcloud', link, mqttPort: 0, timing: 'fast', stateDir, registry });
  cleanups.push(() => vm.stop());
  return { vm, cloud: vm.cloud!, port: Number(new URL(vm.brokerUrl).port) };
}

/** The firmware opens the device, waits for the module's `ready` and turns echo off. */
async function firmwareOn(vm: RunningVmodem): Promise<Firmware> {
  const fw = startFirmware();
  await fw.open(vm.linkPath!);
  await fw.readUntil('\r\nready\r\n');
  expect(await fw.at('ATE0')).toBe(`ATE0\r${OK}`);
  return fw;
}

/** A command answered OK, then its `+TC…` result line. */
async function okThen(fw: Firmware, line: string, result: string, timeoutMs = 10_000): Promise<void> {
  expect(await fw.at(line)).toBe(OK);
  expect((await fw.readUntil(/\r\n\+[^\r]*\r\n/, timeoutMs)).text).toBe(`\r\n${result}\r\n`);
}

describe.skipIf(need.missing)(`Tencent QCloud AT end to end through a real PTY${need.note}`, () => {
  it('signs in with its own PSK, is refused a wrong one and a forbidden topic, and exchanges messages both ways', async () => {
    const { vm, port } = await start(tempDir());
    const fw = await firmwareOn(vm);

    expect(await fw.at('AT+TCMODULE')).toContain('Module HW name: ESP-WROOM-02D\r\n');
    await okThen(fw, 'AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","b3RoZXI="', '+TCDEVINFOSET:OK');
    await okThen(fw, 'AT+TCMQTTCONN=0,5000,240,1,1', '+TCMQTTCONN:FAIL,-116');
    await okThen(fw, 'AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","ZHNkIGRzZCA="', '+TCDEVINFOSET:OK');
    expect(await fw.at('AT+TCDEVINFOSET?')).toBe(`\r\n+TCDEVINFOSET:1,"CTQS08Y5LG","device1",116,"ap-guangzhou"\r\n${OK}`);
    await okThen(fw, 'AT+TCMQTTCONN=0,5000,240,1,1', '+TCMQTTCONN:OK');
    expect(await fw.at('AT+TCMQTTSTATE?')).toBe(`\r\n+TCMQTTSTATE:1\r\n${OK}`);

    // Downlink: another client of the cloud publishes; the payload arrives raw with its length.
    await okThen(fw, 'AT+TCMQTTSUB="CTQS08Y5LG/device1/control",1', '+TCMQTTSUB:OK');
    await okThen(fw, 'AT+TCMQTTSUB="CTQS08Y5LG/device1/event",0', '+TCMQTTSUB:FAIL,-108');
    await mosquittoPub(port, 'CTQS08Y5LG/device1/control', '{"cmd":"on","v":"a,b"}', { qos: 1 });
    expect((await fw.readUntil(/\+TCMQTTRCVPUB:[^\r]*\r\n/)).text).toBe('\r\n+TCMQTTRCVPUB:"CTQS08Y5LG/device1/control",22,"{"cmd":"on","v":"a,b"}"\r\n');
    await mosquittoPub(port, 'CTQS08Y5LG/device1/control', Buffer.from([0x0d, 0x0a, 0x22, 0x00]));
    const bin = await fw.readUntil(/,4,"[\s\S]{4}"\r\n/);
    expect(bin.bytes.subarray(-8)).toEqual(Buffer.from([0x22, 0x0d, 0x0a, 0x22, 0x00, 0x22, 0x0d, 0x0a]));

    // Uplink: an inline message with the driver's escapes, and a long one through the prompt.
    const sub = startMosquittoSub(port, 'CTQS08Y5LG/device1/up/#', { count: 2, qos: 1, timeoutMs: 15_000 });
    await sub.ready;
    await okThen(fw, 'AT+TCMQTTPUB="CTQS08Y5LG/device1/up/status",1,"{\\"t\\":21.5\\,\\"ok\\":true}"', '+TCMQTTPUB:OK');
    expect(await fw.at('AT+TCMQTTPUBL="CTQS08Y5LG/device1/up/log",0,11')).toBe(OK);
    await fw.readUntil('\r\n>\r\n');
    await fw.send('Hello,world\r\n');
    expect((await fw.readUntil(/\r\n\+[^\r]*\r\n/)).text).toBe('\r\n+TCMQTTPUBL:OK\r\n');
    expect(await sub.done).toEqual([
      { topic: 'CTQS08Y5LG/device1/up/status', payload: '{"t":21.5,"ok":true}' },
      { topic: 'CTQS08Y5LG/device1/up/log', payload: 'Hello,world' },
    ]);

    // A publish the platform does not allow: the cloud drops the device, which says so and reconnects.
    expect(await fw.at('AT+TCMQTTPUB="CTQS08Y5LG/device1/control",0,"x"')).toBe(OK);
    const dropped = await fw.readUntil('+TCMQTTRECONNECTED\r\n');
    expect(dropped.text).toContain('\r\n+TCMQTTDISCON,-608\r\n\r\n+TCMQTTRECONNECTING\r\n');
    await okThen(fw, 'AT+TCMQTTSUB="CTQS08Y5LG/device1/data",0', '+TCMQTTSUB:OK');
    expect(await fw.at('AT+TCMQTTDISCONN')).toBe(`\r\n+TCMQTTDISCON,2\r\n${OK}`);
    expect(await fw.at('AT+TCMQTTSTATE?')).toBe(`\r\n+TCMQTTSTATE:0\r\n${OK}`);
    // Unknown to the ESP-AT core underneath: its error-code line first (profile at.unknownCommandLines).
    expect(await fw.at('AT+TCNOPE')).toBe('\r\nERR CODE:0x01090000\r\n\r\nERROR\r\n');
    await fw.exit();
  }, 60_000);

  it('registers dynamically, keeps it across a restart, then takes an OTA image byte for byte; a corrupted one fails', async () => {
    const stateDir = tempDir();
    let run = await start(stateDir);
    let fw = await firmwareOn(run.vm);
    await okThen(fw, `AT+TCPRDINFOSET=0,"ASJ0000GX1","${PS}","xyz"`, '+TCPRDINFOSET:OK');
    await okThen(fw, 'AT+TCDEVREG', '+TCDEVREG:OK');
    await fw.exit();
    // The module (and the whole vmodem, cloud included) restarts on the same state dir.
    await run.cloud.close();
    await run.vm.stop();
    run = await start(stateDir);
    fw = await firmwareOn(run.vm);
    expect(await fw.at('AT+TCDEVINFOSET?')).toMatch(/^\r\n\+TCDEVINFOSET:0,"ASJ0000GX1","xyz",\d+,"ap-guangzhou"\r\n\r\nOK\r\n$/);
    await okThen(fw, 'AT+TCMQTTCONN=0,5000,240,1,1', '+TCMQTTCONN:OK');

    const image = randomBytes(40_000);
    const md5 = createHash('md5').update(image).digest('hex');
    run.cloud.firmware.add('app-2.0.0.bin', image);
    const reports = startMosquittoSub(run.port, '$ota/report/ASJ0000GX1/xyz', { count: 1, timeoutMs: 10_000 });
    await reports.ready;
    await okThen(fw, 'AT+TCOTASET=1,"1.0.0"', '+TCOTASET:OK');
    expect(await reports.done).toEqual([{ topic: '$ota/report/ASJ0000GX1/xyz', payload: '{"type":"report_version","report":{"version":"1.0.0"}}' }]);

    const pushed = (fields: Record<string, unknown>) =>
      mosquittoPub(
        run.port,
        '$ota/update/ASJ0000GX1/xyz',
        JSON.stringify({ type: 'update_firmware', version: '2.0.0', url: `${run.cloud.http!.httpUrl}/firmware/app-2.0.0.bin`, md5sum: md5, file_size: image.length, ...fields }),
        { qos: 1 },
      );
    await pushed({});
    expect((await fw.readUntil('UPDATESUCCESS\r\n', 15_000)).text).toBe('\r\n+TCOTASTATUS:ENTERUPDATE\r\n\r\n+TCOTASTATUS:UPDATESUCCESS\r\n');
    expect(await fw.at('AT+TCFWINFO?')).toBe(OK);
    expect((await fw.readUntil(/\+TCFWINFO:[^\r]*\r\n/)).text).toBe(`\r\n+TCFWINFO:"2.0.0",40000,"${md5}",262144\r\n`);
    const parts: Buffer[] = [];
    for (;;) {
      expect(await fw.at('AT+TCREADFWDATA=2048')).toBe(OK);
      const m = /\+TCREADFWDATA:(\d+),([0-9A-F]*)\r\n$/.exec((await fw.readUntil(/\+TCREADFWDATA:\d+,[0-9A-F]*\r\n/)).text)!;
      parts.push(Buffer.from(m[2]!, 'hex'));
      if (Number(m[1]) < 2048) break;
    }
    expect(createHash('md5').update(Buffer.concat(parts)).digest('hex')).toBe(md5);
    expect(await fw.at('AT+TCREADFWDATA=2048')).toBe('\r\n+CME ERROR: 209\r\n');

    // The same push over a corrupted copy of the image: the MD5 check fails.
    const corrupted = Buffer.from(image);
    corrupted[1234] ^= 0xff;
    run.cloud.firmware.add('app-2.0.0.bin', corrupted);
    await pushed({});
    expect((await fw.readUntil(/UPDATE(SUCCESS|FAIL)\r\n/, 15_000)).text).toBe('\r\n+TCOTASTATUS:ENTERUPDATE\r\n\r\n+TCOTASTATUS:UPDATEFAIL\r\n');
    expect(await fw.at('AT+TCFWINFO?')).toBe('\r\n+CME ERROR: 205\r\n');
    await fw.exit();
  }, 90_000);
});
