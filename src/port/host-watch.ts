/**
 * Best-effort detection of the host (firmware) opening and closing the slave device.
 *
 * The kernel reports opens and closes of `/dev/pts/N` through inotify (`IN_OPEN`,
 * `IN_CLOSE_WRITE`, `IN_CLOSE_NOWRITE`), but Node's `fs.watch` only asks libuv for
 * attribute/modify/move events, so opens are invisible to it, and reading inotify directly would
 * need a native addon. Instead a tiny Python 3 helper (standard library only, libc through
 * ctypes) watches the device and prints one line per event on its stdout. It exits when its stdin
 * closes, so it cannot outlive this process.
 *
 * If python3 is missing or the helper fails, the port works exactly the same, only without
 * 'host-open' / 'host-close' events (logged once at info level).
 *
 * Semantics: events arrive asynchronously through a pipe, so their order relative to the data
 * stream is not guaranteed. 'host-open' fires when the device goes from free to held,
 * 'host-close' when it goes back to free. Opens and closes are not counted: inotify merges an
 * event identical to the last one still queued, so a process that opens the device twice in a
 * row (libuv reopens a tty handed to tty.ReadStream) shows one IN_OPEN, and two closes in a row
 * one IN_CLOSE (inotify(7), "successive identical events … are coalesced"). Instead each close
 * is checked against who holds the device now (`/proc/<pid>/fd`, device-holders.ts; our own
 * slave descriptor excluded): nobody → free. Somebody → the helper is asked to drain its queue
 * first (an IN_OPEN is queued before the opener's descriptor appears in /proc), and if an open
 * followed the close, the close was real (a firmware closing and reopening); otherwise the
 * holder had opened it before (the merged case) and the device stays held. A second process
 * opening while the first still holds the device can make that a close/open pair; the state
 * after each event is right. Descriptors inherited across fork/exec or opened before the watch
 * started do not produce an IN_OPEN; their closes are ignored while the device counts as free.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../util/logger.js';
import { otherHolder } from './device-holders.js';
import { forgetHelperPython, helperPython, noteHelperPython } from './python-helper.js';
import { PY_MAKE_RAW } from './raw-mode.js';

const HELPER = String.raw`
import ctypes, os, select, struct, sys
# Node's openpty() descriptors are not close-on-exec; drop everything we inherited so this
# helper never keeps the PTY alive.
os.closerange(3, 65536)
IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_OPEN, IN_IGNORED = 0x8, 0x10, 0x20, 0x8000
out = sys.stdout
${PY_MAKE_RAW}
if sys.argv[2:] == ["raw"]:
    # Made raw before the watch (PY_MAKE_RAW, raw-mode.ts), so this open and close are not reported.
    try:
        make_raw(sys.argv[1])
    except OSError as e:
        out.write("error raw %s\n" % e); out.flush(); sys.exit(1)
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0o2000000)
if fd < 0:
    out.write("error inotify_init1 %d\n" % ctypes.get_errno()); out.flush(); sys.exit(1)
wd = libc.inotify_add_watch(fd, sys.argv[1].encode(), IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)
if wd < 0:
    out.write("error inotify_add_watch %d\n" % ctypes.get_errno()); out.flush(); sys.exit(1)
out.write("ready %s\n" % sys.executable); out.flush()
def drain():
    buf = os.read(fd, 65536)
    i, lines = 0, []
    while i + 16 <= len(buf):
        _wd, mask, _cookie, n = struct.unpack_from("iIII", buf, i)
        i += 16 + n
        if mask & IN_OPEN: lines.append("open")
        if mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE): lines.append("close")
        if mask & IN_IGNORED: lines.append("gone")
    if lines:
        out.write("\n".join(lines) + "\n"); out.flush()
    if "gone" in lines:
        sys.exit(0)
while True:
    r = select.select([fd, 0], [], [])[0]
    if 0 in r:
        asked = os.read(0, 4096)
        if not asked:
            sys.exit(0)
        # "sync": print every event queued so far, then "synced" (see the file comment).
        for _ in range(asked.count(b"sync")):
            while select.select([fd], [], [], 0)[0]:
                drain()
            out.write("synced\n"); out.flush()
    if fd in r and select.select([fd], [], [], 0)[0]:
        drain()
`;

export { pythonForHelper } from './python-helper.js';

export interface HostWatcher {
  stop(): void;
  /** The helper made the device raw (HostWatchOptions.makeRaw). */
  readonly madeRaw: boolean;
}

export interface HostWatchHandlers {
  onOpen(): void;
  onClose(): void;
}

