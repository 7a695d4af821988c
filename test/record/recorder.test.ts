/**
 * The recorder on a memory modem with an embedded broker: every byte both ways with its kind,
 * URCs, commands, the device's MQTT packets (links) and the broker's view, binary exact via hex.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, readRecording, type BrokerRecord, type InRecord, type MqttRecord, type OutRecord, type StartRecord, type UrcRecord } from '../../src/record/format.js';
import { createRecorder } from '../../src/record/recorder.js';
import { BINARY, recordSession, type RecordedSession } from './session.js';

let session: RecordedSession;
let records: ReturnType<typeof readRecording>;

beforeAll(async () => {
  session = await recordSession();
  records = readRecording(readFileSync(session.file, 'utf8'));
});
afterAll(() => rmSync(session.dir, { recursive: true, force: true }));

const of = <T>(type: string) => records.filter((r) => r.type === type) as unknown as (T & { lineNo: number })[];

describe('recorder', () => {
  it('starts with a start record (ISO time, versions, profile, echo) and ends with stop', () => {
    const start = records[0] as StartRecord;
    expect(start).toMatchObject({ type: 'start', t: 0, format: 1, profile: 'quectel-ec200', model: 'EC200U', timing: 'fast', node: process.version });
    expect(start.vmodem).toMatch(/^\d+\.\d+\.\d+/);
    expect(new Date(start.time).toISOString()).toBe(start.time);
    expect(records.filter((r) => r.type === 'attach')).toEqual([expect.objectContaining({ echo: true })]);
    expect(records.at(-1)!.type).toBe('stop');
    const ts = records.map((r) => r.t);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  });

  it('records every host chunk, exactly, with text only when printable', () => {
    const ins = of<InRecord>('in');
    const sent = Buffer.concat(ins.map(bytesOf)).toString('latin1');
    expect(sent).toBe(
      'AT\r' +
        'AT+QMTOPEN=0,"broker.example.com",1883\r' +
        'AT+QMTCONN=0,"rec-dev"\r' +
        'AT+QMTSUB=0,1,"dev/down",1\r' +
        `AT+QMTPUBEX=0,7,1,0,"dev/up",${BINARY.length}\r` +
        BINARY.toString('latin1') +
        'AT+QMTDISC=0\r',
    );
    expect(ins[0]).toMatchObject({ text: 'AT\r', hex: '41540d' });
    const binary = ins.find((r) => r.hex === BINARY.toString('hex'))!;
    expect(binary).toBeDefined();
    expect(binary.text).toBeUndefined();
  });

  it('records modem output with its kind: echo, response, prompt, urc', () => {
    const outs = of<OutRecord>('out');
    expect(outs[0]).toMatchObject({ kind: 'echo', text: 'AT\r' });
    expect(outs[1]).toMatchObject({ kind: 'response', text: '\r\nOK\r\n', hex: '0d0a4f4b0d0a' });
    expect(outs.filter((o) => o.kind === 'prompt').map((o) => o.text)).toEqual(['\r\n> ']);
    expect(outs.filter((o) => o.kind === 'urc').map((o) => o.text)).toEqual([
      '\r\n+QMTOPEN: 0,0\r\n',
      '\r\n+QMTCONN: 0,0,0\r\n',
      '\r\n+QMTSUB: 0,1,0,1\r\n',
      expect.stringMatching(/^\r\n\+QMTRECV: 0,\d+,"dev\/down",/),
      '\r\n+QMTPUBEX: 0,7,0\r\n',
      '\r\n+QMTDISC: 0,0\r\n',
    ]);
    // All output, concatenated, is what the host received.
    expect(Buffer.concat(outs.map(bytesOf)).toString('latin1')).toContain('AT+QMTDISC=0\r\r\nOK\r\n');
  });

  it('records each URC as a line and each command line', () => {
    expect(of<UrcRecord>('urc').map((u) => u.line)).toEqual([
      '+QMTOPEN: 0,0',
      '+QMTCONN: 0,0,0',
      '+QMTSUB: 0,1,0,1',
      expect.stringMatching(/^\+QMTRECV: 0,\d+,"dev\/down",/),
      '+QMTPUBEX: 0,7,0',
      '+QMTDISC: 0,0',
    ]);
    expect(of<{ line: string }>('command').map((c) => c.line)).toEqual([
      '',
      '+QMTOPEN=0,"broker.example.com",1883',
      '+QMTCONN=0,"rec-dev"',
      '+QMTSUB=0,1,"dev/down",1',
      `+QMTPUBEX=0,7,1,0,"dev/up",${BINARY.length}`,
      '+QMTDISC=0',
    ]);
  });

  it("records the device's MQTT packets both ways, the binary payload exact", () => {
    const mqtt = of<MqttRecord>('mqtt').map(({ t: _t, lineNo: _l, ...r }) => r);
    expect(mqtt[0]).toMatchObject({ link: 1, event: 'open', host: '127.0.0.1', tls: false });
    const seq = mqtt.map((r) => (r.packet ? `${r.dir} ${r.packet}` : r.event));
    expect(seq).toEqual([
      'open',
      'out connect',
      'in connack',
      'out subscribe',
      'in suback',
      'in publish',
      'out publish',
      'in puback',
      'out disconnect',
      'close',
    ]);
    expect(mqtt.find((r) => r.packet === 'connect')).toMatchObject({ clientId: 'rec-dev', hasPassword: false, protocolVersion: 4, clean: true });
    expect(mqtt.find((r) => r.packet === 'suback')).toMatchObject({ messageId: 1, granted: [1] });
    expect(mqtt.find((r) => r.dir === 'in' && r.packet === 'publish')).toMatchObject({ topic: 'dev/down', qos: 1, payload: { text: '{"led":1}', hex: Buffer.from('{"led":1}').toString('hex') } });
    const up = mqtt.find((r) => r.dir === 'out' && r.packet === 'publish')!;
    expect(up).toMatchObject({ topic: 'dev/up', qos: 1, retain: false, messageId: 7, length: BINARY.length, payload: { hex: BINARY.toString('hex') } });
    expect((up.payload as { text?: string }).text).toBeUndefined();
    expect(bytesOf(up.payload as { hex: string }).equals(BINARY)).toBe(true);
    expect(mqtt.find((r) => r.packet === 'puback')).toMatchObject({ dir: 'in', messageId: 7 });
    expect(mqtt.at(-1)).toMatchObject({ event: 'close', reason: 'disconnected' });
    // The broker really got those bytes.
    expect(session.published.find((p) => p.topic === 'dev/up')!.payload.equals(BINARY)).toBe(true);
  });

  it("records the broker's view, marking the device's client and the cloud's publishes", () => {
    const broker = of<BrokerRecord>('broker');
    const events = broker.map((b) => `${b.event} ${b.clientId ?? '(cloud)'}${b.device ? ' device' : ''}`);
    expect(events).toEqual(
      expect.arrayContaining(['client rec-dev device', 'connackSent rec-dev device', 'subscribe rec-dev device', 'publish (cloud)', 'publish rec-dev device', 'clientDisconnect rec-dev device']),
    );
    const up = broker.find((b) => b.event === 'publish' && b.clientId === 'rec-dev')!;
    expect(up).toMatchObject({ topic: 'dev/up', qos: 1, messageId: 7, payload: { hex: BINARY.toString('hex') } });
    expect(broker.find((b) => b.event === 'subscribe')).toMatchObject({ subscriptions: [{ topic: 'dev/down', qos: 1 }] });
  });

  it('adds caller events, and fails clearly when the file cannot be written', async () => {
    expect(() => createRecorder({ file: '/nonexistent-dir/x.jsonl' })).toThrow(/cannot write the recording \/nonexistent-dir\/x\.jsonl: ENOENT/);
    const file = `${session.dir}/events.jsonl`;
    const r = createRecorder({ file, profile: 'quectel-bc260y', meta: { link: '/tmp/vmodem0' } });
    r.event('fault', { op: 'drop', clientIndex: 0 });
    await r.close();
    await r.close();
    const recs = readRecording(readFileSync(file, 'utf8'));
    expect(recs.map((x) => x.type)).toEqual(['start', 'event', 'stop']);
    expect(recs[0]).toMatchObject({ profile: 'quectel-bc260y', link: '/tmp/vmodem0' });
    expect(recs[1]).toMatchObject({ name: 'fault', op: 'drop', clientIndex: 0 });
  });
});
