/**
 * Tencent IoT AT §4 OTA and §5.5 against the virtual cloud: AT+TCOTASET reports the version and
 * listens; the cloud pushes `update_firmware` on `$ota/update/{pid}/{dn}` (published here through
 * the embedded broker); the module downloads the image from the cloud's firmware service, checks
 * size and MD5, reports its progress, and the MCU reads it back with AT+TCFWINFO? and
 * AT+TCREADFWDATA (§4.2–§4.3 offset rules).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cme, OK, okThen, reply, startTencent, type HarnessOptions, type TencentHarness } from './tencent-harness.js';

const REGISTRY = { products: [{ platform: 'tencent', productId: 'CTQS08Y5LG', devices: [{ deviceName: 'device1', deviceSecret: 'ZHNkIGRzZCA=' }] }] };
const UPDATE = '$ota/update/CTQS08Y5LG/device1';
const REPORT = '$ota/report/CTQS08Y5LG/device1';
const IMAGE = randomBytes(17300);
const MD5 = createHash('md5').update(IMAGE).digest('hex');

const running: TencentHarness[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Connected (plain), OTA enabled with version 1.0.0, the image in the cloud's catalog. */
async function otaReady(opts: HarnessOptions = {}): Promise<TencentHarness> {
  const h = await startTencent({ registry: REGISTRY, http: true, ...opts });
  running.push(h);
  h.cloud!.firmware.add('fw-1.2.0.bin', IMAGE);
  await h.exchange('AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'));
  expect(await h.exchange('AT+TCMQTTCONN=0,5000,240,1,1', okThen('+TCMQTTCONN:OK'))).toBe(okThen('+TCMQTTCONN:OK'));
  expect(await h.exchange('AT+TCOTASET=1,"1.0.0"', okThen('+TCOTASET:OK'))).toBe(okThen('+TCOTASET:OK'));
  return h;
}

function push(h: TencentHarness, fields: Partial<{ version: string; url: string; md5sum: string; file_size: number }> = {}): Promise<void> {
  const body = { type: 'update_firmware', version: '1.2.0', url: `${h.cloud!.http!.httpUrl}/firmware/fw-1.2.0.bin`, md5sum: MD5, file_size: IMAGE.length, ...fields };
  return h.publish(UPDATE, JSON.stringify(body), 1);
}

const reports = (h: TencentHarness) => h.published.filter((p) => p.topic === REPORT).map((p) => JSON.parse(p.payload.toString()) as Record<string, unknown>);

/** Read the whole image with AT+TCREADFWDATA=<len> until a short read. */
async function readAll(h: TencentHarness, len: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    h.clear();
    h.send(`AT+TCREADFWDATA=${len}\r`);
    const out = await h.waitFor(/\+TCREADFWDATA:\d+,[0-9A-F]*\r\n|CME ERROR[^\r]*\r\n/);
    const m = /^\r\nOK\r\n\r\n\+TCREADFWDATA:(\d+),([0-9A-F]*)\r\n$/.exec(out);
    expect(m, out.slice(0, 80)).not.toBeNull();
    const chunk = Buffer.from(m![2]!, 'hex');
    expect(chunk.length).toBe(Number(m![1]));
    parts.push(chunk);
    if (chunk.length < len) return Buffer.concat(parts);
  }
}

