/**
 * The pure parts of the OneMO MQTT set (encodings, packet length, URC splitting, state mapping,
 * retransmission policy) and the link extras it relies on (backoff, PUBREC notice).
 */
import type { Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openLink, type RetryPolicyExtras } from '../../src/mqtt/link.js';
import type { MqttLink } from '../../src/mqtt/types.js';
import { connStateForClose, retransPolicy } from '../../src/vendors/onemo/mqtt/client.js';
import { decodeInput, encodeOutput, hexInput, publishPacketLength, unescapeInput } from '../../src/vendors/onemo/mqtt/encoding.js';
import { formatPublishUrcs, formatReadLine } from '../../src/vendors/onemo/mqtt/publish-format.js';
import { startFakeBroker, type FakeBroker } from '../mqtt/fake-broker.js';

const latin1 = (b: Buffer) => b.toString('latin1');

describe('publishPacketLength (AT+MQTTPUB <length>)', () => {
  it("gives the manual's 13 (QoS 0) and 15 (QoS 1/2) for topic \"world\" and four bytes", () => {
    expect(publishPacketLength(5, 4, 0)).toBe(13);
    expect(publishPacketLength(5, 4, 1)).toBe(15);
    expect(publishPacketLength(5, 4, 2)).toBe(15);
  });

  it('grows the remaining-length field at 128 and 16384 bytes', () => {
    expect(publishPacketLength(1, 124, 0)).toBe(2 + 127);
    expect(publishPacketLength(1, 125, 0)).toBe(3 + 128);
    expect(publishPacketLength(1, 16381, 0)).toBe(4 + 16384);
  });
});

describe('input encodings', () => {
  it('takes ASCII input as typed', () => {
    expect(decodeInput(Buffer.from('a\\nb'), 0)).toEqual(Buffer.from('a\\nb'));
  });

  it('decodes hex of either case and refuses odd lengths or non-hex digits', () => {
    expect(hexInput(Buffer.from('00fFaB'))).toEqual(Buffer.from([0, 0xff, 0xab]));
    expect(hexInput(Buffer.from(''))).toEqual(Buffer.alloc(0));
    expect(typeof hexInput(Buffer.from('abc'))).toBe('string');
    expect(typeof hexInput(Buffer.from('zz'))).toBe('string');
  });

  it('unescapes \\\\ \\" \\r \\n \\t \\0 \\xHH and refuses anything else', () => {
    expect(unescapeInput(Buffer.from('a\\\\b\\"c\\r\\n\\t\\0\\x41\\X7e'))).toEqual(Buffer.from('a\\b"c\r\n\t\0A~', 'latin1'));
    expect(typeof unescapeInput(Buffer.from('tail\\'))).toBe('string');
    expect(typeof unescapeInput(Buffer.from('\\q'))).toBe('string');
    expect(typeof unescapeInput(Buffer.from('\\x4'))).toBe('string');
    expect(typeof unescapeInput(Buffer.from('\\xG0'))).toBe('string');
  });

  it('prints received payloads raw or as upper-case hex', () => {
    expect(encodeOutput(Buffer.from([0x0a, 0xbc]), 0)).toEqual(Buffer.from([0x0a, 0xbc]));
    expect(latin1(encodeOutput(Buffer.from([0x0a, 0xbc]), 1))).toBe('0ABC');
  });
});

