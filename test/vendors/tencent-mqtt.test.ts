/**
 * Tencent IoT AT §3 and §5.1–§5.4 against the virtual cloud (a strict registry, the broker's TLS
 * listener): the module's own PSK and certificate sign-ins, refusals with the documented codes,
 * topic permissions, messages both ways byte for byte, the cloud dropping the device and the
 * auto reconnection, and bad input. Certificate sign-in and AT+TCREGNET run on
 * tencent-qcloud-cellular (the ESP8266 build has neither; Tencent's test reports), after dialling.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRegistry } from '../../src/cloud/registry-file.js';
import type { StreamBroker } from '../../src/mqtt/memory-link.js';
import { TestClock } from '../../src/util/clock.js';
import { filteringBroker, type FilteringBroker } from '../helpers/filtering-broker.js';
import { cellular, cme, dialUp, OK, okThen, reply, startTencent, type HarnessOptions, type TencentHarness } from './tencent-harness.js';

const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'transcripts', 'tencent-qcloud-cellular');
const CERT = readFileSync(path.join(FIXTURES, 'general_cdev1_cert.crt'));
const KEY = readFileSync(path.join(FIXTURES, 'general_cdev1_private.key'));

const registry = () =>
  parseRegistry(
    {
      products: [
        { platform: 'tencent', productId: 'CTQS08Y5LG', devices: [{ deviceName: 'device1', deviceSecret: 'ZHNkIGRzZCA=' }] },
        { platform: 'tencent', productId: 'MND067I4BM', devices: [{ deviceName: 'dev_g1', certificate: 'general_cdev1_cert.crt' }] },
      ],
    },
    { baseDir: FIXTURES },
  );

const running: TencentHarness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});
async function cloud(opts: HarnessOptions = {}): Promise<TencentHarness> {
  const h = await startTencent({ tls: true, registry: registry(), ...opts });
  running.push(h);
  // The cellular build's data path is up once the driver dials it.
  if (opts.profile === 'tencent-qcloud-cellular') await dialUp(h);
  return h;
}

/**
 * The in-memory broker link and a clock the test drives, with the module's real timing: back-off
 * waits, <cmdtimeout> and idle limits pass as module time, not real time.
 */
const onClock = (): HarnessOptions => ({ memory: true, tls: false, clock: new TestClock(), timing: 'real' });

const DEVINFO = 'AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","ZHNkIGRzZCA="';
const TOPIC = 'CTQS08Y5LG/device1/data';

/** Signed in over TLS with the manual's §7.1 lines. */
async function connected(opts: HarnessOptions = {}, conn = 'AT+TCMQTTCONN=1,5000,240,1,1'): Promise<TencentHarness> {
  const h = await cloud(opts);
  expect(await h.exchange(DEVINFO, okThen('+TCDEVINFOSET:OK'))).toBe(okThen('+TCDEVINFOSET:OK'));
  expect(await h.exchange(conn, okThen('+TCMQTTCONN:OK'))).toBe(okThen('+TCMQTTCONN:OK'));
  return h;
}

