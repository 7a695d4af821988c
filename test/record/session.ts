/**
 * A short recorded session shared by the record tests: a memory modem (echo on) and an embedded
 * broker, every tap of the recorder in place, an MQTT flow with a binary payload.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish } from '../../src/broker/embedded-broker.js';
import { createMemoryModem } from '../../src/check/memory-modem.js';
import { loadProfile } from '../../src/profiles/load-profile.js';
import { createRecorder } from '../../src/record/recorder.js';

/** Every byte value that trips text handling: NUL, Ctrl-Z, ESC, CR, LF, DEL, 0x80, 0xFF, backslash, quote. */
export const BINARY = Buffer.from([0x00, 0x01, 0x1a, 0x1b, 0x0d, 0x0a, 0x5c, 0x22, 0x7f, 0x80, 0x9f, 0xc3, 0x28, 0xff, 0x41]);

export interface RecordedSession {
  file: string;
  dir: string;
  /** What the broker saw the device publish. */
  published: BrokerPublish[];
}

export async function recordSession(): Promise<RecordedSession> {
  const dir = mkdtempSync(join(tmpdir(), 'vmodem-rec-'));
  const file = join(dir, 'session.jsonl');
  const broker = await startEmbeddedBroker({ port: 0 });
  const published: BrokerPublish[] = [];
  broker.onPublish((p) => published.push(p));
  const recorder = createRecorder({ file, broker, profile: loadProfile('quectel-ec200'), timing: 'fast' });
  const m = createMemoryModem('quectel-ec200', { brokerPort: broker.port, echo: true, wrapLinks: (l) => recorder.wrapLinks(l) });
  recorder.attach(m.modem.engine);
  try {
    await m.at('AT');
    await m.at('AT+QMTOPEN=0,"broker.example.com",1883');
    await m.waitFor('+QMTOPEN: 0,0\r\n');
    await m.at('AT+QMTCONN=0,"rec-dev"');
    await m.waitFor('+QMTCONN: 0,0,0\r\n');
    await m.at('AT+QMTSUB=0,1,"dev/down",1');
    await m.waitFor('+QMTSUB: 0,1,0,1\r\n');
    m.clear();
    await new Promise<void>((resolve, reject) =>
      broker.aedes.publish({ cmd: 'publish', topic: 'dev/down', payload: Buffer.from('{"led":1}'), qos: 1, retain: false, dup: false, messageId: 0 } as never, (err?: Error) =>
        err ? reject(err) : resolve(),
      ),
    );
    await m.waitFor('+QMTRECV:');
    await m.waitFor(/\r\n$/);
    expect(await m.at(`AT+QMTPUBEX=0,7,1,0,"dev/up",${BINARY.length}`)).toMatch(/> $/);
    m.clear();
    m.send(BINARY);
    await m.waitFor('+QMTPUBEX: 0,7,0\r\n');
    await m.at('AT+QMTDISC=0');
    await m.waitFor('+QMTDISC: 0,0\r\n');
  } finally {
    await m.stop();
    await recorder.close();
    await broker.close();
  }
  return { file, dir, published };
}
