/**
 * The profile files (`profiles/<id>.json`) without their schema: where they are, which exist,
 * and the profiles the build has already validated.
 *
 * Validating a profile needs zod and the schema (load-profile.ts): loading them took ~40 ms of a
 * cold `vmodem start` on the 2-core machine (issue 12 §3), to check a file that has not changed
 * since the package was built. So `npm run build` (scripts/build-cli.mjs) validates every shipped
 * profile with the schema it just compiled and records each file's SHA-256 in
 * dist/profiles/validated.json, stamped with the size and modification time of the compiled
 * schema (dist/profiles/load-profile.js). A profile whose bytes match the record, while that
 * schema file is unchanged, is the one that passed; anything else (an edited profile, a schema
 * compiled since, running from src/) goes through load-profile.ts as before.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Profile } from './profile.js';

export const PROFILES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'profiles');

/** dist/profiles/ from dist/profiles/*.js and from the CLI bundle (dist/bundle/) alike. */
const COMPILED_PROFILES = join(dirname(fileURLToPath(import.meta.url)), '..', 'profiles');
export const VALIDATED_RECORD = join(COMPILED_PROFILES, 'validated.json');
export const COMPILED_SCHEMA = join(COMPILED_PROFILES, 'load-profile.js');

export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

export function listProfileIds(dir = PROFILES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** What validated.json holds. */
export interface ValidatedRecord {
  /** `<size>-<mtimeNs>` of the compiled schema the profiles were validated with. */
  schema: string;
  /** Profile file name → SHA-256 (hex) of the bytes that validated. */
  files: Record<string, string>;
}

export function schemaStamp(file = COMPILED_SCHEMA): string {
  const st = statSync(file, { bigint: true });
  return `${st.size}-${st.mtimeNs}`;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The profile `id` from the shipped profiles folder when the build validated exactly these bytes
 * with the schema compiled now; otherwise undefined (validate it with load-profile.ts).
 */
export function loadValidatedProfile(
  id: string,
  where: { dir?: string; record?: string; schema?: string } = {},
): Profile | undefined {
  try {
    const record = JSON.parse(readFileSync(where.record ?? VALIDATED_RECORD, 'utf8')) as ValidatedRecord;
    const name = `${id}.json`;
    if (!/^[A-Za-z0-9._-]+$/.test(id) || record.files?.[name] === undefined || record.schema !== schemaStamp(where.schema)) return undefined;
    const bytes = readFileSync(join(where.dir ?? PROFILES_DIR, name));
    return sha256(bytes) === record.files[name] ? (JSON.parse(bytes.toString('utf8')) as Profile) : undefined;
  } catch {
    return undefined;
  }
}
