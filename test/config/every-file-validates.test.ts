/**
 * Every data file the package ships validates against its schema: each profile in profiles/,
 * and each registry, config and scenario file in fixtures/. A new file is picked up on its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/cloud/registry-file.js';
import { loadConfigFile } from '../../src/config/config-file.js';
import { loadScenarioFile } from '../../src/control/scenario.js';
import { listProfileIds, loadProfile, PROFILES_DIR } from '../../src/profiles/load-profile.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', '..', 'fixtures');

function filesIn(dir: string): string[] {
  return fs
    .readdirSync(path.join(FIXTURES, dir))
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => path.join(FIXTURES, dir, f));
}

describe('every shipped data file validates', () => {
  it('finds the files (a moved folder must not make this test empty)', () => {
    expect(fs.readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(5);
    expect(filesIn('registry').length).toBeGreaterThanOrEqual(1);
    expect(filesIn('config').length).toBeGreaterThanOrEqual(1);
    expect(filesIn('scenarios').length).toBeGreaterThanOrEqual(2);
  });

  for (const id of listProfileIds()) {
    it(`profiles/${id}.json`, () => {
      expect(loadProfile(id).id).toBe(id);
    });
  }
  for (const file of filesIn('registry')) {
    it(`fixtures/registry/${path.basename(file)}`, async () => {
      expect((await loadRegistry(file)).products().length).toBeGreaterThan(0);
    });
  }
  for (const file of filesIn('config')) {
    it(`fixtures/config/${path.basename(file)}`, () => {
      const cfg = loadConfigFile(file);
      expect(Object.keys(cfg.settings).length + (cfg.modems?.length ?? 0)).toBeGreaterThan(0);
    });
  }
  for (const file of filesIn('scenarios')) {
    it(`fixtures/scenarios/${path.basename(file)}`, () => {
      expect(loadScenarioFile(file).steps.length).toBeGreaterThan(0);
    });
  }
});

describe('profile schema errors name the file, the field and what is allowed', () => {
  const base = () => JSON.parse(JSON.stringify(loadProfile('quectel-ec200'))) as Record<string, any>;
  const cases: [string, (p: Record<string, any>) => void, string][] = [
    ['a short IMEI', (p) => (p.identity.imei = '123'), 'x.json: "identity.imei" must be a 15-digit string'],
    ['a CMEE level out of range', (p) => (p.at.cmee = 3), 'x.json: "at.cmee" must be 0, 1 or 2'],
    ['a missing manual title', (p) => delete p.manual.title, 'x.json: "manual.title" must be a non-empty string'],
    ['a negative delay', (p) => (p.timing.openMs = -1), 'x.json: "timing.openMs" must be a number ≥ 0'],
    ['a set id that is no string', (p) => (p.commandSets = ['a', 1]), 'x.json: "commandSets[1]" must be a set id'],
    ['a short line limit', (p) => (p.at.maxLineLength = 8), 'x.json: "at.maxLineLength" must be an integer ≥ 16'],
  ];
  for (const [name, mutate, message] of cases) {
    it(name, async () => {
      const { validateProfile } = await import('../../src/profiles/load-profile.js');
      const p = base();
      mutate(p);
      expect(() => validateProfile(p, 'x.json')).toThrow(message);
    });
  }
});
