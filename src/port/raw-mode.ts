/**
 * Putting a PTY's slave into raw mode (`stty raw -echo`: all 256 byte values pass, no echo, no
 * line discipline) for the PTYs that have no host watcher (every modem of a `--count N` start but
 * the few the dashboard watches).
 *
 * Node has no termios API, so this takes a child process. One `stty` per PTY meant one fork of an
 * ever larger Node process per modem: ~20 s of CPU to start 2,000 modems (issue 12 §3, measured
 * with `node --cpu-prof`: ChildProcess.spawn). Instead one Python helper per vmodem process, the
 * same standard-library termios code the host watcher's helper runs (PY_MAKE_RAW), takes device
 * paths on its stdin and answers each in order. Where python3 is missing or the helper dies, stty
 * does it as before.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { helperPython } from './python-helper.js';

const execFileP = promisify(execFile);

/**
 * Python: make_raw(path) sets what `stty raw -echo` sets (GNU coreutils stty(1), "raw"), reads it
 * back, and raises OSError when the flags the emulator relies on (REQUIRED_STTY in pty-port.ts)
 * are not as asked. It opens and closes the device: run it before any inotify watch on it.
 */
export const PY_MAKE_RAW = String.raw`
import termios as T
def make_raw(path):
    d = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        a = T.tcgetattr(d)
        a[0] &= ~(T.IGNBRK | T.BRKINT | T.IGNPAR | T.PARMRK | T.INPCK | T.ISTRIP | T.INLCR | T.IGNCR | T.ICRNL | T.IXON | T.IXOFF | T.IXANY | getattr(T, "IMAXBEL", 0) | getattr(T, "IUCLC", 0))
        a[1] &= ~T.OPOST
        a[3] &= ~(T.ISIG | T.ICANON | T.ECHO | getattr(T, "XCASE", 0))
        a[6][T.VMIN], a[6][T.VTIME] = 1, 0
        T.tcsetattr(d, T.TCSANOW, a)
        b = T.tcgetattr(d)
    finally:
        os.close(d)
    if b[0] & (T.ICRNL | T.INLCR | T.IGNCR | T.IXON | T.ISTRIP | T.PARMRK) or b[1] & T.OPOST or b[3] & (T.ICANON | T.ISIG | T.ECHO) or b[2] & (T.CSIZE | T.PARENB) != T.CS8:
        raise OSError("flags not as set")
`;

const SERVER = String.raw`
import os, sys
os.closerange(3, 65536)
${PY_MAKE_RAW}
for line in sys.stdin:
    try:
        make_raw(line.rstrip("\n"))
        sys.stdout.write("ok\n")
    except OSError as e:
        sys.stdout.write("error %s\n" % e)
    sys.stdout.flush()
`;

type Pending = { resolve: () => void; reject: (err: Error) => void };

let helper: { child: ChildProcess; pending: Pending[] } | undefined;
/** The helper could not start or died: stty from then on, rather than a failed spawn per PTY. */
let helperBroken = false;

function startHelper(): { child: ChildProcess; pending: Pending[] } | undefined {
  let child: ChildProcess;
  try {
    child = spawn(helperPython(), ['-S', '-c', SERVER], {
      stdio: ['pipe', 'pipe', 'ignore'],
      // Its own process group, as the host watcher's: a Ctrl+C to vmodem's group must not end it
      // while modems still start. It exits when its stdin closes (vmodem gone).
      detached: true,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
  } catch {
    helperBroken = true;
    return undefined;
  }
  const h = { child, pending: [] as Pending[] };
  const fail = (why: string): void => {
    helperBroken = true;
    if (helper === h) helper = undefined;
    for (const p of h.pending.splice(0)) p.reject(new Error(why));
  };
  child.on('error', (err) => fail(err.message));
  child.on('exit', (code, signal) => fail(`raw-mode helper exited (${code ?? signal})`));
  child.stdin!.on('error', () => fail('raw-mode helper gone'));
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => {
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const p = h.pending.shift();
      if (!p) continue;
      if (line === 'ok') p.resolve();
      else p.reject(new Error(line.replace(/^error /, '')));
    }
  });
  // Idle between starts: never keep the event loop alive for it.
  child.unref();
  for (const s of [child.stdin, child.stdout]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  return h;
}

/** Ask the shared helper; rejects when it is unavailable or failed for this device. */
function viaHelper(devicePath: string): Promise<void> {
  if (helperBroken) return Promise.reject(new Error('no raw-mode helper'));
  helper ??= startHelper();
  const h = helper;
  if (!h || !h.child.stdin?.writable) return Promise.reject(new Error('no raw-mode helper'));
  return new Promise<void>((resolve, reject) => {
    h.pending.push({ resolve, reject });
    h.child.stdin!.write(`${devicePath}\n`);
  });
}

/** `stty raw -echo` on the device, then (the first time) `stty -a` to check the flags we rely on. */
async function viaStty(devicePath: string, required: readonly string[]): Promise<void> {
  const env = { ...process.env, LC_ALL: 'C' };
  try {
    await execFileP('stty', ['-F', devicePath, 'raw', '-echo'], { env, timeout: 10_000 });
  } catch (err) {
    throw new Error(`stty -F ${devicePath} raw -echo failed: ${(err as Error).message}`, { cause: err });
  }
  // The same stty on the same kernel gives the same result: check the first PTY of the process
  // only (a second process per PTY doubles the start-up time of `--count 200`).
  if (sttyVerified) return;
  const { stdout } = await execFileP('stty', ['-F', devicePath, '-a'], { env, timeout: 10_000 });
  const flags = new Set(stdout.split(/[\s;]+/));
  const missing = required.filter((f) => !flags.has(f));
  if (missing.length > 0) {
    throw new Error(`${devicePath} is not raw after stty (missing ${missing.join(' ')})`);
  }
  sttyVerified = true;
}

let sttyVerified = false;

/**
 * Make `devicePath` raw: through the shared Python helper, or with stty where the helper is
 * unavailable. `required` are the stty flags the stty path checks (`stty -a` words).
 */
export async function makeRaw(devicePath: string, required: readonly string[]): Promise<void> {
  try {
    await viaHelper(devicePath);
  } catch {
    await viaStty(devicePath, required);
  }
}
