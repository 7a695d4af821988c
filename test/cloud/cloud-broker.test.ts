/**
 * The virtual cloud on a real embedded broker, through the project's own MQTT link: sign-ins per
 * platform, Aliyun dynamic registration over MQTT, topic permissions, certificate sign-in over
 * the TLS listener, and state that survives a restart.
 */
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { issueDeviceCertificate } from '../../src/broker/tls-material.js';
import { parseRegistry } from '../../src/cloud/registry-file.js';
import {
  aliyunConnwlCredentials,
  aliyunCredentials,
  aliyunRegisterCredentials,
} from '../../src/cloud/schemes/aliyun.js';
import { huaweiCredentials } from '../../src/cloud/schemes/huawei.js';
import { onenetToken } from '../../src/cloud/schemes/onenet.js';
import { tencentCredentials } from '../../src/cloud/schemes/tencent.js';
import { startVirtualCloud, type RunningCloud } from '../../src/cloud/virtual-cloud.js';
import { Cleanup, connect, NOW_MS, NOW_S, RETRY, waitFor } from './helpers.js';

const PSK = Buffer.from('tencent-psk-0001').toString('base64');
const ONENET_KEY = Buffer.from('onenet-device-key').toString('base64');

const PRODUCTS: unknown[] = [
  { platform: 'tencent', productId: 'S3EUVBRJLB', devices: [{ deviceName: 'device1', deviceSecret: PSK }] },
  {
    platform: 'aliyun',
    productKey: 'a1m8qO1ceKE',
    productSecret: 'VPCTjT8dGTXr5Jpg',
    devices: [{ deviceName: 'device1', deviceSecret: 'ali-secret' }, { deviceName: 'SDK_0004' }],
  },
  { platform: 'onenet', productId: 'P1', devices: [{ deviceName: 'meter01', deviceSecret: ONENET_KEY }] },
  { platform: 'huawei', productId: 'prod', devices: [{ deviceId: 'prod_node1', deviceSecret: 'hwsecret' }] },
];

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Setup {
  broker: EmbeddedBroker;
  cloud: RunningCloud;
  stateDir: string;
}

/** A broker (TLS optional) with the cloud attached; `registry` is registry-file data, 'none' = zero-config. */
async function setup(opts: { registry?: 'none' | unknown[]; stateDir?: string; tls?: boolean } = {}): Promise<Setup> {
  const stateDir = opts.stateDir ?? cleanup.tempDir();
  const broker = await startEmbeddedBroker({ port: 0, stateDir, ...(opts.tls ? { tlsPort: 0 } : {}) });
  cleanup.add(() => broker.close());
  const products = opts.registry ?? PRODUCTS;
  const cloud = await startVirtualCloud({
    broker,
    stateDir,
    now: () => NOW_MS,
    ...(products === 'none' ? {} : { registry: parseRegistry({ products }) }),
  });
  cleanup.add(() => cloud.close());
  return { broker, cloud, stateDir };
}

const tencent = (over: Partial<Parameters<typeof tencentCredentials>[0]> = {}) =>
  tencentCredentials({ productId: 'S3EUVBRJLB', deviceName: 'device1', deviceSecret: PSK, expiry: NOW_S + 3600, ...over });

