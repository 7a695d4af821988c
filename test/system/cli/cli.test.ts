/**
 * The real `bin/vmodem` in a child process: help and profiles, a running modem with its banner,
 * link and signals, one-line errors for bad flags, logs, and an external broker.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { killAllFirmware, startFirmware, type Firmware } from '../helpers/firmware.js';
import { haveMosquitto, startMosquitto, startMosquittoSub } from '../helpers/mosquitto.js';
import {
  BIN,
  childPids,
  listeningPorts,
  processGroup,
  processState,
  onCleanup,
  ROOT,
  runCli,
  spawnCli,
  tmpDir,
  uniqueLink,
  useCliCleanup,
  waitForStdout,
  type CliRun,
} from './helpers.js';

useCliCleanup();

const BANNER_END = 'Ctrl+C stops.';

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

/** Start `vmodem start` with a free broker port, fast timing and a unique link; wait for the banner. */
async function startCli(extra: string[] = []): Promise<{ run: CliRun; link: string; banner: string; cwd: string }> {
  const link = uniqueLink();
  const cwd = tmpDir();
  const run = spawnCli(['start', '--mqtt-port', '0', '--link', link, '--timing', 'fast', ...extra], { cwd });
  const banner = await waitForStdout(run, BANNER_END);
  return { run, link, banner, cwd };
}