export interface HostWatchOptions {
  readyTimeoutMs?: number;
  /** This process's own descriptors on the device (the emulator's slave): not a host. */
  ownFds?: readonly number[];
  /**
   * Also make the device raw, as `stty raw -echo` does (and check it), before the watch starts:
   * one child process instead of three (two stty runs and the helper) on every cold start
   * (issue 12 §3). The helper's own open and close of the device come before its inotify watch,
   * so they are never taken for the host's. The watcher says whether it did (`madeRaw`).
   */
  makeRaw?: boolean;
}

/**
 * Start watching `devicePath`. Resolves once the watch is in place (so opens from then on are
 * seen), or with `undefined` if host events are unavailable. Never rejects.
 */
export function watchHost(
  devicePath: string,
  handlers: HostWatchHandlers,
  log: Logger,
  opts: HostWatchOptions = {},
): Promise<HostWatcher | undefined> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const ownFds = opts.ownFds ?? [];
  return new Promise((resolve) => {
    let child: ChildProcess;
    let settled = false;
    let stopped = false;
    let held = false;
    let timer: NodeJS.Timeout | undefined;
    /** Event lines not handled yet, in order; handled one at a time (a close awaits its check). */
    const queue: string[] = [];
    let pumping = false;
    let synced: (() => void) | undefined;

    const stop = (): void => {
      stopped = true;
      synced?.();
      if (timer) clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdin?.end();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    const settle = (w: HostWatcher | undefined, why?: string): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (!w) {
        log.info({ reason: why }, 'host-open/host-close events unavailable');
        stop();
      }
      resolve(w);
    };

    try {
      // -S: no `site` module (the helper needs only the standard library); site and the .pth
      // files a machine has are most of the interpreter's start-up, paid once per PTY.
      child = spawn(helperPython(), ['-S', '-c', HELPER, devicePath, ...(opts.makeRaw ? ['raw'] : [])], {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group: a SIGTERM/SIGINT to vmodem's group (Ctrl+C, systemd, timeout)
        // must not kill the watcher before vmodem shuts down. It exits when its stdin closes.
        detached: true,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      });
    } catch (err) {
      log.info({ reason: (err as Error).message }, 'host-open/host-close events unavailable');
      resolve(undefined);
      return;
    }
    // Once the watch is in place, do not keep the event loop alive just for the watcher.
    const unref = (): void => {
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr]) {
        (s as unknown as { unref?: () => void } | null)?.unref?.();
      }
    };

    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    child.stdin?.on('error', () => {
      /* helper gone; handled by 'exit' */
    });
    child.on('error', (err) => {
      forgetHelperPython();
      settle(undefined, err.message);
    });
    child.on('exit', (code, signal) => {
      synced?.();
      if (!settled) settle(undefined, `helper exited (${code ?? signal}) ${stderr.trim()}`);
      else if (!stopped) log.warn({ code, signal, stderr: stderr.trim() }, 'host watcher exited');
    });

    let buf = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => {
      buf += s;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ready')) {
          const exe = line.slice('ready '.length).trim();
          noteHelperPython(exe);
          unref();
          settle({ stop, madeRaw: opts.makeRaw === true });
        } else if (line.startsWith('error')) {
          settle(undefined, line);
        } else if (line === 'synced') {
          synced?.();
        } else if (!stopped && (line === 'open' || line === 'close')) {
          queue.push(line);
          void pump();
        }
      }
    });

    /** Every event the helper has queued so far is in `queue` once this resolves. */
    const sync = (): Promise<void> =>
      new Promise((done) => {
        synced = () => {
          synced = undefined;
          done();
        };
        if (stopped || !child.stdin?.writable) return synced();
        child.stdin.write('sync\n');
      });

    /** A close event: is the device free now? (file comment: merged events) */
    const closedForGood = async (): Promise<boolean> => {
      const holder = await otherHolder(devicePath, ownFds);
      if (!holder) return true;
      await sync();
      const reopened = queue.includes('open');
      log.debug({ holder, reopened }, reopened ? 'host closed and reopened device' : 'host closed device, still held');
      return reopened;
    };

    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      try {
        for (let line = queue.shift(); line !== undefined && !stopped; line = queue.shift()) {
          if (line === 'open') {
            log.debug({ held }, 'host opened device');
            if (!held) {
              held = true;
              handlers.onOpen();
            }
          } else if (held && (await closedForGood()) && !stopped) {
            held = false;
            log.debug('host closed device');
            handlers.onClose();
          }
        }
      } catch (err) {
        // A handler's bug or an unreadable /proc must not end the process; the watch goes on.
        log.warn({ err }, 'host watch event failed');
      } finally {
        pumping = false;
      }
      if (queue.length > 0 && !stopped) void pump();
    };

    timer = setTimeout(() => settle(undefined, 'helper did not start in time'), readyTimeoutMs);
  });
}
