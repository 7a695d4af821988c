/**
 * The cloud's HTTP(S) side: Tencent dynamic registration (decrypting the reply gives a PSK that
 * then signs in over MQTT) and the firmware download server with byte ranges.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { parseRange } from '../../src/cloud/http-endpoints.js';
import { parseRegistry } from '../../src/cloud/registry-file.js';
import { hmac } from '../../src/cloud/crypto.js';
import { decryptTencentPayload, encryptTencentPayload, tencentDynregRequest, verifyTencentDynregSignature } from '../../src/cloud/schemes/tencent-dynreg.js';
import { tencentCredentials } from '../../src/cloud/schemes/tencent.js';
import { startVirtualCloud, type RunningCloud } from '../../src/cloud/virtual-cloud.js';
import { Cleanup, connect, NOW_MS, NOW_S, request } from './helpers.js';

const PRODUCT_SECRET = 'hzvf5LF9S0isvBhDSauWMaIk';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const REGISTRY = {
  products: [
    {
      platform: 'tencent',
      productId: 'ASJ0000GX1',
      productSecret: PRODUCT_SECRET,
      devices: [{ deviceName: 'xyz' }, { deviceName: 'used', deviceSecret: Buffer.from('used-psk').toString('base64') }],
    },
    { platform: 'tencent', productId: 'AUTO000001', productSecret: PRODUCT_SECRET, autoCreate: true },
    { platform: 'tencent', productId: 'NOREG00001', devices: [{ deviceName: 'd' }] },
  ],
};

async function setup(): Promise<{ broker: EmbeddedBroker; cloud: RunningCloud; firmwareDir: string }> {
  const stateDir = cleanup.tempDir();
  const firmwareDir = cleanup.tempDir('vmodem-fw-');
  const broker = await startEmbeddedBroker({ port: 0, tlsPort: 0, stateDir });
  cleanup.add(() => broker.close());
  const cloud = await startVirtualCloud({
    broker,
    stateDir,
    firmwareDir,
    httpPort: 0,
    httpsPort: 0,
    registry: parseRegistry(REGISTRY),
    now: () => NOW_MS,
  });
  cleanup.add(() => cloud.close());
  return { broker, cloud, firmwareDir };
}

type RegisterReply = { Response: { Len?: number; Payload?: string; RequestId: string; Error?: { Code: string; Message: string } } };

async function register(
  cloud: RunningCloud,
  broker: EmbeddedBroker,
  input: { productId: string; deviceName: string; productSecret?: string; host?: string; algorithm?: 'hmacsha256' | 'hmacsha1' },
): Promise<RegisterReply> {
  const { body, headers } = tencentDynregRequest({
    productId: input.productId,
    deviceName: input.deviceName,
    productSecret: input.productSecret ?? PRODUCT_SECRET,
    host: input.host ?? 'ap-guangzhou.gateway.tencentdevices.com',
    algorithm: input.algorithm ?? 'hmacsha256',
    timestamp: NOW_S,
    nonce: 5456,
  });
  const reply = await request(`${cloud.http!.httpsUrl!}/device/register`, { method: 'POST', headers, body, ca: broker.ca! });
  expect(reply.status).toBe(200);
  return JSON.parse(reply.body.toString()) as RegisterReply;
}

describe('Tencent dynamic registration over HTTPS', () => {
  it('returns an AES-encrypted PSK that the device decrypts and signs in with', async () => {
    const { broker, cloud } = await setup();
    const reply = await register(cloud, broker, { productId: 'ASJ0000GX1', deviceName: 'xyz' });
    expect(reply.Response.Error).toBeUndefined();
    const plain = decryptTencentPayload(reply.Response.Payload!, PRODUCT_SECRET);
    expect(reply.Response.Len).toBe(plain.length);
    const parsed = JSON.parse(plain) as { encryptionType: number; psk: string };
    expect(parsed.encryptionType).toBe(2);
    expect(Buffer.from(parsed.psk, 'base64')).toHaveLength(16);

    const creds = tencentCredentials({ productId: 'ASJ0000GX1', deviceName: 'xyz', deviceSecret: parsed.psk, expiry: NOW_S + 60 });
    expect((await connect(cleanup, broker.port, creds)).outcome.kind).toBe('accepted');

    // Registered and activated: the manual's §2.7 rule 3 → 1021.
    const again = await register(cloud, broker, { productId: 'ASJ0000GX1', deviceName: 'xyz' });
    expect(again.Response.Error?.Code).toBe('ErrorCode_SDK_DeviceHasRegistered');
  });

  it('registers again with a new PSK while the device has not signed in (§2.7 rule 2)', async () => {
    const { broker, cloud } = await setup();
    const first = JSON.parse(decryptTencentPayload((await register(cloud, broker, { productId: 'ASJ0000GX1', deviceName: 'xyz' })).Response.Payload!, PRODUCT_SECRET)) as { psk: string };
    const second = JSON.parse(decryptTencentPayload((await register(cloud, broker, { productId: 'ASJ0000GX1', deviceName: 'xyz' })).Response.Payload!, PRODUCT_SECRET)) as { psk: string };
    expect(second.psk).not.toBe(first.psk);
    expect(cloud.registry.device('tencent', 'ASJ0000GX1', 'xyz')?.deviceSecret).toBe(second.psk);
  });

  it('accepts the SDK variants: hmacsha1 with a SHA-1 body hash, the Host header as signed host', async () => {
    const { broker, cloud } = await setup();
    const sha1 = await register(cloud, broker, { productId: 'AUTO000001', deviceName: 'a1', algorithm: 'hmacsha1' });
    expect(sha1.Response.Payload).toBeDefined();
    const hostSigned = await register(cloud, broker, { productId: 'AUTO000001', deviceName: 'a2', host: `127.0.0.1:${cloud.http!.httpsPort}` });
    expect(hostSigned.Response.Payload).toBeDefined();
  });

  it('answers errors for a bad signature, unknown product, product without secret and unlisted device', async () => {
    const { broker, cloud } = await setup();
    const code = async (input: Parameters<typeof register>[2]) => (await register(cloud, broker, input)).Response.Error?.Code;
    expect(await code({ productId: 'ASJ0000GX1', deviceName: 'xyz', productSecret: 'wrong-secret-123' })).toBe('ErrorCode_SDK_CheckSecretError');
    expect(await code({ productId: 'NOPE000000', deviceName: 'xyz' })).toBe('ErrorCode_SDK_ProductNotExists');
    expect(await code({ productId: 'NOREG00001', deviceName: 'd' })).toBe('ErrorCode_SDK_NotSupportRegister');
    expect(await code({ productId: 'ASJ0000GX1', deviceName: 'unlisted' })).toBe('ErrorCode_SDK_NoSuchDevice');
    // autoCreate products take new names.
    expect(await code({ productId: 'AUTO000001', deviceName: 'brand-new' })).toBeUndefined();

    const junk = await request(`${cloud.http!.httpsUrl!}/device/register`, { method: 'POST', body: 'not json', ca: broker.ca! });
    expect((JSON.parse(junk.body.toString()) as RegisterReply).Response.Error?.Code).toBe('ErrorCode_SDK_InvalidParam');
  });

  it('serves the legacy /register/dev with numeric codes, over plain HTTP too', async () => {
    const { cloud } = await setup();
    const fields = { deviceName: 'xyz', nonce: '1234', productId: 'ASJ0000GX1', timestamp: String(NOW_S) };
    const sign = (secret: string) =>
      Buffer.from(hmac('sha1', secret, `deviceName=xyz&nonce=1234&productId=ASJ0000GX1&timestamp=${NOW_S}`).toString('hex')).toString('base64');
    const ok = await request(`${cloud.http!.httpUrl!}/register/dev`, { method: 'POST', body: JSON.stringify({ ...fields, signature: sign(PRODUCT_SECRET) }) });
    const okBody = JSON.parse(ok.body.toString()) as { code: number; payload: string; len: number };
    expect(okBody.code).toBe(0);
    expect(JSON.parse(decryptTencentPayload(okBody.payload, PRODUCT_SECRET))).toMatchObject({ encryptionType: 2 });
    const bad = await request(`${cloud.http!.httpUrl!}/register/dev`, { method: 'POST', body: JSON.stringify({ ...fields, signature: sign('other') }) });
    expect(JSON.parse(bad.body.toString())).toEqual({ code: 1010, message: 'signature check failed' });
  });

  it('matches Tencent\'s published payload example (AES-128-CBC, zero padding, IV of ASCII zeros)', () => {
    // Tencent's dynamic-registration API page: product key hzvf5LF9S0isvBhDSauWMaIk.
    const published = 's6FB3a1BA/YYbcmSE12XpeDVmQNDcf1QgVD141RRbmmAnFwQfp1ECAu5O016mCOvYlJJ6V59yM4OqQSiWphfTg==';
    const plain = '{"encryptionType":2,"psk":"lDZ6Uqt+I9E0wW7rvDUs7Q=="}';
    expect(decryptTencentPayload(published, 'hzvf5LF9S0isvBhDSauWMaIk')).toBe(plain);
    expect(encryptTencentPayload(plain, 'hzvf5LF9S0isvBhDSauWMaIk')).toBe(published);
  });

  it('matches the signature of Tencent\'s qcloud-dynreg-sign example (hmacsha1, SHA-1 body hash)', () => {
    const { body, headers } = tencentDynregRequest({
      productId: 'PRODUCT_ID1',
      deviceName: 'DEVICENAME1',
      productSecret: 'PRODUCT_SECRETKEY',
      host: 'ap-guangzhou.gateway.tencentdevices.com',
      algorithm: 'hmacsha1',
      timestamp: 1629362589,
      nonce: 333464802,
    });
    expect(headers['X-TC-Signature']).toBe('7u3+tAPlt8O4mPpBm3lambv23sw=');
    const incoming = { ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), host: '127.0.0.1:8443' };
    expect(verifyTencentDynregSignature(incoming, Buffer.from(body), 'PRODUCT_SECRETKEY')).toBe(true);
    expect(verifyTencentDynregSignature(incoming, Buffer.from(body), 'PRODUCT_SECRETKEZ')).toBe(false);
  });
});

describe('firmware downloads', () => {
  it('serves catalog files and in-memory images, whole and by byte range', async () => {
    const { broker, cloud, firmwareDir } = await setup();
    const image = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    writeFileSync(path.join(firmwareDir, 'fw-1.0.1.bin'), image);
    const url = `${cloud.http!.httpUrl!}/firmware/fw-1.0.1.bin`;

    const whole = await request(url);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(image)).toBe(true);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers.etag).toBe(`"${createHash('md5').update(image).digest('hex')}"`);

    const part = await request(url, { headers: { Range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 1000-1999/5000');
    expect(part.body.equals(image.subarray(1000, 2000))).toBe(true);

    const tail = await request(url, { headers: { Range: 'bytes=4900-' } });
    expect(tail.body.equals(image.subarray(4900))).toBe(true);
    const suffix = await request(url, { headers: { Range: 'bytes=-10' } });
    expect(suffix.body.equals(image.subarray(4990))).toBe(true);

    const past = await request(url, { headers: { Range: 'bytes=5000-' } });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe('bytes */5000');

    const head = await request(url, { method: 'HEAD' });
    expect(head.headers['content-length']).toBe('5000');
    expect(head.body).toHaveLength(0);

    const info = await cloud.firmware.get('fw-1.0.1.bin');
    expect(info).toMatchObject({ size: 5000, md5: createHash('md5').update(image).digest('hex') });

    cloud.firmware.add('corrupt.bin', Buffer.from('not the image'));
    const mem = await request(`${cloud.http!.httpsUrl!}/firmware/corrupt.bin`, { ca: broker.ca! });
    expect(mem.body.toString()).toBe('not the image');

    expect((await request(`${cloud.http!.httpUrl!}/firmware/missing.bin`)).status).toBe(404);
    expect((await request(`${cloud.http!.httpUrl!}/firmware/..%2Fsecrets`)).status).toBe(404);
    expect((await request(`${cloud.http!.httpUrl!}/elsewhere`)).status).toBe(404);
  });

  it('parses ranges per RFC 9110', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-100', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=7-3', 10)).toBeNull();
    expect(parseRange('bytes=0-1,4-5', 10)).toBeUndefined();
    expect(parseRange('items=0-1', 10)).toBeUndefined();
  });
});
