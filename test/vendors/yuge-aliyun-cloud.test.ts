/**
 * The CLM920 against the virtual cloud playing Aliyun IoT (src/cloud), with the example registry
 * (fixtures/registry/example.yaml — it lists the devices of the manual's §2.16 examples): the
 * module's own Aliyun sign-in (AT+IMQTTAUTH), a wrong secret, topic permissions, and dynamic
 * registration (AT+IMQTTDYNREG) in both modes, over TCP and over the broker's TLS listener, with
 * the saved triples kept in the module's flash across a restart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { loadRegistry } from '../../src/cloud/registry-file.js';
import type { DeviceRegistry } from '../../src/cloud/registry.js';
import { VirtualCloud } from '../../src/cloud/virtual-cloud.js';
import { brokerLinkOpener } from '../../src/modem/link-opener.js';
import { directoryFlashStore } from '../../src/modem/module-flash.js';
import { silentLogger } from '../../src/util/logger.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const urc = (line: string) => `\r\n${line}\r\n`;

const REGISTRY = path.join(import.meta.dirname, '..', '..', 'fixtures', 'registry', 'example.yaml');
const HOST = '"a1m8qO1ceKE.iot-as-mqtt.cn-shanghai.aliyuncs.com"';
const NONE = ['+IMQTTDYNREG: 1,"","",""', '+IMQTTDYNREG: 2,"","",""'];
const SDK_0004 = '"a1m8qO1ceKE","SDK_0004","8f920db5114396521af911861d60886d"';
const CONNWL_CLIENT_ID = 'CjM0zO9QT3qPCejlkMYv000100|authType=connwl,securemode=-2,_ss=1,ext=3,_v=sdk-c-4.1.0|';
const SDK_0007 = `"${CONNWL_CLIENT_ID}","SDK_0007&a1m8qO1ceKE","^1^1684838886568^a073eaabcf8a7f3"`;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Cloud {
  b: EmbeddedBroker;
  registry: DeviceRegistry;
}

/** An embedded broker (with a TLS listener when asked) playing Aliyun with the example registry. */
async function cloud(opts: { tls?: boolean } = {}): Promise<Cloud> {
  let stateDir: string | undefined;
  if (opts.tls) {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-yuge-tls-'));
    cleanups.push(() => rmSync(stateDir!, { recursive: true, force: true }));
  }
  const b = await startEmbeddedBroker({ port: 0, ...(stateDir ? { tlsPort: 0, stateDir } : {}) });
  cleanups.push(() => b.close());
  const registry = await loadRegistry(REGISTRY);
  const detach = new VirtualCloud({ registry }).attach(b);
  cleanups.push(detach);
  return { b, registry };
}

/** A CLM920 whose plain links go to `b` and TLS links to its TLS listener; flash in `flashDir` when given. */
function modem(b: EmbeddedBroker, flashDir?: string): MemoryModem {
  const m = createMemoryModem('yuge-clm920', {
    wrapLinks: () =>
      brokerLinkOpener(
        {
          plain: { host: '127.0.0.1', port: b.port },
          ...(b.tlsPort !== undefined ? { tls: { host: '127.0.0.1', port: b.tlsPort, ca: b.ca! } } : {}),
        },
        silentLogger(),
      ),
  });
  if (flashDir) m.modem.device.flash = directoryFlashStore(flashDir);
  cleanups.push(() => m.stop());
  return m;
}

function tmpDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-yuge-flash-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function lines(m: MemoryModem, settings: string[]): Promise<void> {
  for (const l of settings) expect(await m.at(l), l).toBe(OK);
}

/** Send a command answering OK and wait for the URC that starts with `prefix`; returns that URC. */
async function okThen(m: MemoryModem, line: string, prefix: string, timeoutMs = 5000): Promise<string> {
  expect(await m.at(line), line).toBe(OK);
  const out = await m.waitFor(new RegExp(`\\r\\n${prefix.replace(/[+]/g, '\\+')}[^\\r]*\\r\\n$`), timeoutMs);
  return out.slice(OK.length);
}

