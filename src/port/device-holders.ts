/**
 * Which processes hold a device node open, read from `/proc/<pid>/fd` (Linux). Shared by the
 * link-ownership check (device-link.ts: does the recorded vmodem still hold its PTY?) and the
 * host watcher (host-watch.ts: is any firmware still holding the PTY after a close event?).
 */
import { promises as fsp } from 'node:fs';

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}

/** The descriptors process `pid` has open on `device`, or the error code when its fd table cannot be read. */
export async function descriptorsOn(pid: number, device: string): Promise<number[] | { error: string }> {
  let fds: string[];
  try {
    fds = await fsp.readdir(`/proc/${pid}/fd`);
  } catch (err) {
    return { error: code(err) };
  }
  const found = await Promise.all(
    fds.map(async (fd) => {
      try {
        return (await fsp.readlink(`/proc/${pid}/fd/${fd}`)) === device ? Number(fd) : undefined;
      } catch {
        return undefined; // closed meanwhile
      }
    }),
  );
  return found.filter((fd): fd is number => fd !== undefined);
}

/** Whether process `pid` has `device` open. Unknown (no /proc, not ours to read) counts as yes. */
export async function holds(pid: number, device: string): Promise<boolean> {
  const fds = await descriptorsOn(pid, device);
  return Array.isArray(fds) ? fds.length > 0 : fds.error !== 'ENOENT';
}

/**
 * The first process found holding `device` open, other than the descriptors in `ownFds` (this
 * process's own, e.g. the emulator's slave descriptor), or undefined when nobody does.
 * Processes whose fd table cannot be read are skipped: the PTY is mode 0600, so only our own
 * user (readable) or root could hold it.
 */
export async function otherHolder(device: string, ownFds: readonly number[] = []): Promise<{ pid: number; fd: number } | undefined> {
  let pids: number[];
  try {
    pids = (await fsp.readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return undefined;
  }
  // This process first: in-process firmwares (tests, the demo) are the common case.
  pids.sort((a, b) => (a === process.pid ? -1 : b === process.pid ? 1 : 0));
  for (const pid of pids) {
    const fds = await descriptorsOn(pid, device);
    if (!Array.isArray(fds)) continue;
    const fd = fds.find((f) => pid !== process.pid || !ownFds.includes(f));
    if (fd !== undefined) return { pid, fd };
  }
  return undefined;
}
