/**
 * Config files for many modems: parsing and checking (errors name the file, line and key), and
 * modems of different profiles started from one file, each answering through its own PTY and
 * addressed by name or index — from the library and from `vmodem start --config`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configToVmodemOptions, loadConfigFile, parseConfig } from '../../src/config/config-file.js';
import { startVmodem, VmodemConfigError } from '../../src/vmodem.js';
import { startFirmware, type Firmware } from '../helpers/firmware.js';
import { onCleanup, useE2eCleanup } from '../helpers/e2e-harness.js';
import { tmpDir, uniqueLink, useCliCleanup } from '../cli/helpers.js';
import { runMain, startMain, useMainCleanup } from '../cli/in-process.js';

useE2eCleanup();
useCliCleanup();
useMainCleanup();

const FIXTURE = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'config', 'vmodem.yaml');

function failure(text: string): string {
  try {
    parseConfig(text, { file: 'vm.yaml', baseDir: '/cfg' });
  } catch (err) {
    expect(err).toBeInstanceOf(VmodemConfigError);
    return (err as Error).message;
  }
  throw new Error('the config parsed');
}

async function firmwareOn(link: string): Promise<Firmware> {
  const fw = startFirmware();
  await fw.open(link);
  return fw;
}

/** A config with two modems of different profiles on unique links. */
function twoModemConfig(): { text: string; tracker: string; meter: string } {
  const tracker = uniqueLink();
  const meter = uniqueLink();
  const text = [
    'mqtt-port: 0',
    'timing: fast',
    'modems:',
    '  - name: tracker',
    '    profile: quectel-ec200',
    `    link: ${tracker}`,
    '    imei: "864215040000019"',
    '  - name: meter',
    '    profile: onemo-ml307',
    `    link: ${meter}`,
    '    imei: "864215040000027"',
    '',
  ].join('\n');
  return { text, tracker, meter };
}

