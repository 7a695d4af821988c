/**
 * End to end (issue 13): each cellular profile's bring-up transcript
 * (fixtures/transcripts/<profile>/bring-up.at: reset with its boot URCs, SIM, ICCID, IMSI,
 * registration, operator, signal, APN, context, IP, clock, then MQTT) sent through the real PTY
 * of a running vmodem (startVmodem, embedded broker), whole and in 1–8 byte chunks.
 *
 * The host side opens the device node itself, as a firmware's UART driver does (O_RDWR |
 * O_NOCTTY; vmodem keeps the line raw), writes the host lines and reads the module's bytes. It
 * needs no outside program: only the PTY, which the system suite is about.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../../src/broker/embedded-broker.js';
import type { MemoryHost } from '../../../src/port/memory-port.js';
import { loadProfile } from '../../../src/profiles/load-profile.js';
import { runTranscript, type TranscriptPeer } from '../../../src/transcript/run-transcript.js';
import { parseTranscript } from '../../../src/transcript/transcript.js';
import { startVmodem, type RunningVmodem } from '../../../src/vmodem.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..', 'fixtures', 'transcripts');
const PROFILES = ['quectel-ec200', 'quectel-bc260y', 'onemo-ml307', 'yuge-clm920'];

interface PtyHost extends MemoryHost {
  close(): void;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The device node opened as a UART: writes go to the modem, its bytes come back as data. */
function openPty(device: string): PtyHost {
  const fd = fs.openSync(device, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const stream = new tty.ReadStream(fd);
  let received = Buffer.alloc(0);
  const writes: Buffer[] = [];
  const listeners = new Set<(chunk: Buffer) => void>();
  stream.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    writes.push(chunk);
    for (const l of [...listeners]) l(chunk);
  });
  return {
    // A few bytes at a time: the kernel takes them whole (far below its ~11 KB buffer).
    send: (bytes) => void fs.writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    get received() {
      return received;
    },
    writes,
    clear: () => {
      received = Buffer.alloc(0);
      writes.length = 0;
    },
    onData: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: () => stream.destroy(),
  };
}

/** Wait until the host has received `text` (the module's boot URCs, an answer). */
async function until(host: PtyHost, text: string, timeoutMs = 10_000): Promise<void> {
  if (host.received.toString('latin1').includes(text)) return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms; got ${JSON.stringify(host.received.toString('latin1'))}`));
    }, timeoutMs);
    const off = host.onData(() => {
      if (!host.received.toString('latin1').includes(text)) return;
      clearTimeout(t);
      off();
      resolve();
    });
  });
}

function peerOn(host: PtyHost, broker: EmbeddedBroker): TranscriptPeer {
  return {
    host,
    publish: (topic, payload, qos, retain) =>
      new Promise<void>((resolve, reject) =>
        broker.aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false, messageId: 0 } as never, (err?: Error) => (err ? reject(err) : resolve())),
      ),
    waitForPublish: (topic, payload, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          off();
          reject(new Error(`the device did not publish ${topic} within ${timeoutMs} ms`));
        }, timeoutMs);
        const off = broker.onPublish((p) => {
          if (p.topic !== topic || !p.payload.equals(payload)) return;
          clearTimeout(t);
          off();
          resolve();
        });
      }),
  };
}

async function started(profile: string): Promise<{ vm: RunningVmodem; host: PtyHost }> {
  const link = path.join(os.tmpdir(), `vmodem-bringup-${process.pid}-${randomBytes(4).toString('hex')}`);
  const vm = await startVmodem({ profile, link, mqttPort: 0, timing: 'fast' });
  cleanups.push(() => vm.stop());
  const host = openPty(vm.linkPath!);
  cleanups.push(() => host.close());
  return { vm, host };
}

describe('cellular bring-up through the real PTY', () => {
  for (const profile of PROFILES) {
    for (const chunking of [undefined, { maxChunk: 8, seed: 13 }]) {
      it(`${profile}: the bring-up transcript gets every documented answer, no ERROR, ${chunking ? 'in 1–8 byte chunks' : 'whole'}`, async () => {
        const t = parseTranscript(fs.readFileSync(path.join(ROOT, profile, 'bring-up.at'), 'utf8'));
        const { vm, host } = await started(profile);
        // The module's power-on output first (RDY, +MATREADY…), then echo as the transcript wants.
        const boot = ((loadProfile(profile).settings.boot as { urcs?: string[] } | undefined)?.urcs ?? []).map(String);
        for (const u of boot) await until(host, `${u}\r\n`);
        host.send(t.echo ? 'ATE1\r' : 'ATE0\r');
        await until(host, 'OK\r\n');
        host.clear();
        await runTranscript(t, peerOn(host, vm.broker!), { timeoutMs: 10_000, ...(chunking ? { chunking } : {}) });
        expect(host.received.toString('latin1')).not.toMatch(/\r\nERROR\r\n|\+CME ERROR/);
      });
    }
  }
});
