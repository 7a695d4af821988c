/**
 * Loads and validates profiles from the `profiles/` folder of the package. A profile that does
 * not validate is a packaging bug: the error names the file and the field.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Profile } from './profile.js';

export const PROFILES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'profiles');

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

export function validateProfile(data: unknown, where: string): Profile {
  const fail = (field: string, want: string): never => {
    throw new ProfileError(`${where}: "${field}" must be ${want}`);
  };
  if (typeof data !== 'object' || data === null) return fail('(root)', 'an object');
  const p = data as Record<string, unknown>;
  const str = (o: Record<string, unknown>, k: string, path: string) => {
    if (typeof o[k] !== 'string' || o[k] === '') fail(`${path}${k}`, 'a non-empty string');
  };
  const obj = (o: Record<string, unknown>, k: string, path: string) => {
    if (typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) fail(`${path}${k}`, 'an object');
    return o[k] as Record<string, unknown>;
  };
  for (const k of ['id', 'module', 'vendor']) str(p, k, '');
  const manual = obj(p, 'manual', '');
  str(manual, 'file', 'manual.');
  str(manual, 'title', 'manual.');
  const identity = obj(p, 'identity', '');
  for (const k of ['manufacturer', 'model', 'revision', 'imei']) str(identity, k, 'identity.');
  if (!/^\d{15}$/.test(String(identity.imei))) fail('identity.imei', 'a 15-digit string');
  if (!Array.isArray(identity.ati)) fail('identity.ati', 'an array of strings');
  const at = obj(p, 'at', '');
  if (!Number.isInteger(at.maxLineLength) || (at.maxLineLength as number) < 16) fail('at.maxLineLength', 'an integer ≥ 16');
  str(at, 'prompt', 'at.');
  if (typeof at.echo !== 'boolean') fail('at.echo', 'a boolean');
  if (![0, 1, 2].includes(at.cmee as number)) fail('at.cmee', '0, 1 or 2');
  obj(p, 'cmeErrors', '');
  const timing = obj(p, 'timing', '');
  for (const [k, v] of Object.entries(timing)) if (typeof v !== 'number' || v < 0) fail(`timing.${k}`, 'a number ≥ 0');
  if (!Array.isArray(p.commandSets) || p.commandSets.some((s) => typeof s !== 'string')) fail('commandSets', 'an array of set ids');
  obj(p, 'settings', '');
  return data as Profile;
}