describe('one device, one secret (AT+IMQTTMODE=1, AT+IMQTTAUTH)', () => {
  it('signs in with the computed credentials; the cloud checks them and refuses a wrong secret', async () => {
    const { b } = await cloud();
    const m = modem(b);
    await lines(m, ['AT+IMQTTMODE=1,0', 'AT+IMQTTAUTH=a1m8qO1ceKE,device1,00000000000000000000000000000000']);
    expect(await okThen(m, 'AT+IMQTTCONN', '+IMQTTCONN:')).toBe(urc('+IMQTTCONN:-1'));
    await lines(m, ['AT+IMQTTAUTH=a1m8qO1ceKE,device1,9a8b7c6d5e4f30211203f4e5d6c7b8a9']);
    expect(await okThen(m, 'AT+IMQTTCONN', '+IMQTTCONN:')).toBe(urc('+IMQTTCONN:0'));
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:2'));
  });

  it('is refused a topic outside its permissions: the subscription reports -1, a publish loses the connection', async () => {
    const { b } = await cloud();
    const m = modem(b);
    await lines(m, ['AT+IMQTTMODE=1,0', 'AT+IMQTTAUTH=a1m8qO1ceKE,device1,9a8b7c6d5e4f30211203f4e5d6c7b8a9']);
    expect(await okThen(m, 'AT+IMQTTCONN', '+IMQTTCONN:')).toBe(urc('+IMQTTCONN:0'));
    expect(await okThen(m, 'AT+IMQTTSUB=/a1m8qO1ceKE/device1/user/get,1', '+IMQTTSUB:')).toBe(urc('+IMQTTSUB:2,1'));
    expect(await okThen(m, 'AT+IMQTTSUB=/a1m8qO1ceKE/SDK_0004/user/get,1', '+IMQTTSUB:')).toBe(urc('+IMQTTSUB:3,-1'));
    const seen: BrokerPublish[] = [];
    b.onPublish((p) => seen.push(p));
    expect(await okThen(m, 'AT+IMQTTPUB=/a1m8qO1ceKE/device1/user/update,1,ok', '+IMQTTPUB:')).toBe(urc('+IMQTTPUB:4,0'));
    expect(await m.at('AT+IMQTTPUB=/a1m8qO1ceKE/SDK_0004/user/update,1,forbidden')).toBe(OK);
    const out = await m.waitFor(/\+IMQTTCONN:-1\r\n[\s\S]*\+IMQTTPUB:5,1\r\n|\+IMQTTPUB:5,1\r\n[\s\S]*\+IMQTTCONN:-1\r\n/);
    expect(out).toContain(urc('+IMQTTCONN:-1'));
    expect(seen.map((p) => p.topic)).toEqual(['/a1m8qO1ceKE/device1/user/update']);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
  });
});

