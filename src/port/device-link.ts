/**
 * A stable, user-chosen path (e.g. `/tmp/vmodem0`) published as a symlink to the PTY's
 * `/dev/pts/N`, which changes on every run. Created atomically (symlink under a temporary name in
 * the same directory, then rename over), so a firmware never sees a half-made or missing link
 * while a stale one is replaced. Removed on close only if it still points at our device.
 *
 * A link that belongs to a running vmodem is never taken over (issue 8: a second `vmodem start`
 * with the same `--link` used to silently steal the first one's firmware). The owner is recorded
 * when the link is published, in `<tmpdir>/vmodem-<uid>/links/<hash of the link path>.json`
 * (`{ pid, link, device }`) — not next to the link, which lives in a directory the user chose.
 * The owner is alive when the link still points at the recorded device, the process exists, and
 * it still holds that device open (`/proc/<pid>/fd`; the emulator keeps its slave descriptor
 * for its whole life). That last check makes a reused pid or a reused `/dev/pts/N` harmless: a
 * link left by a SIGKILLed vmodem is stale and is replaced, as before. A link without a record
 * (made by hand, or by an older vmodem) is replaced too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, constants as fsc } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { holds } from './device-holders.js';

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}

/**
 * Check, without changing anything, that `link` can be published: the path is free or a symlink
 * no running vmodem owns, and its directory exists and is writable. Throws an Error with a clear message.
 * Returns the absolute link path.
 */
export async function checkLinkPath(link: string): Promise<string> {
  if (!link) throw new Error('link path is empty; choose another --link');
  const abs = path.resolve(link);
  await assertReplaceable(abs);
  const dir = path.dirname(abs);
  let st;
  try {
    st = await fsp.stat(dir);
  } catch (err) {
    if (code(err) === 'ENOENT') {
      throw new Error(`cannot create link ${abs}: directory ${dir} does not exist`, { cause: err });
    }
    throw new Error(`cannot create link ${abs}: cannot access directory ${dir} (${code(err)})`, { cause: err });
  }
  if (!st.isDirectory()) throw new Error(`cannot create link ${abs}: ${dir} is not a directory`);
  try {
    await fsp.access(dir, fsc.W_OK | fsc.X_OK);
  } catch (err) {
    throw new Error(`cannot create link ${abs}: directory ${dir} is not writable (${code(err)})`, { cause: err });
  }
  return abs;
}

async function assertReplaceable(abs: string): Promise<string | undefined> {
  let st;
  try {
    st = await fsp.lstat(abs);
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    throw new Error(`cannot create link ${abs}: ${code(err)}`, { cause: err });
  }
  if (!st.isSymbolicLink()) {
    throw new Error(`link path ${abs} exists and is not a symlink; choose another --link`);
  }
  let target: string;
  try {
    target = await fsp.readlink(abs);
  } catch {
    return undefined;
  }
  const owner = await liveOwner(abs, target);
  if (owner) {
    throw new Error(`link ${abs} belongs to a running vmodem (pid ${owner.pid}, ${owner.device}); stop it first or choose another --link`);
  }
  return target;
}

/** Who published a link: written next to nothing the user chose (see the file comment). */
export interface LinkOwner {
  pid: number;
  link: string;
  device: string;
}

/** Where the owner of `abs` is recorded. */
export function linkOwnerFile(abs: string): string {
  const uid = process.getuid?.() ?? 'user';
  const hash = createHash('sha256').update(abs).digest('hex').slice(0, 32);
  return path.join(os.tmpdir(), `vmodem-${uid}`, 'links', `${hash}.json`);
}

async function readOwner(abs: string): Promise<LinkOwner | undefined> {
  try {
    const o = JSON.parse(await fsp.readFile(linkOwnerFile(abs), 'utf8')) as Partial<LinkOwner>;
    if (typeof o.pid !== 'number' || typeof o.device !== 'string' || o.link !== abs) return undefined;
    return { pid: o.pid, link: o.link, device: o.device };
  } catch {
    return undefined;
  }
}

/** The recorded owner of the link at `abs` (pointing at `target`), if that owner is still running. */
async function liveOwner(abs: string, target: string): Promise<LinkOwner | undefined> {
  const owner = await readOwner(abs);
  if (!owner || owner.device !== target) return undefined;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if (code(err) === 'ESRCH') return undefined;
  }
  return (await holds(owner.pid, owner.device)) ? owner : undefined;
}

async function recordOwner(abs: string, device: string): Promise<void> {
  const file = linkOwnerFile(abs);
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const owner: LinkOwner = { pid: process.pid, link: abs, device };
  await fsp.writeFile(tmp, `${JSON.stringify(owner)}\n`);
  await fsp.rename(tmp, file);
}

async function forgetOwner(abs: string, device: string): Promise<void> {
  const owner = await readOwner(abs);
  if (owner && owner.pid === process.pid && owner.device === device) await fsp.unlink(linkOwnerFile(abs)).catch(() => undefined);
}

/**
 * Atomically make `link` a symlink to `target` and record this process as its owner. Replaces an
 * existing symlink nobody running owns (returns what it pointed to, so the caller can log it);
 * refuses anything else.
 */
export async function publishLink(
  link: string,
  target: string,
): Promise<{ path: string; replaced?: string }> {
  const abs = await checkLinkPath(link);
  const dir = path.dirname(abs);
  const tmp = path.join(
    dir,
    `.${path.basename(abs)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await fsp.symlink(target, tmp);
  } catch (err) {
    const c = code(err);
    const why = c === 'EACCES' || c === 'EPERM' || c === 'EROFS' ? 'directory is not writable' : '';
    throw new Error(`cannot create link ${abs} in ${dir}: ${why ? `${why} (${c})` : c}`, { cause: err });
  }
  try {
    // Re-check right before the rename: rename() would silently replace a regular file.
    const replaced = await assertReplaceable(abs);
    await fsp.rename(tmp, abs);
    // A failure to record only weakens the takeover check; the link itself is fine.
    await recordOwner(abs, target).catch(() => undefined);
    return replaced === undefined ? { path: abs } : { path: abs, replaced };
  } catch (err) {
    await fsp.unlink(tmp).catch(() => undefined);
    if (err instanceof Error && !('code' in err)) throw err;
    throw new Error(`cannot create link ${abs}: ${code(err)}`, { cause: err });
  }
}

/** Remove `link` if it is still a symlink to `target`. Never throws; returns whether removed. */
export async function removeLink(link: string, target: string): Promise<boolean> {
  try {
    if ((await fsp.readlink(link)) !== target) return false;
    await fsp.unlink(link);
    await forgetOwner(path.resolve(link), target);
    return true;
  } catch {
    return false;
  }
}