describe('sign-in on the broker', () => {
  it('accepts every platform with a correct signature and refuses a wrong secret with its code', async () => {
    const { broker } = await setup();
    const cases: [string, { clientId: string; username?: string; password?: string }, { clientId: string; username?: string; password?: string }, number][] = [
      ['tencent', tencent(), tencent({ deviceSecret: Buffer.from('wrong').toString('base64') }), 4],
      [
        'aliyun',
        aliyunCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'device1', deviceSecret: 'ali-secret' }),
        aliyunCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'device1', deviceSecret: 'wrong' }),
        4,
      ],
      [
        'onenet',
        { clientId: 'meter01', username: 'P1', password: onenetToken({ productId: 'P1', deviceName: 'meter01', key: ONENET_KEY, expiry: NOW_S + 60 }) },
        { clientId: 'meter01', username: 'P1', password: onenetToken({ productId: 'P1', deviceName: 'meter01', key: Buffer.from('x').toString('base64'), expiry: NOW_S + 60 }) },
        5,
      ],
      ['huawei', huaweiCredentials({ deviceId: 'prod_node1', secret: 'hwsecret', nowMs: NOW_MS }), huaweiCredentials({ deviceId: 'prod_node1', secret: 'bad', nowMs: NOW_MS }), 4],
    ];
    for (const [name, good, bad, code] of cases) {
      expect((await connect(cleanup, broker.port, good)).outcome, name).toEqual({ kind: 'accepted', sessionPresent: false });
      expect((await connect(cleanup, broker.port, bad)).outcome, name).toEqual({ kind: 'refused', returnCode: code });
    }
  });

  it('refuses a Tencent username whose expiry has passed', async () => {
    const { broker } = await setup();
    expect((await connect(cleanup, broker.port, tencent({ expiry: NOW_S - 10 }))).outcome).toEqual({ kind: 'refused', returnCode: 4 });
  });

  it('with a registry, refuses unknown devices of a known platform but admits plain MQTT clients', async () => {
    const { broker } = await setup();
    expect((await connect(cleanup, broker.port, tencent({ deviceName: 'device9' }))).outcome).toEqual({ kind: 'refused', returnCode: 4 });
    expect((await connect(cleanup, broker.port, { clientId: 'observer', username: 'ops', password: 'x' })).outcome.kind).toBe('accepted');
  });

  it('with no registry, accepts any sign-in', async () => {
    const { broker } = await setup({ registry: 'none' });
    expect((await connect(cleanup, broker.port, tencent({ deviceSecret: Buffer.from('anything').toString('base64') }))).outcome.kind).toBe('accepted');
    expect((await connect(cleanup, broker.port, aliyunCredentials({ productKey: 'x', deviceName: 'y', deviceSecret: 'z' }))).outcome.kind).toBe('accepted');
  });
});

describe('topic permissions', () => {
  it('grants a Tencent device its own topics and refuses others with SUBACK 0x80', async () => {
    const { broker } = await setup();
    const { link } = await connect(cleanup, broker.port, tencent());
    const granted = await link.subscribe(
      1,
      [
        { topic: 'S3EUVBRJLB/device1/control', qos: 1 },
        { topic: 'S3EUVBRJLB/device1/event', qos: 0 },
        { topic: 'S3EUVBRJLB/device2/data', qos: 0 },
        { topic: '$ota/update/S3EUVBRJLB/device1', qos: 2 },
      ],
      RETRY,
    );
    expect(granted).toEqual({ kind: 'ok', value: [1, 0x80, 0x80, 2] });
  });

  it('disconnects a device that publishes where it may not, and does not forward the message', async () => {
    const { broker } = await setup();
    const seen: BrokerPublish[] = [];
    broker.onPublish((m) => seen.push(m));
    const { link, closed } = await connect(cleanup, broker.port, tencent());
    expect(await link.publish(1, 'S3EUVBRJLB/device1/event', Buffer.from('ok'), { qos: 1, retain: false }, RETRY)).toEqual({ kind: 'ok', value: undefined });
    const refused = await link.publish(2, 'S3EUVBRJLB/device1/control', Buffer.from('no'), { qos: 1, retain: false }, RETRY);
    expect(refused.kind).toBe('closed');
    await closed;
    expect(seen.map((m) => m.topic)).toEqual(['S3EUVBRJLB/device1/event']);
  });

  it('leaves plain MQTT clients and zero-config devices unrestricted', async () => {
    const { broker } = await setup({ registry: 'none' });
    const { link } = await connect(cleanup, broker.port, tencent());
    expect(await link.subscribe(1, [{ topic: 'anything/#', qos: 2 }], RETRY)).toEqual({ kind: 'ok', value: [2] });
    const other = await connect(cleanup, broker.port, { clientId: 'tool' });
    expect(await other.link.subscribe(1, [{ topic: '#', qos: 2 }], RETRY)).toEqual({ kind: 'ok', value: [2] });
  });

  it('applies Aliyun rules to an Aliyun device', async () => {
    const { broker } = await setup();
    const { link } = await connect(cleanup, broker.port, aliyunCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'device1', deviceSecret: 'ali-secret' }));
    const granted = await link.subscribe(
      3,
      [
        { topic: '/a1m8qO1ceKE/device1/user/get', qos: 1 },
        { topic: '/sys/a1m8qO1ceKE/device1/thing/service/property/set', qos: 0 },
        { topic: '/a1m8qO1ceKE/SDK_0004/user/get', qos: 0 },
      ],
      RETRY,
    );
    expect(granted).toEqual({ kind: 'ok', value: [1, 0, 0x80] });
  });
});

