/**
 * The config file's `wifi:` blocks (issue 10): the access point and station of Wi-Fi profiles
 * (settings.wifi, tencent-qcloud) at the top level and per modem, checked with their own messages
 * (file, line, key), passed through startVmodem to each modem's station (ModemOptions.wifi) and
 * answered by the ESP-AT commands.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configToVmodemOptions, parseConfig } from '../../src/config/config-file.js';
import type { WifiSettings } from '../../src/modem/wifi-station.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';
import { startVmodem, VmodemConfigError } from '../../src/vmodem.js';
import { onCleanup, uniqueLink, useE2eCleanup } from '../helpers/e2e-harness.js';
import { runMain, startMain, useMainCleanup } from '../cli/in-process.js';

useE2eCleanup();
useMainCleanup();

const OK = '\r\nOK\r\n';
const reply = (...lines: string[]): string => `\r\n${lines.join('\r\n')}\r\n${OK}`;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function failure(text: string): string {
  try {
    parseConfig(text, { file: 'vm.yaml', baseDir: '/cfg' });
  } catch (err) {
    expect(err).toBeInstanceOf(VmodemConfigError);
    return (err as Error).message;
  }
  throw new Error('the config parsed');
}

/** A tencent-qcloud modem built with these Wi-Fi options (fast timing, memory port). */
function wifiModem(wifi: Partial<WifiSettings>): MemoryModem {
  const m = createMemoryModem('tencent-qcloud', { wifi });
  closers.push(() => m.stop());
  return m;
}

describe('wifi: in the config file', () => {
  it('parses kebab-case and camelCase keys at the top level and per modem', () => {
    const cfg = parseConfig(
      [
        'profile: tencent-qcloud',
        'wifi:',
        '  ssid: Office-5G',
        '  password: 87654321',
        '  bssid: AA:BB:CC:00:11:22',
        '  channel: 11',
        '  rssi: -67',
        '  gateway: 10.0.0.1',
        '  netmask: 255.255.0.0',
        '  join-at-boot: false',
        '  connectMs: 3000',
        '  dhcp-ms: 500',
        '  fail-ms: 7000',
        '  reconnect-interval-ms: 2000',
        'modems:',
        '  - name: a',
        '    wifi: { ip: 10.0.1.5, mac: "3C:71:BF:00:00:0A" }',
        '  - name: b',
        '    wifi: { ip: 10.0.1.6, joinAtBoot: true, password: "" }',
      ].join('\n'),
      { file: 'vm.yaml' },
    );
    expect(cfg.wifi).toEqual({
      ssid: 'Office-5G',
      password: '87654321',
      bssid: 'aa:bb:cc:00:11:22',
      channel: 11,
      rssi: -67,
      gateway: '10.0.0.1',
      netmask: '255.255.0.0',
      joinAtBoot: false,
      connectMs: 3000,
      dhcpMs: 500,
      failMs: 7000,
      reconnectIntervalMs: 2000,
    });
    expect(cfg.modems).toEqual([
      { name: 'a', wifi: { ip: '10.0.1.5', mac: '3c:71:bf:00:00:0a' } },
      { name: 'b', wifi: { ip: '10.0.1.6', joinAtBoot: true, password: '' } },
    ]);
    expect(configToVmodemOptions(cfg)).toMatchObject({ wifi: cfg.wifi, modems: cfg.modems });
  });

  const cases: { name: string; yaml: string; message: string }[] = [
    {
      name: 'unknown wifi key',
      yaml: 'wifi:\n  ssid: x\n  pasword: y\n',
      message:
        'config vm.yaml line 3: wifi.pasword: unknown key "pasword" (expected ssid, password, bssid, channel, rssi, ip, gateway, netmask, mac, join-at-boot, connect-ms, dhcp-ms, fail-ms, reconnect-interval-ms)',
    },
    { name: 'wifi not a mapping', yaml: 'wifi: on\n', message: 'config vm.yaml line 1: wifi must be a mapping of Wi-Fi settings' },
    { name: 'empty SSID', yaml: 'wifi:\n  ssid: ""\n', message: 'config vm.yaml line 2: wifi.ssid must be an SSID of 1–32 characters' },
    { name: 'SSID too long', yaml: `wifi:\n  ssid: ${'x'.repeat(33)}\n`, message: 'wifi.ssid must be an SSID of 1–32 characters' },
    { name: 'short password', yaml: 'wifi:\n  password: "1234"\n', message: 'config vm.yaml line 2: wifi.password must be a WPA2 passphrase of 8–63 characters, or "" for an open access point' },
    { name: 'bad IP', yaml: 'modems:\n  - wifi:\n      ip: 192.168.1\n', message: 'config vm.yaml line 3: modems[0].wifi.ip must be an IPv4 address (e.g. 192.168.1.100), not string "192.168.1"' },
    { name: 'bad netmask', yaml: 'wifi:\n  netmask: 24\n', message: 'config vm.yaml line 2: wifi.netmask must be an IPv4 netmask (e.g. 255.255.255.0)' },
    { name: 'bad MAC', yaml: 'wifi:\n  mac: 3c-71-bf-33-af-fd\n', message: 'config vm.yaml line 2: wifi.mac must be a MAC address (e.g. 3c:71:bf:33:af:fd)' },
    { name: 'channel out of range', yaml: 'wifi:\n  channel: 15\n', message: 'config vm.yaml line 2: wifi.channel must be a whole number 1–14' },
    { name: 'positive signal', yaml: 'wifi:\n  rssi: 10\n', message: 'config vm.yaml line 2: wifi.rssi must be a whole number -100–0' },
    { name: 'join-at-boot not a boolean', yaml: 'wifi:\n  join-at-boot: yes\n', message: 'config vm.yaml line 2: wifi.join-at-boot must be true or false' },
    { name: 'negative time', yaml: 'wifi:\n  connect-ms: -1\n', message: 'config vm.yaml line 2: wifi.connect-ms must be a whole number 0–600000' },
    { name: 'unknown modem key names wifi among the expected', yaml: 'modems:\n  - wlan: {}\n', message: 'expected name, profile, link, imei, radio, wifi' },
  ];
  for (const c of cases) {
    it(`error: ${c.name}`, () => {
      expect(failure(c.yaml)).toContain(c.message);
    });
  }
});

