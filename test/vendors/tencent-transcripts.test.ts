/**
 * The Tencent transcripts (fixtures/transcripts/tencent-qcloud{,-cellular}/*.at, the manual's §2
 * and §7 examples, each on its profile) once more, now against the virtual cloud with the documented example registry
 * (fixtures/registry/example.yaml, strict): the module's own PSK sign-in and topic use must pass
 * the platform's checks, not just an accept-all broker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'vitest';
import type { MemoryModem } from '../../src/check/memory-modem.js';
import { transcriptPeer } from '../../src/check/transcript-peer.js';
import { loadRegistry } from '../../src/cloud/registry-file.js';
import { runTranscript } from '../../src/transcript/run-transcript.js';
import { parseTranscript } from '../../src/transcript/transcript.js';
import { startTencent, type TencentHarness } from './tencent-harness.js';

const ROOT = path.join(import.meta.dirname, '..', '..', 'fixtures');
const PROFILES = ['tencent-qcloud', 'tencent-qcloud-cellular'] as const;
const files = PROFILES.flatMap((profile) =>
  readdirSync(path.join(ROOT, 'transcripts', profile))
    .filter((f) => f.endsWith('.at'))
    .map((file) => ({ profile, file, path: path.join(ROOT, 'transcripts', profile, file) })),
);

let h: TencentHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('Tencent transcripts against the virtual cloud (example registry)', () => {
  for (const { profile, file, path: at } of files) {
    it(`${profile}/${file} passes the platform's sign-in and topic checks`, async () => {
      const t = parseTranscript(readFileSync(at, 'utf8'));
      h = await startTencent({ profile, registry: await loadRegistry(path.join(ROOT, 'registry', 'example.yaml')) });
      h.modem.engine.settings.echo = t.echo;
      const peer = transcriptPeer({ port: h.port } as unknown as MemoryModem, h.broker);
      try {
        await runTranscript(t, peer);
      } finally {
        peer.dispose();
      }
    });
  }
});