describe('AT+TCMQTTCONN (§3.1) against the virtual cloud', () => {
  it('signs in over TLS with the PSK it computes itself (§7.1 line for line)', async () => {
    const h = await connected();
    expect(await h.at('AT+TCMQTTCONN?')).toBe(reply('+TCMQTTCONN:1,5000,240,1,1'));
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:1'));
    const client = h.deviceClient()!;
    expect(client.id).toBe('CTQS08Y5LGdevice1');
    expect(h.cloud!.cloud.sessionOf(client)).toMatchObject({ platform: 'tencent', productId: 'CTQS08Y5LG', deviceName: 'device1' });
    expect(await h.at('AT+TCMQTTCONN=1,5000,240,1,1')).toBe(cme(208));
  });

  it('reports the defaults before any connection (keepalive 240, clean session 1)', async () => {
    const h = await cloud(onClock());
    expect(await h.at('AT+TCMQTTCONN?')).toBe(reply('+TCMQTTCONN:1,5000,240,1,1'));
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:0'));
  });

  it('is refused with -116 (bad user name or password) for a wrong secret or an unknown device', async () => {
    const h = await cloud();
    await h.exchange('AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","b3RoZXI="', okThen('+TCDEVINFOSET:OK'));
    expect(await h.exchange('AT+TCMQTTCONN=1,5000,240,1,1', okThen('+TCMQTTCONN:FAIL,-116'))).toBe(okThen('+TCMQTTCONN:FAIL,-116'));
    await h.exchange('AT+TCDEVINFOSET=1,"CTQS08Y5LG","nobody","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'));
    expect(await h.exchange('AT+TCMQTTCONN=0,5000,240,1,1', okThen('+TCMQTTCONN:FAIL,-116'))).toBe(okThen('+TCMQTTCONN:FAIL,-116'));
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:0'));
  });

  it('signs in with the stored certificate and key over TLS (§7.2 line for line; cellular build)', async () => {
    const h = await cloud(cellular());
    for (const [name, data] of [['general_cdev1_cert.crt', CERT], ['general_cdev1_private.key', KEY]] as const) {
      expect(await h.at(`AT+TCCERTADD="${name}",${data.length}`)).toBe('\r\nOK\r\n\r\n>\r\n');
      h.clear();
      h.send(Buffer.concat([data, Buffer.from('\r\n')]));
      await h.waitFor('\r\n+TCCERTADD:OK\r\n');
    }
    expect(await h.exchange('AT+TCDEVINFOSET=2,"MND067I4BM","dev_g1","general_cdev1_cert.crt"', okThen('+TCDEVINFOSET:OK'))).toBe(okThen('+TCDEVINFOSET:OK'));
    expect(await h.exchange('AT+TCMQTTCONN=2,5000,240,1,1', okThen('+TCMQTTCONN:OK'))).toBe(okThen('+TCMQTTCONN:OK'));
    expect(h.cloud!.cloud.sessionOf(h.deviceClient()!)).toMatchObject({ productId: 'MND067I4BM', deviceName: 'dev_g1' });
  });

  it('reports -702 when the certificate went away before connecting (cellular build)', async () => {
    const h = await cloud(cellular());
    for (const [name, data] of [['c.crt', CERT], ['k.key', KEY]] as const) {
      await h.at(`AT+TCCERTADD="${name}",${data.length}`);
      h.send(data);
      await h.waitFor('+TCCERTADD:OK\r\n');
    }
    await h.exchange('AT+TCDEVINFOSET=2,"MND067I4BM","dev_g1","c.crt"', okThen('+TCDEVINFOSET:OK'));
    await h.exchange('AT+TCCERTDEL="k.key"', okThen('+TCCERTDEL:OK'));
    expect(await h.exchange('AT+TCMQTTCONN=2,5000,240,1,1', okThen('+TCMQTTCONN:FAIL,-702'))).toBe(okThen('+TCMQTTCONN:FAIL,-702'));
  });

  it('fails the TLS modes with -703 when there is no TLS listener', async () => {
    const h = await startTencent();
    running.push(h);
    await h.exchange(DEVINFO, okThen('+TCDEVINFOSET:OK'));
    expect(await h.exchange('AT+TCMQTTCONN=1,5000,240,1,1', okThen('+TCMQTTCONN:FAIL,-703'))).toBe(okThen('+TCMQTTCONN:FAIL,-703'));
  });

  it('refuses a <tlsmode> that does not fit the device information, bad ranges, and no device information', async () => {
    const h = await cloud(onClock());
    expect(await h.at('AT+TCMQTTCONN=1,5000,240,1,1')).toBe(cme(208));
    await h.exchange('AT+TCDEVINFOSET=0,"CTQS08Y5LG","device1","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'));
    for (const line of [
      'AT+TCMQTTCONN=1,5000,240,1,1',
      'AT+TCMQTTCONN=2,5000,240,1,1',
      'AT+TCMQTTCONN=3,5000,240,1,1',
      'AT+TCMQTTCONN=0,5000,59,1,1',
      'AT+TCMQTTCONN=0,5000,691,1,1',
      'AT+TCMQTTCONN=0,499,240,1,1',
      'AT+TCMQTTCONN=0,20001,240,1,1',
      'AT+TCMQTTCONN=0,5000,240,2,1',
      'AT+TCMQTTCONN=0,5000,240,1,2',
      'AT+TCMQTTCONN=0,5000,240,1',
      'AT+TCMQTTCONN=0,5000,240,1,1,1',
      'AT+TCMQTTCONN="0",5000,240,1,1',
    ]) {
      expect(await h.at(line), line).toBe(cme(204));
    }
    expect(await h.exchange('AT+TCMQTTCONN=0,5000,60,0,0', okThen('+TCMQTTCONN:OK'))).toBe(okThen('+TCMQTTCONN:OK'));
    expect(await h.at('AT+TCMQTTCONN?')).toBe(reply('+TCMQTTCONN:0,5000,60,0,0'));
  });

  it('refuses to connect without a network (208; the cellular build, after AT+TCREGNET=0,0)', async () => {
    const h = await cloud(cellular(onClock()));
    await h.exchange(DEVINFO, okThen('+TCDEVINFOSET:OK'));
    await h.exchange('AT+TCREGNET=0,0', okThen('+TCREGNET:0,NET_CLOSE'));
    expect(await h.at('AT+TCMQTTCONN=1,5000,240,1,1')).toBe(cme(208));
  });
});

