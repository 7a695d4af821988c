/**
 * AT+QMTCFG settings take effect on the wire (EC200 manual §3.3.1): the CONNECT the broker
 * receives carries the configured protocol version, keepalive, clean-session flag and will, and
 * the platform options make the module compute the platform's credentials.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

let broker: EmbeddedBroker | undefined;
let m: MemoryModem | undefined;
afterEach(async () => {
  await m?.stop();
  await broker?.close();
  m = undefined;
  broker = undefined;
});

interface SeenConnect {
  protocolId?: string;
  protocolVersion?: number;
  keepalive?: number;
  clean?: boolean;
  clientId?: string;
  username?: string;
  password?: string;
  will?: { topic: string; payload: string; qos: number; retain: boolean };
}

async function connectAndCapture(setup: string[], conn = 'AT+QMTCONN=0,"dev-1"'): Promise<SeenConnect> {
  broker = await startEmbeddedBroker({ port: 0 });
  let seen: SeenConnect | undefined;
  broker.aedes.preConnect = (_client, packet, done) => {
    const p = packet as unknown as Record<string, unknown> & { will?: { topic: string; payload: Buffer; qos: number; retain: boolean } };
    seen = {
      protocolId: p.protocolId as string,
      protocolVersion: p.protocolVersion as number,
      keepalive: p.keepalive as number,
      clean: p.clean as boolean,
      clientId: p.clientId as string,
      username: p.username as string | undefined,
      password: (p.password as Buffer | undefined)?.toString(),
      will: p.will && { topic: p.will.topic, payload: Buffer.from(p.will.payload).toString(), qos: p.will.qos, retain: p.will.retain },
    };
    done(null, true);
  };
  m = createMemoryModem('quectel-ec200', { brokerPort: broker.port });
  for (const line of setup) expect(await m.at(line)).toBe('\r\nOK\r\n');
  await m.at('AT+QMTOPEN=0,"broker.example.com",1883');
  await m.waitFor('+QMTOPEN: 0,0');
  await m.at(conn);
  await m.waitFor('+QMTCONN: 0,0,0');
  return seen!;
}

describe('AT+QMTCFG on the wire', () => {
  it('sends MQTT 3.1.1 by default with keepalive 120 and a clean session', async () => {
    const seen = await connectAndCapture([]);
    expect(seen).toMatchObject({ protocolId: 'MQTT', protocolVersion: 4, keepalive: 120, clean: true, clientId: 'dev-1' });
    expect(seen.will).toBeUndefined();
  });

  it('sends MQTT 3.1 (MQIsdp) with version 3, the keepalive and session set, and the will', async () => {
    const seen = await connectAndCapture([
      'AT+QMTCFG="version",0,3',
      'AT+QMTCFG="keepalive",0,30',
      'AT+QMTCFG="session",0,0',
      'AT+QMTCFG="will",0,1,1,1,"dev/status","offline"',
    ]);
    expect(seen).toMatchObject({ protocolId: 'MQIsdp', protocolVersion: 3, keepalive: 30, clean: false });
    expect(seen.will).toEqual({ topic: 'dev/status', payload: 'offline', qos: 1, retain: true });
  });

  it('uses the willex message typed after the prompt', async () => {
    broker = undefined;
    const seen = await connectAndCapture([]).then(async () => {
      // Reconnect with a willex will: disconnect, configure, connect again.
      await m!.at('AT+QMTDISC=0');
      await m!.waitFor('+QMTDISC: 0,0');
      let captured: SeenConnect | undefined;
      broker!.aedes.preConnect = (_c, packet, done) => {
        const w = (packet as unknown as { will?: { topic: string; payload: Buffer } }).will;
        captured = { will: w && { topic: w.topic, payload: Buffer.from(w.payload).toString(), qos: 0, retain: false } };
        done(null, true);
      };
      expect(await m!.at('AT+QMTCFG="willex",0,1,0,0,"dev/lwt",4')).toBe('\r\n> ');
      m!.send('bye!');
      await m!.waitFor(/\r\nOK\r\n$/);
      m!.clear();
      await m!.at('AT+QMTOPEN=0,"h",1883');
      await m!.waitFor('+QMTOPEN: 0,0');
      await m!.at('AT+QMTCONN=0,"dev-1"');
      await m!.waitFor('+QMTCONN: 0,0,0');
      return captured!;
    });
    expect(seen.will).toEqual({ topic: 'dev/lwt', payload: 'bye!', qos: 0, retain: false });
  });

  it('computes OneNET credentials from "onenet" when AT+QMTCONN omits them', async () => {
    const key = Buffer.from('0123456789abcdef').toString('base64');
    const seen = await connectAndCapture([`AT+QMTCFG="onenet",0,"pid42","${key}"`], 'AT+QMTCONN=0,"sensor-7"');
    expect(seen.clientId).toBe('sensor-7');
    expect(seen.username).toBe('pid42');
    const token = new URLSearchParams(seen.password!);
    expect(token.get('version')).toBe('2018-10-31');
    expect(token.get('res')).toBe('products/pid42/devices/sensor-7');
    const et = token.get('et')!;
    const method = token.get('method')!;
    const expected = createHmac(method, Buffer.from(key, 'base64')).update(`${et}\n${method}\nproducts/pid42/devices/sensor-7\n2018-10-31`).digest('base64');
    expect(token.get('sign')).toBe(expected);
  });

  it('computes Huawei IoTDA credentials from "hwauth" when AT+QMTCONN omits them', async () => {
    const seen = await connectAndCapture(['AT+QMTCFG="hwauth",0,"prod1","s3cret"'], 'AT+QMTCONN=0,"prod1_node9"');
    const m1 = /^prod1_node9_0_0_(\d{10})$/.exec(seen.clientId!);
    expect(m1).not.toBeNull();
    expect(seen.username).toBe('prod1_node9');
    expect(seen.password).toBe(createHmac('sha256', m1![1]!).update('s3cret').digest('hex'));
  });

  it('keeps the username and password the firmware gives over any platform setting', async () => {
    const seen = await connectAndCapture(['AT+QMTCFG="aliauth",0,"pk","dn","ds"'], 'AT+QMTCONN=0,"c1","user","pass"');
    expect(seen).toMatchObject({ clientId: 'c1', username: 'user', password: 'pass' });
  });
});
