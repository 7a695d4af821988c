/**
 * `vmodem start --scenario <file>` (the CLI in-process, `main(argv, io)`): the scenario runs
 * against the modem the firmware talks to through the PTY; a bad scenario stops the start with
 * one line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startFirmware } from '../helpers/firmware.js';
import { atThenUrc, openAndConnect, useE2eCleanup } from '../helpers/e2e-harness.js';
import { tmpDir, uniqueLink, useCliCleanup } from '../cli/helpers.js';
import { runMain, startMain, useMainCleanup } from '../cli/in-process.js';

useE2eCleanup();
useCliCleanup();
useMainCleanup();

const OTA = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'scenarios', 'ota-command-response.yaml');

describe('vmodem start --scenario', () => {
  it('runs the OTA scenario: the device publishes its hello through the PTY, the cloud answers', async () => {
    const link = uniqueLink();
    const cwd = tmpDir();
    const logFile = path.join(cwd, 'vmodem.log');
    const run = await startMain(['--mqtt-port', '0', '--link', link, '--timing', 'fast', '--scenario', OTA, '--log-file', logFile]);
    const banner = run.banner;
    expect(banner).toContain('scenario: OTA-style command/response (3 steps)');

    const fw = startFirmware();
    await fw.open(link);
    await fw.readUntil('RDY\r\n');
    await openAndConnect(fw, 'cli-ota');
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"dev/cli-1/down",0', '+QMTSUB: 0,1,0,0');
    const payload = '{"type":"hello","seq":3}';
    const cmd = `AT+QMTPUBEX=0,0,0,0,"dev/cli-1/up",${payload.length}`;
    expect(await fw.at(cmd)).toBe(`${cmd}\r\r\n> `);
    await fw.send(payload);
    const recv = (await fw.readUntil(/\+QMTRECV: [^\r]*\r\n/)).text;
    expect(recv).toContain(
      '+QMTRECV: 0,0,"dev/cli-1/down","{"cmd":"ota","id":3,"version":"1.2.3","url":"http://firmware.example.com/cli-1/1.2.3.bin","size":524288}"',
    );

    run.signal('SIGTERM');
    expect(await run.exited).toBe(0);
    // pino writes the file asynchronously (a real process flushes it on exit).
    await vi.waitFor(() => expect(fs.readFileSync(logFile, 'utf8')).toContain('"msg":"vmodem stopped"'), { timeout: 5000 });
    const records = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r.msg === 'scenario action' && r.action === 'publish dev/cli-1/down' && r.step === 'step 1 "offer the update" (when published dev/+/up)')).toBe(true);
  });

  it('a scenario with a mistake stops the start: exit 2, one line naming the file, line and step', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'name: bad\nsteps:\n  - every: 10s\n    do:\n      - broker: sideways\n');
    const r = await runMain(['start', '--mqtt-port', '0', '--link', uniqueLink(), '--scenario', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`vmodem: ${file} line 5: step 1 (every 10s), broker: broker must be down or up, not string "sideways"\n`);

    const missing = await runMain(['start', '--mqtt-port', '0', '--link', uniqueLink(), '--scenario', path.join(dir, 'none.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`vmodem: scenario ${path.join(dir, 'none.yaml')}: cannot read (ENOENT)\n`);
  });

  it('a step naming a modem that does not exist stops the start too', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'ref.yaml');
    fs.writeFileSync(file, 'steps:\n  - at: 1s\n    modem: 3\n    do: drop\n');
    const link = uniqueLink();
    const r = await runMain(['start', '--mqtt-port', '0', '--link', link, '--count', '2', '--scenario', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`vmodem: ${file}: step 1 (at 1s): no modem 3 (modems: 0=modem0, 1=modem1)\n`);
    expect(fs.existsSync(link)).toBe(false);
  });
});