describe('the wifi options reach the station', () => {
  it('SSID, BSSID, channel, signal, addresses and MAC are what the ESP-AT commands answer', async () => {
    const m = wifiModem({ ssid: 'Office-5G', password: '87654321', bssid: 'aa:bb:cc:00:11:22', channel: 11, rssi: -67, ip: '10.0.1.5', gateway: '10.0.0.1', netmask: '255.255.0.0', mac: '3c:71:bf:00:00:0a' });
    expect(await m.at('AT+CWJAP?')).toBe(reply('+CWJAP:"Office-5G","aa:bb:cc:00:11:22",11,-67,0,1,3,0'));
    expect(await m.at('AT+CIPSTA?')).toBe(reply('+CIPSTA:ip:"10.0.1.5"', '+CIPSTA:gateway:"10.0.0.1"', '+CIPSTA:netmask:"255.255.0.0"'));
    expect(await m.at('AT+CIFSR')).toBe(reply('+CIFSR:STAIP,"10.0.1.5"', '+CIFSR:STAMAC,"3c:71:bf:00:00:0a"'));
    // The profile's password is not this access point's any more.
    expect(await m.at('AT+CWJAP="Office-5G","12345678"')).toBe('\r\nWIFI DISCONNECT\r\n+CWJAP:2\r\n\r\nERROR\r\n');
    expect(await m.at('AT+CWJAP="Office-5G","87654321"')).toBe(reply('WIFI CONNECTED', 'WIFI GOT IP'));
  });

  it('join-at-boot false: a module never set up, not joined until AT+CWJAP', async () => {
    const m = wifiModem({ joinAtBoot: false });
    expect(await m.at('AT+CWJAP?')).toBe(reply('No AP'));
    expect(await m.at('AT+CIPSTA?')).toBe(reply('+CIPSTA:ip:"0.0.0.0"', '+CIPSTA:gateway:"0.0.0.0"', '+CIPSTA:netmask:"0.0.0.0"'));
    expect(await m.at('AT+CWJAP="TP-LINK-E10","12345678"')).toBe(reply('WIFI CONNECTED', 'WIFI GOT IP'));
  });

  it('startVmodem gives each Wi-Fi modem the shared wifi block with its own over it', async () => {
    const cfg = parseConfig(
      [
        'mqtt-port: 0',
        'timing: fast',
        'link: null',
        'wifi:',
        '  ssid: Office-5G',
        '  rssi: -70',
        'modems:',
        '  - name: a',
        '    profile: tencent-qcloud',
        '    wifi: { ip: 10.0.1.5 }',
        '  - name: b',
        '    profile: tencent-qcloud',
        '    wifi: { ip: 10.0.1.6, rssi: -80 }',
        '  - name: cell',
        '    profile: quectel-ec200',
      ].join('\n'),
      { file: 'vm.yaml' },
    );
    const vm = await startVmodem(configToVmodemOptions(cfg));
    onCleanup(() => vm.stop());
    const [a, b, cell] = vm.modems.map((x) => x.modem.device.wifi);
    expect(a!.settings).toMatchObject({ ssid: 'Office-5G', rssi: -70, ip: '10.0.1.5', password: '12345678', gateway: '192.168.1.1' });
    expect(b!.settings).toMatchObject({ ssid: 'Office-5G', rssi: -80, ip: '10.0.1.6' });
    expect([a!.rssi, b!.rssi]).toEqual([-70, -80]);
    // Joined at power-on with the configured access point.
    expect(a!.inspect()).toMatchObject({ state: 'online', ssid: 'Office-5G', ip: '10.0.1.5' });
    // A cellular modem has no station; the shared block does not give it one.
    expect(cell).toBeUndefined();
  });

  it('startVmodem refuses Wi-Fi settings no modem can use', async () => {
    await expect(startVmodem({ link: null, mqttPort: 0, timing: 'fast', modems: [{ name: 'x', profile: 'quectel-ec200', wifi: { ssid: 'A' } }] })).rejects.toThrow(
      'modems[0] (x): wifi is set but profile quectel-ec200 has no Wi-Fi (settings.wifi)',
    );
    await expect(startVmodem({ link: null, mqttPort: 0, timing: 'fast', profile: 'quectel-ec200', wifi: { ssid: 'A' } })).rejects.toThrow(VmodemConfigError);
  });
});

