/**
 * OTA from the control API: the cloud offers an image (POST …/firmware); a Tencent module that
 * listens on its OTA topic downloads it from the virtual cloud, checks it and reports success,
 * and the firmware reads the same bytes back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ControlClient } from '../../src/control/ctl-client.js';
import { startVmodem } from '../../src/vmodem.js';
import { killAllFirmware, startFirmware } from '../helpers/firmware.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  await killAllFirmware();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const OK = '\r\nOK\r\n';

describe('POST /v1/modems/{ref}/firmware', () => {
  it('offers an image the module downloads, verifies and reads back byte for byte', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-ota-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const link = path.join(os.tmpdir(), `vmodem-ota-${process.pid}-${randomBytes(4).toString('hex')}`);
    const vm = await startVmodem({ profile: 'tencent-qcloud', link, mqttPort: 0, timing: 'fast', stateDir, control: { port: 0 } });
    cleanups.push(() => vm.stop());
    const client = new ControlClient({ url: vm.control!.url, token: vm.control!.token });

    const fw = startFirmware();
    await fw.open(link);
    await fw.readUntil('\r\nready\r\n');
    expect(await fw.at('ATE0')).toBe(`ATE0\r${OK}`);
    const okThen = async (line: string, result: string) => {
      expect(await fw.at(line)).toBe(OK);
      expect((await fw.readUntil(/\r\n\+[^\r]*\r\n/, 10_000)).text).toBe(`\r\n${result}\r\n`);
    };

    // Before the device listens on its OTA topic, there is nobody to offer it to.
    await expect(client.firmware('2.0.0', Buffer.from('x'))).rejects.toMatchObject({ code: 'no-ota-subscription' });

    await okThen('AT+TCDEVINFOSET=1,"OTAPROD001","dev1","ZHNkIGRzZCA="', '+TCDEVINFOSET:OK');
    await okThen('AT+TCMQTTCONN=0,5000,240,1,1', '+TCMQTTCONN:OK');
    await okThen('AT+TCOTASET=1,"1.0.0"', '+TCOTASET:OK');

    const image = randomBytes(3000);
    const md5 = createHash('md5').update(image).digest('hex');
    const offer = await client.firmware('2.0.0', image);
    expect(offer).toMatchObject({ topic: '$ota/update/OTAPROD001/dev1', md5, size: 3000 });
    expect((await fw.readUntil('UPDATESUCCESS\r\n', 15_000)).text).toBe('\r\n+TCOTASTATUS:ENTERUPDATE\r\n\r\n+TCOTASTATUS:UPDATESUCCESS\r\n');

    // The device reported its progress to the cloud on its report topic.
    // (It may reach the broker a moment after the URC reached the firmware.)
    await vi.waitFor(
      () => {
        const reports = vm.modems[0]!.controller.published('$ota/report/OTAPROD001/dev1').map((p) => JSON.parse(p.payload.toString()));
        expect(reports.some((r) => r.report?.progress?.state === 'done')).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );

    expect(await fw.at('AT+TCFWINFO?')).toBe(OK);
    const info = (await fw.readUntil(/\+TCFWINFO:[^\r]*\r\n/)).text;
    expect(info).toContain(`"2.0.0",3000,"${md5}"`);
    const parts: Buffer[] = [];
    while (parts.reduce((n, b) => n + b.length, 0) < 3000) {
      expect(await fw.at('AT+TCREADFWDATA=1024')).toBe(OK);
      const m = /\+TCREADFWDATA:(\d+),([0-9A-Fa-f]*)\r\n/.exec((await fw.readUntil(/\+TCREADFWDATA:[^\r]*\r\n/)).text);
      expect(m).not.toBeNull();
      parts.push(Buffer.from(m![2]!, 'hex'));
    }
    expect(Buffer.concat(parts).equals(image)).toBe(true);
    await fw.exit();
  }, 60_000);
});
