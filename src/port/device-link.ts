/**
 * A stable, user-chosen path (e.g. `/tmp/vmodem0`) published as a symlink to the PTY's
 * `/dev/pts/N`, which changes on every run. Created atomically (symlink under a temporary name in
 * the same directory, then rename over), so a firmware never sees a half-made or missing link
 * while a stale one is replaced. Removed on close only if it still points at our device.
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}

/**
 * Check, without changing anything, that `link` can be published: the path is free or already a
 * symlink, and its directory exists and is writable. Throws an Error with a clear message.
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
      throw new Error(`cannot create link ${abs}: directory ${dir} does not exist`);
    }
    throw new Error(`cannot create link ${abs}: cannot access directory ${dir} (${code(err)})`);
  }
  if (!st.isDirectory()) throw new Error(`cannot create link ${abs}: ${dir} is not a directory`);
  try {
    await fsp.access(dir, fsc.W_OK | fsc.X_OK);
  } catch (err) {
    throw new Error(`cannot create link ${abs}: directory ${dir} is not writable (${code(err)})`);
  }
  return abs;
}

async function assertReplaceable(abs: string): Promise<string | undefined> {
  let st;
  try {
    st = await fsp.lstat(abs);
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    throw new Error(`cannot create link ${abs}: ${code(err)}`);
  }
  if (!st.isSymbolicLink()) {
    throw new Error(`link path ${abs} exists and is not a symlink; choose another --link`);
  }
  try {
    return await fsp.readlink(abs);
  } catch {
    return undefined;
  }
}

/**
 * Atomically make `link` a symlink to `target`. Replaces an existing symlink (returns what it
 * pointed to, so the caller can log it); refuses anything else.
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
    throw new Error(`cannot create link ${abs} in ${dir}: ${why ? `${why} (${c})` : c}`);
  }
  try {
    // Re-check right before the rename: rename() would silently replace a regular file.
    const replaced = await assertReplaceable(abs);
    await fsp.rename(tmp, abs);
    return replaced === undefined ? { path: abs } : { path: abs, replaced };
  } catch (err) {
    await fsp.unlink(tmp).catch(() => undefined);
    if (err instanceof Error && !('code' in err)) throw err;
    throw new Error(`cannot create link ${abs}: ${code(err)}`);
  }
}

/** Remove `link` if it is still a symlink to `target`. Never throws; returns whether removed. */
export async function removeLink(link: string, target: string): Promise<boolean> {
  try {
    if ((await fsp.readlink(link)) !== target) return false;
    await fsp.unlink(link);
    return true;
  } catch {
    return false;
  }
}
