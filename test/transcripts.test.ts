/**
 * Every transcript under fixtures/transcripts/<profile>/ runs against that profile on a memory
 * port with a real embedded broker: once whole, and several times with host input cut into
 * random 1–8 byte chunks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/broker/embedded-broker.js';
import { runTranscript } from '../src/transcript/run-transcript.js';
import { parseTranscript } from '../src/transcript/transcript.js';
import { createMemoryModem, type MemoryModem } from './helpers/memory-modem.js';
import { transcriptPeer } from './helpers/transcript-peer.js';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'transcripts');
const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(ROOT, d.name))
      .filter((f) => f.endsWith('.at'))
      .map((f) => ({ profile: d.name, file: f, path: join(ROOT, d.name, f) })),
  );

const runs: { name: string; chunking?: { maxChunk: number; seed: number } }[] = [{ name: 'whole' }, ...[1, 2, 3].map((seed) => ({ name: `in 1–8 byte chunks (seed ${seed})`, chunking: { maxChunk: 8, seed } }))];

describe('transcripts', () => {
  let broker: EmbeddedBroker | undefined;
  let modem: MemoryModem | undefined;
  afterEach(async () => {
    await modem?.stop();
    await broker?.close();
    modem = undefined;
    broker = undefined;
  });

  it('exist for the default profile', () => {
    expect(cases.some((c) => c.profile === 'quectel-ec200')).toBe(true);
  });

  for (const c of cases) {
    for (const run of runs) {
      it(`${c.profile}/${c.file} reproduces ${run.name}`, async () => {
        const t = parseTranscript(readFileSync(c.path, 'utf8'));
        broker = await startEmbeddedBroker({ port: 0 });
        modem = createMemoryModem(c.profile, { brokerPort: broker.port, echo: t.echo });
        await runTranscript(t, transcriptPeer(modem, broker), { chunking: run.chunking });
      });
    }
  }
});
