/**
 * The one place that touches node-pty's native binding.
 *
 * node-pty's JavaScript `open()` cannot serve a device-side PTY (its `write()` throws and it
 * starts a hidden reader on the slave that steals the firmware's bytes), but the native
 * binding's `open(cols, rows)` is exactly `openpty(3)`: it returns the master and slave as plain
 * non-blocking descriptors, with no child process. That function is not public API, so the
 * node-pty version is pinned in package.json and checked here; nothing outside this module
 * knows how the binding is loaded.
 */
import { createRequire } from 'node:module';

/** The node-pty version whose native `open()` shape this module was written against. */
export const NODE_PTY_VERSION = '1.1.0';

export interface RawPtyPair {
  /** Master descriptor (non-blocking, NOT close-on-exec: see openRawPty). */
  master: number;
  /** Slave descriptor as returned by openpty (non-blocking, NOT close-on-exec). */
  slave: number;
  /** Slave device path, e.g. `/dev/pts/7`. */
  path: string;
}

interface NativePtyModule {
  open(cols: number, rows: number): unknown;
}

interface NodePtyUtils {
  loadNativeModule(name: string): { dir: string; module: unknown };
}

let cached: { module: NativePtyModule; version: string } | undefined;

function loadBinding(): { module: NativePtyModule; version: string } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let version = 'unknown';
  try {
    version = String((require('node-pty/package.json') as { version?: unknown }).version);
  } catch {
    // Reported below if the binding cannot be used either.
  }
  let utils: NodePtyUtils;
  try {
    // node-pty has no "exports" map, so its own loader (which searches build/Release,
    // build/Debug and prebuilds/<platform>-<arch>) is reachable by subpath.
    utils = require('node-pty/lib/utils.js') as NodePtyUtils;
  } catch (err) {
    throw new Error(`cannot load node-pty (is it installed?): ${(err as Error).message}`, { cause: err });
  }
  if (typeof utils.loadNativeModule !== 'function') {
    throw new Error(
      `node-pty ${version} has no lib/utils.js loadNativeModule(); vmodem needs node-pty ${NODE_PTY_VERSION}`,
    );
  }
  const loaded = utils.loadNativeModule('pty');
  const module = loaded.module as Partial<NativePtyModule> | null;
  if (!module || typeof module.open !== 'function') {
    throw new Error(
      `node-pty ${version} native binding has no open(cols, rows); vmodem needs node-pty ${NODE_PTY_VERSION}`,
    );
  }
  cached = { module: module as NativePtyModule, version };
  return cached;
}

/** The node-pty version actually loaded (for diagnostics). */
export function nativePtyVersion(): string {
  return loadBinding().version;
}

/**
 * Create a pseudo-terminal pair with openpty(3).
 *
 * Caveat: node-pty does not set FD_CLOEXEC on either descriptor, so every child process spawned
 * while the pair is open inherits both. Callers should replace the slave with a close-on-exec
 * descriptor opened by path (Node opens files with O_CLOEXEC) right away; the master cannot be
 * reopened (opening /dev/ptmx again makes a new pair) and Node has no fcntl(), so it stays
 * inheritable.
 */
export function openRawPty(cols = 80, rows = 24): RawPtyPair {
  const { module, version } = loadBinding();
  const result = module.open(cols, rows) as { master?: unknown; slave?: unknown; pty?: unknown };
  if (
    !result ||
    typeof result.master !== 'number' ||
    typeof result.slave !== 'number' ||
    typeof result.pty !== 'string'
  ) {
    throw new Error(
      `node-pty ${version} native open() returned an unexpected shape; vmodem needs node-pty ${NODE_PTY_VERSION}`,
    );
  }
  return { master: result.master, slave: result.slave, path: result.pty };
}