describe('messages (§3.3–§3.6, §5.1)', () => {
  it('subscribes, lists, receives raw payloads with their byte length, unsubscribes', async () => {
    const h = await connected(onClock());
    expect(await h.exchange(`AT+TCMQTTSUB="${TOPIC}",1`, okThen('+TCMQTTSUB:OK'))).toBe(okThen('+TCMQTTSUB:OK'));
    expect(await h.exchange('AT+TCMQTTSUB="CTQS08Y5LG/device1/control",0', okThen('+TCMQTTSUB:OK'))).toBe(okThen('+TCMQTTSUB:OK'));
    expect(await h.at('AT+TCMQTTSUB?')).toBe(reply(`+TCMQTTSUB:"${TOPIC}",1`, '+TCMQTTSUB:"CTQS08Y5LG/device1/control",0'));
    h.clear();
    const binary = Buffer.from([0x22, 0x2c, 0x0d, 0x0a, 0x00, 0xff, 0x41]);
    await h.publish(TOPIC, binary, 1);
    const expected = Buffer.concat([Buffer.from(`\r\n+TCMQTTRCVPUB:"${TOPIC}",7,"`), binary, Buffer.from('"\r\n')]);
    await h.waitFor(`,7,"`);
    await h.advance(20);
    expect(h.port.host.received).toEqual(expected);
    h.clear();
    await h.publish('CTQS08Y5LG/device1/control', '你好');
    expect(await h.waitFor('"\r\n')).toBe('\r\n+TCMQTTRCVPUB:"CTQS08Y5LG/device1/control",6,"\xe4\xbd\xa0\xe5\xa5\xbd"\r\n');
    expect(await h.at('AT+TCMQTTUNSUB?')).toBe(OK);
    expect(await h.exchange(`AT+TCMQTTUNSUB="${TOPIC}"`, okThen('+TCMQTTUNSUB:OK'))).toBe(okThen('+TCMQTTUNSUB:OK'));
    expect(await h.at('AT+TCMQTTUNSUB?')).toBe(reply(`+TCMQTTUNSUB:"${TOPIC}"`));
    expect(await h.at('AT+TCMQTTSUB?')).toBe(reply('+TCMQTTSUB:"CTQS08Y5LG/device1/control",0'));
  });

  it('is refused a subscription the platform does not permit: FAIL,-108 (§3.5 example)', async () => {
    const h = await connected(onClock());
    expect(await h.exchange('AT+TCMQTTSUB="CTQS08Y5LG/device1/event",0', okThen('+TCMQTTSUB:FAIL,-108'))).toBe(okThen('+TCMQTTSUB:FAIL,-108'));
    expect(await h.at('AT+TCMQTTSUB?')).toBe(OK);
  });

  it('publishes QoS 0 and 1 with the escapes unescaped, up to 1024 bytes', async () => {
    const h = await connected(onClock());
    expect(await h.exchange(`AT+TCMQTTPUB="${TOPIC}",1,"{\\"action\\":\\"test\\"\\,\\"time\\":1565075992}"`, okThen('+TCMQTTPUB:OK'))).toBe(okThen('+TCMQTTPUB:OK'));
    expect(await h.exchange(`AT+TCMQTTPUB="${TOPIC}",0,"a\\\\b"`, okThen('+TCMQTTPUB:OK'))).toBe(okThen('+TCMQTTPUB:OK'));
    const max = 'x'.repeat(1020) + '\\"\\,';
    expect(await h.exchange(`AT+TCMQTTPUB="${TOPIC}",0,"${max}"`, okThen('+TCMQTTPUB:OK'))).toBe(okThen('+TCMQTTPUB:OK'));
    expect(await h.exchange(`AT+TCMQTTPUB="${TOPIC}",0,""`, okThen('+TCMQTTPUB:OK'))).toBe(okThen('+TCMQTTPUB:OK'));
    await h.advance(30);
    const got = h.published.filter((p) => p.topic === TOPIC).map((p) => [p.payload.toString('latin1'), p.qos]);
    expect(got).toEqual([
      ['{"action":"test","time":1565075992}', 1],
      ['a\\b', 0],
      ['x'.repeat(1020) + '",', 0],
      ['', 0],
    ]);
    expect(await h.at(`AT+TCMQTTPUB="${TOPIC}",0,"${'x'.repeat(1025)}"`)).toBe(cme(201));
  });

  it('publishes a long message of exactly <msg_length> bytes after the prompt, dropping the CRLF after it', async () => {
    const h = await connected(onClock());
    const body = Buffer.alloc(10240, 0x61);
    body[0] = 0x00;
    body[10239] = 0x0d;
    expect(await h.at(`AT+TCMQTTPUBL="${TOPIC}",1,10240`)).toBe('\r\nOK\r\n\r\n>\r\n');
    h.clear();
    h.send(Buffer.concat([body, Buffer.from('\r\n')]));
    expect(await h.waitFor('\r\n+TCMQTTPUBL:OK\r\n')).toBe('\r\n+TCMQTTPUBL:OK\r\n');
    expect(await h.at('AT')).toBe(OK);
    expect(h.published.find((p) => p.topic === TOPIC)!.payload).toEqual(body);
    expect(await h.at(`AT+TCMQTTPUBL="${TOPIC}",1,10241`)).toBe(cme(201));
    expect(await h.at(`AT+TCMQTTPUBL="${TOPIC}",1,0`)).toBe(cme(204));
  });

  it('gives up a long message whose sender goes silent: FAIL,202, nothing sent', async () => {
    const h = await connected({ ...onClock(), tweak: (p) => void (p.timing.dataIdleTimeout = 150) });
    expect(await h.at(`AT+TCMQTTPUBL="${TOPIC}",0,20`)).toBe('\r\nOK\r\n\r\n>\r\n');
    h.clear();
    h.send('only ten b');
    expect(await h.waitFor('\r\n+TCMQTTPUBL:FAIL,202\r\n', 3000)).toBe('\r\n+TCMQTTPUBL:FAIL,202\r\n');
    expect(h.published.filter((p) => p.topic === TOPIC)).toEqual([]);
  });

  it('refuses bad publish and subscribe input', async () => {
    const h = await connected(onClock());
    for (const line of [
      `AT+TCMQTTPUB="${TOPIC}",2,"x"`,
      `AT+TCMQTTPUB="${'t'.repeat(129)}",0,"x"`,
      'AT+TCMQTTPUB="a/+/b",0,"x"',
      'AT+TCMQTTPUB="",0,"x"',
      `AT+TCMQTTPUB="${TOPIC}",0`,
      `AT+TCMQTTPUB="${TOPIC}",0,unquoted`,
      `AT+TCMQTTSUB="${TOPIC}",2`,
      `AT+TCMQTTSUB="${TOPIC}"`,
      'AT+TCMQTTUNSUB=""',
      `AT+TCMQTTPUBL="${TOPIC}",0`,
      'AT+TCMQTTPUBL="a/#",0,5',
      'AT+TCMQTTSUB="a/#/b",0',
      'AT+TCMQTTSUB="a/b+",0',
      'AT+TCMQTTUNSUB="#/x"',
    ]) {
      expect(await h.at(line), line).toBe(cme(204));
    }
    // An unescaped quote ends the string early: the line is malformed.
    expect(await h.at(`AT+TCMQTTPUB="${TOPIC}",0," {"action":"test"}"`)).toBe('\r\nERROR\r\n');
  });

  it('refuses MQTT commands before the connection (208)', async () => {
    const h = await cloud(onClock());
    for (const line of [`AT+TCMQTTPUB="${TOPIC}",0,"x"`, `AT+TCMQTTPUBL="${TOPIC}",0,5`, `AT+TCMQTTSUB="${TOPIC}",0`, `AT+TCMQTTUNSUB="${TOPIC}"`, 'AT+TCMQTTDISCONN', 'AT+TCOTASET=1,"1.0.0"']) {
      expect(await h.at(line), line).toBe(cme(208));
    }
  });

  it('refuses a command while the previous one has not reported its result (200)', async () => {
    const h = await connected(onClock());
    h.clear();
    h.send(`AT+TCMQTTSUB="${TOPIC}",1\rAT+TCMQTTPUB="${TOPIC}",1,"x"\r`);
    expect(await h.waitFor('+TCMQTTSUB:OK\r\n')).toBe(`${OK}${cme(200)}\r\n+TCMQTTSUB:OK\r\n`);
  });
});

