/**
 * A module's flash: small named records that survive a restart of the module (and, when backed by
 * a directory under the state dir, a restart of vmodem). Command sets keep what the manuals say is
 * "saved to FLASH, kept after power-off" here; everything else stays in RAM.
 *
 * Keys are slash-separated paths (`tencent-qcloud/devinfo.json`, `tencent-qcloud/certs/a.crt`).
 * Each segment is stored as one encoded file name, so no key can leave the store's directory.
 * Writes are atomic (temporary file, then rename) and private (mode 0600): flash holds secrets.
 *
 * The calls are synchronous: records are small, and a handler that reads its settings should not
 * have to await the disk.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface FlashStore {
  /** The record, or undefined when there is none. */
  read(key: string): Buffer | undefined;
  write(key: string, data: Buffer | string): void;
  /** Remove a record (no error when it does not exist). */
  remove(key: string): void;
  /** Keys of the records directly under `prefix` (which ends with `/`), sorted. */
  list(prefix: string): string[];
}

function checkKey(key: string): string[] {
  const parts = key.split('/');
  if (key === '' || parts.some((p) => p === '')) throw new Error(`bad flash key ${JSON.stringify(key)}`);
  return parts;
}

/** A flash that lives as long as the process (tests, and modems started without a state dir). */
export function memoryFlashStore(): FlashStore {
  const records = new Map<string, Buffer>();
  return {
    read: (key) => {
      checkKey(key);
      const v = records.get(key);
      return v === undefined ? undefined : Buffer.from(v);
    },
    write: (key, data) => {
      checkKey(key);
      records.set(key, Buffer.from(data));
    },
    remove: (key) => {
      checkKey(key);
      records.delete(key);
    },
    list: (prefix) =>
      [...records.keys()].filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).sort(),
  };
}

/** One key segment as a file name: `%`-encoded, and never `.`/`..` or a hidden temp name. */
function encodeSegment(seg: string): string {
  return encodeURIComponent(seg).replace(/^\./, '%2E').replace(/\*/g, '%2A');
}

/** A flash kept in files under `dir` (created on the first write). */
export function directoryFlashStore(dir: string): FlashStore {
  const root = path.resolve(dir);
  const fileOf = (key: string) => path.join(root, ...checkKey(key).map(encodeSegment));
  let counter = 0;
  return {
    read: (key) => {
      try {
        return readFileSync(fileOf(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
        throw err;
      }
    },
    write: (key, data) => {
      const file = fileOf(key);
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // A leading '.' never comes out of encodeSegment: temporary files cannot collide with keys.
      const tmp = path.join(path.dirname(file), `.tmp-${process.pid}-${++counter}`);
      writeFileSync(tmp, data, { mode: 0o600 });
      renameSync(tmp, file);
    },
    remove: (key) => {
      rmSync(fileOf(key), { force: true });
    },
    list: (prefix) => {
      if (!prefix.endsWith('/')) throw new Error('a flash prefix ends with "/"');
      const parent = path.join(root, ...checkKey(prefix.slice(0, -1)).map(encodeSegment));
      let names: string[];
      try {
        names = readdirSync(parent, { withFileTypes: true })
          .filter((d) => d.isFile() && !d.name.startsWith('.'))
          .map((d) => d.name);
      } catch {
        return [];
      }
      return names.map((n) => prefix + decodeURIComponent(n)).sort();
    },
  };
}

/**
 * Where one modem's flash lives under the state dir: per IMEI, so several modems (`--count`) do
 * not share it.
 */
export function flashDirFor(stateDir: string, imei: string): string {
  return path.join(stateDir, 'flash', imei);
}
