/**
 * Loads and validates profiles from the `profiles/` folder of the package against
 * {@link PROFILE_SCHEMA} (zod). A profile that does not validate is a packaging bug: the error
 * names the file, the field and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { firstProblem } from '../util/schema.js';
import type { Profile } from './profile.js';
import { listProfileIds, PROFILES_DIR, ProfileError } from './profile-files.js';

// Where the files are and which exist need no schema (profile-files.ts); kept here for importers.
export { listProfileIds, PROFILES_DIR, ProfileError };

export function loadProfile(id: string, dir = PROFILES_DIR): Profile {
  const ids = listProfileIds(dir);
  if (!ids.includes(id)) {
    throw new ProfileError(`unknown profile "${id}"; available: ${ids.join(', ')} (see \`vmodem profiles\`)`);
  }
  const file = join(dir, `${id}.json`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ProfileError(`${file}: ${(err as Error).message}`);
  }
  return validateProfile(data, file);
}

const nonEmpty = z.string({ error: 'a non-empty string' }).min(1, { error: 'a non-empty string' });
const mapping = (what = 'an object') => z.record(z.string(), z.unknown(), { error: what });

/**
 * The profile schema. Messages are the "what is allowed" half of `"<field>" must be <…>`.
 * Vendor data under `settings` is checked by each command set when it reads it.
 */
export const PROFILE_SCHEMA = z.object(
  {
    id: nonEmpty,
    module: nonEmpty,
    vendor: nonEmpty,
    manual: z.object({ file: nonEmpty, title: nonEmpty }, { error: 'an object' }),
    identity: z.object(
      {
        manufacturer: nonEmpty,
        model: nonEmpty,
        revision: nonEmpty,
        imei: nonEmpty.regex(/^\d{15}$/, { error: 'a 15-digit string' }),
        ati: z.array(z.string({ error: 'a string' }), { error: 'an array of strings' }),
      },
      { error: 'an object' },
    ),
    at: z.object(
      {
        maxLineLength: z.int({ error: 'an integer ≥ 16' }).min(16, { error: 'an integer ≥ 16' }),
        prompt: nonEmpty,
        echo: z.boolean({ error: 'a boolean' }),
        cmee: z.union([z.literal(0), z.literal(1), z.literal(2)], { error: '0, 1 or 2' }),
        backslashInQuotes: z.boolean({ error: 'a boolean' }).optional(),
        unknownCommandLines: z.array(z.string({ error: 'a string' }), { error: 'an array of strings' }).optional(),
      },
      { error: 'an object' },
    ),
    cmeErrors: z.record(z.string(), z.string({ error: 'a string (the verbose text)' }), { error: 'an object' }),
    timing: z.record(z.string(), z.number({ error: 'a number ≥ 0' }).min(0, { error: 'a number ≥ 0' }), { error: 'an object' }),
    commandSets: z.array(z.string({ error: 'a set id' }), { error: 'an array of set ids' }),
    omitCommands: z.array(z.string({ error: 'a command name' }).regex(/^[+&]?[A-Za-z][A-Za-z0-9_]*$/, { error: 'a command name as registered (e.g. "+CSQ")' }), { error: 'an array of command names' }).optional(),
    settings: mapping(),
  },
  { error: 'an object' },
);

// The schema and the hand-written Profile type must describe the same thing.
const _sameShape: (p: z.infer<typeof PROFILE_SCHEMA>) => Profile = (p) => p;
void _sameShape;

export function validateProfile(data: unknown, where: string): Profile {
  const r = PROFILE_SCHEMA.safeParse(data);
  if (!r.success) {
    const { field, message } = firstProblem(r.error);
    throw new ProfileError(`${where}: "${field || '(root)'}" must be ${message}`);
  }
  // The parsed copy drops nothing we use, but the original keeps any extra keys a set reads.
  return data as Profile;
}
