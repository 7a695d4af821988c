/**
 * Tencent's platform topics on the virtual cloud (src/cloud/tencent-services.ts): the time on
 * `$sys/operation`, the data template on `$thing/up|down/…` (report, report_info, get_status,
 * event_post/events_post, control and action from the cloud with the device's replies), and the
 * older `$template/operation[/result]` topics, with a registry device's topic permissions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { parseRegistry } from '../../src/cloud/registry-file.js';
import { tencentCredentials } from '../../src/cloud/schemes/tencent.js';
import { startVirtualCloud, type RunningCloud } from '../../src/cloud/virtual-cloud.js';
import type { IncomingMessage, MqttLink } from '../../src/mqtt/types.js';
import { Cleanup, connect, NOW_MS, NOW_S, RETRY, waitFor } from './helpers.js';

const PID = 'S3EUVBRJLB';
const DN = 'device1';
const PSK = Buffer.from('tencent-psk-0001').toString('base64');

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Device {
  link: MqttLink;
  messages: IncomingMessage[];
  cloud: RunningCloud;
  /** Subscribe, publish `message` (JSON) on `up`, and resolve with the first message on `down`. */
  ask(up: string, down: string, message: unknown): Promise<Record<string, unknown>>;
}

let nextId = 1;
async function device(): Promise<Device> {
  const stateDir = cleanup.tempDir();
  const broker = await startEmbeddedBroker({ port: 0 });
  cleanup.add(() => broker.close());
  const cloud = await startVirtualCloud({
    broker,
    stateDir,
    now: () => NOW_MS,
    registry: parseRegistry({ products: [{ platform: 'tencent', productId: PID, devices: [{ deviceName: DN, deviceSecret: PSK }] }] }),
  });
  cleanup.add(() => cloud.close());
  const creds = tencentCredentials({ productId: PID, deviceName: DN, deviceSecret: PSK, expiry: NOW_S + 3600 });
  const { link, outcome, messages } = await connect(cleanup, broker.port, creds);
  expect(outcome).toMatchObject({ kind: 'accepted' });
  const subscribed = new Set<string>();
  const ask = async (up: string, down: string, message: unknown): Promise<Record<string, unknown>> => {
    if (!subscribed.has(down)) {
      expect(await link.subscribe(nextId++, [{ topic: down, qos: 0 }], RETRY)).toEqual({ kind: 'ok', value: [0] });
      subscribed.add(down);
    }
    const before = messages.length;
    expect(await link.publish(nextId++, up, Buffer.from(JSON.stringify(message)), { qos: 1, retain: false }, RETRY)).toMatchObject({ kind: 'ok' });
    await waitFor(() => messages.slice(before).some((m) => m.topic === down), `a message on ${down}`);
    return JSON.parse(messages.slice(before).find((m) => m.topic === down)!.payload.toString()) as Record<string, unknown>;
  };
  return { link, messages, cloud, ask };
}

describe('$sys/operation', () => {
  it('answers the time request with {"type":"get","time":<unix seconds>}, the 32 bytes real modules receive', async () => {
    const d = await device();
    const before = d.messages.length;
    const reply = await d.ask(`$sys/operation/${PID}/${DN}`, `$sys/operation/result/${PID}/${DN}`, { type: 'get', resource: ['time'] });
    expect(reply).toEqual({ type: 'get', time: NOW_S });
    expect(d.messages.slice(before)[0]!.payload.toString()).toBe(`{"type":"get","time":${NOW_S}}`);
    expect(d.messages.slice(before)[0]!.payload.length).toBe(32);
  });
});

describe('$ota report_version', () => {
  it('answers the version report with report_version_rsp on $ota/update, and remembers the version', async () => {
    const d = await device();
    const reply = await d.ask(`$ota/report/${PID}/${DN}`, `$ota/update/${PID}/${DN}`, { type: 'report_version', report: { version: '1.0.0' } });
    expect(reply).toEqual({ type: 'report_version_rsp', version: '1.0.0', result_code: 0, result_msg: 'success' });
    expect(d.cloud.cloud.tencent!.reportedVersion(PID, DN)).toBe('1.0.0');
  });

  it('answers a report without a version with a non-zero result_code', async () => {
    const d = await device();
    expect(await d.ask(`$ota/report/${PID}/${DN}`, `$ota/update/${PID}/${DN}`, { type: 'report_version', report: {} })).toEqual({ type: 'report_version_rsp', result_code: 1, result_msg: 'version missing' });
  });
});