describe('AT+TCOTASET (§4.1)', () => {
  it('reports the version to the cloud and shows the setting (OK first)', async () => {
    const h = await otaReady();
    expect(reports(h)).toEqual([{ type: 'report_version', report: { version: '1.0.0' } }]);
    expect(h.published.find((p) => p.topic === REPORT)!.qos).toBe(1);
    expect(await h.exchange('AT+TCOTASET?', `${OK}\r\n+TCOTASET:1,"1.0.0"\r\n`)).toBe(`${OK}\r\n+TCOTASET:1,"1.0.0"\r\n`);
    expect(await h.exchange('AT+TCOTASET=0,"1.0.0"', okThen('+TCOTASET:OK'))).toBe(okThen('+TCOTASET:OK'));
    expect(await h.exchange('AT+TCOTASET?', `${OK}\r\n+TCOTASET:0,"1.0.0"\r\n`)).toBe(`${OK}\r\n+TCOTASET:0,"1.0.0"\r\n`);
    // No longer listening: a push goes unanswered.
    h.clear();
    await push(h);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.output()).toBe('');
  });

  it('stops listening with the connection closed by AT+TCMQTTDISCONN, until enabled again', async () => {
    const h = await otaReady();
    expect(await h.at('AT+TCMQTTDISCONN')).toBe(reply('+TCMQTTDISCON,2'));
    expect(await h.exchange('AT+TCOTASET?', `${OK}\r\n+TCOTASET:0,"1.0.0"\r\n`)).toBe(`${OK}\r\n+TCOTASET:0,"1.0.0"\r\n`);
    await h.exchange('AT+TCMQTTCONN=0,5000,240,1,1', okThen('+TCMQTTCONN:OK'));
    expect(await h.exchange('AT+TCOTASET=1,"1.0.1"', okThen('+TCOTASET:OK'))).toBe(okThen('+TCOTASET:OK'));
    expect(await h.exchange('AT+TCOTASET?', `${OK}\r\n+TCOTASET:1,"1.0.1"\r\n`)).toBe(`${OK}\r\n+TCOTASET:1,"1.0.1"\r\n`);
    h.clear();
    await push(h);
    expect(await h.waitFor('UPDATESUCCESS\r\n')).toBe('\r\n+TCOTASTATUS:ENTERUPDATE\r\n\r\n+TCOTASTATUS:UPDATESUCCESS\r\n');
  });

  it('refuses bad arguments (204)', async () => {
    const h = await otaReady();
    for (const line of ['AT+TCOTASET=2,"1.0.0"', 'AT+TCOTASET=1', 'AT+TCOTASET=1,""', `AT+TCOTASET=1,"${'1'.repeat(33)}"`, 'AT+TCOTASET=1,1.0.0']) {
      expect(await h.at(line), line).toBe(cme(204));
    }
  });
});

