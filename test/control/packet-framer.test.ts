/**
 * The fault proxy's framer (src/control/fault-proxy.ts): packet boundaries from the fixed headers
 * alone, whole packets only when asked for at their first byte.
 */
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketFramer } from '../../src/control/fault-proxy.js';

const packets: Packet[] = [
  { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'dev-1', keepalive: 60 } as Packet,
  { cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'.repeat(300)), qos: 1, messageId: 7, retain: false, dup: false } as Packet,
  { cmd: 'pingreq' } as Packet,
  { cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false } as Packet,
  { cmd: 'puback', messageId: 7 } as Packet,
  { cmd: 'publish', topic: 'big', payload: Buffer.alloc(20_000, 1), qos: 0, retain: false, dup: false } as Packet,
];
const stream = Buffer.concat(packets.map((p) => generate(p)));

function frame(chunkSize: number, want: (n: number) => boolean) {
  const types: number[] = [];
  const wholes: Buffer[] = [];
  let n = 0;
  const framer = new PacketFramer(
    () => want(n++),
    (type, whole) => {
      types.push(type);
      if (whole) wholes.push(whole);
    },
    () => {
      throw new Error('not MQTT');
    },
  );
  for (let i = 0; i < stream.length; i += chunkSize) framer.push(stream.subarray(i, i + chunkSize));
  return { types, wholes };
}

describe('PacketFramer', () => {
  it('finds every packet and its type however the stream is cut', () => {
    for (const size of [1, 2, 3, 7, 64, 1000, stream.length]) {
      expect(frame(size, () => false).types).toEqual([1, 3, 12, 3, 4, 3]);
    }
  });

  it('hands out exactly the packets wanted at their first byte, which decode to what was sent', () => {
    for (const size of [1, 5, 4096]) {
      const { wholes } = frame(size, (n) => n % 2 === 1);
      expect(wholes).toEqual([generate(packets[1]!), generate(packets[3]!), generate(packets[5]!)]);
      const decoded: Packet[] = [];
      const p = mqttParser();
      p.on('packet', (x: Packet) => decoded.push(x));
      for (const w of wholes) p.parse(w);
      expect(decoded.map((d) => d.cmd)).toEqual(['publish', 'publish', 'publish']);
      expect(decoded.map((d) => (d as { topic: string }).topic)).toEqual(['a/b', 't', 'big']);
    }
  });

  it('stops at a remaining length longer than four bytes (not MQTT)', () => {
    let errors = 0;
    const types: number[] = [];
    const framer = new PacketFramer(
      () => false,
      (t) => types.push(t),
      () => errors++,
    );
    framer.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x30, 0x00]));
    expect(errors).toBe(1);
    expect(types).toEqual([]);
  });
});
