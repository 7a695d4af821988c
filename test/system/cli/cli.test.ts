/**
 * The real `bin/vmodem` (the built dist/) in a child process: a running modem with its banner,
 * link and real signals (also to its whole process group), logs, and an external mosquitto.
 * Help, profiles, bad flags and the in-process start are in test/cli/cli.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { killAllFirmware, startFirmware, type Firmware } from '../../helpers/firmware.js';
import { startMosquitto, startMosquittoSub } from '../../helpers/mosquitto.js';
import { requires } from '../../helpers/requires.js';
import { ensureDist } from '../../api/ensure-dist.js';
import {
  childPids,
  listeningPorts,
  processGroup,
  processState,
  onCleanup,
  spawnCli,
  tmpDir,
  uniqueLink,
  useCliCleanup,
  waitForStdout,
  type CliRun,
} from '../../cli/helpers.js';

useCliCleanup();

const fwNeeds = requires('python3');
const subNeeds = requires('python3', 'mosquitto_sub');
const extNeeds = requires('python3', 'mosquitto', 'mosquitto_sub');

beforeAll(() => ensureDist(['cli/main.ts', 'cli/ctl.ts', 'vmodem.ts']), 120_000);

const BANNER_END = 'Ctrl+C stops.';

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

describe.skipIf(fwNeeds.missing)(`vmodem CLI: start (spawned bin/vmodem)${fwNeeds.note}`, () => {
  it.skipIf(subNeeds.missing)(`prints a banner (profile, link, real broker port), serves AT on the link, and exits 0 on SIGTERM removing the link${subNeeds.note}`, async () => {
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

describe.skipIf(extNeeds.missing)(`vmodem CLI: --broker${extNeeds.note}`, () => {
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