describe('the cloud dropping the device (§5.2–§5.4)', () => {
  it('reports +TCMQTTDISCON, reconnects on its own and renews the subscriptions', async () => {
    const h = await connected(onClock());
    await h.exchange(`AT+TCMQTTSUB="${TOPIC}",0`, okThen('+TCMQTTSUB:OK'));
    h.clear();
    h.deviceClient()!.close();
    expect(await h.waitFor('+TCMQTTRECONNECTED\r\n', 5000)).toBe('\r\n+TCMQTTDISCON,-708\r\n\r\n+TCMQTTRECONNECTING\r\n\r\n+TCMQTTRECONNECTED\r\n');
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:1'));
    h.clear();
    await h.publish(TOPIC, 'again');
    expect(await h.waitFor('"again"\r\n')).toBe(`\r\n+TCMQTTRCVPUB:"${TOPIC}",5,"again"\r\n`);
  });

  it('over plain TCP the drop is a peer shutdown (-608); without <reconnect> it stays down', async () => {
    const h = await connected(onClock(), 'AT+TCMQTTCONN=0,5000,240,1,0');
    h.clear();
    h.deviceClient()!.close();
    expect(await h.waitFor('+TCMQTTDISCON,-608\r\n')).toBe('\r\n+TCMQTTDISCON,-608\r\n');
    // Longer than every reconnection wait together (1 + 2 + … + 32 s).
    await h.advance(120_000);
    expect(h.output()).toBe('\r\n+TCMQTTDISCON,-608\r\n');
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:0'));
    expect(await h.at('AT+TCMQTTDISCONN')).toBe(cme(208));
  });

  it('answers a publish the platform refuses with FAIL,202 (§3.3 example) while it reconnects', async () => {
    const clock = new TestClock();
    const h = await connected({ ...onClock(), clock }, 'AT+TCMQTTCONN=0,1000,240,1,1');
    h.clear();
    const since = clock.now();
    h.send('AT+TCMQTTPUB="CTQS08Y5LG/device1/control",1,"hello"\r');
    // The connection went away with the PUBLISH: its result waits for the end of <cmdtimeout>.
    await h.advance(990);
    expect(h.output()).toContain('+TCMQTTDISCON,-608');
    expect(h.output()).not.toContain('+TCMQTTPUB:');
    const out = await h.waitFor(/\+TCMQTTPUB:FAIL,202\r\n[\s\S]*RECONNECTED|RECONNECTED[\s\S]*\+TCMQTTPUB:FAIL,202\r\n/, 5000);
    expect(clock.now() - since).toBeGreaterThanOrEqual(1000);
    expect(out.startsWith(`${OK}\r\n+TCMQTTDISCON,-608\r\n\r\n+TCMQTTRECONNECTING\r\n`)).toBe(true);
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:1'));
  });

  it('gives up reconnecting after the waits pass 60 s: +TCMQTTDISCON,-106 (cellular build, AT+TCREGNET=0,0)', async () => {
    const clock = new TestClock();
    const h = await connected(cellular({ ...onClock(), clock }), 'AT+TCMQTTCONN=0,5000,240,1,1');
    h.clear();
    const since = clock.now();
    // Leaving the network kills the connection; every attempt then fails.
    h.send('AT+TCREGNET=0,0\r');
    await h.waitFor('+TCMQTTRECONNECTING\r\n');
    // Attempts after 1, 2, 4, 8, 16 and 32 s; the next wait (64 s) would pass 60 s.
    await h.advance(since + 62_900 - clock.now());
    expect(h.output()).not.toContain('-106');
    expect(await h.waitFor('-106\r\n', 1000)).toBe(`${OK}\r\n+TCREGNET:0,NET_CLOSE\r\n\r\n+TCMQTTDISCON,-606\r\n\r\n+TCMQTTRECONNECTING\r\n\r\n+TCMQTTDISCON,-106\r\n`);
    expect(clock.now() - since).toBeGreaterThanOrEqual(63_000);
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:0'));
  });

  it('AT+TCMQTTDISCONN stops a reconnection in progress (cellular build, AT+TCREGNET=0,0)', async () => {
    const h = await connected(cellular(onClock()), 'AT+TCMQTTCONN=0,5000,240,1,1');
    await h.exchange('AT+TCREGNET=0,0', okThen('+TCREGNET:0,NET_CLOSE'));
    await h.waitFor('+TCMQTTRECONNECTING\r\n');
    // Firmware "manual" (the cellular build): no +TCMQTTDISCON,2 before the OK (the ESP8266 builds print it).
    expect(await h.at('AT+TCMQTTDISCONN')).toBe(OK);
    h.clear();
    // Longer than every reconnection wait together (1 + 2 + … + 32 s).
    await h.advance(120_000);
    expect(h.output()).toBe('');
  });
});

