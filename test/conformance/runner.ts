/**
 * One profile under fuzz: its shared in-memory broker, its corpus (built from a probe modem's
 * registered commands and the profile's transcripts), and a function that runs one case on a
 * fresh modem. Used by test/conformance/conformance.test.ts and benchmarks/fuzz.ts.
 */
import { loadProfile } from '../../src/profiles/load-profile.js';
import type { Profile } from '../../src/profiles/profile.js';
import { corpusFor, type Corpus } from './arbitraries.js';
import { FuzzBroker } from './fuzz-broker.js';
import { CaseRunner, unwatchProcess, watchProcess, type Case, type CaseResult, type RunnerOptions } from './harness.js';
import { KITS, type ProfileKit } from './kits.js';

export interface ProfileUnderFuzz {
  profile: Profile;
  kit: ProfileKit;
  corpus: Corpus;
  readonly broker: FuzzBroker;
  run(c: Case, opts?: RunnerOptions): Promise<CaseResult>;
  /**
   * Replace the broker between batches. Aedes keeps what its clients leave behind (retained
   * messages on random topics, queues of offline persistent sessions): broker memory, which the
   * long fuzz runs shed so that the heap measures the modems.
   */
  recycleBroker(): Promise<void>;
  close(): Promise<void>;
}

export async function profileUnderFuzz(id: string): Promise<ProfileUnderFuzz> {
  const kit = KITS[id];
  if (!kit) throw new Error(`no conformance kit for profile ${id}`);
  watchProcess();
  const profile = loadProfile(id);
  let broker = await FuzzBroker.create();
  // A probe modem lists the commands this profile's modem registers.
  const probe = new CaseRunner(profile, kit, broker, 0);
  const corpus = corpusFor(id, probe.modem.engine.commandDefs());
  await probe.modem.stop();
  let caseId = 0;
  return {
    profile,
    kit,
    corpus,
    get broker() {
      return broker;
    },
    run: async (c, opts) => {
      return new CaseRunner(profile, kit, broker, ++caseId, opts).run(c);
    },
    recycleBroker: async () => {
      const old = broker;
      broker = await FuzzBroker.create();
      await old.close();
    },
    close: async () => {
      await broker.close();
      unwatchProcess();
    },
  };
}
