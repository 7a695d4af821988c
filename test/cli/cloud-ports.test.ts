/**
 * The virtual cloud's HTTP(S) endpoints (Tencent registration, firmware downloads) on fixed ports
 * (issue 10 §4): `--cloud-http-port` / `--cloud-https-port`, or `cloud-http-port:` /
 * `cloud-https-port:` in the config file; the banner prints them; a port in use is a one-line
 * error.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { uniqueLink, useCliCleanup } from './helpers.js';
import { runMain, startMain, useMainCleanup } from './in-process.js';

useCliCleanup();
useMainCleanup();

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).once('error', reject);
  });
}

describe('vmodem start: the virtual cloud\'s HTTP(S) ports', () => {
  it('listens on the ports given by flag and prints them in the banner', async () => {
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const run = await startMain(['--mqtt-port', '0', '--link', uniqueLink(), '--timing', 'fast', '--cloud-http-port', String(httpPort), '--cloud-https-port', String(httpsPort)]);
    expect(run.banner).toContain(`cloud:   http://127.0.0.1:${httpPort}  https://127.0.0.1:${httpsPort}`);
    // The firmware server answers on the fixed port (an unknown image: 404).
    expect(await status(`http://127.0.0.1:${httpPort}/firmware/none.bin`)).toBe(404);
  });

  it('takes them from the config file', async () => {
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-cloud-ports-'));
    const config = path.join(dir, 'vmodem.yaml');
    fs.writeFileSync(config, `mqtt-port: 0\ntiming: fast\ncloud-http-port: ${httpPort}\ncloud:\n  https-port: ${httpsPort}\n`);
    try {
      const run = await startMain(['--link', uniqueLink(), '--config', config]);
      expect(run.banner).toContain(`cloud:   http://127.0.0.1:${httpPort}  https://127.0.0.1:${httpsPort}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a port in use in one line, and a bad value in the config file with its line', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = await runMain(['start', '--mqtt-port', '0', '--link', uniqueLink(), '--timing', 'fast', '--cloud-http-port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`vmodem: --cloud-http-port ${port}: the port is in use`);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-cloud-ports-'));
    const config = path.join(dir, 'vmodem.yaml');
    fs.writeFileSync(config, 'mqtt-port: 0\ncloud-http-port: 70000\n');
    try {
      const r = await runMain(['start', '--link', uniqueLink(), '--config', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('line 2');
      expect(r.stderr).toContain('cloud-http-port');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