describe('requests that must not stop the module', () => {
  it('refuses the same subscription sent again before its result, in one write (200), and goes on', async () => {
    const h = await connected(onClock());
    h.clear();
    h.send(`AT+TCMQTTSUB="${TOPIC}",1\rAT+TCMQTTSUB="${TOPIC}",1\r`);
    expect(await h.waitFor('+TCMQTTSUB:OK\r\n')).toBe(`${OK}${cme(200)}\r\n+TCMQTTSUB:OK\r\n`);
    expect(await h.at('AT')).toBe(OK);
    expect(await h.at('AT+TCMQTTSUB?')).toBe(reply(`+TCMQTTSUB:"${TOPIC}",1`));
  });

  it('refuses the same QoS 1 publish sent again before its result, in one write (200); one message goes out', async () => {
    const h = await connected(onClock());
    h.clear();
    h.send(`AT+TCMQTTPUB="${TOPIC}",1,"once"\rAT+TCMQTTPUB="${TOPIC}",1,"once"\r`);
    expect(await h.waitFor('+TCMQTTPUB:OK\r\n')).toBe(`${OK}${cme(200)}\r\n+TCMQTTPUB:OK\r\n`);
    expect(await h.at('AT')).toBe(OK);
    expect(h.published.filter((p) => p.topic === TOPIC).map((p) => p.payload.toString())).toEqual(['once']);
  });

  it('refuses publishes and subscriptions while it reconnects (208), answers AT, and is back afterwards', async () => {
    const h = await connected(onClock());
    h.clear();
    h.deviceClient()!.close();
    await h.waitFor('+TCMQTTRECONNECTING\r\n');
    for (const line of [`AT+TCMQTTPUB="${TOPIC}",1,"x"`, `AT+TCMQTTPUB="${TOPIC}",0,"x"`, `AT+TCMQTTPUBL="${TOPIC}",0,5`, `AT+TCMQTTSUB="${TOPIC}",0`, `AT+TCMQTTUNSUB="${TOPIC}"`]) {
      expect(await h.at(line), line).toBe(cme(208));
    }
    expect(await h.at('AT')).toBe(OK);
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:0'));
    await h.waitFor('+TCMQTTRECONNECTED\r\n');
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:1'));
    expect(h.published.filter((p) => p.topic === TOPIC)).toEqual([]);
  });

  it('takes command lines sent in data mode (AT+TCMQTTPUBL) as message bytes, then refuses a command before the result (200)', async () => {
    const h = await connected(onClock());
    const data = 'AT+TCMQTTDISCONN\rAT\r';
    expect(await h.at(`AT+TCMQTTPUBL="${TOPIC}",1,${data.length}`)).toBe('\r\nOK\r\n\r\n>\r\n');
    h.clear();
    h.send(`${data}AT+TCMQTTPUB="${TOPIC}",0,"x"\r`);
    expect(await h.waitFor('+TCMQTTPUBL:OK\r\n')).toBe(`${cme(200)}\r\n+TCMQTTPUBL:OK\r\n`);
    expect(await h.at('AT')).toBe(OK);
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:1'));
    expect(h.published.filter((p) => p.topic === TOPIC).map((p) => p.payload.toString('latin1'))).toEqual([data]);
  });
});