describe('Aliyun dynamic registration over MQTT', () => {
  it('register: publishes the DeviceSecret on /ext/register, disconnects, and the secret then signs in', async () => {
    const { broker, cloud } = await setup();
    const creds = aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', productSecret: 'VPCTjT8dGTXr5Jpg', authType: 'register' });
    const reg = await connect(cleanup, broker.port, creds);
    expect(reg.outcome.kind).toBe('accepted');
    await reg.closed;
    expect(reg.messages.map((m) => m.topic)).toEqual(['/ext/register']);
    const reply = JSON.parse(reg.messages[0]!.payload.toString()) as { productKey: string; deviceName: string; deviceSecret: string };
    expect(reply).toMatchObject({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004' });
    expect(reply.deviceSecret).toMatch(/^[0-9a-f]{32}$/);
    expect(cloud.registry.device('aliyun', 'a1m8qO1ceKE', 'SDK_0004')?.deviceSecret).toBe(reply.deviceSecret);

    const login = await connect(cleanup, broker.port, aliyunCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', deviceSecret: reply.deviceSecret }));
    expect(login.outcome.kind).toBe('accepted');
    // Activated now: registering again is refused (not authorized).
    expect((await connect(cleanup, broker.port, creds)).outcome).toEqual({ kind: 'refused', returnCode: 5 });
  });

  it('register: refuses a wrong product secret (4) and an unlisted device (4)', async () => {
    const { broker } = await setup();
    const wrong = aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', productSecret: 'nope', authType: 'register' });
    expect((await connect(cleanup, broker.port, wrong)).outcome).toEqual({ kind: 'refused', returnCode: 4 });
    const unlisted = aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_9999', productSecret: 'VPCTjT8dGTXr5Jpg', authType: 'register' });
    expect((await connect(cleanup, broker.port, unlisted)).outcome).toEqual({ kind: 'refused', returnCode: 4 });
  });

  it('regnwl: publishes clientId and deviceToken on /ext/regnwl; connwl signs in with them', async () => {
    const { broker } = await setup();
    const creds = aliyunRegisterCredentials({
      productKey: 'a1m8qO1ceKE',
      deviceName: 'SDK_0007',
      productSecret: 'VPCTjT8dGTXr5Jpg',
      authType: 'regnwl',
      signMethod: 'hmacsha1',
    });
    const reg = await connect(cleanup, broker.port, creds);
    expect(reg.outcome.kind).toBe('accepted');
    await reg.closed;
    expect(reg.messages.map((m) => m.topic)).toEqual(['/ext/regnwl']);
    const reply = JSON.parse(reg.messages[0]!.payload.toString()) as { clientId: string; deviceToken: string; productKey: string; deviceName: string };
    expect(reply).toMatchObject({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0007' });

    const conn = aliyunConnwlCredentials({ ...reply });
    expect((await connect(cleanup, broker.port, conn)).outcome.kind).toBe('accepted');
    expect((await connect(cleanup, broker.port, { ...conn, password: `${reply.deviceToken}x` })).outcome).toEqual({ kind: 'refused', returnCode: 4 });
  });

  it('remembers issued secrets across a restart (state in <stateDir>/cloud/state.json)', async () => {
    const first = await setup();
    const creds = aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', productSecret: 'VPCTjT8dGTXr5Jpg', authType: 'register' });
    const reg = await connect(cleanup, first.broker.port, creds);
    await reg.closed;
    const { deviceSecret } = JSON.parse(reg.messages[0]!.payload.toString()) as { deviceSecret: string };
    await first.cloud.close();
    await first.broker.close();
    expect(first.cloud.stateFile).toBe(path.join(first.stateDir, 'cloud', 'state.json'));

    const second = await setup({ stateDir: first.stateDir });
    const login = aliyunCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', deviceSecret });
    expect((await connect(cleanup, second.broker.port, login)).outcome.kind).toBe('accepted');
    await waitFor(() => second.cloud.registry.device('aliyun', 'a1m8qO1ceKE', 'SDK_0004')!.activated, 'activation');
  });
});

describe('Tencent certificate mode over the TLS listener', () => {
  it('signs in the device presenting its registered certificate and refuses another or none with 5', async () => {
    const stateDir = cleanup.tempDir();
    const good = await issueDeviceCertificate(stateDir, 'dev_g1');
    const other = await issueDeviceCertificate(stateDir, 'intruder');
    const { broker } = await setup({
      stateDir,
      tls: true,
      registry: [{ platform: 'tencent', productId: 'MND067I4BM', devices: [{ deviceName: 'dev_g1', certificate: good.certPath }] }],
    });
    const target = { clientId: 'MND067I4BMdev_g1', username: `MND067I4BMdev_g1;21010406;abcde;${NOW_S + 600}` };
    const ok = await connect(cleanup, broker.tlsPort!, target, { ca: broker.ca!, cert: good.cert, key: good.key });
    expect(ok.outcome).toEqual({ kind: 'accepted', sessionPresent: false });
    expect(await ok.link.subscribe(1, [{ topic: 'MND067I4BM/dev_g1/control', qos: 0 }, { topic: 'MND067I4BM/x/control', qos: 0 }], RETRY)).toEqual({
      kind: 'ok',
      value: [0, 0x80],
    });
    const bad = await connect(cleanup, broker.tlsPort!, target, { ca: broker.ca!, cert: other.cert, key: other.key });
    expect(bad.outcome).toEqual({ kind: 'refused', returnCode: 5 });
    const none = await connect(cleanup, broker.tlsPort!, target, { ca: broker.ca! });
    expect(none.outcome).toEqual({ kind: 'refused', returnCode: 5 });
  });

  it('runs PSK sign-in over TLS too', async () => {
    const { broker } = await setup({ tls: true });
    expect((await connect(cleanup, broker.tlsPort!, tencent(), { ca: broker.ca! })).outcome.kind).toBe('accepted');
  });
});

describe('logging', () => {
  it('records sign-ins and refusals without any secret, password or issued credential', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const stateDir = cleanup.tempDir();
    const broker = await startEmbeddedBroker({ port: 0, log });
    cleanup.add(() => broker.close());
    const cloud = await startVirtualCloud({ broker, stateDir, log, now: () => NOW_MS, registry: parseRegistry({ products: PRODUCTS }) });
    cleanup.add(() => cloud.close());

    const good = tencent();
    const bad = tencent({ deviceSecret: Buffer.from('wrong').toString('base64') });
    await connect(cleanup, broker.port, good);
    await connect(cleanup, broker.port, bad);
    const reg = await connect(
      cleanup,
      broker.port,
      aliyunRegisterCredentials({ productKey: 'a1m8qO1ceKE', deviceName: 'SDK_0004', productSecret: 'VPCTjT8dGTXr5Jpg', authType: 'register' }),
    );
    await reg.closed;
    const issued = (JSON.parse(reg.messages[0]!.payload.toString()) as { deviceSecret: string }).deviceSecret;

    const records = lines.map((l) => JSON.parse(l) as { msg: string; returnCode?: number });
    expect(records.some((r) => r.msg === 'cloud sign-in accepted')).toBe(true);
    expect(records.some((r) => r.msg === 'cloud sign-in refused' && r.returnCode === 4)).toBe(true);
    const text = lines.join('');
    for (const secret of [PSK, good.password, bad.password, 'VPCTjT8dGTXr5Jpg', issued, reg.messages[0]!.payload.toString()]) {
      expect(text).not.toContain(secret);
    }
  });
});