describe('parseConfig', () => {
  it('reads the example (fixtures/config/vmodem.yaml)', () => {
    const cfg = loadConfigFile(FIXTURE);
    expect(cfg.settings).toEqual({ mqttPort: 0, timing: 'fast' });
    expect(cfg.modems).toEqual([
      { name: 'tracker', profile: 'quectel-ec200', link: '/tmp/vmodem-tracker', imei: '864215040000019' },
      { name: 'meter', profile: 'quectel-bc260y', link: '/tmp/vmodem-meter', imei: '864215040000027' },
      { name: 'gateway', profile: 'onemo-ml307', link: '/tmp/vmodem-gateway' },
    ]);
    expect(configToVmodemOptions(cfg)).toEqual({ mqttPort: 0, timing: 'fast', modems: cfg.modems });
  });

  it('takes the flags of `vmodem start` as keys (kebab or camelCase, nested mappings joined), paths relative to the file', () => {
    const cfg = parseConfig(
      [
        'profile: onemo-ml307',
        'link: links/vm0',
        'mqttPort: 1884',
        'state-dir: state',
        'count: 3',
        'baud: 115200',
        'record: /abs/rec.jsonl',
        'scenario: ../scenarios/s.yaml',
        'log: { level: debug, file: vmodem.log }',
        'control: { port: 0, token: secret-token-1 }',
      ].join('\n'),
      { file: '/cfg/dir/vm.yaml' },
    );
    expect(cfg.settings).toEqual({
      profile: 'onemo-ml307',
      link: '/cfg/dir/links/vm0',
      mqttPort: 1884,
      stateDir: '/cfg/dir/state',
      count: 3,
      baud: 115200,
      record: '/abs/rec.jsonl',
      scenario: '/cfg/scenarios/s.yaml',
      logLevel: 'debug',
      logFile: '/cfg/dir/vmodem.log',
      controlPort: 0,
      controlToken: 'secret-token-1',
    });
    expect(configToVmodemOptions(cfg)).toMatchObject({ control: { port: 0, token: 'secret-token-1' }, count: 3, scenario: '/cfg/scenarios/s.yaml' });
    expect(cfg.modems).toBeUndefined();
    // Keys only the CLI knows are accepted when the caller names them.
    expect(parseConfig('future-flag: 1', { extraKeys: ['future-flag'] }).settings).toEqual({ futureFlag: 1 });
  });

  const cases: { name: string; yaml: string; message: string }[] = [
    { name: 'not YAML', yaml: 'modems: [\n', message: 'config vm.yaml: not valid YAML: ' },
    { name: 'empty', yaml: '', message: 'config vm.yaml: the file is empty' },
    { name: 'not a mapping', yaml: '- a\n', message: 'config vm.yaml line 1: a config file is a mapping of settings (and modems:), not a list' },
    { name: 'unknown setting', yaml: 'timing: fast\nmqtt-prot: 0\n', message: 'config vm.yaml line 2: unknown setting "mqtt-prot" (settings: profile, link, mqtt-port,' },
    { name: 'bad port', yaml: 'mqtt-port: 70000\n', message: 'config vm.yaml line 1: mqtt-port must be a port number 0–65535, not number 70000' },
    { name: 'bad timing', yaml: 'timing: slow\n', message: 'config vm.yaml line 1: timing must be real or fast, not string "slow"' },
    { name: 'unknown profile', yaml: 'profile: sim800\n', message: 'config vm.yaml line 1: profile must be a profile id (' },
    { name: 'bad broker URL', yaml: 'broker: http://x\n', message: 'config vm.yaml line 1: broker "http://x": unsupported scheme http:' },
    { name: 'broker and mqtt-port', yaml: 'broker: mqtt://h:1\nmqtt-port: 0\n', message: 'config vm.yaml line 1: give either broker (an external broker) or mqtt-port (the embedded one), not both' },
    { name: 'count and modems', yaml: 'count: 2\nmodems:\n  - name: a\n', message: 'config vm.yaml line 1: give either count or a modems list, not both' },
    { name: 'empty modems', yaml: 'modems: []\n', message: 'config vm.yaml line 1: modems must be a non-empty list' },
    { name: 'unknown modem key', yaml: 'modems:\n  - name: a\n    imie: "1"\n', message: 'config vm.yaml line 3: modems[0]: unknown key "imie" (expected name, profile, link, imei, radio, wifi)' },
    { name: 'a name of digits', yaml: 'modems:\n  - name: "7"\n', message: 'config vm.yaml line 2: modems[0]: name must be letters, digits, "_", "." or "-" and not only digits' },
    { name: 'duplicate names', yaml: 'modems:\n  - name: a\n  - name: a\n', message: 'config vm.yaml line 3: modems[1]: the name "a" is already used by modems[0]' },
    { name: 'duplicate links', yaml: 'modems:\n  - link: x\n  - link: ./x\n', message: 'config vm.yaml line 3: modems[1]: link /cfg/x is already used by modems[0]' },
    { name: 'bad IMEI', yaml: 'modems:\n  - imei: "12345"\n', message: 'config vm.yaml line 2: modems[0]: imei must be 15 digits (quote it to keep leading zeros), not string "12345"' },
    { name: 'bad modem profile', yaml: 'modems:\n  - name: a\n  - profile: nope\n', message: 'config vm.yaml line 3: modems[1].profile must be a profile id (' },
    { name: 'token without port', yaml: 'control: { token: abcdefgh12 }\n', message: 'config vm.yaml line 1: control-token needs control-port' },
  ];
  for (const c of cases) {
    it(`error: ${c.name}`, () => {
      expect(failure(c.yaml)).toContain(c.message);
    });
  }

  it('a missing file is one line', () => {
    expect(() => loadConfigFile('/nonexistent/vm.yaml')).toThrow('config /nonexistent/vm.yaml: cannot read (ENOENT)');
  });
});

