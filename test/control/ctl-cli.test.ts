/**
 * `vmodem ctl` run in-process (src/cli/ctl.ts through `main(argv, io)`) against a
 * `vmodem start --control-port 0` also run in-process, with a python firmware on the PTY observing
 * the effects. test/system/cli/ctl.test.ts spawns bin/vmodem for both once (the smoke test).
 */
import { describe, expect, it, vi } from 'vitest';
import { startFirmware, type Firmware } from '../helpers/firmware.js';
import { atThenUrc, onCleanup, openAndConnect, publishex, urc, useE2eCleanup } from '../helpers/e2e-harness.js';
import { uniqueLink } from '../cli/helpers.js';
import { runMain, spawnMain, startMain, useMainCleanup, type MainResult } from '../cli/in-process.js';

useE2eCleanup();
useMainCleanup();

/** Run with these environment variables set (undefined = unset). */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

const cli = (args: string[]): Promise<MainResult> => runMain(args);

const NO_ENV = { VMODEM_CONTROL_URL: undefined, VMODEM_CONTROL_TOKEN: undefined };

interface Running {
  url: string;
  token: string;
  port: number;
  fw: Firmware;
  /** Run `vmodem ctl …` against it (URL and token as flags). */
  ctl(...args: string[]): Promise<MainResult>;
}

async function startWithControl(extra: string[] = []): Promise<Running> {
  const link = uniqueLink();
  const run = await startMain(['--link', link, '--mqtt-port', '0', '--control-port', '0', '--timing', 'fast', '--log-level', 'silent', ...extra]);
  const m = /control: (http:\/\/127\.0\.0\.1:(\d+)) {2}token (\S+)/.exec(run.banner);
  expect(m, run.banner).not.toBeNull();
  const [, url, port, token] = m!;
  expect(run.banner).toContain(`VMODEM_CONTROL_URL=${url} VMODEM_CONTROL_TOKEN=${token} vmodem ctl inspect`);
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

/** Until the event stream is open (ctl says so on stderr). */
async function streaming(ev: { stderr(): string }): Promise<void> {
  await vi.waitFor(() => expect(ev.stderr()).toContain('streaming events'), { timeout: 10_000 });
}

describe('vmodem ctl against vmodem start --control-port 0', () => {
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

  it('more operations from the CLI: refuse-connect, signal, override, inject, reboot; modem by name; env vars', async () => {
    const { fw, ctl, url, token } = await startWithControl();
    expect((await ctl('refuse-connect', '4')).code).toBe(0);
    await atThenUrc(fw, 'AT+QMTOPEN=0,"h",1883', '+QMTOPEN: 0,0');
    await atThenUrc(fw, 'AT+QMTCONN=0,"c"', '+QMTCONN: 0,0,4');

    expect((await ctl('--modem', 'modem0', 'signal', '9', '1')).stdout).toBe('signal 9,1\n');
    expect(await fw.at('AT+CSQ')).toContain('+CSQ: 9,1\r\n');
    expect((await ctl('override', '+CGMI', 'ACME', 'OK', '--once')).code).toBe(0);
    expect(await fw.at('AT+CGMI')).toBe('AT+CGMI\r\r\nACME\r\n\r\nOK\r\n');
    expect((await ctl('inject', 'junk\\x00\\r\\n')).code).toBe(0);
    expect((await fw.readUntil('junk\x00\r\n')).bytes).toEqual(Buffer.from('junk\x00\r\n', 'latin1'));

    // URL and token from the environment.
    const r = await withEnv({ VMODEM_CONTROL_URL: url, VMODEM_CONTROL_TOKEN: token }, () => cli(['ctl', 'reboot']));
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'rebooted\n', '']);
    expect((await fw.readUntil('RDY\r\n')).text).toContain('RDY\r\n');
  });

  it('events prints the stream (one line per event, or JSON lines)', async () => {
    const { url, token, fw, ctl } = await startWithControl();
    const ev = spawnMain(['ctl', '--url', url, '--token', token, 'events', '--types', 'urc,state', '--count', '3']);
    await streaming(ev);
    expect(ev.stderr()).toContain('streaming events');
    await atThenUrc(fw, 'AT+QMTOPEN=0,"h",1883', '+QMTOPEN: 0,0');
    await ctl('stall', 'on');
    await ctl('stall', 'off');
    const done = await ev.done;
    expect(done.code).toBe(0);
    const lines = done.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\s*\d+ms modem0 urc {4}\+QMTOPEN: 0,0$/);
    expect(lines[1]).toMatch(/^\s*\d+ms modem0 state {2}stall \{"on":true\}$/);

    const js = spawnMain(['ctl', '--url', url, '--token', token, '--json', 'events', '--count', '1']);
    await streaming(js);
    await ctl('latency', '5');
    const jsDone = await js.done;
    expect(jsDone.code).toBe(0);
    expect(JSON.parse(jsDone.stdout)).toMatchObject({ type: 'state', modem: 'modem0', what: 'latency', detail: { ms: 5 } });
  });

  it('errors: one line, exit 1 for API errors, exit 2 for usage errors', async () => {
    const { ctl, port } = await startWithControl();
    const [noToken, noUrl] = await withEnv(NO_ENV, () => Promise.all([cli(['ctl', '--port', String(port), 'drop']), cli(['ctl', 'drop'])]));
    const [wrongToken, unknownModem, range, notNumber, missing, unknownOp, unreachable, help, tokenOnly] = await Promise.all([
      cli(['ctl', '--port', String(port), '--token', 'wrong-token-xyz', 'drop']),
      ctl('--modem', '5', 'inspect'),
      ctl('signal', '40'),
      ctl('latency', 'soon'),
      ctl('refuse-connect'),
      ctl('explode'),
      cli(['ctl', '--port', '1', '--token', 'whatever-123', 'drop']),
      cli(['ctl', 'publish', '--help']),
      cli(['start', '--control-token', 'abcdefgh1234', '--link', uniqueLink(), '--mqtt-port', '0']),
    ]);

    expect([noToken.code, noToken.stderr]).toEqual([2, 'vmodem: no token: give --token <token> (or set VMODEM_CONTROL_TOKEN); the start banner prints it (see `vmodem ctl drop --help`)\n']);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/^vmodem: where is the modem\? give --port/);

    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toMatch(/^vmodem: missing or wrong token[^\n]*\[unauthorized\]\n$/);
    expect([unknownModem.code, unknownModem.stderr]).toEqual([1, 'vmodem: no modem "5"; modems: 0 (modem0) [unknown-modem]\n']);
    expect([range.code, range.stderr]).toEqual([1, 'vmodem: rssi must be 0–31 or 99 [bad-rssi]\n']);

    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toMatch(/^vmodem: .*ms must be a whole number \(see `vmodem ctl latency --help`\)\n$/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^vmodem: missing required argument 'returnCode'.*\n$/);
    expect(missing.stderr.split('\n')).toHaveLength(2);
    expect(unknownOp.code).toBe(2);

    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^vmodem: cannot reach the control API at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\).*\[unreachable\]\n$/);

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: vmodem ctl publish [options] <topic> [payload]');

    expect(tokenOnly.code).toBe(2);
    expect(tokenOnly.stderr).toBe('vmodem: --control-token needs --control-port (the control API is off without it)\n');
  });
});
