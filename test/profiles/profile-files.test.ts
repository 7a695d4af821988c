/**
 * A start skips the profile schema (zod) only for the exact bytes the build validated, with the
 * schema compiled then (src/profiles/profile-files.ts, scripts/build-cli.mjs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadValidatedProfile, PROFILES_DIR, schemaStamp, sha256, VALIDATED_RECORD } from '../../src/profiles/profile-files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A profiles folder with one real profile, a compiled "schema" file and the build's record of both. */
function built() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-validated-'));
  dirs.push(dir);
  const profile = path.join(dir, 'quectel-ec200.json');
  fs.copyFileSync(path.join(PROFILES_DIR, 'quectel-ec200.json'), profile);
  const schema = path.join(dir, 'load-profile.js');
  fs.writeFileSync(schema, '// the compiled schema\n');
  const record = path.join(dir, 'validated.json');
  fs.writeFileSync(record, JSON.stringify({ schema: schemaStamp(schema), files: { 'quectel-ec200.json': sha256(fs.readFileSync(profile)) } }));
  return { where: { dir, record, schema }, profile, schema };
}

describe('profiles the build validated', () => {
  it('are read without the schema when their bytes and the compiled schema are those of the build', () => {
    const { where } = built();
    expect(loadValidatedProfile('quectel-ec200', where)?.id).toBe('quectel-ec200');
  });

  it('go through the schema again once the profile is edited, or when the build did not record it', () => {
    const { where, profile } = built();
    fs.appendFileSync(profile, '\n');
    expect(loadValidatedProfile('quectel-ec200', where)).toBeUndefined();
    expect(loadValidatedProfile('onemo-ml307', where)).toBeUndefined();
    expect(loadValidatedProfile('../quectel-ec200', where)).toBeUndefined();
  });

  it('go through the schema again once the schema is compiled anew (tsc without the bundle step)', () => {
    const { where, schema } = built();
    fs.writeFileSync(schema, '// compiled again, one byte longer\n');
    expect(loadValidatedProfile('quectel-ec200', where)).toBeUndefined();
  });

  it('never come from a record when running from the sources (there is none next to them)', () => {
    expect(fs.existsSync(VALIDATED_RECORD)).toBe(false);
    expect(loadValidatedProfile('quectel-ec200')).toBeUndefined();
  });
});
