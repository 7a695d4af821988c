/**
 * Each platform's sign-in format, decided by VirtualCloud.signIn without a network: a correct
 * signature is accepted, a wrong secret is refused with the platform's CONNACK code.
 */
import { describe, expect, it } from 'vitest';
import type { PeerCertificate } from '../../src/broker/embedded-broker.js';
import { parseRegistry } from '../../src/cloud/registry-file.js';
import { DeviceRegistry } from '../../src/cloud/registry.js';
import { aliyunCredentials, aliyunSign, aliyunSignContent, parseAliyunClientId } from '../../src/cloud/schemes/aliyun.js';
import { huaweiCredentials, huaweiTimestamp } from '../../src/cloud/schemes/huawei.js';
import { onenetToken } from '../../src/cloud/schemes/onenet.js';
import { tencentCredentials } from '../../src/cloud/schemes/tencent.js';
import type { SignInRequest, SignInResult } from '../../src/cloud/sign-in.js';
import { VirtualCloud } from '../../src/cloud/virtual-cloud.js';
import { NOW_MS, NOW_S } from './helpers.js';

const PSK = Buffer.from('0123456789abcdef').toString('base64');
const ONENET_KEY = Buffer.from('onenet-device-key').toString('base64');
const ONENET_ACCESS = Buffer.from('onenet-access-key').toString('base64');

function registry(): DeviceRegistry {
  return parseRegistry({
    products: [
      { platform: 'tencent', productId: 'CTQS08Y5LG', devices: [{ deviceName: 'device1', deviceSecret: PSK }, { deviceName: 'pending' }] },
      { platform: 'aliyun', productKey: 'pk', devices: [{ deviceName: 'device', deviceSecret: 'secret' }] },
      { platform: 'onenet', productId: 'P1', accessKey: ONENET_ACCESS, devices: [{ deviceName: 'meter01', deviceSecret: ONENET_KEY }] },
      { platform: 'huawei', productId: 'prod', devices: [{ deviceId: 'prod_node1', deviceSecret: 'hwsecret' }] },
    ],
  });
}

function req(c: { clientId: string; username?: string; password?: string }, extra: Partial<SignInRequest> = {}): SignInRequest {
  return {
    clientId: c.clientId,
    username: c.username,
    password: c.password === undefined ? undefined : Buffer.from(c.password),
    transport: 'tcp',
    peerCertificate: undefined,
    ...extra,
  };
}

function decide(cloud: VirtualCloud, c: { clientId: string; username?: string; password?: string }, extra?: Partial<SignInRequest>): SignInResult | null {
  return cloud.signIn(req(c, extra));
}

const strict = (): VirtualCloud => new VirtualCloud({ registry: registry(), now: () => NOW_MS });

function refusedWith(result: SignInResult | null): number | 'accepted' | 'unrecognised' {
  if (!result) return 'unrecognised';
  return result.accept ? 'accepted' : result.returnCode;
}

