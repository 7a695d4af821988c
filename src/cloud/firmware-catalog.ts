/**
 * Firmware images the virtual cloud serves at `GET /firmware/<name>` (OTA downloads): files in a
 * catalog directory, plus images added in memory (e.g. by the control API, or a deliberately
 * corrupted copy for a failure test). Each image's size and MD5 are what an OTA push announces.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

export interface FirmwareImage {
  name: string;
  size: number;
  /** Lower-case hex MD5 of the content. */
  md5: string;
  /** In-memory content, or undefined for a file read on demand. */
  data: Buffer | undefined;
  /** The file, for catalog-directory images. */
  path: string | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export function validFirmwareName(name: string): boolean {
  return NAME.test(name);
}

async function md5OfFile(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class FirmwareCatalog {
  private readonly memory = new Map<string, FirmwareImage>();
  /** MD5s of catalog files, keyed by path, valid while size and mtime are unchanged. */
  private readonly md5Cache = new Map<string, { size: number; mtimeMs: number; md5: string }>();

  /** Told of every add/remove made through this catalog (a cluster shares them, redis-cloud-state.ts). */
  private changed: ((name: string, data: Buffer | null) => void) | undefined;

  /** @param dir a directory of image files (optional). */
  constructor(readonly dir?: string) {}

  /** Be told of each add (data) and remove (null) made here; `quiet` ones (a peer's) are not told. */
  onChange(fn: ((name: string, data: Buffer | null) => void) | undefined): void {
    this.changed = fn;
  }

  /** Add (or replace) an in-memory image; it shadows a catalog file of the same name. */
  add(name: string, data: Buffer, opts: { quiet?: boolean } = {}): FirmwareImage {
    if (!validFirmwareName(name)) throw new Error(`firmware name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-'`);
    const image: FirmwareImage = { name, size: data.length, md5: createHash('md5').update(data).digest('hex'), data, path: undefined };
    this.memory.set(name, image);
    if (!opts.quiet) this.changed?.(name, data);
    return image;
  }

  remove(name: string, opts: { quiet?: boolean } = {}): boolean {
    const had = this.memory.delete(name);
    if (had && !opts.quiet) this.changed?.(name, null);
    return had;
  }

  async get(name: string): Promise<FirmwareImage | undefined> {
    if (!validFirmwareName(name)) return undefined;
    const mem = this.memory.get(name);
    if (mem) return mem;
    if (!this.dir) return undefined;
    const file = path.join(this.dir, name);
    let st;
    try {
      st = await fs.stat(file);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const cached = this.md5Cache.get(file);
    let md5 = cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs ? cached.md5 : undefined;
    if (md5 === undefined) {
      md5 = await md5OfFile(file);
      this.md5Cache.set(file, { size: st.size, mtimeMs: st.mtimeMs, md5 });
    }
    return { name, size: st.size, md5, data: undefined, path: file };
  }

  /** Every image, in-memory ones first. */
  async list(): Promise<FirmwareImage[]> {
    const out = [...this.memory.values()];
    if (this.dir) {
      let names: string[] = [];
      try {
        names = await fs.readdir(this.dir);
      } catch {
        // A missing catalog directory is an empty catalog.
      }
      for (const n of names.sort()) {
        if (this.memory.has(n)) continue;
        const img = await this.get(n);
        if (img) out.push(img);
      }
    }
    return out;
  }
}
