/**
 * The `vmodem` command line in this process (`main(argv, io)`, the code bin/vmodem runs): help and
 * profiles, one-line errors for bad flags, and a running `vmodem start` with its banner, link,
 * logs and signals. The spawned bin/vmodem (real signals, process groups, an external mosquitto)
 * is tested in test/system/cli/cli.test.ts.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { killAllFirmware, startFirmware, type Firmware } from '../helpers/firmware.js';
import { BIN, onCleanup, ROOT, runCli, tmpDir, uniqueLink, useCliCleanup } from './helpers.js';
import { runMain, startMain, useMainCleanup } from './in-process.js';

useCliCleanup();
useMainCleanup();

/** The option rows of the README's "Command line" table: flags and default. */
function readmeOptions(): { flags: string[]; def: string }[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const rows: { flags: string[]; def: string }[] = [];
  for (const line of readme.split('\n')) {
    const m = /^\|\s*`([^`]*--[a-z][^`]*)`\s*\|\s*([^|]*)\|/.exec(line);
    if (!m) continue;
    rows.push({ flags: m[1]!.match(/--?[a-z][a-z-]*/g) ?? [], def: m[2]!.trim().replace(/^`|`$/g, '') });
  }
  return rows;
}

/** Every stderr line of a non-TTY run is a JSON log record. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
}

async function firmwareOn(link: string): Promise<Firmware> {
  const fw = startFirmware();
  onCleanup(() => killAllFirmware());
  await fw.open(link);
  expect((await fw.readUntil('RDY\r\n')).text).toBe('\r\nRDY\r\n');
  return fw;
}

describe('vmodem CLI: help and profiles', () => {
  it('--help lists the commands; start --help lists every option of the README with its default', async () => {
    const top = await runMain(['--help']);
    expect(top.code).toBe(0);
    expect(top.stderr).toBe('');
    expect(top.stdout).toMatch(/^Usage: vmodem /);
    expect(top.stdout).toMatch(/\bstart\b/);
    expect(top.stdout).toMatch(/\bprofiles\b/);

    const start = await runMain(['start', '--help']);
    expect(start.code).toBe(0);
    expect(start.stderr).toBe('');
    const rows = readmeOptions();
    expect(rows.map((r) => r.flags.find((f) => f.startsWith('--')))).toEqual(
      expect.arrayContaining(['--profile', '--link', '--mqtt-port', '--broker', '--state-dir', '--timing', '--log-level', '--log-file']),
    );
    const help = start.stdout.replace(/\s+/g, ' ');
    for (const row of rows) {
      for (const flag of row.flags) expect(help, `start --help mentions ${flag}`).toMatch(new RegExp(`(^|[\\s,])${flag}\\b`));
      // Defaults the README gives as values appear in the help too (commander quotes strings).
      if (!/^[\w./-]+$/.test(row.def) || row.def === 'stderr') continue;
      expect(help, `default of ${row.flags.join(' ')}`).toContain(/^\d+$/.test(row.def) ? `default: ${row.def})` : `default: "${row.def}"`);
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runMain(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('says in one line to build when dist/ is missing (bin/vmodem, spawned)', async () => {
    // A copy of bin/vmodem in a tree without dist/.
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync(BIN, path.join(dir, 'bin', 'vmodem'));
    const r = await runCli(['--help'], { bin: path.join(dir, 'bin', 'vmodem') });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('vmodem: the compiled sources (dist/) are missing; run `npm run build` first\n');
  });

  it('`vmodem profiles` lists quectel-ec200 with its manual', async () => {
    const r = await runMain(['profiles']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    const i = lines.findIndex((l) => l.startsWith('quectel-ec200 '));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(lines[i]).toContain('Quectel LTE Standard(A): EC200/EC600/EC800/EG912/EG915');
    expect(lines[i + 1]).toMatch(/^\s+manual: Quectel LTE Standard\(A\) MQTT .* \(quectel-ec200-mqtt\.txt\)$/);
  });
});

describe('vmodem CLI: start (in-process; signals emitted as the process would get them)', () => {
  it('prints a banner (profile, link, real broker port), serves AT on the link, logs JSON, and exits 0 on SIGTERM removing the link', async () => {
    const link = uniqueLink();
    const run = await startMain(['--mqtt-port', '0', '--link', link, '--timing', 'fast']);
    expect(run.banner).toContain('vmodem quectel-ec200 (Quectel LTE Standard(A)');
    expect(run.banner).toMatch(new RegExp(`serial:\\s+${link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -> /dev/pts/\\d+`));
    const m = /broker:\s+mqtt:\/\/127\.0\.0\.1:(\d+) \(embedded\)/.exec(run.banner);
    expect(m, run.banner).not.toBeNull();
    const port = Number(m![1]);
    expect(port).toBeGreaterThan(0);
    // The broker of the banner is listening.
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });

    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toMatch(/^\/dev\/pts\/\d+$/);
    const fw = await firmwareOn(link);
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
    expect(await fw.at('AT+CGMR')).toBe('AT+CGMR\r\r\nEC200UCNAAR03A11M08\r\n\r\nOK\r\n');

    const records = jsonLines(run.stderr());
    expect(records.some((r) => r.msg === 'vmodem started' && r.link === link && r.broker === `mqtt://127.0.0.1:${port}`)).toBe(true);

    run.signal('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(() => fs.lstatSync(link)).toThrow(/ENOENT/);
    expect(jsonLines(run.stderr()).some((r) => r.msg === 'vmodem stopped')).toBe(true);
  });

  it('exits 0 on SIGINT and removes the link; a second signal while stopping changes nothing', async () => {
    const link = uniqueLink();
    const run = await startMain(['--mqtt-port', '0', '--link', link, '--timing', 'fast', '--log-level', 'warn']);
    const fw = await firmwareOn(link);
    expect(await fw.at('ATI')).toBe('ATI\r\r\nQuectel\r\nEC200U\r\nRevision: EC200UCNAAR03A11M08\r\n\r\nOK\r\n');
    run.signal('SIGINT');
    run.signal('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(() => fs.lstatSync(link)).toThrow(/ENOENT/);
    expect(run.stderr()).toBe('');
  });

  it('--log-file gets JSON lines (stderr stays quiet) and never the password of AT+QMTCONN', async () => {
    const password = 'Pa55-w0rd-7c1e9';
    const secret = 'DeviceSecret-93ab';
    for (const level of ['info', 'trace']) {
      const logFile = path.join(tmpDir(), 'logs', 'vmodem.jsonl');
      const link = uniqueLink();
      const run = await startMain(['--mqtt-port', '0', '--link', link, '--timing', 'fast', '--log-file', logFile, '--log-level', level]);
      const fw = await firmwareOn(link);
      await fw.at('AT+QMTCFG="aliauth",0,"pk1","dev1","' + secret + '"');
      await fw.at('AT+QMTOPEN=0,"iot.example.com",1883');
      await fw.readUntil('\r\n+QMTOPEN: 0,0\r\n');
      expect(await fw.at(`AT+QMTCONN=0,"pw-dev","user","${password}"`)).toBe(`AT+QMTCONN=0,"pw-dev","user","${password}"\r\r\nOK\r\n`);
      expect((await fw.readUntil('\r\n+QMTCONN: 0,0,0\r\n')).text).toBe('\r\n+QMTCONN: 0,0,0\r\n');
      await fw.exit();
      run.signal('SIGTERM');
      expect(await run.exited).toBe(0);

      expect(run.stderr(), `stderr with --log-file (level ${level})`).toBe('');
      // pino writes the file asynchronously (a real process flushes it on exit): wait for the last record.
      await vi.waitFor(() => expect(fs.readFileSync(logFile, 'utf8')).toContain('"msg":"vmodem stopped"'), { timeout: 5000 });
      const text = fs.readFileSync(logFile, 'utf8');
      const records = jsonLines(text);
      expect(records.some((r) => r.msg === 'vmodem started')).toBe(true);
      expect(records.some((r) => r.msg === 'vmodem stopped')).toBe(true);
      expect(text, `log at level ${level}`).not.toContain(password);
      expect(text, `log at level ${level}`).not.toContain(secret);
    }
  });
});

describe('vmodem CLI: bad flags exit non-zero with one line on stderr', () => {
  const cases: { name: string; args: () => Promise<string[]> | string[]; want: RegExp }[] = [
    { name: 'unknown profile', args: () => ['--profile', 'nope'], want: /unknown profile "nope".*quectel-ec200/ },
    {
      name: 'busy MQTT port',
      args: async () => {
        const srv = net.createServer();
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
        onCleanup(() => new Promise<void>((r) => srv.close(() => r())));
        return ['--mqtt-port', String((srv.address() as net.AddressInfo).port)];
      },
      want: /MQTT port \d+ on 127\.0\.0\.1 is already in use; choose another --mqtt-port/,
    },
    { name: 'link in a directory that does not exist', args: () => ['--link', '/proc/nope/x'], want: /\/proc\/nope\/x/ },
    {
      name: 'link path that is a regular file',
      args: () => {
        const f = path.join(tmpDir(), 'regular');
        fs.writeFileSync(f, 'keep me');
        return ['--link', f];
      },
      want: /exists and is not a symlink/,
    },
    { name: 'empty link', args: () => ['--link', ''], want: /link/ },
    { name: 'broker URL that is no URL', args: () => ['--broker', 'not a url'], want: /--broker "not a url"/ },
    { name: 'broker URL with another scheme', args: () => ['--broker', 'http://127.0.0.1:1883'], want: /unsupported scheme http:/ },
    { name: 'broker URL without host', args: () => ['--broker', 'mqtt://'], want: /--broker "mqtt:\/\/"/ },
    { name: 'broker URL with port 0', args: () => ['--broker', 'mqtt://127.0.0.1:0'], want: /port/ },
    { name: 'broker URL with a bad port', args: () => ['--broker', 'mqtt://127.0.0.1:99999'], want: /--broker/ },
    { name: 'unknown option', args: () => ['--bogus'], want: /unknown option '--bogus'/ },
    { name: 'MQTT port out of range', args: () => ['--mqtt-port', '70000'], want: /--mqtt-port.*70000/ },
    { name: 'MQTT port not a number', args: () => ['--mqtt-port', 'abc'], want: /--mqtt-port.*abc/ },
    { name: 'unknown timing', args: () => ['--timing', 'slow'], want: /--timing.*slow/ },
    { name: 'unknown log level', args: () => ['--log-level', 'loud'], want: /--log-level.*loud/ },
    { name: '--mqtt-port together with --broker', args: () => ['--broker', 'mqtt://127.0.0.1:1884', '--mqtt-port', '1885'], want: /--mqtt-port.*--broker/ },
    { name: 'log file that is a directory', args: () => ['--log-file', tmpDir()], want: /--log-file/ },
    { name: 'log file that cannot be created', args: () => ['--log-file', '/proc/nope/vmodem.log'], want: /--log-file \/proc\/nope\/vmodem\.log/ },
    { name: 'state dir that cannot be created', args: () => ['--state-dir', '/proc/nope/state'], want: /--state-dir \/proc\/nope\/state/ },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const link = uniqueLink();
      const args = await c.args();
      const hasLink = args.includes('--link');
      const base = ['start', '--timing', 'fast'];
      if (!hasLink) base.push('--link', link);
      if (!args.includes('--broker') && !args.includes('--mqtt-port')) base.push('--mqtt-port', '0');
      const r = await runMain([...base, ...args]);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^vmodem: /);
      expect(lines[0]).toMatch(c.want);
      if (!hasLink) expect(fs.existsSync(link)).toBe(false);
    });
  }

  it('the refused regular file is left untouched', async () => {
    const f = path.join(tmpDir(), 'regular');
    fs.writeFileSync(f, 'keep me');
    const r = await runMain(['start', '--mqtt-port', '0', '--link', f]);
    expect(r.code).toBe(2);
    expect(fs.readFileSync(f, 'utf8')).toBe('keep me');
  });

  it('an unknown command is one line too', async () => {
    const r = await runMain(['bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^vmodem: unknown command 'bogus'/);
  });
});
