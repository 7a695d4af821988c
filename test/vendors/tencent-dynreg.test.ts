/**
 * Tencent IoT AT §2.6–§2.7 against the virtual cloud: AT+TCDEVREG makes a real HTTPS call to the
 * cloud's `POST /device/register`, signed with the product secret of AT+TCPRDINFOSET; the device
 * secret it gets is saved (and signs in); the five rules of §2.7 and the §6.3 codes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bcc } from '../../src/vendors/tencent/format.js';
import { cme, OK, okThen, reply, startTencent, type HarnessOptions, type TencentHarness } from './tencent-harness.js';

const PS = 'hzvf5LF9S0isvBhDSauWMaIk';
const REGISTRY = {
  products: [
    { platform: 'tencent', productId: 'ASJ0000GX1', productSecret: PS, devices: [{ deviceName: 'xyz' }, { deviceName: 'abc' }] },
    { platform: 'tencent', productId: 'AUTO000001', productSecret: PS, autoCreate: true },
    { platform: 'tencent', productId: 'NOREG00001', devices: [{ deviceName: 'd', deviceSecret: 'ZHNkIGRzZCA=' }] },
  ],
};

const running: TencentHarness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});
async function cloud(opts: HarnessOptions = {}): Promise<TencentHarness> {
  const h = await startTencent({ tls: true, registry: REGISTRY, http: true, ...opts });
  running.push(h);
  return h;
}

const secretOf = (h: TencentHarness, pid: string, dn: string) => h.cloud!.registry.device('tencent', pid, dn)?.deviceSecret;

async function product(h: TencentHarness, line: string): Promise<void> {
  expect(await h.exchange(line, okThen('+TCPRDINFOSET:OK'))).toBe(okThen('+TCPRDINFOSET:OK'));
}
const register = (h: TencentHarness, result: string) => h.exchange('AT+TCDEVREG', okThen(result));

describe('AT+TCDEVREG (§2.7)', () => {
  it('registers over HTTPS, saves the issued secret, and signs in with it', async () => {
    const h = await cloud();
    await product(h, `AT+TCPRDINFOSET=1,"ASJ0000GX1","${PS}","xyz"`);
    expect(await register(h, '+TCDEVREG:OK')).toBe(okThen('+TCDEVREG:OK'));
    const psk = secretOf(h, 'ASJ0000GX1', 'xyz')!;
    expect(psk).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:1,"ASJ0000GX1","xyz",${bcc(psk)},"ap-guangzhou"`));
    expect(await h.exchange('AT+TCMQTTCONN=1,5000,240,1,1', okThen('+TCMQTTCONN:OK'))).toBe(okThen('+TCMQTTCONN:OK'));
  });

  it('follows §2.7: re-registers a device never signed in, refuses one that did (1021), keeps A when B fails', async () => {
    const h = await cloud();
    await product(h, `AT+TCPRDINFOSET=1,"ASJ0000GX1","${PS}","xyz"`);
    await register(h, '+TCDEVREG:OK');
    const first = secretOf(h, 'ASJ0000GX1', 'xyz');
    // Rule 2: registered, not activated — the cloud issues a new PSK.
    expect(await register(h, '+TCDEVREG:OK')).toBe(okThen('+TCDEVREG:OK'));
    const second = secretOf(h, 'ASJ0000GX1', 'xyz')!;
    expect(second).not.toBe(first);
    // Signing in activates it; rule 3: registering again is refused and nothing changes.
    await h.exchange('AT+TCMQTTCONN=1,5000,240,1,0', okThen('+TCMQTTCONN:OK'));
    expect(await h.at('AT+TCMQTTDISCONN')).toBe(reply('+TCMQTTDISCON,2'));
    expect(await register(h, '+TCDEVREG:FAIL,1021')).toBe(okThen('+TCDEVREG:FAIL,1021'));
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:1,"ASJ0000GX1","xyz",${bcc(second)},"ap-guangzhou"`));
    // Rule 4: device B replaces A on success…
    await product(h, `AT+TCPRDINFOSET=1,"ASJ0000GX1","${PS}","abc"`);
    expect(await register(h, '+TCDEVREG:OK')).toBe(okThen('+TCDEVREG:OK'));
    const b = secretOf(h, 'ASJ0000GX1', 'abc')!;
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:1,"ASJ0000GX1","abc",${bcc(b)},"ap-guangzhou"`));
    // …and a failure leaves the saved device as it was (1020: not pre-created, no auto-create).
    await product(h, `AT+TCPRDINFOSET=1,"ASJ0000GX1","${PS}","ghost"`);
    expect(await register(h, '+TCDEVREG:FAIL,1020')).toBe(okThen('+TCDEVREG:FAIL,1020'));
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:1,"ASJ0000GX1","abc",${bcc(b)},"ap-guangzhou"`));
  });

  it('answers the §6.3 codes: wrong product secret 1010, unknown product 1004, no dynamic registration 1011', async () => {
    const h = await cloud();
    await product(h, 'AT+TCPRDINFOSET=1,"ASJ0000GX1","wrong-secret","xyz"');
    expect(await register(h, '+TCDEVREG:FAIL,1010')).toBe(okThen('+TCDEVREG:FAIL,1010'));
    await product(h, `AT+TCPRDINFOSET=1,"NOSUCHPROD","${PS}","xyz"`);
    expect(await register(h, '+TCDEVREG:FAIL,1004')).toBe(okThen('+TCDEVREG:FAIL,1004'));
    await product(h, `AT+TCPRDINFOSET=1,"NOREG00001","${PS}","d"`);
    expect(await register(h, '+TCDEVREG:FAIL,1011')).toBe(okThen('+TCDEVREG:FAIL,1011'));
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(OK);
  });

  it('creates devices of an auto-create product, over plain HTTP for tlsmode 0', async () => {
    const h = await cloud();
    await product(h, `AT+TCPRDINFOSET=0,"AUTO000001","${PS}","new-device"`);
    expect(await register(h, '+TCDEVREG:OK')).toBe(okThen('+TCDEVREG:OK'));
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:0,"AUTO000001","new-device",${bcc(secretOf(h, 'AUTO000001', 'new-device')!)},"ap-guangzhou"`));
    expect(await h.exchange('AT+TCMQTTCONN=0,5000,240,1,0', okThen('+TCMQTTCONN:OK'))).toBe(okThen('+TCMQTTCONN:OK'));
  });

  it('keeps the registered device across a restart of the module', async () => {
    const h = await cloud();
    await product(h, `AT+TCPRDINFOSET=1,"ASJ0000GX1","${PS}","xyz"`);
    await register(h, '+TCDEVREG:OK');
    await h.stopModem();
    const again = await startTencent({ reuse: { broker: h.broker, cloud: h.cloud, stateDir: h.stateDir }, flashDir: h.flashDir });
    running.push(again);
    expect(await again.at('AT+TCPRDINFOSET?')).toBe(reply(`+TCPRDINFOSET:1,"ASJ0000GX1",${bcc(PS)},"xyz"`));
    expect(await again.exchange('AT+TCMQTTCONN=1,5000,240,1,0', okThen('+TCMQTTCONN:OK'))).toBe(okThen('+TCMQTTCONN:OK'));
  });

  it('needs product information (208) and a registration server (-8 without one)', async () => {
    const h = await cloud();
    expect(await h.at('AT+TCDEVREG')).toBe(cme(208));
    const bare = await startTencent();
    running.push(bare);
    await product(bare, `AT+TCPRDINFOSET=1,"ASJ0000GX1","${PS}","xyz"`);
    expect(await register(bare, '+TCDEVREG:FAIL,-8')).toBe(okThen('+TCDEVREG:FAIL,-8'));
  });

  it('takes no arguments', async () => {
    const h = await cloud();
    expect(await h.at('AT+TCDEVREG=1')).toBe('\r\nERROR\r\n');
    expect(await h.at('AT+TCDEVREG?')).toBe('\r\nERROR\r\n');
  });
});