describe('"publish" URCs (§3.9)', () => {
  it('prints one line with the topic quoted and the payload not, as §4.1.1 does', () => {
    const lines = formatPublishUrcs(0, { mid: 2, topic: 'world', payload: Buffer.from('12345') }, 0, 512);
    expect(lines.map(latin1)).toEqual(['+MQTTURC: "publish",0,2,"world",5,5,12345']);
  });

  it('prints an empty payload as a line with lengths 0', () => {
    const lines = formatPublishUrcs(1, { mid: 0, topic: 't', payload: Buffer.alloc(0) }, 0, 512);
    expect(lines.map(latin1)).toEqual(['+MQTTURC: "publish",1,0,"t",0,0,']);
  });

  it('splits when topic + printed payload exceed the limit; every part carries <total_len>', () => {
    const lines = formatPublishUrcs(0, { mid: 7, topic: 'abcd', payload: Buffer.from('0123456789') }, 0, 8);
    expect(lines.map(latin1)).toEqual([
      '+MQTTURC: "publish",0,7,"abcd",10,4,0123',
      '+MQTTURC: "publish",0,7,"abcd",10,4,4567',
      '+MQTTURC: "publish",0,7,"abcd",10,2,89',
    ]);
  });

  it('splits hex output on whole bytes and counts bytes, not hex digits', () => {
    const lines = formatPublishUrcs(0, { mid: 7, topic: 'abcd', payload: Buffer.from([1, 2, 3, 4, 5]) }, 1, 9);
    expect(lines.map(latin1)).toEqual([
      '+MQTTURC: "publish",0,7,"abcd",5,2,0102',
      '+MQTTURC: "publish",0,7,"abcd",5,2,0304',
      '+MQTTURC: "publish",0,7,"abcd",5,1,05',
    ]);
  });

  it('still sends at least one payload byte per part when the topic alone reaches the limit', () => {
    const lines = formatPublishUrcs(0, { mid: 1, topic: 'x'.repeat(600), payload: Buffer.from('ab') }, 0, 512);
    expect(lines).toHaveLength(2);
  });

  it('prints UTF-8 topics as their bytes', () => {
    const line = formatReadLine(0, { mid: 3, topic: '温度', payload: Buffer.from('21') }, 0);
    expect(line).toEqual(Buffer.concat([Buffer.from('+MQTTREAD: 0,3,"'), Buffer.from('温度', 'utf8'), Buffer.from('",2,21')]));
  });
});

describe('<conn_state> and the retransmission policy', () => {
  it('maps how a connection ended to the §3.9 states', () => {
    expect(connStateForClose('remote-closed')).toBe(4);
    expect(connStateForClose('ping-timeout')).toBe(5);
    expect(connStateForClose('error')).toBe(6);
    expect(connStateForClose('disconnected')).toBe(2);
    expect(connStateForClose('local')).toBe(2);
  });

  it('waits <retrans_interval>, doubling, for <retry_times> retransmissions (10 ms a second when fast)', () => {
    expect(retransPolicy({ interval: 20, retries: 0 }, false)).toEqual({ timeoutMs: 20_000, retries: 0, backoff: 2 });
    expect(retransPolicy({ interval: 60, retries: 3 }, true)).toEqual({ timeoutMs: 600, retries: 3, backoff: 2 });
  });
});

describe('link extras: backoff and the PUBREC notice', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const publishes = (f: FakeBroker) => f.received.filter((p): p is Extract<Packet, { cmd: 'publish' }> => p.cmd === 'publish');
  /** Let real I/O happen while timers are fake. */
  const io = async (cond: () => boolean) => {
    for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setImmediate(r));
    expect(cond()).toBe(true);
  };

  async function connectedLink(f: FakeBroker): Promise<MqttLink> {
    const link = await openLink({ target: { host: '127.0.0.1', port: f.port, tls: false }, timeoutMs: 2000 });
    cleanups.push(() => link.destroy());
    const outcome = await link.connect({ clientId: 'x', protocolVersion: 4, keepalive: 0, clean: true, timeoutMs: 2000 });
    expect(outcome.kind).toBe('accepted');
    return link;
  }

  it('multiplies the wait by the backoff after each retransmission', async () => {
    const f = await startFakeBroker({ onPacket: (p) => p.cmd === 'publish' });
    cleanups.push(() => f.close());
    const link = await connectedLink(f);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const policy: RetryPolicyExtras = { timeoutMs: 100, retries: 2, backoff: 3 };
    const done = link.publish(9, 't', Buffer.from('x'), { qos: 1, retain: false }, policy);
    await io(() => publishes(f).length === 1);
    vi.advanceTimersByTime(100);
    await io(() => publishes(f).length === 2);
    vi.advanceTimersByTime(299);
    await new Promise((r) => setImmediate(r));
    expect(publishes(f)).toHaveLength(2);
    vi.advanceTimersByTime(1);
    await io(() => publishes(f).length === 3);
    expect(publishes(f).map((p) => p.dup)).toEqual([false, true, true]);
    vi.advanceTimersByTime(900);
    expect(await done).toEqual({ kind: 'timeout' });
  });

  it('calls onPubrec once when the PUBREC of a QoS 2 publish arrives', async () => {
    const f = await startFakeBroker();
    cleanups.push(() => f.close());
    const link = await connectedLink(f);
    const events: string[] = [];
    const r = await link.publish(5, 't', Buffer.from('x'), { qos: 2, retain: false }, {
      timeoutMs: 2000,
      retries: 0,
      onPubrec: () => events.push('pubrec'),
    } as RetryPolicyExtras);
    events.push(r.kind);
    expect(events).toEqual(['pubrec', 'ok']);
  });
});
