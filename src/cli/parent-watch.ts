/**
 * Exit when whoever started vmodem goes away (issue 14 §1). `npx vmodem` and `npm start` run
 * vmodem under `sh -c` (Debian's dash does not exec the last command), so killing npx or npm
 * leaves the shell and vmodem behind, and vmodem's own parent never changes. vmodem therefore
 * remembers its starters — its parent and up to two more ancestors below init (pid 1) — and stops
 * once one of them is gone (or its own parent changes, i.e. it was re-parented). Linux identifies
 * each starter by pid and start time from /proc, so a reused pid does not count as alive; elsewhere
 * (macOS) only the direct parent is watched, through `process.ppid` and `kill(pid, 0)`.
 *
 * `vmodem start --no-exit-with-parent` turns it off (a detached daemon: `nohup`, `setsid`).
 */
import { readFileSync } from 'node:fs';

/** How the watch sees processes (the real one reads /proc; tests pass their own). */
export interface ProcessTable {
  /** This process's parent pid now. */
  ppid(): number;
  /** Parent pid of `pid`, or undefined when it cannot be told. */
  parentOf(pid: number): number | undefined;
  /** An identity that changes when the pid is reused (start time), or undefined if `pid` is gone. */
  identity(pid: number): string | undefined;
}

/** /proc/<pid>/stat: field 4 is the parent, field 22 the start time (after the `(comm)` field). */
function stat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function systemProcessTable(): ProcessTable {
  const proc = stat(process.pid) !== undefined;
  return {
    ppid: () => process.ppid,
    parentOf: (pid) => (proc ? Number(stat(pid)?.[1]) || undefined : pid === process.pid ? process.ppid : undefined),
    identity: (pid) => {
      if (proc) return stat(pid)?.[19];
      try {
        process.kill(pid, 0);
        return 'alive';
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : undefined;
      }
    },
  };
}

export interface Starter {
  pid: number;
  identity: string;
}

/** The parent and up to `depth - 1` ancestors above it, stopping before init. */
export function startersOf(table: ProcessTable, self: number, depth = 3): Starter[] {
  const out: Starter[] = [];
  let pid: number | undefined = table.ppid();
  while (pid !== undefined && pid > 1 && out.length < depth) {
    const identity = table.identity(pid);
    if (identity === undefined) break;
    out.push({ pid, identity });
    pid = table.parentOf(pid);
    if (pid === self) break;
  }
  return out;
}

/**
 * Poll every `intervalMs`; call `onGone` once, with a reason, when a starter is gone. Returns the
 * function that stops watching. Nothing is watched when vmodem was started by init itself
 * (a container's pid 1 or systemd are no starters that can go away).
 */
export function watchStarters(opts: { table?: ProcessTable; self?: number; intervalMs?: number; onGone: (reason: string) => void }): () => void {
  const table = opts.table ?? systemProcessTable();
  const self = opts.self ?? process.pid;
  const firstParent = table.ppid();
  const starters = startersOf(table, self);
  if (starters.length === 0) return () => {};
  const timer = setInterval(() => {
    let reason: string | undefined;
    if (table.ppid() !== firstParent) reason = `parent ${firstParent} is gone (re-parented to ${table.ppid()})`;
    else {
      const gone = starters.find((s) => table.identity(s.pid) !== s.identity);
      if (gone) reason = `process ${gone.pid} that started vmodem is gone`;
    }
    if (reason === undefined) return;
    clearInterval(timer);
    opts.onGone(reason);
  }, opts.intervalMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