async function firmwareOn(link: string): Promise<Firmware> {
  const fw = startFirmware();
  onCleanup(() => killAllFirmware());
  await fw.open(link);
  expect((await fw.readUntil('RDY\r\n')).text).toBe('\r\nRDY\r\n');
  return fw;
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

describe('vmodem CLI: help and profiles', () => {
  it('--help lists the commands; start --help lists every option of the README with its default', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stderr).toBe('');
    expect(top.stdout).toMatch(/^Usage: vmodem /);
    expect(top.stdout).toMatch(/\bstart\b/);
    expect(top.stdout).toMatch(/\bprofiles\b/);

    const start = await runCli(['start', '--help']);
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
    const r = await runCli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('says in one line to build when dist/ is missing', async () => {
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
    const r = await runCli(['profiles']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    const i = lines.findIndex((l) => l.startsWith('quectel-ec200 '));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(lines[i]).toContain('Quectel LTE Standard(A): EC200/EC600/EC800/EG912/EG915');
    expect(lines[i + 1]).toMatch(/^\s+manual: Quectel LTE Standard\(A\) MQTT .* \(quectel-ec200-mqtt\.txt\)$/);
  });
});

describe('vmodem CLI: start', () => {
  it('prints a banner (profile, link, real broker port), serves AT on the link, and exits 0 on SIGTERM removing the link', async () => {
    const { run, link, banner } = await startCli();
    expect(banner).toContain('vmodem quectel-ec200 (Quectel LTE Standard(A)');
    expect(banner).toMatch(new RegExp(`serial:\\s+${link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -> /dev/pts/\\d+`));
    const m = /broker:\s+mqtt:\/\/127\.0\.0\.1:(\d+) \(embedded\)/.exec(banner);
    expect(m, banner).not.toBeNull();
    const port = Number(m![1]);
    expect(port).toBeGreaterThan(0);
    expect(listeningPorts(run.child.pid!)).toContain(port);

    // The link is a symlink to the PTY, and a separate firmware process talks AT through it.
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toMatch(/^\/dev\/pts\/\d+$/);
    const fw = await firmwareOn(link);
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
    expect(await fw.at('AT+CGMR')).toBe('AT+CGMR\r\r\nEC200UCNAAR03A11M08\r\n\r\nOK\r\n');

    // ...and reaches the broker printed in the banner.
    const sub = startMosquittoSub(port, 'cli/up');
    onCleanup(() => sub.kill());
    await sub.ready;
    await fw.at('AT+QMTOPEN=0,"iot.example.com",1883');
    expect((await fw.readUntil('\r\n+QMTOPEN: 0,0\r\n')).text).toBe('\r\n+QMTOPEN: 0,0\r\n');
    await fw.at('AT+QMTCONN=0,"cli-dev"');
    expect((await fw.readUntil('\r\n+QMTCONN: 0,0,0\r\n')).text).toBe('\r\n+QMTCONN: 0,0,0\r\n');
    expect(await fw.at('AT+QMTPUBEX=0,0,0,0,"cli/up",2')).toBe('AT+QMTPUBEX=0,0,0,0,"cli/up",2\r\r\n> ');
    await fw.send('hi');
    expect((await fw.readUntil('\r\n+QMTPUBEX: 0,0,0\r\n')).text).toBe('\r\nOK\r\n\r\n+QMTPUBEX: 0,0,0\r\n');
    expect(await sub.done).toEqual([{ topic: 'cli/up', payload: 'hi' }]);

    // Logs: JSON lines on stderr (not a TTY).
    const records = jsonLines(run.stderr());
    expect(records.some((r) => r.msg === 'vmodem started' && r.link === link && r.broker === `mqtt://127.0.0.1:${port}`)).toBe(true);

    run.child.kill('SIGTERM');
    const exit = await run.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(link)).toBe(false);
    expect(() => fs.lstatSync(link)).toThrow(/ENOENT/);
    expect(jsonLines(run.stderr()).some((r) => r.msg === 'vmodem stopped')).toBe(true);
  });

  it('exits 0 on SIGINT and removes the link', async () => {
    const { run, link } = await startCli();
    const fw = await firmwareOn(link);
    expect(await fw.at('ATI')).toBe('ATI\r\r\nQuectel\r\nEC200U\r\nRevision: EC200UCNAAR03A11M08\r\n\r\nOK\r\n');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(() => fs.lstatSync(link)).toThrow(/ENOENT/);
  });

  it('SIGTERM to its whole process group (systemd, docker, `timeout`): exits 0, removes the link, logs no warning', async () => {
    const link = uniqueLink();
    const run = spawnCli(['start', '--mqtt-port', '0', '--link', link, '--timing', 'fast'], { ownProcessGroup: true });
    await waitForStdout(run, BANNER_END);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    const pid = run.child.pid!;
    // The signal reaches every process of the group at once; which one reacts first is up to the
    // scheduler. Hold vmodem (SIGSTOP) until the helpers in its group have handled theirs, so the
    // order is always "helpers first" (the usual order: a python helper dies at once).
    process.kill(pid, 'SIGSTOP');
    const helpers = childPids(pid).filter((c) => processGroup(c) === pid);
    process.kill(-pid, 'SIGTERM');
    await vi.waitFor(() => expect(helpers.filter((h) => processState(h) !== 'Z' && processState(h) !== undefined)).toEqual([]), {
      timeout: 5000,
    });
    process.kill(pid, 'SIGCONT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(() => fs.lstatSync(link)).toThrow(/ENOENT/);
    const problems = jsonLines(run.stderr()).filter((r) => Number(r.level) >= 40);
    expect(problems).toEqual([]);
  });

  it('--log-file gets JSON lines (stderr stays quiet) and never the password of AT+QMTCONN', async () => {
    const password = 'Pa55-w0rd-7c1e9';
    const secret = 'DeviceSecret-93ab';
    for (const level of ['info', 'trace']) {
      const logFile = path.join(tmpDir(), 'logs', 'vmodem.jsonl');
      const { run, link } = await startCli(['--log-file', logFile, '--log-level', level]);
      const fw = await firmwareOn(link);
      await fw.at('AT+QMTCFG="aliauth",0,"pk1","dev1","' + secret + '"');
      await fw.at('AT+QMTOPEN=0,"iot.example.com",1883');
      await fw.readUntil('\r\n+QMTOPEN: 0,0\r\n');
      expect(await fw.at(`AT+QMTCONN=0,"pw-dev","user","${password}"`)).toBe(`AT+QMTCONN=0,"pw-dev","user","${password}"\r\r\nOK\r\n`);
      expect((await fw.readUntil('\r\n+QMTCONN: 0,0,0\r\n')).text).toBe('\r\n+QMTCONN: 0,0,0\r\n');
      await fw.exit();
      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });

      expect(run.stderr(), `stderr with --log-file (level ${level})`).toBe('');
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
      const r = await runCli([...base, ...args]);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.code).toBe(2);
      expect(r.signal).toBeNull();
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
    const r = await runCli(['start', '--mqtt-port', '0', '--link', f]);
    expect(r.code).toBe(2);
    expect(fs.readFileSync(f, 'utf8')).toBe('keep me');
  });

  it('an unknown command is one line too', async () => {
    const r = await runCli(['bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^vmodem: unknown command 'bogus'/);
  });
});

describe.skipIf(!haveMosquitto())('vmodem CLI: --broker', () => {
  it('uses the external broker: the banner says external, no broker port is opened, mosquitto_sub sees the publish', async () => {
    const m = await startMosquitto();
    onCleanup(() => m.stop());
    const link = uniqueLink();
    const run = spawnCli(['start', '--broker', `mqtt://127.0.0.1:${m.port}`, '--link', link, '--timing', 'fast']);
    const banner = await waitForStdout(run, BANNER_END);
    expect(banner).toMatch(new RegExp(`broker:\\s+mqtt://127\\.0\\.0\\.1:${m.port} \\(external\\)`));
    expect(banner).not.toContain('(embedded)');
    expect(banner).toContain(`mosquitto_sub -h 127.0.0.1 -p ${m.port}`);
    // No embedded broker: the process listens on no TCP port at all (in particular not 1883).
    expect(listeningPorts(run.child.pid!)).toEqual([]);

    const fw = await firmwareOn(link);
    const sub = startMosquittoSub(m.port, 'ext/up', { qos: 1 });
    onCleanup(() => sub.kill());
    await sub.ready;
    await fw.at('AT+QMTOPEN=0,"iot.example.com",1883');
    expect((await fw.readUntil('\r\n+QMTOPEN: 0,0\r\n')).text).toBe('\r\n+QMTOPEN: 0,0\r\n');
    await fw.at('AT+QMTCONN=0,"ext-cli-dev"');
    expect((await fw.readUntil('\r\n+QMTCONN: 0,0,0\r\n')).text).toBe('\r\n+QMTCONN: 0,0,0\r\n');
    expect(await fw.at('AT+QMTPUBEX=0,5,1,0,"ext/up",8')).toBe('AT+QMTPUBEX=0,5,1,0,"ext/up",8\r\r\n> ');
    await fw.send('external');
    expect((await fw.readUntil('\r\n+QMTPUBEX: 0,5,0\r\n')).text).toBe('\r\nOK\r\n\r\n+QMTPUBEX: 0,5,0\r\n');
    expect(await sub.done).toEqual([{ topic: 'ext/up', payload: 'external' }]);

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(link)).toBe(false);
  });
});
