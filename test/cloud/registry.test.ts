import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { issueDeviceCertificate } from '../../src/broker/tls-material.js';
import { loadRegistry, parseRegistry, RegistryError } from '../../src/cloud/registry-file.js';
import { attachRegistryState } from '../../src/cloud/registry-state.js';
import { Cleanup } from './helpers.js';

const EXAMPLE = path.resolve('fixtures/registry/example.yaml');
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function loadError(dir: string, name: string, text: string): Promise<RegistryError> {
  const file = write(dir, name, text);
  const err = await loadRegistry(file).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

describe('loadRegistry', () => {
  it('loads the documented example, with every platform', async () => {
    const reg = await loadRegistry(EXAMPLE);
    expect(reg.strict).toBe(true);
    expect(reg.source).toBe(EXAMPLE);
    expect(new Set(reg.products().map((p) => p.platform))).toEqual(new Set(['tencent', 'aliyun', 'onenet', 'huawei']));
    expect(reg.device('tencent', 'CTQS08Y5LG', 'device1')?.deviceSecret).toBe('ZHNkIGRzZCA=');
    expect(reg.device('tencent', 'CTQS08Y5LG', 'Dev01')?.deviceSecret).toBeUndefined();
    expect(reg.product('aliyun', 'a1m8qO1ceKE')?.productSecret).toBe('VPCTjT8dGTXr5Jpg');
    expect(reg.findDevice('huawei', '5ff66e644f04b003099af6e4_TestDevice')).toBeDefined();
    expect(reg.product('tencent', 'S3EUVBRJLB')?.topics).toEqual([{ filter: 'S3EUVBRJLB/${deviceName}/broadcast', access: 'sub' }]);
  });

  it('loads JSON too', async () => {
    const dir = cleanup.tempDir();
    const file = write(dir, 'r.json', JSON.stringify({ products: [{ platform: 'aliyun', productKey: 'pk', devices: [{ deviceName: 'd', deviceSecret: 's' }] }] }));
    const reg = await loadRegistry(file);
    expect(reg.device('aliyun', 'pk', 'd')?.deviceSecret).toBe('s');
  });

  it('names the file and the field in every error', async () => {
    const dir = cleanup.tempDir();
    let err = await loadError(dir, 'a.yaml', 'products:\n  - platform: azure\n    productId: x\n');
    expect(err.message).toBe(`${path.join(dir, 'a.yaml')}: products[0].platform: unknown platform "azure" (expected one of tencent, aliyun, onenet, huawei)`);
    expect(err.field).toBe('products[0].platform');

    err = await loadError(dir, 'b.yaml', 'products:\n  - platform: tencent\n    productId: P\n    devices:\n      - deviceName: d\n        deviceSecret: "not base64!"\n');
    expect(err.message).toContain('products[0].devices[0].deviceSecret: must be base64 (the Tencent PSK)');

    err = await loadError(dir, 'c.yaml', 'products:\n  - platform: aliyun\n    productKey: pk\n    devcies: []\n');
    expect(err.message).toContain('products[0].devcies: unknown field');

    err = await loadError(dir, 'd.yaml', 'products:\n  - platform: aliyun\n    devices: []\n');
    expect(err.message).toContain('products[0].productKey: is required');

    err = await loadError(dir, 'e.yaml', 'products:\n  - platform: aliyun\n    productKey: pk\n    devices:\n      - deviceName: d\n      - deviceName: d\n');
    expect(err.message).toContain('products[0].devices[1].deviceName: "d" is listed twice');

    err = await loadError(dir, 'f.yaml', 'products:\n  - platform: aliyun\n    productKey: pk\n    topics: ["a/#/b"]\n');
    expect(err.message).toContain('products[0].topics[0]: "a/#/b" is not a valid MQTT topic filter');

    err = await loadError(dir, 'g.yaml', 'products:\n  - platform: tencent\n    productId: P\n    devices:\n      - deviceName: d\n        certificate: missing.pem\n');
    expect(err.message).toContain(`products[0].devices[0].certificate: cannot read ${path.join(dir, 'missing.pem')} (ENOENT)`);

    write(dir, 'junk.pem', 'not a certificate');
    err = await loadError(dir, 'h.yaml', 'products:\n  - platform: tencent\n    productId: P\n    devices:\n      - deviceName: d\n        certificate: junk.pem\n');
    expect(err.message).toContain('is not a PEM certificate');

    err = await loadError(dir, 'i.yaml', 'products: [\n');
    expect(err.message).toMatch(/i\.yaml: not valid YAML/);

    err = await loadError(dir, 'j.yaml', 'products:\n  - platform: aliyun\n    productKey: pk\n    products: x\n    topics:\n      - { topic: "a/b", access: write }\n');
    expect(err.message).toContain('products[0].products: unknown field');

    err = await loadError(dir, 'k.yaml', 'products:\n  - { platform: huawei, productId: p }\n  - { platform: huawei, productId: p }\n');
    expect(err.message).toContain('products[1]: huawei product p is listed twice');

    const missing = await loadRegistry(path.join(dir, 'nope.yaml')).catch((e: unknown) => e);
    expect((missing as Error).message).toBe(`${path.join(dir, 'nope.yaml')}: no such file`);
  });

  it('pins a certificate by fingerprint, relative to the registry file', async () => {
    const dir = cleanup.tempDir();
    const cert = await issueDeviceCertificate(dir, 'dev_g1');
    const reg = parseRegistry(
      { products: [{ platform: 'tencent', productId: 'MND067I4BM', devices: [{ deviceName: 'dev_g1', certificate: path.relative(dir, cert.certPath) }] }] },
      { file: 'inline', baseDir: dir },
    );
    expect(reg.device('tencent', 'MND067I4BM', 'dev_g1')?.certificate).toEqual({ path: cert.certPath, fingerprint256: cert.fingerprint256 });
  });
});

describe('the cloud state file', () => {
  it('keeps issued credentials and activation across a reload, and only those', async () => {
    const dir = cleanup.tempDir();
    const file = path.join(dir, 'cloud', 'state.json');
    const data = { products: [{ platform: 'aliyun', productKey: 'pk', productSecret: 'ps', devices: [{ deviceName: 'a', deviceSecret: 'fixed' }, { deviceName: 'b' }] }] };

    const first = parseRegistry(data);
    const store = await attachRegistryState(first, file);
    first.update(first.device('aliyun', 'pk', 'b')!, { deviceSecret: 'issued', registered: true });
    first.update(first.device('aliyun', 'pk', 'a')!, { activated: true });
    await store.close();

    const second = parseRegistry(data);
    await (await attachRegistryState(second, file)).close();
    expect(second.device('aliyun', 'pk', 'b')).toMatchObject({ deviceSecret: 'issued', registered: true, activated: false });
    expect(second.device('aliyun', 'pk', 'a')).toMatchObject({ deviceSecret: 'fixed', registered: false, activated: true });
  });

  it('refuses a corrupt state file with its name', async () => {
    const dir = cleanup.tempDir();
    const file = write(dir, 'state.json', '{"version": 7}');
    await expect(attachRegistryState(parseRegistry({ products: [] }), file)).rejects.toThrow(`${file}: not a vmodem cloud state file`);
  });
});