describe('Aliyun one device, one secret', () => {
  it('matches the public vector (hmacsha1, timestamp 789)', () => {
    const content = aliyunSignContent({ clientId: '12345', deviceName: 'device', productKey: 'pk', timestamp: '789' });
    expect(content).toBe('clientId12345deviceNamedeviceproductKeypktimestamp789');
    expect(aliyunSign('hmacsha1', 'secret', content).toUpperCase()).toBe('FAFD82A3D602B37FB0FA8B7892F24A477F851A14');
  });

  it('accepts the vector as a CONNECT, with the hex in either case', () => {
    const cloud = strict();
    const base = { clientId: '12345|securemode=3,signmethod=hmacsha1,timestamp=789|', username: 'device&pk' };
    expect(refusedWith(decide(cloud, { ...base, password: 'FAFD82A3D602B37FB0FA8B7892F24A477F851A14' }))).toBe('accepted');
    expect(refusedWith(decide(cloud, { ...base, password: 'fafd82a3d602b37fb0fa8b7892f24a477f851a14' }))).toBe('accepted');
  });

  it('accepts hmacmd5 and hmacsha256, without a timestamp, ignoring SDK extras', () => {
    const cloud = strict();
    for (const signMethod of ['hmacmd5', 'hmacsha256'] as const) {
      const c = aliyunCredentials({ productKey: 'pk', deviceName: 'device', deviceSecret: 'secret', signMethod });
      expect(refusedWith(decide(cloud, c))).toBe('accepted');
    }
    const c = aliyunCredentials({ productKey: 'pk', deviceName: 'device', deviceSecret: 'secret', signMethod: 'hmacsha1', timestamp: '2524608000000' });
    const withExtras = c.clientId.replace('|securemode=3,', '|securemode=2,gw=0,ext=0,_v=sdk-c-3.0.1,');
    expect(refusedWith(decide(cloud, { ...c, clientId: withExtras }))).toBe('accepted');
  });

  it('refuses a wrong secret with 4, an unknown device with 4, a bad signmethod with 2', () => {
    const cloud = strict();
    expect(refusedWith(decide(cloud, aliyunCredentials({ productKey: 'pk', deviceName: 'device', deviceSecret: 'wrong' })))).toBe(4);
    expect(refusedWith(decide(cloud, aliyunCredentials({ productKey: 'pk', deviceName: 'ghost', deviceSecret: 'secret' })))).toBe(4);
    expect(refusedWith(decide(cloud, { clientId: 'x|securemode=3,signmethod=rot13|', username: 'device&pk', password: 'ab' }))).toBe(2);
  });

  it('parses clientId parameters', () => {
    expect(parseAliyunClientId('a.b|securemode=2,signmethod=hmacsha256,timestamp=1|')?.params.get('timestamp')).toBe('1');
    expect(parseAliyunClientId('plain-client')).toBeUndefined();
  });
});

describe('Tencent PSK', () => {
  const input = { productId: 'CTQS08Y5LG', deviceName: 'device1', deviceSecret: PSK, expiry: NOW_S + 3600 };

  it('accepts HMAC-SHA256 and HMAC-SHA1 signatures with any sdkappid', () => {
    const cloud = strict();
    expect(refusedWith(decide(cloud, tencentCredentials(input)))).toBe('accepted');
    expect(refusedWith(decide(cloud, tencentCredentials({ ...input, algorithm: 'hmacsha1', sdkAppId: '12010126' })))).toBe('accepted');
    // The C SDK's LONG_MAX expiry when the device has no clock.
    expect(refusedWith(decide(cloud, tencentCredentials({ ...input, expiry: 9223372036854775807n })))).toBe('accepted');
  });

  it('refuses a wrong PSK, an expiry in the past, an unknown device and a device without credentials with 4', () => {
    const cloud = strict();
    expect(refusedWith(decide(cloud, tencentCredentials({ ...input, deviceSecret: Buffer.from('another key!').toString('base64') })))).toBe(4);
    const expired = decide(cloud, tencentCredentials({ ...input, expiry: NOW_S - 1 }));
    expect(expired).toMatchObject({ accept: false, returnCode: 4, reason: 'username expiry is in the past' });
    expect(refusedWith(decide(cloud, tencentCredentials({ ...input, deviceName: 'ghost' })))).toBe(4);
    expect(refusedWith(decide(cloud, tencentCredentials({ ...input, deviceName: 'pending' })))).toBe(4);
  });

  it('refuses a clientId that is not productId + deviceName with 2', () => {
    const c = tencentCredentials(input);
    expect(refusedWith(decide(strict(), { ...c, clientId: 'somethingelse' }))).toBe(2);
  });

  it('gives a certificate-mode device 5 when it comes without its certificate', () => {
    const reg = registry();
    reg.addDevice(reg.product('tencent', 'CTQS08Y5LG')!, { deviceName: 'certdev', certificate: { path: '/x.pem', fingerprint256: 'AA:BB' } });
    const cloud = new VirtualCloud({ registry: reg, now: () => NOW_MS });
    const c = { clientId: 'CTQS08Y5LGcertdev', username: `CTQS08Y5LGcertdev;21010406;abcde;${NOW_S + 60}` };
    expect(refusedWith(decide(cloud, c))).toBe(5);
    const cert: PeerCertificate = { fingerprint256: 'AA:BB', commonName: 'certdev', authorized: true, raw: Buffer.alloc(0) };
    expect(refusedWith(decide(cloud, c, { transport: 'tls', peerCertificate: cert }))).toBe('accepted');
    expect(refusedWith(decide(cloud, c, { transport: 'tls', peerCertificate: { ...cert, fingerprint256: 'CC:DD' } }))).toBe(5);
  });
});