describe('dynamic registration (AT+IMQTTDYNREG), the manual §2.16 examples', () => {
  it('pre-registered (mode 1) over TLS, line for line: registers, saves, lists, signs in with the triple', async () => {
    const { b } = await cloud({ tls: true });
    const m = modem(b, tmpDir());
    await lines(m, ['AT+IMQTTMODE=1,1', 'AT+IMQTTPARA=TIMEOUT,1,CLEAN,0,KEEPALIVE,60,VERSION,3.1.1', `AT+IMQTTADDR=${HOST},1883,""`]);
    expect(await m.at('AT+IMQTTDYNREG=2')).toBe(reply(...NONE));
    expect(await okThen(m, 'AT+IMQTTDYNREG=1,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc(`+IMQTTDYNREG:1,${SDK_0004}`));
    expect(await m.at('AT+IMQTTDYNREG=2')).toBe(reply(`+IMQTTDYNREG: 1,${SDK_0004}`, NONE[1]!));
    expect(await m.at('AT+IMQTTDYNREG?')).toBe(reply('+IMQTTDYNREG:1,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg'));
    await lines(m, [`AT+IMQTTAUTH=${SDK_0004}`]);
    expect(await okThen(m, 'AT+IMQTTCONN', '+IMQTTCONN:')).toBe(urc('+IMQTTCONN:0'));
    // "如果设备已经连接激活后, 再使用 AT+IMQTTDYNREG 请求时会失败": refused while connected, and
    // refused by the platform once activated.
    expect(await m.at('AT+IMQTTDYNREG=1,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg')).toBe(ERROR);
    expect(await okThen(m, 'AT+IMQTTDISCONN', '+IMQTTCONN:')).toBe(urc('+IMQTTCONN:-1'));
    expect(await okThen(m, 'AT+IMQTTDYNREG=1,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc('+IMQTTDYNREG:-1'));
    // The saved triple is still there.
    expect(await m.at('AT+IMQTTDYNREG=2')).toBe(reply(`+IMQTTDYNREG: 1,${SDK_0004}`, NONE[1]!));
  });

  it('registration-free (mode 2), line for line: reports the connwl triple, which signs in through AT+IMQTTUSER / AT+IMQTTADDR', async () => {
    const { b } = await cloud({ tls: true });
    const m = modem(b);
    await lines(m, ['AT+IMQTTMODE=1,1', 'AT+IMQTTPARA=TIMEOUT,1,CLEAN,0,KEEPALIVE,60,VERSION,3.1.1', `AT+IMQTTADDR=${HOST},1883,""`]);
    expect(await m.at('AT+IMQTTDYNREG=2')).toBe(reply(...NONE));
    expect(await okThen(m, 'AT+IMQTTDYNREG=0,2,a1m8qO1ceKE,SDK_0007,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc(`+IMQTTDYNREG:2,${SDK_0007}`));
    // Type 0 does not save. (The manual's listing after it shows the triple: its request there
    // evidently used type 1.)
    expect(await m.at('AT+IMQTTDYNREG=2')).toBe(reply(...NONE));
    await lines(m, ['AT+IMQTTUSER="SDK_0007&a1m8qO1ceKE","^1^1684838886568^a073eaabcf8a7f3"', `AT+IMQTTADDR=${HOST},1883,"${CONNWL_CLIENT_ID}"`]);
    expect(await okThen(m, 'AT+IMQTTCONN', '+IMQTTCONN:')).toBe(urc('+IMQTTCONN:0'));
  });

  it('registers over plain TCP too, and reports -1 for a wrong product secret or an unknown product', async () => {
    const { b } = await cloud();
    const m = modem(b);
    await lines(m, ['AT+IMQTTMODE=1,0', `AT+IMQTTADDR=${HOST},1883,""`]);
    expect(await okThen(m, 'AT+IMQTTDYNREG=0,1,a1m8qO1ceKE,SDK_0004,wrongsecret', '+IMQTTDYNREG:')).toBe(urc('+IMQTTDYNREG:-1'));
    expect(await okThen(m, 'AT+IMQTTDYNREG=0,1,a1NoSuchPK0,SDK_0004,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc('+IMQTTDYNREG:-1'));
    expect(await okThen(m, 'AT+IMQTTDYNREG=0,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc(`+IMQTTDYNREG:1,${SDK_0004}`));
    expect(await m.at('AT+IMQTTDYNREG?')).toBe(reply('+IMQTTDYNREG:0,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg'));
  });

  it('reports -1 when the TLS listener is missing (AT+IMQTTMODE=1,1 without a TLS broker)', async () => {
    const { b } = await cloud();
    const m = modem(b);
    await lines(m, ['AT+IMQTTMODE=1,1', `AT+IMQTTADDR=${HOST},1883,""`]);
    expect(await okThen(m, 'AT+IMQTTDYNREG=1,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc('+IMQTTDYNREG:-1'));
    await lines(m, ['AT+IMQTTAUTH=a1m8qO1ceKE,device1,9a8b7c6d5e4f30211203f4e5d6c7b8a9']);
    expect(await okThen(m, 'AT+IMQTTCONN', '+IMQTTCONN:')).toBe(urc('+IMQTTCONN:-1'));
  });

  it('reports -1 when the radio goes off during a registration', async () => {
    const { b } = await cloud();
    const m = modem(b);
    await lines(m, ['AT+IMQTTMODE=1,0', `AT+IMQTTADDR=${HOST},1883,""`]);
    expect(await m.at('AT+IMQTTDYNREG=1,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg;+CFUN=0')).toBe(OK);
    expect(await m.waitFor('+IMQTTDYNREG:-1\r\n')).toBe(`${OK}${urc('+IMQTTDYNREG:-1')}`);
    expect(await m.at('AT+IMQTTDYNREG=2')).toBe(reply(...NONE));
  });
});

describe('saved triples in flash', () => {
  it('survive a restart of the module; type 0 saves nothing; a new registration of a mode replaces its triple', async () => {
    const { b, registry } = await cloud();
    const dir = tmpDir();
    const m1 = modem(b, dir);
    await lines(m1, ['AT+IMQTTMODE=1,0', `AT+IMQTTADDR=${HOST},1883,""`]);
    expect(await okThen(m1, 'AT+IMQTTDYNREG=1,2,a1m8qO1ceKE,SDK_0007,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc(`+IMQTTDYNREG:2,${SDK_0007}`));
    expect(await okThen(m1, 'AT+IMQTTDYNREG=0,1,a1m8qO1ceKE,SDK_0004,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc(`+IMQTTDYNREG:1,${SDK_0004}`));
    expect(await m1.at('AT+IMQTTDYNREG=2')).toBe(reply(NONE[0]!, `+IMQTTDYNREG: 2,${SDK_0007}`));
    await m1.stop();

    const m2 = modem(b, dir);
    expect(await m2.at('AT+IMQTTDYNREG=2')).toBe(reply(NONE[0]!, `+IMQTTDYNREG: 2,${SDK_0007}`));
    // Settings are RAM: the restarted module is back at its power-on values.
    expect(await m2.at('AT+IMQTTMODE?')).toBe(reply('+IMQTTMODE:2,0,0'));
    expect(await m2.at('AT+IMQTTDYNREG?')).toBe(OK);

    // A registration-free device registers again with a new token; the saved triple follows.
    const dev = registry.device('aliyun', 'a1m8qO1ceKE', 'SDK_0007')!;
    registry.update(dev, { deviceToken: '^1^1700000000000^0123456789abcde' });
    await lines(m2, ['AT+IMQTTMODE=1,0', `AT+IMQTTADDR=${HOST},1883,""`]);
    const fresh = `"${CONNWL_CLIENT_ID}","SDK_0007&a1m8qO1ceKE","^1^1700000000000^0123456789abcde"`;
    expect(await okThen(m2, 'AT+IMQTTDYNREG=1,2,a1m8qO1ceKE,SDK_0007,VPCTjT8dGTXr5Jpg', '+IMQTTDYNREG:')).toBe(urc(`+IMQTTDYNREG:2,${fresh}`));
    expect(await m2.at('AT+IMQTTDYNREG=2')).toBe(reply(NONE[0]!, `+IMQTTDYNREG: 2,${fresh}`));
    const file = JSON.parse(readFileSync(path.join(dir, 'yuge-imqtt', 'dynreg.json'), 'utf8')) as Record<string, string[]>;
    expect(file['2']).toEqual([CONNWL_CLIENT_ID, 'SDK_0007&a1m8qO1ceKE', '^1^1700000000000^0123456789abcde']);
  });
});
