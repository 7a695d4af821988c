/**
 * Which Python runs the PTY layer's standard-library helpers (the host watcher, host-watch.ts;
 * the raw-mode helper, raw-mode.ts): found once per process, then reused.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * The interpreter the helper reported (`sys.executable`), reused for later ports: `python3` is
 * often a slow wrapper (pyenv shims take ~0.3 s), the real binary starts in a few ms.
 */
let resolvedPython: string | undefined;

/**
 * The interpreter for the first helper of the process: the first `python3` on PATH that is a
 * program (ELF), not a wrapper script. A pyenv shim is a bash script that runs `pyenv` before
 * Python starts: 0.3–1 s on the 2-core machine, paid by every `vmodem start` before its PTY
 * answers (issue 12 §3). The helper needs only the standard library: any Python 3 will do.
 * Falls back to plain `python3` (whatever PATH gives) when none is found.
 */
export function pythonForHelper(pathEnv = process.env.PATH ?? ''): string {
  const magic = Buffer.alloc(4);
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, 'python3');
    let fd: number | undefined;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      fd = fs.openSync(candidate, 'r');
      if (fs.readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === '\x7fELF') return candidate;
    } catch {
      // Missing or unreadable: try the next directory.
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  return 'python3';
}

/** The interpreter for the next helper: the one a helper reported, else the first real python3 on PATH. */
export function helperPython(): string {
  return (resolvedPython ??= pythonForHelper());
}

/** A helper reported its interpreter (`sys.executable`): later helpers start that one. */
export function noteHelperPython(exe: string): void {
  if (exe.startsWith('/')) resolvedPython = exe;
}

/** A helper failed to start: look on PATH again next time. */
export function forgetHelperPython(): void {
  resolvedPython = undefined;
}