describe('$thing data template', () => {
  const up = `$thing/up/property/${PID}/${DN}`;
  const down = `$thing/down/property/${PID}/${DN}`;

  it('answers report with report_reply and get_status with what was reported', async () => {
    const d = await device();
    expect(await d.ask(up, down, { method: 'report', clientToken: `${PID}-2`, params: { power_switch: 1, brightness: 40 } })).toEqual({
      method: 'report_reply',
      clientToken: `${PID}-2`,
      code: 0,
      status: 'success',
    });
    await d.ask(up, down, { method: 'report', clientToken: `${PID}-3`, params: { brightness: 41 } });
    expect(await d.ask(up, down, { method: 'get_status', clientToken: `${PID}-4` })).toEqual({
      method: 'get_status_reply',
      clientToken: `${PID}-4`,
      code: 0,
      status: 'success',
      data: { reported: { power_switch: 1, brightness: 41 } },
    });
    expect(await d.ask(up, down, { method: 'get_status', clientToken: 'c5', type: 'control' })).toEqual({
      method: 'get_status_reply',
      clientToken: 'c5',
      code: 0,
      status: 'success',
      type: 'control',
      data: {},
    });
    expect(await d.ask(up, down, { method: 'report_info', clientToken: 'c6', params: { module_hardinfo: 'ESP8266' } })).toEqual({
      method: 'report_info_reply',
      clientToken: 'c6',
      code: 0,
      status: 'success',
    });
  });

  it('answers event_post with event_reply and events_post with events_reply on $thing/down/event', async () => {
    const d = await device();
    const ev = { method: 'event_post', clientToken: `${PID}-8`, eventId: 'status_report', type: 'info', timestamp: 0, params: { status: 1 } };
    expect(await d.ask(`$thing/up/event/${PID}/${DN}`, `$thing/down/event/${PID}/${DN}`, ev)).toEqual({
      method: 'event_reply',
      clientToken: `${PID}-8`,
      code: 0,
      status: '',
      data: {},
    });
    const evs = { method: 'events_post', clientToken: 'c9', events: [{ eventId: 'status_report', type: 'info', params: {} }] };
    expect(await d.ask(`$thing/up/event/${PID}/${DN}`, `$thing/down/event/${PID}/${DN}`, evs)).toMatchObject({ method: 'events_reply', clientToken: 'c9', code: 0 });
  });

  it('sends a control from the cloud and hands the device\'s control_reply back', async () => {
    const d = await device();
    expect(await d.link.subscribe(nextId++, [{ topic: down, qos: 0 }], RETRY)).toEqual({ kind: 'ok', value: [0] });
    const sent = await d.cloud.cloud.tencent!.send({ productId: PID, deviceName: DN, method: 'control', params: { power_switch: 0 } });
    expect(sent.topic).toBe(down);
    await waitFor(() => d.messages.some((m) => m.topic === down), 'the control');
    const control = JSON.parse(d.messages.find((m) => m.topic === down)!.payload.toString()) as Record<string, unknown>;
    expect(control).toEqual({ method: 'control', clientToken: sent.clientToken, params: { power_switch: 0 } });
    const reply = d.cloud.cloud.tencent!.waitForReply(sent.clientToken, 5000);
    await d.link.publish(nextId++, up, Buffer.from(JSON.stringify({ method: 'control_reply', code: 0, clientToken: sent.clientToken })), { qos: 0, retain: false }, RETRY);
    expect(await reply).toMatchObject({ productId: PID, deviceName: DN, kind: 'property', message: { method: 'control_reply', code: 0, clientToken: sent.clientToken } });
  });

  it('sends an action on $thing/down/action and hands the action_reply back', async () => {
    const d = await device();
    const downAction = `$thing/down/action/${PID}/${DN}`;
    expect(await d.link.subscribe(nextId++, [{ topic: downAction, qos: 0 }], RETRY)).toEqual({ kind: 'ok', value: [0] });
    const sent = await d.cloud.cloud.tencent!.send({ productId: PID, deviceName: DN, method: 'action', actionId: 'blink', params: { times: 3 } });
    await waitFor(() => d.messages.some((m) => m.topic === downAction), 'the action');
    expect(JSON.parse(d.messages.find((m) => m.topic === downAction)!.payload.toString())).toEqual({
      method: 'action',
      clientToken: sent.clientToken,
      actionId: 'blink',
      timestamp: NOW_S,
      params: { times: 3 },
    });
    const reply = d.cloud.cloud.tencent!.waitForReply(sent.clientToken, 5000);
    const answer = { method: 'action_reply', clientToken: sent.clientToken, code: 0, status: 'ok', response: { done: true } };
    await d.link.publish(nextId++, `$thing/up/action/${PID}/${DN}`, Buffer.from(JSON.stringify(answer)), { qos: 0, retain: false }, RETRY);
    expect((await reply)?.message).toEqual(answer);
  });

  it('ignores what is not JSON and stays up', async () => {
    const d = await device();
    await d.link.publish(nextId++, up, Buffer.from('not json'), { qos: 1, retain: false }, RETRY);
    expect(await d.ask(up, down, { method: 'report', clientToken: 'x', params: {} })).toMatchObject({ method: 'report_reply', clientToken: 'x' });
  });
});

describe('$template/operation (the data template before $thing)', () => {
  const up = `$template/operation/${PID}/${DN}`;
  const down = `$template/operation/result/${PID}/${DN}`;

  it('is allowed to a registry device (no more FAIL,-108) and answers get and update like the shadow', async () => {
    const d = await device();
    expect(await d.ask(up, down, { type: 'get', clientToken: `${PID}-0` })).toEqual({
      clientToken: `${PID}-0`,
      payload: { state: { reported: {} }, timestamp: NOW_MS, version: 0 },
      result: 0,
      timestamp: NOW_S,
      type: 'get',
    });
    expect(await d.ask(up, down, { type: 'update', version: 0, state: { reported: { power_switch: 1 } }, clientToken: `${PID}-1` })).toEqual({
      clientToken: `${PID}-1`,
      payload: { state: { reported: { power_switch: 1 } }, timestamp: NOW_MS, version: 1 },
      result: 0,
      timestamp: NOW_MS,
      type: 'update',
    });
    expect(await d.ask(up, down, { type: 'get', clientToken: `${PID}-2` })).toMatchObject({ payload: { state: { reported: { power_switch: 1 } }, version: 1 } });
  });

  it('still refuses another device\'s template topics', async () => {
    const d = await device();
    expect(await d.link.subscribe(nextId++, [{ topic: `$template/operation/result/${PID}/other`, qos: 0 }], RETRY)).toEqual({ kind: 'ok', value: [0x80] });
  });
});