describe('vmodem start --config with wifi: (the CLI in-process)', () => {
  function configFile(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-wifi-cfg-'));
    onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'vmodem.yaml');
    fs.writeFileSync(file, text);
    return file;
  }

  it('the file’s top-level and per-modem wifi reach the running modem (the control API’s inspection shows them)', async () => {
    const token = 'wifi-config-token-1';
    const file = configFile(
      [
        'mqtt-port: 0',
        'timing: fast',
        'profile: tencent-qcloud',
        `control: { port: 0, token: ${token} }`,
        'wifi: { ssid: Office-5G, rssi: -71 }',
        'modems:',
        `  - { name: esp, link: ${uniqueLink()}, wifi: { ip: 10.0.1.5 } }`,
        '',
      ].join('\n'),
    );
    const { banner } = await startMain(['--config', file]);
    const url = /control: (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1]!;
    const r = await fetch(`${url}/v1/modems/esp`, { headers: { Authorization: `Bearer ${token}` } });
    expect(((await r.json()) as { wifi: unknown }).wifi).toEqual({ state: 'online', apPresent: true, rssi: -71, ssid: 'Office-5G', ip: '10.0.1.5' });
  });

  it('a bad wifi value, or wifi for a cellular profile, is exit 2 with one line', async () => {
    const bad = configFile('mqtt-port: 0\nprofile: tencent-qcloud\nwifi:\n  channel: 0\n');
    const r = await runMain(['start', '--config', bad]);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `vmodem: config ${bad} line 4: wifi.channel must be a whole number 1–14, not number 0\n`]);
    const cell = configFile('mqtt-port: 0\nlink: null\nprofile: quectel-ec200\nwifi: { ssid: Office }\n');
    const c = await runMain(['start', '--config', cell]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/^vmodem: wifi is set but no modem has Wi-Fi \(profile quectel-ec200; .*\)\n$/);
  });
});
