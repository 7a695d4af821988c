/**
 * The pure parts of the YUGE IMQTT set: the Aliyun sign-in the module computes (checked against
 * the virtual cloud's verifier, an independent implementation), AT+IMQTTPARA's keyed pairs, topic
 * rules, the received-message line, and the saved-triple record in flash.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeviceRegistry } from '../../src/cloud/registry.js';
import { VirtualCloud } from '../../src/cloud/virtual-cloud.js';
import { splitArgs } from '../../src/at/parse-command-line.js';
import { memoryFlashStore } from '../../src/modem/module-flash.js';
import { aliyunConnwlCredentials, aliyunDeviceCredentials, aliyunRegisterCredentials } from '../../src/vendors/yuge/imqtt/aliyun-sign.js';
import { messageLine } from '../../src/vendors/yuge/imqtt/format.js';
import { applyPara } from '../../src/vendors/yuge/imqtt/imqttpara.js';
import { DYNREG_KEY, loadSavedTriples, saveTriple } from '../../src/vendors/yuge/imqtt/saved-triples.js';
import { validFilter, validTopicName } from '../../src/vendors/yuge/imqtt/topics.js';

function cloudWith(registry: DeviceRegistry): VirtualCloud {
  return new VirtualCloud({ registry });
}

const signIn = (cloud: VirtualCloud, c: { clientId: string; username: string; password: string }, transport: 'tcp' | 'tls' = 'tcp') =>
  cloud.signIn({ clientId: c.clientId, username: c.username, password: Buffer.from(c.password), transport, peerCertificate: undefined });

describe('the Aliyun sign-in of AT+IMQTTAUTH (Link SDK 4.1.0)', () => {
  const triple = { productKey: 'a1R3d3WsBI0', deviceName: 'test1', deviceSecret: 'c75b6a4e39342f02ec161ba682566054' };

  it('builds the SDK clientId (securemode 3 over TCP, 2 over TLS), username and upper-case HMAC-SHA256 password', () => {
    const tcp = aliyunDeviceCredentials(triple, false);
    expect(tcp.clientId).toBe('a1R3d3WsBI0.test1|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,securemode=3,signmethod=hmacsha256,ext=3|');
    expect(tcp.username).toBe('test1&a1R3d3WsBI0');
    const expected = createHmac('sha256', 'c75b6a4e39342f02ec161ba682566054')
      .update('clientIda1R3d3WsBI0.test1deviceNametest1productKeya1R3d3WsBI0timestamp2524608000000')
      .digest('hex')
      .toUpperCase();
    expect(tcp.password).toBe(expected);
    expect(aliyunDeviceCredentials(triple, true).clientId).toContain(',securemode=2,');
    expect(aliyunDeviceCredentials(triple, true).password).toBe(expected);
  });

  it('is accepted by the virtual cloud for the right secret and refused (CONNACK 4) for a wrong one', () => {
    const registry = new DeviceRegistry([{ platform: 'aliyun', productId: triple.productKey, devices: [{ deviceName: 'test1', deviceSecret: triple.deviceSecret }] }], true);
    const cloud = cloudWith(registry);
    expect(signIn(cloud, aliyunDeviceCredentials(triple, false))).toMatchObject({ accept: true });
    expect(signIn(cloud, aliyunDeviceCredentials(triple, true), 'tls')).toMatchObject({ accept: true });
    expect(signIn(cloud, aliyunDeviceCredentials({ ...triple, deviceSecret: 'wrong' }, false))).toMatchObject({ accept: false, returnCode: 4 });
  });
});

describe('the dynamic registration sign-in of AT+IMQTTDYNREG', () => {
  it('signs deviceName/productKey/random with the ProductSecret; register is securemode 2, regnwl -2', () => {
    const c = aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', productSecret: 'VPCTjT8dGTXr5Jpg', noWhitelist: false }, '12345');
    expect(c.clientId).toBe('SDK_0004.a1m8qO1ceKE|random=12345,authType=register,securemode=2,signmethod=hmacsha256|');
    expect(c.username).toBe('SDK_0004&a1m8qO1ceKE');
    expect(c.password).toBe(createHmac('sha256', 'VPCTjT8dGTXr5Jpg').update('deviceNameSDK_0004productKeya1m8qO1ceKErandom12345').digest('hex').toUpperCase());
    const nwl = aliyunRegisterCredentials({ productKey: 'pk', deviceName: 'dn', productSecret: 's', noWhitelist: true }, '7');
    expect(nwl.clientId).toBe('dn.pk|random=7,authType=regnwl,securemode=-2,signmethod=hmacsha256|');
  });

  it('draws a fresh decimal random each time', () => {
    const a = aliyunRegisterCredentials({ productKey: 'pk', deviceName: 'dn', productSecret: 's', noWhitelist: false });
    const b = aliyunRegisterCredentials({ productKey: 'pk', deviceName: 'dn', productSecret: 's', noWhitelist: false });
    expect(a.clientId).toMatch(/\|random=\d+,/);
    expect(a.clientId).not.toBe(b.clientId);
  });

  it('is answered by the virtual cloud with the DeviceSecret (register) or a connwl token (regnwl) that then signs in', () => {
    const registry = new DeviceRegistry(
      [{ platform: 'aliyun', productId: 'a1m8qO1ceKE', productSecret: 'VPCTjT8dGTXr5Jpg', devices: [{ deviceName: 'SDK_0004', deviceSecret: '8f920db5114396521af911861d60886d' }] }],
      true,
    );
    const cloud = cloudWith(registry);
    const reg = signIn(cloud, aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', productSecret: 'VPCTjT8dGTXr5Jpg', noWhitelist: false }));
    expect(reg).toMatchObject({ accept: true, session: { replyThenClose: { topic: '/ext/register' } } });
    const wrong = signIn(cloud, aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', productSecret: 'nope', noWhitelist: false }));
    expect(wrong).toMatchObject({ accept: false });

    const nwl = signIn(cloud, aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_NEW', productSecret: 'VPCTjT8dGTXr5Jpg', noWhitelist: true }));
    if (!nwl?.accept) throw new Error('regnwl refused');
    const body = JSON.parse(nwl.session.replyThenClose!.payload) as { clientId: string; deviceToken: string };
    const connwl = aliyunConnwlCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_NEW', ...body });
    expect(connwl.clientId).toBe(`${body.clientId}|authType=connwl,securemode=-2,_ss=1,ext=3,_v=sdk-c-4.1.0|`);
    expect(signIn(cloud, connwl)).toMatchObject({ accept: true });
    expect(signIn(cloud, { ...connwl, password: 'forged' })).toMatchObject({ accept: false, returnCode: 4 });
  });
});

describe('AT+IMQTTPARA keyed pairs', () => {
  const base = { timeout: 3, clean: 1 as const, keepalive: 60, version: '3.1.1' as const };
  const apply = (text: string) => applyPara(base, splitArgs(text));

  it.each([
    ['TIMEOUT,1,CLEAN,0,KEEPALIVE,60,VERSION,3.1.1', { timeout: 1, clean: 0, keepalive: 60, version: '3.1.1' }],
    ['"KEEPALIVE",180', { ...base, keepalive: 180 }],
    ['version,"3.1",Timeout,2', { ...base, version: '3.1', timeout: 2 }],
    ['CLEAN,0', { ...base, clean: 0 }],
  ])('%s is applied', (text, want) => {
    expect(apply(text)).toEqual(want);
  });

  it.each([
    ['FOO,1', /unknown key FOO/],
    ['TIMEOUT,1,QOS,0', /unknown key QOS/],
    ['TIMEOUT', /pairs/],
    ['TIMEOUT,1,TIMEOUT,2', /twice/],
    ['1,1', /not a key/],
    ['TIMEOUT,4', /1–3/],
    ['KEEPALIVE,59', /60–180/],
    ['CLEAN,2', /0–1/],
    ['VERSION,4', /3\.1/],
    ['TIMEOUT,"1"', /integer/],
  ])('%s is refused', (text, why) => {
    expect(apply(text)).toMatch(why);
  });
});

describe('topics', () => {
  it('accepts MQTT filters and topic names and refuses misplaced wildcards', () => {
    for (const f of ['a', 'a/b', '/a1R3d3WsBI0/test1/user/test', 'a/+/c', '+', '#', 'a/#', '/']) expect(validFilter(f), f).toBe(true);
    for (const f of ['', 'a/#/b', 'a#', 'a+/b', '#/a', 'a\u0000']) expect(validFilter(f), f).toBe(false);
    expect(validTopicName('/a1R3d3WsBI0/test1/user/test')).toBe(true);
    for (const t of ['', 'a/+', 'a/#', 'a\u0000b']) expect(validTopicName(t), t).toBe(false);
  });
});

describe('received-message lines', () => {
  it('quotes the topic and the raw payload and counts bytes', () => {
    expect(messageLine('+IMQTTRCVPUB', 46438, '/a1R3d3WsBI0/test1/user/test', Buffer.from('test message!!')).toString('latin1')).toBe(
      '+IMQTTRCVPUB:46438,"/a1R3d3WsBI0/test1/user/test",14,"test message!!"',
    );
    const bin = messageLine('+IMQTTRECV', 0, 't', Buffer.from([0x22, 0x00, 0xff]));
    expect(bin).toEqual(Buffer.concat([Buffer.from('+IMQTTRECV:0,"t",3,"'), Buffer.from([0x22, 0x00, 0xff]), Buffer.from('"')]));
  });
});

describe('saved triples in flash', () => {
  it('keeps one triple per mode, a new one replacing the old', () => {
    const flash = memoryFlashStore();
    expect(loadSavedTriples(flash)).toEqual({});
    saveTriple(flash, 1, ['pk', 'dn', 'ds']);
    saveTriple(flash, 2, ['cid', 'dn&pk', 'token']);
    saveTriple(flash, 1, ['pk', 'dn', 'ds2']);
    expect(loadSavedTriples(flash)).toEqual({ 1: ['pk', 'dn', 'ds2'], 2: ['cid', 'dn&pk', 'token'] });
  });

  it('reads a damaged record as none', () => {
    const flash = memoryFlashStore();
    flash.write(DYNREG_KEY, '{not json');
    expect(loadSavedTriples(flash)).toEqual({});
    flash.write(DYNREG_KEY, JSON.stringify({ 1: ['only', 'two'], 2: ['a', 'b', 'c'] }));
    expect(loadSavedTriples(flash)).toEqual({ 2: ['a', 'b', 'c'] });
  });
});