describe('OneNET token', () => {
  const token = (over: Partial<Parameters<typeof onenetToken>[0]> = {}): string =>
    onenetToken({ productId: 'P1', deviceName: 'meter01', key: ONENET_KEY, expiry: NOW_S + 600, ...over });

  it('accepts device-key and product-key tokens with md5, sha1 and sha256', () => {
    const cloud = strict();
    for (const method of ['md5', 'sha1', 'sha256'] as const) {
      expect(refusedWith(decide(cloud, { clientId: 'meter01', username: 'P1', password: token({ method }) }))).toBe('accepted');
    }
    const productToken = onenetToken({ productId: 'P1', key: ONENET_ACCESS, expiry: NOW_S + 600 });
    expect(refusedWith(decide(cloud, { clientId: 'meter01', username: 'P1', password: productToken }))).toBe('accepted');
  });

  it('refuses a wrong key and an expired et with 5, a mismatched username with 4', () => {
    const cloud = strict();
    const wrongKey = Buffer.from('another').toString('base64');
    expect(refusedWith(decide(cloud, { clientId: 'meter01', username: 'P1', password: token({ key: wrongKey }) }))).toBe(5);
    expect(decide(cloud, { clientId: 'meter01', username: 'P1', password: token({ expiry: NOW_S - 1 }) })).toMatchObject({
      accept: false,
      returnCode: 5,
      reason: 'token has expired (et)',
    });
    expect(refusedWith(decide(cloud, { clientId: 'meter01', username: 'P2', password: token() }))).toBe(4);
    expect(refusedWith(decide(cloud, { clientId: 'meter02', username: 'P1', password: token() }))).toBe(5);
  });
});

describe('Huawei IoTDA', () => {
  it('accepts the HMAC-SHA256 password keyed with the hour stamp', () => {
    expect(huaweiTimestamp(NOW_MS)).toBe('2024050112');
    const c = huaweiCredentials({ deviceId: 'prod_node1', secret: 'hwsecret', nowMs: NOW_MS });
    expect(c.clientId).toBe('prod_node1_0_1_2024050112');
    expect(refusedWith(decide(strict(), c))).toBe('accepted');
  });

  it('refuses a wrong secret and (with timestamp checking) a stale stamp with 4', () => {
    const cloud = strict();
    expect(refusedWith(decide(cloud, huaweiCredentials({ deviceId: 'prod_node1', secret: 'nope', nowMs: NOW_MS })))).toBe(4);
    const old = huaweiCredentials({ deviceId: 'prod_node1', secret: 'hwsecret', nowMs: NOW_MS - 5 * 3600_000 });
    expect(refusedWith(decide(cloud, old))).toBe(4);
    const unchecked = huaweiCredentials({ deviceId: 'prod_node1', secret: 'hwsecret', nowMs: NOW_MS - 5 * 3600_000, checkTimestamp: false });
    expect(refusedWith(decide(cloud, unchecked))).toBe('accepted');
  });
});

describe('registry rules', () => {
  it('with no registry, any sign-in in a platform format is accepted, unrestricted', () => {
    const cloud = new VirtualCloud({ now: () => NOW_MS });
    const r = decide(cloud, aliyunCredentials({ productKey: 'pk', deviceName: 'device', deviceSecret: 'whatever' }));
    expect(r).toMatchObject({ accept: true, session: { platform: 'aliyun', device: undefined, policy: null } });
    expect(refusedWith(decide(cloud, tencentCredentials({ productId: 'ABCDEFGHIJ', deviceName: 'x', deviceSecret: PSK, expiry: NOW_S + 1 })))).toBe(
      'accepted',
    );
  });

  it('a CONNECT in no platform format is left to the caller (accepted by default by the authenticator)', () => {
    expect(decide(strict(), { clientId: 'mosquitto-sub-1' })).toBeNull();
    expect(decide(strict(), { clientId: 'tool', username: 'user', password: 'pw' })).toBeNull();
  });
});
