/**
 * The pure parts of the Tencent IoT AT set: response formatting, the BCC checksum (§1.2.6),
 * payload unescaping, the sign-in and registration computations (checked against the virtual
 * cloud's independent verifiers), error-code mapping, certificate checks, URL mapping, and the
 * modem's flash store.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { tencentCredentials, verifyTencentPassword } from '../../src/cloud/schemes/tencent.js';
import { encryptTencentPayload, tencentDynregRequest, verifyTencentDynregSignature } from '../../src/cloud/schemes/tencent-dynreg.js';
import { directoryFlashStore, flashDirFor, memoryFlashStore, type FlashStore } from '../../src/modem/module-flash.js';
import { checkCertFile, findKeyFor, kindOf } from '../../src/vendors/tencent/certs.js';
import { connackError, connectError, disconnectError, dynregErrorCode, openError } from '../../src/vendors/tencent/errors.js';
import { bcc, TcFormat, unescapePayload } from '../../src/vendors/tencent/format.js';
import { cloudUrl } from '../../src/vendors/tencent/http.js';
import { decodePsk, decryptDynregPayload, dynregRequest, pskSignIn, tencentUsername } from '../../src/vendors/tencent/sign.js';
import { dataUpToCtrlZ, fixedOrCtrlZ } from '../../src/vendors/tencent/tccertadd.js';
import { QOS_PARAM, tcArgs, TLSMODE_PARAM } from '../../src/vendors/tencent/args.js';
import { error, ok, type CommandContext } from '../../src/at/types.js';
import { splitArgs } from '../../src/at/parse-command-line.js';

const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'transcripts', 'tencent-qcloud-cellular');
const CERT = readFileSync(path.join(FIXTURES, 'general_cdev1_cert.crt'));
const KEY = readFileSync(path.join(FIXTURES, 'general_cdev1_private.key'));

describe('response format (§1.2)', () => {
  it('prints no space after the colon by default, one when the profile asks', () => {
    expect(new TcFormat(false).ok('TCMQTTCONN')).toBe('+TCMQTTCONN:OK');
    expect(new TcFormat(true).ok('TCMQTTCONN')).toBe('+TCMQTTCONN: OK');
    expect(new TcFormat(false).fail('TCMQTTSUB', -108)).toBe('+TCMQTTSUB:FAIL,-108');
    expect(new TcFormat(true).fail('TCMQTTPUB', 202)).toBe('+TCMQTTPUB: FAIL,202');
  });

  it('puts raw bytes into a line unchanged', () => {
    const line = new TcFormat(false).binary('TCMQTTRCVPUB', '"t",3,"', Buffer.from([0x00, 0xff, 0x22]), '"') as Buffer;
    expect(line).toEqual(Buffer.concat([Buffer.from('+TCMQTTRCVPUB:"t",3,"'), Buffer.from([0x00, 0xff, 0x22]), Buffer.from('"')]));
  });

  it('computes the BCC as the manual\'s CalcCheck does: XOR of all bytes, decimal', () => {
    expect(bcc('ZHNkIGRzZCA=')).toBe(116);
    expect(bcc('A')).toBe(65);
    expect(bcc('AB')).toBe(0x41 ^ 0x42);
  });

  it('unescapes \\" \\, and \\\\ in AT+TCMQTTPUB messages and keeps other backslashes', () => {
    expect(unescapePayload('{\\"action\\":\\"test\\"\\,\\"time\\":1565075992}').toString()).toBe('{"action":"test","time":1565075992}');
    expect(unescapePayload('a\\\\b').toString()).toBe('a\\b');
    expect(unescapePayload('line\\nbreak').toString()).toBe('line\\nbreak');
    expect(unescapePayload('tail\\').toString()).toBe('tail\\');
    expect(unescapePayload('\xe4\xbd\xa0')).toEqual(Buffer.from('你', 'utf8'));
  });
});

describe('sign-in (FACTS "Tencent IoT Hub … PSK")', () => {
  it('builds clientId, user name and password that the virtual cloud verifies', () => {
    const s = pskSignIn({ productId: 'CTQS08Y5LG', deviceName: 'device1', deviceSecret: 'ZHNkIGRzZCA=', sdkAppId: '21010406', expiry: 2147483647, connId: 'aB3dE' });
    expect(s.clientId).toBe('CTQS08Y5LGdevice1');
    expect(s.username).toBe('CTQS08Y5LGdevice1;21010406;aB3dE;2147483647');
    expect(s.password).toMatch(/^[0-9a-f]{64};hmacsha256$/);
    expect(verifyTencentPassword(s.username, s.password!, 'ZHNkIGRzZCA=')).toBe(true);
    expect(verifyTencentPassword(s.username, s.password!, 'b3RoZXI=')).toBe(false);
    // The cloud's own device-side helper computes the same.
    const cloud = tencentCredentials({ productId: 'CTQS08Y5LG', deviceName: 'device1', deviceSecret: 'ZHNkIGRzZCA=', expiry: 2147483647, connId: 'aB3dE' });
    expect(cloud).toEqual(s);
  });

  it('draws a 5-character connection id per sign-in', () => {
    const a = tencentUsername('P', 'd', '1', 9);
    expect(a).toMatch(/^Pd;1;[A-Za-z0-9]{5};9$/);
  });

  it('accepts only strict base64 secrets', () => {
    expect(decodePsk('ZHNkIGRzZCA=')).toEqual(Buffer.from('dsd dsd '));
    expect(decodePsk(' ZHNkIGRzZCA=')).toBeUndefined();
    expect(decodePsk('ZHNkIGRzZCA')).toBeUndefined();
    expect(decodePsk('')).toBeUndefined();
    expect(() => pskSignIn({ productId: 'P', deviceName: 'd', deviceSecret: 'not base64!', sdkAppId: '1', expiry: 1 })).toThrow();
  });
});

describe('dynamic registration request (§2.7)', () => {
  it('signs the way the virtual cloud verifies, with SHA-256 and SHA-1', () => {
    for (const algorithm of ['hmacsha256', 'hmacsha1'] as const) {
      const r = dynregRequest({ productId: 'ASJ0000GX1', deviceName: 'xyz', productSecret: 'hzvf5LF9S0isvBhDSauWMaIk', host: 'ap-guangzhou.gateway.tencentdevices.com', algorithm, timestamp: 1714566896, nonce: 5456 });
      const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
      expect(verifyTencentDynregSignature(headers, Buffer.from(r.body), 'hzvf5LF9S0isvBhDSauWMaIk')).toBe(true);
      expect(verifyTencentDynregSignature(headers, Buffer.from(r.body), 'wrong-secret')).toBe(false);
    }
  });

  it('matches the cloud\'s own device-side request byte for byte', () => {
    const input = { productId: 'ASJ0000GX1', deviceName: 'xyz', productSecret: 's3cr3t', host: 'ap-guangzhou.gateway.tencentdevices.com', algorithm: 'hmacsha256' as const, timestamp: 1, nonce: 2 };
    const mine = dynregRequest(input);
    const theirs = tencentDynregRequest(input);
    expect(mine.body).toBe(theirs.body);
    expect(mine.headers['X-TC-Signature']).toBe(theirs.headers['X-TC-Signature']);
    const bodyHash = createHash('sha256').update(mine.body).digest('hex');
    const toSign = `POST\nap-guangzhou.gateway.tencentdevices.com\n/device/register\n\nhmacsha256\n1\n2\n${bodyHash}`;
    expect(mine.headers['X-TC-Signature']).toBe(createHmac('sha256', 's3cr3t').update(toSign).digest('base64'));
  });

  it('decrypts what the cloud encrypts, zero padding removed', () => {
    const plain = '{"encryptionType":2,"psk":"MTIzNDU2Nzg5MGFiY2RlZg=="}';
    for (const secret of ['hzvf5LF9S0isvBhDSauWMaIk', 'short']) {
      expect(decryptDynregPayload(encryptTencentPayload(plain, secret), secret)).toBe(plain);
    }
    expect(decryptDynregPayload('AAAA', 'x')).toBeUndefined();
  });
});

describe('error codes (§6)', () => {
  it('maps CONNACK return codes to -113…-117', () => {
    expect([1, 2, 3, 4, 5, 6].map(connackError)).toEqual([-113, -114, -115, -116, -117, -112]);
  });

  it('maps transport failures to the TCP and TLS codes', () => {
    expect(openError('dns', false)).toBe(-602);
    expect(openError('refused', false)).toBe(-603);
    expect(openError('refused', true)).toBe(-703);
    expect(connectError({ kind: 'timeout' }, false)).toBe(-111);
    expect(connectError({ kind: 'closed' }, false)).toBe(-608);
    expect(disconnectError('remote-closed', false)).toBe(-608);
    expect(disconnectError('remote-closed', true)).toBe(-708);
    expect(disconnectError('ping-timeout', false)).toBe(-103);
    expect(disconnectError('error', false)).toBe(-606);
  });

  it('maps the platform\'s registration errors to §6.3 codes', () => {
    expect(dynregErrorCode('ErrorCode_SDK_NoSuchDevice')).toBe(1020);
    expect(dynregErrorCode('ErrorCode_SDK_DeviceHasRegistered')).toBe(1021);
    expect(dynregErrorCode('ErrorCode_SDK_CheckSecretError')).toBe(1010);
    expect(dynregErrorCode('Something else')).toBe(1000);
    expect(dynregErrorCode(1031)).toBe(1031);
  });
});

describe('certificates (§2.3–§2.4)', () => {
  it('parses PEM certificates and private keys by their names', () => {
    expect(kindOf('a.crt')).toBe('cert');
    expect(kindOf('a.KEY')).toBe('key');
    expect(checkCertFile('general_cdev1_cert.crt', CERT)).toEqual({ ok: true, kind: 'cert' });
    expect(checkCertFile('general_cdev1_private.key', KEY)).toEqual({ ok: true, kind: 'key' });
  });

  it('refuses what is not PEM, a damaged PEM, and a key stored as a certificate', () => {
    expect(checkCertFile('x.crt', Buffer.from('hello world')).ok).toBe(false);
    const damaged = Buffer.from(CERT.toString().replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'));
    expect(checkCertFile('x.crt', damaged).ok).toBe(false);
    expect(checkCertFile('x.crt', KEY).ok).toBe(false);
    expect(checkCertFile('x.key', CERT).ok).toBe(false);
  });

  it('finds the key whose public half is the certificate\'s, whatever its name', () => {
    expect(findKeyFor(CERT, [{ name: 'junk.key', data: Buffer.from('x') }, { name: 'general_cdev1_private.key', data: KEY }])).toBe('general_cdev1_private.key');
    expect(findKeyFor(CERT, [{ name: 'junk.key', data: Buffer.from('x') }])).toBeUndefined();
  });
});

describe('data mode ends (§2.3, §3.4)', () => {
  it('takes a complete transfer (the engine ends it at a Ctrl+Z) and fails a silent or cancelled one', () => {
    expect(fixedOrCtrlZ(10, 1000)).toEqual({ mode: 'fixed', length: 10, idleTimeoutMs: 1000, endOnCtrlZ: true });
    expect(dataUpToCtrlZ({ kind: 'complete', payload: Buffer.from('abc'), overflowed: false })).toEqual(Buffer.from('abc'));
    expect(dataUpToCtrlZ({ kind: 'timeout', payload: Buffer.from('ab') })).toBeUndefined();
    expect(dataUpToCtrlZ({ kind: 'cancelled', payload: Buffer.from('ab') })).toBeUndefined();
  });
});

describe('firmware URLs', () => {
  const cloud = { httpUrl: 'http://127.0.0.1:8080', httpsUrl: 'https://127.0.0.1:8443' };
  it('keeps URLs on this machine', () => {
    expect(cloudUrl('http://127.0.0.1:9/firmware/a.bin', cloud)!.href).toBe('http://127.0.0.1:9/firmware/a.bin');
  });
  it('sends production hosts to the virtual cloud\'s firmware service, keeping the scheme', () => {
    expect(cloudUrl('https://ota-1255858890.cos.ap-guangzhou.myqcloud.com/100001_fw%201.bin?sign=x', cloud)!.href).toBe('https://127.0.0.1:8443/firmware/100001_fw%201.bin');
    expect(cloudUrl('http://example.com/a/b.bin', cloud)!.href).toBe('http://127.0.0.1:8080/firmware/b.bin');
  });
  it('leaves URLs alone without a cloud, and refuses junk', () => {
    expect(cloudUrl('http://example.com/b.bin', undefined)!.href).toBe('http://example.com/b.bin');
    expect(cloudUrl('not a url', cloud)).toBeUndefined();
  });
});

describe('the modem flash store', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'vmodem-flash-'));
    dirs.push(d);
    return d;
  };

  for (const [name, make] of [
    ['in memory', () => memoryFlashStore()],
    ['in a directory', () => directoryFlashStore(path.join(tmp(), 'f'))],
  ] as [string, () => FlashStore][]) {
    it(`reads, writes, lists and removes records (${name})`, () => {
      const s = make();
      expect(s.read('a/b.json')).toBeUndefined();
      s.write('a/b.json', '{"x":1}');
      s.write('a/certs/x.crt', Buffer.from([1, 2]));
      s.write('a/certs/..', 'dots');
      s.write('a/certs/we ird%/name', 'nested');
      expect(s.read('a/b.json')!.toString()).toBe('{"x":1}');
      expect(s.list('a/certs/')).toEqual(['a/certs/..', 'a/certs/x.crt']);
      expect(s.read('a/certs/..')!.toString()).toBe('dots');
      s.remove('a/certs/x.crt');
      s.remove('a/nothing');
      expect(s.list('a/certs/')).toEqual(['a/certs/..']);
      expect(() => s.write('', 'x')).toThrow();
      expect(() => s.write('a//b', 'x')).toThrow();
    });
  }

  it('keeps every file inside its directory, private', () => {
    const root = tmp();
    const s = directoryFlashStore(path.join(root, 'f'));
    s.write('x/../../escape', 'no');
    s.write('x/ok', 'yes');
    expect(readdirSync(root)).toEqual(['f']);
    expect(directoryFlashStore(path.join(root, 'f')).read('x/ok')!.toString()).toBe('yes');
    expect(flashDirFor('/state', '860000000000001')).toBe(path.join('/state', 'flash', '860000000000001'));
  });
});

describe('argument decoding (§1.2: a bad argument answers 204)', () => {
  const ctxOf = (text: string) => ({ args: splitArgs(text) }) as unknown as CommandContext;
  const params = [TLSMODE_PARAM, QOS_PARAM, { name: 'topic', type: 'string' }, { name: 'region', type: 'string', optional: true }] as const;

  it('hands tcArgs callbacks the typed tuple, so handlers need no casts', async () => {
    let seen: unknown;
    const out = await tcArgs(ctxOf('2,1,"a/b"'), params, ([mode, qos, topic, region]) => {
      expectTypeOf(mode).toEqualTypeOf<0 | 1 | 2>();
      expectTypeOf(qos).toEqualTypeOf<0 | 1>();
      expectTypeOf(topic).toEqualTypeOf<string>();
      expectTypeOf(region).toEqualTypeOf<string | undefined>();
      seen = [mode, qos, topic, region];
      return ok();
    });
    expect(out).toEqual(ok());
    expect(seen).toEqual([2, 1, 'a/b', undefined]);
  });

  it('answers +CME ERROR: 204 for a value outside the manual\'s list', async () => {
    const out = await tcArgs(ctxOf('0,2,"a/b"'), params, () => ok());
    expect(out).toEqual(error(204, '<qos>=2 not in (0,1)'));
  });
});
