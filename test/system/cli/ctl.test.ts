/**
 * The smoke test of `vmodem ctl` as users run it: the built bin/vmodem for both the running
 * `vmodem start --control-port 0` and each `vmodem ctl`, with a python firmware on the PTY
 * observing the effects. Every ctl operation and error is tested in-process in
 * test/control/ctl-cli.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startFirmware, type Firmware } from '../../helpers/firmware.js';
import { atThenUrc, openAndConnect, publishex, urc } from '../../helpers/e2e-harness.js';
import { onCleanup, runCli, spawnCli, uniqueLink, useCliCleanup, waitForStdout } from '../../cli/helpers.js';
import { ensureDist } from '../../api/ensure-dist.js';
import { requires } from '../../helpers/requires.js';

useCliCleanup();

const need = requires('python3');

beforeAll(() => ensureDist(['cli/main.ts', 'cli/ctl.ts', 'vmodem.ts']), 120_000);

/** runCli with room for a busy machine. */
const cli = (args: string[]) => runCli(args, { timeoutMs: 60_000 });

interface Running {
  url: string;
  token: string;
  port: number;
  fw: Firmware;
  /** Run `vmodem ctl …` against it (URL and token as flags). */
  ctl(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

async function startWithControl(extra: string[] = []): Promise<Running> {
  const link = uniqueLink();
  const run = spawnCli(['start', '--link', link, '--mqtt-port', '0', '--control-port', '0', '--timing', 'fast', '--log-level', 'silent', ...extra]);
  const banner = await waitForStdout(run, 'Ctrl+C stops.', 30_000);
  const m = /control: (http:\/\/127\.0\.0\.1:(\d+)) {2}token (\S+)/.exec(banner);
  expect(m, banner).not.toBeNull();
  const [, url, port, token] = m!;
  expect(banner).toContain(`VMODEM_CONTROL_URL=${url} VMODEM_CONTROL_TOKEN=${token} vmodem ctl inspect`);
  const fw = startFirmware();
  onCleanup(() => fw.kill());
  await fw.open(link);
  expect((await fw.readUntil('RDY\r\n')).text).toBe('\r\nRDY\r\n');
  return {
    url: url!,
    token: token!,
    port: Number(port),
    fw,
    ctl: (...args) => cli(['ctl', '--url', url!, '--token', token!, ...args]),
  };
}

// Every `vmodem ctl` is a new node process (about a second each on a busy CI machine).
describe.skipIf(need.missing)(`vmodem ctl against vmodem start --control-port 0 (spawned bin/vmodem)${need.note}`, { timeout: 120_000 }, () => {
  it('publish, published, drop and inspect drive the running modem; the firmware sees each effect', async () => {
    const { fw, ctl } = await startWithControl();
    await openAndConnect(fw, 'cli-dev');
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"dev/down",1', '+QMTSUB: 0,1,0,1');

    const pub = await ctl('publish', 'dev/down', '{"led":1}', '--qos', '1');
    expect([pub.code, pub.stdout, pub.stderr]).toEqual([0, 'published 9 bytes to dev/down (qos 1)\n', '']);
    expect((await fw.readUntil(/\+QMTRECV:[^\r]*\r\n/)).text).toMatch(/^\r\n\+QMTRECV: 0,\d+,"dev\/down","\{"led":1\}"\r\n$/);

    await publishex(fw, { msgid: 3, qos: 1, topic: 'dev/up' }, 'temp=21');
    const listed = await ctl('published', 'dev/#');
    expect([listed.code, listed.stdout]).toEqual([0, 'dev/up temp=21 (qos 1)\n']);
    const json = await ctl('--json', 'published');
    expect(JSON.parse(json.stdout)).toMatchObject([{ clientId: 'cli-dev', topic: 'dev/up', payload: 'temp=21', payloadHex: Buffer.from('temp=21').toString('hex'), qos: 1 }]);

    const insp = await ctl('inspect');
    expect(insp.code).toBe(0);
    const state = JSON.parse(insp.stdout);
    expect(state).toMatchObject({ name: 'modem0', profile: 'quectel-ec200', clientIds: ['cli-dev'] });
    expect(state.mqtt['quectel-qmt-ec200'][0].state).toBe('connected');

    const drop = await ctl('drop');
    expect([drop.code, drop.stdout]).toEqual([0, 'dropped 1 connection\n']);
    expect((await fw.readUntil(urc('+QMTSTAT: 0,1'))).text).toBe(urc('+QMTSTAT: 0,1'));
    expect(JSON.parse((await ctl('inspect')).stdout).mqtt['quectel-qmt-ec200'][0].state).toBe('idle');
  });
});