describe('<cmdtimeout> (§3.1) bounds every wait, without retransmission', () => {
  it('fails the connection with -111 when no CONNACK comes within <cmdtimeout>', async () => {
    const clock = new TestClock();
    const filter = (b: StreamBroker) => filteringBroker(b, (p) => p.cmd === 'connect');
    const h = await cloud({ ...onClock(), clock, via: filter });
    await h.exchange('AT+TCDEVINFOSET=0,"CTQS08Y5LG","device1","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'));
    const since = clock.now();
    expect(await h.exchange('AT+TCMQTTCONN=0,2000,240,1,1', okThen('+TCMQTTCONN:FAIL,-111'), 10_000)).toBe(okThen('+TCMQTTCONN:FAIL,-111'));
    expect(clock.now() - since).toBeGreaterThanOrEqual(2000);
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:0'));
    expect(await h.at('AT')).toBe(OK);
  });

  it('fails a subscription and a QoS 1 publish with 202 at the end of <cmdtimeout>, each sent once', async () => {
    const clock = new TestClock();
    let fb: FilteringBroker | undefined;
    const filter = (b: StreamBroker) => (fb = filteringBroker(b, (p) => p.cmd === 'subscribe' || (p.cmd === 'publish' && p.qos === 1)));
    const h = await connected({ ...onClock(), clock, via: filter }, 'AT+TCMQTTCONN=1,3000,240,1,1');
    for (const [line, result] of [
      [`AT+TCMQTTSUB="${TOPIC}",1`, '+TCMQTTSUB:FAIL,202'],
      [`AT+TCMQTTPUB="${TOPIC}",1,"x"`, '+TCMQTTPUB:FAIL,202'],
    ] as const) {
      const since = clock.now();
      expect(await h.exchange(line, okThen(result), 10_000), line).toBe(okThen(result));
      expect(clock.now() - since, line).toBeGreaterThanOrEqual(3000);
    }
    expect(fb!.received.filter((p) => p.cmd === 'subscribe')).toHaveLength(1);
    expect(fb!.received.filter((p) => p.cmd === 'publish')).toHaveLength(1);
    expect(await h.at('AT+TCMQTTSUB?')).toBe(OK);
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:1'));
  });
});
