/**
 * The Wi-Fi access point fault (issue 10) everywhere the other faults are: `vmodem ctl wifi` and
 * the scenario action `wifi`, observed by a firmware on the PTY of a tencent-qcloud modem (ESP-AT
 * `WIFI …` messages) and in the inspection; a cellular modem next to it has no access point.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario } from '../../src/control/scenario.js';
import { startVmodem, type RunningVmodem } from '../../src/vmodem.js';
import type { Firmware } from '../helpers/firmware.js';
import { startFirmware } from '../helpers/firmware.js';
import { onCleanup, uniqueLink, urc, useE2eCleanup } from '../helpers/e2e-harness.js';
import { runMain, useMainCleanup } from '../cli/in-process.js';
import { expectUrc } from './helpers.js';

useE2eCleanup();
useMainCleanup();

/** modem 0 "esp": tencent-qcloud with a firmware on its PTY ('ready' read); modem 1 "cell": quectel-ec200, no link. */
async function start(): Promise<{ vm: RunningVmodem; fw: Firmware; url: string; token: string }> {
  const link = uniqueLink('wifi');
  const vm = await startVmodem({
    mqttPort: 0,
    timing: 'fast',
    control: { port: 0 },
    modems: [
      { name: 'esp', profile: 'tencent-qcloud', link },
      { name: 'cell', profile: 'quectel-ec200', link: null },
    ],
  });
  onCleanup(() => vm.stop());
  const fw = startFirmware();
  await fw.open(link);
  // ESP-AT's power-on message; the station is already joined (a module set up before).
  expect((await fw.readUntil('ready\r\n')).text).toBe(urc('ready'));
  return { vm, fw, url: vm.control!.url, token: vm.control!.token };
}

describe('vmodem ctl wifi', () => {
  it('takes the access point down (with a signal) and back up; the firmware sees WIFI DISCONNECT, then the rejoin', async () => {
    const { vm, fw, url, token } = await start();
    const ctl = (...args: string[]) => runMain(['ctl', '--url', url, '--token', token, ...args]);
    const station = vm.find('esp')!.modem.device.wifi!;

    const down = await ctl('wifi', 'down', '--rssi', '-80');
    expect([down.code, down.stdout.trim(), down.stderr]).toEqual([0, 'Wi-Fi access point down (signal -80 dBm)', '']);
    await expectUrc(fw, 'WIFI DISCONNECT');
    expect(station.inspect()).toMatchObject({ state: 'idle', apPresent: false, rssi: -80, ip: '0.0.0.0' });

    const up = await ctl('wifi', 'up');
    expect([up.code, up.stdout.trim()]).toEqual([0, 'Wi-Fi access point up']);
    await expectUrc(fw, 'WIFI CONNECTED');
    await expectUrc(fw, 'WIFI GOT IP');
    expect(station.inspect()).toMatchObject({ state: 'online', apPresent: true, rssi: -80, ip: '192.168.1.100' });

    const json = await ctl('--json', 'wifi', 'on', '--rssi', '-55');
    expect([json.code, json.stdout.trim()]).toEqual([0, '{"ok":true}']);
    expect(station.rssi).toBe(-55);
  });

  it('bad words and signals are usage errors (exit 2); a modem without Wi-Fi is the API’s 409 no-wifi (exit 1)', async () => {
    const { url, token } = await start();
    const ctl = (...args: string[]) => runMain(['ctl', '--url', url, '--token', token, ...args]);
    expect((await ctl('wifi', 'maybe')).code).toBe(2);
    expect((await ctl('wifi')).code).toBe(2);
    const positive = await ctl('wifi', 'up', '--rssi', '5');
    expect(positive.code).toBe(2);
    expect(positive.stderr).toContain('must be -100–0 (dBm)');
    expect((await ctl('wifi', 'up', '--rssi', '-101')).code).toBe(2);
    expect((await ctl('wifi', 'up', '--rssi', 'weak')).code).toBe(2);
    const cell = await ctl('--modem', 'cell', 'wifi', 'down');
    expect(cell.code).toBe(1);
    expect(cell.stderr).toContain('[no-wifi]');
    expect(cell.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('scenario action wifi', () => {
  it('runs against the modem: the access point goes and comes back with a weaker signal; on a cellular modem the action fails alone', async () => {
    const { vm, fw } = await start();
    const sc = parseScenario(
      [
        'steps:',
        '  - at: 0s',
        '    modem: esp',
        '    do: [ { wifi: down }, { wifi: { ap: up, rssi: -75 } } ]',
        '  - at: 0s',
        '    modem: cell',
        '    do: { wifi: down }',
      ].join('\n'),
    );
    const run = runScenario(sc, vm);
    await expectUrc(fw, 'WIFI DISCONNECT');
    await expectUrc(fw, 'WIFI CONNECTED');
    await expectUrc(fw, 'WIFI GOT IP');
    await run.done;
    expect(run.events.filter((e) => e.kind === 'action' && e.modem === 'esp').map((e) => [e.action, e.ok])).toEqual([
      ['wifi down', true],
      ['wifi up rssi -75', true],
    ]);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatchObject({ modem: 'cell', action: 'wifi down', ok: false });
    expect(run.errors[0]!.error).toMatch(/no Wi-Fi/);
    expect(vm.find('esp')!.modem.device.wifi!.inspect()).toMatchObject({ apPresent: true, rssi: -75 });
  });
});
