/**
 * The ESP-AT set under Tencent's QCloud firmware (profile tencent-qcloud): the ESP8266 basics
 * and Wi-Fi commands byte for byte, the virtual access point, the Wi-Fi faults of the control
 * side, and what they do to the Tencent MQTT connection — on a memory modem, a TestClock and the
 * embedded broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { TestClock } from '../../src/util/clock.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const reply = (...lines: string[]): string => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const urc = (line: string): string => `\r\n${line}\r\n`;
const DEVINFO = 'AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","ZHNkIGRzZCA="';
const CONN = 'AT+TCMQTTCONN=1,5000,240,1,1';

let broker: EmbeddedBroker | undefined;
let m: MemoryModem | undefined;
let clock: TestClock;

afterEach(async () => {
  await m?.stop();
  await broker?.close();
  m = undefined;
  broker = undefined;
});

async function start(): Promise<MemoryModem> {
  broker = await startEmbeddedBroker({ port: 0 });
  clock = new TestClock();
  m = createMemoryModem('tencent-qcloud', { broker: broker.aedes, clock });
  return m;
}

/** Connect the Tencent client (device info, then AT+TCMQTTCONN and its result). */
async function connectMqtt(mm: MemoryModem): Promise<void> {
  await mm.at(DEVINFO);
  await mm.waitFor('+TCDEVINFOSET:OK');
  expect(await mm.at(CONN)).toBe(OK);
  await mm.waitFor('+TCMQTTCONN:OK');
}

describe('ESP-AT basics (tencent-qcloud)', () => {
  it('answers AT, ATE0/ATE1 and AT+GMR with the ESP-AT version lines', async () => {
    const mm = await start();
    expect(await mm.at('AT')).toBe(OK);
    // The line is echoed as it arrives: ATE1 itself is not, ATE0 still is.
    expect(await mm.at('ATE1')).toBe(OK);
    expect(await mm.at('ATE0')).toBe(`ATE0\r${OK}`);
    expect(await mm.at('AT+GMR')).toBe(
      reply('AT version:2.1.0.0(4f6b92c - Jun 10 2020 10:36:54)', 'SDK version:v3.2-192-g81655f3e', 'compile time(b498b1c):Aug 18 2020 11:39:32', 'Bin version:2.1.0(WROOM-02)'),
    );
  });

  it('prints ERR CODE:0x01090000 before the ERROR of a command it does not know', async () => {
    const mm = await start();
    expect(await mm.at('AT+FAKE')).toBe('\r\nERR CODE:0x01090000\r\n\r\nERROR\r\n');
    // A known command with a bad argument is a plain ERROR.
    expect(await mm.at('AT+CWMODE=7')).toBe('\r\nERROR\r\n');
  });

  it('restarts on AT+RST: OK, then ready with echo back on, then the Wi-Fi rejoin messages', async () => {
    const mm = await start();
    expect(await mm.at('AT+CWMODE=3')).toBe(OK);
    mm.clear();
    mm.send('AT+RST\r');
    const out = await mm.waitFor('WIFI GOT IP\r\n');
    expect(out).toBe(`${OK}${urc('ready')}${urc('WIFI CONNECTED')}${urc('WIFI GOT IP')}`);
    expect(mm.modem.engine.settings.echo).toBe(true);
    expect(await mm.at('AT+CWMODE?')).toBe(`AT+CWMODE?\r${reply('+CWMODE:1')}`);
  });

  it('forgets the saved access point on AT+RESTORE: no join at boot, AT+CWJAP? says No AP', async () => {
    const mm = await start();
    mm.send('AT+RESTORE\r');
    await mm.waitFor(`${OK}${urc('ready')}`);
    await clock.advance(10_000);
    expect(mm.output()).toBe(`${OK}${urc('ready')}`);
    mm.modem.engine.settings.echo = false;
    expect(await mm.at('AT+CWJAP?')).toBe(reply('No AP'));
    expect(await mm.at('AT+CIPSTA?')).toBe(reply('+CIPSTA:ip:"0.0.0.0"', '+CIPSTA:gateway:"0.0.0.0"', '+CIPSTA:netmask:"0.0.0.0"'));
  });

  it('keeps UART, sleep, store and passthrough settings as the guide prints them', async () => {
    const mm = await start();
    expect(await mm.at('AT+UART_CUR?')).toBe(reply('+UART_CUR:115200,8,1,0,0'));
    expect(await mm.at('AT+UART_DEF=921600,8,1,0,1')).toBe(OK);
    expect(await mm.at('AT+UART_CUR?')).toBe(reply('+UART_CUR:921600,8,1,0,1'));
    expect(await mm.at('AT+SLEEP?')).toBe(reply('+SLEEP:2'));
    expect(await mm.at('AT+SLEEP=0')).toBe(OK);
    expect(await mm.at('AT+SYSSTORE?')).toBe(reply('+SYSSTORE:1'));
    expect(await mm.at('AT+SYSRAM?')).toBe(reply('+SYSRAM:40612,37436'));
    expect(await mm.at('AT+CIPMODE=0')).toBe(OK);
    expect(await mm.at('AT+CIPMODE?')).toBe(reply('+CIPMODE:0'));
    expect(await mm.at('AT+CIPMODE=2')).toBe('\r\nERROR\r\n');
  });
});