describe('firmware push and download (§4, §5.5)', () => {
  it('downloads, checks and caches the image, reporting progress; the MCU reads it back byte for byte', async () => {
    const h = await otaReady();
    h.clear();
    await push(h);
    expect(await h.waitFor('UPDATESUCCESS\r\n')).toBe('\r\n+TCOTASTATUS:ENTERUPDATE\r\n\r\n+TCOTASTATUS:UPDATESUCCESS\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const progress = reports(h)
      .slice(1)
      .map((r) => (r.report as { progress: Record<string, string> }).progress);
    expect(progress[0]).toEqual({ state: 'downloading', percent: '0', result_code: '0', result_msg: '' });
    expect(progress.filter((p) => p.state === 'downloading').map((p) => Number(p.percent))).toContain(100);
    expect(progress.slice(-2)).toEqual([
      { state: 'burning', result_code: '0', result_msg: '' },
      { state: 'done', result_code: '0', result_msg: 'success' },
    ]);
    expect(reports(h).slice(1).every((r) => r.type === 'report_progress' && (r.report as { version: string }).version === '1.2.0')).toBe(true);

    const info = `${OK}\r\n+TCFWINFO:"1.2.0",17300,"${MD5}",262144\r\n`;
    expect(await h.exchange('AT+TCFWINFO?', info)).toBe(info);
    const image = await readAll(h, 2048);
    expect(createHash('md5').update(image).digest('hex')).toBe(MD5);
    expect(image).toEqual(IMAGE);
    // At the end: an error until AT+TCFWINFO? sets the offset back.
    expect(await h.at('AT+TCREADFWDATA=16')).toBe(cme(209));
    expect(await h.exchange('AT+TCFWINFO?', info)).toBe(info);
    h.clear();
    h.send('AT+TCREADFWDATA=4\r');
    expect(await h.waitFor(/TCREADFWDATA:4,[0-9A-F]{8}\r\n/)).toBe(`${OK}\r\n+TCREADFWDATA:4,${IMAGE.subarray(0, 4).toString('hex').toUpperCase()}\r\n`);
  });

  it('reports UPDATEFAIL and keeps no image when the MD5 does not match (-4 to the cloud)', async () => {
    const h = await otaReady();
    h.clear();
    await push(h, { md5sum: '0'.repeat(32) });
    expect(await h.waitFor('UPDATEFAIL\r\n')).toBe('\r\n+TCOTASTATUS:ENTERUPDATE\r\n\r\n+TCOTASTATUS:UPDATEFAIL\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const last = reports(h).pop()!.report as { progress: Record<string, string> };
    expect(last.progress).toMatchObject({ state: 'fail', result_code: '-4' });
    expect(await h.at('AT+TCFWINFO?')).toBe(cme(205));
    expect(await h.at('AT+TCREADFWDATA=16')).toBe(cme(205));
  });

  it('fails on a missing file (-2), a wrong size (-5) and an image larger than the module keeps', async () => {
    const h = await otaReady();
    for (const [fields, code] of [
      [{ url: `${h.cloud!.http!.httpUrl}/firmware/missing.bin` }, '-2'],
      [{ file_size: IMAGE.length + 1 }, '-5'],
      [{ file_size: 262145 }, '-5'],
    ] as const) {
      h.clear();
      await push(h, fields);
      expect(await h.waitFor('UPDATEFAIL\r\n')).toBe('\r\n+TCOTASTATUS:ENTERUPDATE\r\n\r\n+TCOTASTATUS:UPDATEFAIL\r\n');
      await new Promise((r) => setTimeout(r, 30));
      expect((reports(h).pop()!.report as { progress: Record<string, string> }).progress.result_code).toBe(code);
    }
  });

  it('downloads over HTTPS, and from a production URL through the virtual cloud', async () => {
    const h = await otaReady();
    for (const url of [`${h.cloud!.http!.httpsUrl}/firmware/fw-1.2.0.bin`, 'https://ota-1255858890.cos.ap-guangzhou.myqcloud.com/fw-1.2.0.bin?sign=abc']) {
      h.clear();
      await push(h, { url });
      expect(await h.waitFor(/UPDATE(SUCCESS|FAIL)\r\n/)).toBe('\r\n+TCOTASTATUS:ENTERUPDATE\r\n\r\n+TCOTASTATUS:UPDATESUCCESS\r\n');
    }
  });

  it('refuses the commands that need a quiet module while the download runs (208)', async () => {
    const h = await otaReady();
    let release: (() => void) | undefined;
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': IMAGE.length });
      res.write(IMAGE.subarray(0, 1000));
      release = () => res.end(IMAGE.subarray(1000));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    h.clear();
    await push(h, { url: `http://127.0.0.1:${port}/fw.bin` });
    await h.waitFor('ENTERUPDATE\r\n');
    while (!release) await new Promise((r) => setTimeout(r, 5));
    for (const line of [
      'AT+TCFWINFO?',
      'AT+TCREADFWDATA=16',
      'AT+TCOTASET=1,"1.0.0"',
      'AT+TCMQTTDISCONN',
      'AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","ZHNkIGRzZCA="',
    ]) {
      expect(await h.at(line), line).toBe(cme(208));
    }
    h.clear();
    release();
    expect(await h.waitFor(/UPDATE(SUCCESS|FAIL)\r\n/)).toBe('\r\n+TCOTASTATUS:UPDATESUCCESS\r\n');
  });

  it('keeps the image across a restart; AT+TCRESTORE erases it', async () => {
    const h = await otaReady();
    await push(h);
    await h.waitFor('UPDATESUCCESS\r\n');
    expect(await h.at('AT+TCMQTTDISCONN')).toBe(reply('+TCMQTTDISCON,2'));
    await h.stopModem();
    const again = await startTencent({ reuse: { broker: h.broker, cloud: h.cloud, stateDir: h.stateDir }, flashDir: h.flashDir });
    running.push(again);
    const info = `${OK}\r\n+TCFWINFO:"1.2.0",17300,"${MD5}",262144\r\n`;
    expect(await again.exchange('AT+TCFWINFO?', info)).toBe(info);
    expect(await readAll(again, 2000)).toEqual(IMAGE);
    // The restart rejoins the saved access point (ESP-AT's messages after ready; profile notes).
    const restarted = `${OK}\r\nready\r\n\r\nWIFI CONNECTED\r\n\r\nWIFI GOT IP\r\n`;
    expect(await again.exchange('AT+TCRESTORE', restarted)).toBe(restarted);
    await again.exchange('ATE0', `ATE0\r${OK}`);
    expect(await again.at('AT+TCFWINFO?')).toBe(cme(205));
  });

  it('refuses bad AT+TCREADFWDATA lengths (204)', async () => {
    const h = await otaReady();
    for (const line of ['AT+TCREADFWDATA=0', 'AT+TCREADFWDATA=2049', 'AT+TCREADFWDATA=', 'AT+TCREADFWDATA="16"']) {
      expect(await h.at(line), line).toBe(cme(204));
    }
  });
});