describe('many modems from a config file (library)', () => {
  it('two modems with different profiles both answer through their PTYs; names and indices address them', async () => {
    const { text, tracker, meter } = twoModemConfig();
    const vm = await startVmodem(configToVmodemOptions(parseConfig(text, { file: 'two.yaml' })));
    onCleanup(() => vm.stop());
    expect(vm.modems.map((m) => [m.index, m.name, m.profile.id, m.linkPath, m.imei])).toEqual([
      [0, 'tracker', 'quectel-ec200', tracker, '864215040000019'],
      [1, 'meter', 'onemo-ml307', meter, '864215040000027'],
    ]);
    expect(vm.find('tracker')).toBe(vm.modems[0]);
    expect(vm.find('meter')).toBe(vm.modems[1]);
    expect(vm.find(1)).toBe(vm.modems[1]);
    expect(vm.find('1')).toBe(vm.modems[1]);
    expect(vm.find('gateway')).toBeUndefined();

    const fwT = await firmwareOn(tracker);
    const fwM = await firmwareOn(meter);
    await fwT.readUntil('RDY\r\n');
    // ATE0 on both: one echo setting less to know per profile.
    expect(await fwT.at('ATE0')).toMatch(/OK\r\n$/);
    expect(await fwM.at('ATE0')).toMatch(/OK\r\n$/);
    expect(await fwT.at('AT+CGMM')).toBe('\r\nEC200U\r\n\r\nOK\r\n');
    expect(await fwM.at('AT+CGMM')).toBe('\r\nML307R-DC\r\n\r\nOK\r\n');
    expect(await fwT.at('AT+CGSN')).toBe('\r\n864215040000019\r\n\r\nOK\r\n');
    expect(await fwM.at('AT+CGSN')).toMatch(/864215040000027/);

    // A controller addressed by name acts on that modem only.
    vm.find('meter')!.controller.setSignal(9, 0);
    expect(await fwM.at('AT+CSQ')).toMatch(/\+CSQ: 9,0\r\n/);
    expect(await fwT.at('AT+CSQ')).not.toMatch(/\+CSQ: 9,0/);
  });
});

describe('vmodem start --config (the CLI in-process)', () => {
  it('starts the listed modems (banner names them), each answering on its link; flags win over the file', async () => {
    const dir = tmpDir();
    const { text, tracker, meter } = twoModemConfig();
    const file = path.join(dir, 'vmodem.yaml');
    fs.writeFileSync(file, text);
    const run = await startMain(['--config', file, '--timing', 'real']);
    const banner = run.banner;
    expect(banner).toContain('× 2');
    expect(banner).toMatch(new RegExp(`tracker\\s+${tracker} -> /dev/pts/\\d+\\s+IMEI 864215040000019`));
    expect(banner).toMatch(new RegExp(`meter\\s+${meter} -> /dev/pts/\\d+\\s+IMEI 864215040000027`));
    expect(banner).toMatch(/broker:\s+mqtt:\/\/127\.0\.0\.1:\d+ \(embedded\)/); // mqtt-port 0 from the file
    expect(banner).toContain('timing:  real'); // the flag, not the file's fast

    const fwT = await firmwareOn(tracker);
    const fwM = await firmwareOn(meter);
    expect(await fwT.at('ATI')).toMatch(/EC200U/);
    expect(await fwM.at('AT+CGMM')).toMatch(/ML307R-DC/);
    run.signal('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(fs.existsSync(tracker)).toBe(false);
    expect(fs.existsSync(meter)).toBe(false);
  });

  it('control settings come from the file too', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'vmodem.yaml');
    fs.writeFileSync(file, `mqtt-port: 0\ntiming: fast\nlink: ${uniqueLink()}\ncontrol: { port: 0, token: from-the-config-file }\n`);
    const { banner } = await startMain(['--config', file]);
    expect(banner).toMatch(/control: http:\/\/127\.0\.0\.1:\d+/);
    expect(banner).toContain('from-the-config-file');
  });

  it('a bad file, or --count against its modems list, is exit 2 with one line', async () => {
    const dir = tmpDir();
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'mqtt-port: 0\nmodems:\n  - name: a\n    profile: quectel-ec201\n');
    const r = await runMain(['start', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^vmodem: config ${bad} line 4: modems\\[0\\]\\.profile must be a profile id \\(.*\\), not string "quectel-ec201"\\n$`));

    const { text } = twoModemConfig();
    const two = path.join(dir, 'two.yaml');
    fs.writeFileSync(two, text);
    const c = await runMain(['start', '--config', two, '--count', '2']);
    expect(c.code).toBe(2);
    expect(c.stderr).toBe(`vmodem: --count conflicts with the modems listed in ${two}; drop one\n`);

    const missing = await runMain(['start', '--config', path.join(dir, 'none.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`vmodem: config ${path.join(dir, 'none.yaml')}: cannot read (ENOENT)\n`);
  });
});