describe('the virtual access point', () => {
  it('is joined at power-on, so AT+CWJAP? and AT+CIPSTA? find the module connected', async () => {
    const mm = await start();
    expect(await mm.at('AT+CWJAP?')).toBe(reply('+CWJAP:"TP-LINK-E10","c8:3a:35:5e:10:e1",6,-45,0,1,3,0'));
    expect(await mm.at('AT+CIPSTA?')).toBe(reply('+CIPSTA:ip:"192.168.1.100"', '+CIPSTA:gateway:"192.168.1.1"', '+CIPSTA:netmask:"255.255.255.0"'));
    expect(await mm.at('AT+CIFSR')).toBe(reply('+CIFSR:STAIP,"192.168.1.100"', '+CIFSR:STAMAC,"3c:71:bf:33:af:fd"'));
    expect(await mm.at('AT+CWSTATE?')).toBe(reply('+CWSTATE:2,"TP-LINK-E10"'));
  });

  it('joins with AT+CWJAP after AT+CWQAP: WIFI CONNECTED, WIFI GOT IP, then OK', async () => {
    const mm = await start();
    expect(await mm.at('AT+CWQAP')).toBe(OK);
    expect(await mm.waitFor('WIFI DISCONNECT\r\n')).toBe(`${OK}${urc('WIFI DISCONNECT')}`);
    expect(await mm.at('AT+CWJAP?')).toBe(reply('No AP'));
    expect(await mm.at('AT+CWMODE=1')).toBe(OK);
    const started = clock.now();
    expect(await mm.at('AT+CWJAP="TP-LINK-E10","12345678"')).toBe(reply('WIFI CONNECTED', 'WIFI GOT IP'));
    // The join takes module time (fast timing runs radio figures as 0, so none here).
    expect(clock.now()).toBeGreaterThanOrEqual(started);
    expect(await mm.at('AT+CIPSTA?')).toBe(reply('+CIPSTA:ip:"192.168.1.100"', '+CIPSTA:gateway:"192.168.1.1"', '+CIPSTA:netmask:"255.255.255.0"'));
  });

  it('fails a wrong password with +CWJAP:2 and an unknown SSID with +CWJAP:3, then ERROR', async () => {
    const mm = await start();
    expect(await mm.at('AT+CWJAP="TP-LINK-E10","wrong-pass"')).toBe('\r\nWIFI DISCONNECT\r\n+CWJAP:2\r\n\r\nERROR\r\n');
    expect(await mm.at('AT+CWJAP="Elsewhere","12345678"')).toBe('\r\n+CWJAP:3\r\n\r\nERROR\r\n');
    expect(await mm.at('AT+CWJAP?')).toBe(reply('No AP'));
  });

  it('takes escaped characters in the SSID and password as ESP-AT does', async () => {
    const mm = await start();
    expect(await mm.at('AT+CWJAP="TP\\-LINK-E10","1234\\5678"')).toBe(reply('WIFI DISCONNECT', 'WIFI CONNECTED', 'WIFI GOT IP'));
  });

  it('refuses AT+CWJAP while the station is off (AT+CWMODE=0)', async () => {
    const mm = await start();
    expect(await mm.at('AT+CWMODE=0')).toBe(OK);
    await mm.waitFor('WIFI DISCONNECT');
    expect(await mm.at('AT+CWJAP="TP-LINK-E10","12345678"')).toBe('\r\nERROR\r\n');
  });
});

describe('Wi-Fi and the Tencent MQTT connection', () => {
  it('fails AT+TCMQTTCONN after its OK while Wi-Fi is down, as the firmware does: -703 over TLS, -602 (unknown host) over TCP', async () => {
    const mm = await start();
    await mm.at('AT+CWQAP');
    await mm.waitFor('WIFI DISCONNECT');
    await mm.at(DEVINFO);
    await mm.waitFor('+TCDEVINFOSET:OK');
    expect(await mm.at(CONN)).toBe(OK);
    // Tencent C SDK: network_tls_connect reports any HAL_TLS_Connect failure (the DNS lookup's too)
    // as QCLOUD_ERR_SSL_CONNECT; HAL_TCP_Connect's failed getaddrinfo is QCLOUD_ERR_TCP_UNKNOWN_HOST.
    expect(await mm.waitFor(/\+TCMQTTCONN:FAIL,-\d+\r\n/)).toBe(`${OK}\r\n+TCMQTTCONN:FAIL,-703\r\n`);
    mm.clear();
    expect(await mm.at('AT+TCMQTTCONN=0,5000,240,1,1')).toBe(OK);
    expect(await mm.waitFor(/\+TCMQTTCONN:FAIL,-\d+\r\n/)).toBe(`${OK}\r\n+TCMQTTCONN:FAIL,-602\r\n`);
  });

  it('drops the connection when the access point goes and reconnects when it is back', async () => {
    const mm = await start();
    await connectMqtt(mm);
    mm.clear();
    mm.modem.device.wifi!.setApPresent(false);
    const lost = await mm.waitFor('+TCMQTTDISCON');
    expect(lost.startsWith(urc('WIFI DISCONNECT'))).toBe(true);
    expect(lost).toMatch(/\+TCMQTTDISCON,-\d+\r\n$/);
    expect(await mm.at('AT+CIPSTA?')).toContain('+CIPSTA:ip:"0.0.0.0"');
    mm.clear();
    mm.modem.device.wifi!.setApPresent(true);
    const back = await mm.waitFor('+TCMQTTRECONNECTED', 120_000);
    expect(back).toContain(`${urc('WIFI CONNECTED')}${urc('WIFI GOT IP')}`);
    expect(await mm.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:1'));
  });

  it('reports the signal the control side sets in AT+CWJAP?', async () => {
    const mm = await start();
    mm.modem.device.wifi!.rssi = -77;
    expect(await mm.at('AT+CWJAP?')).toBe(reply('+CWJAP:"TP-LINK-E10","c8:3a:35:5e:10:e1",6,-77,0,1,3,0'));
  });
});
