/**
 * A "firmware" in a separate process: a small python3 program (standard library only) that opens
 * the modem's serial device like `/dev/ttyUSB0` — os.open(O_RDWR | O_NOCTTY), termios raw,
 * 115200 8N1 — and does what the test tells it over a line protocol on its stdin/stdout.
 *
 * Protocol: one JSON object per line each way, bytes hex-encoded, answered in order.
 *   → {"op":"open","path":P,"flush":bool}            ← {"ok":true}
 *   → {"op":"write","hex":H}                           ← {"ok":true,"n":N}
 *   → {"op":"read_until","re":R | "lit":H,"timeout":S} ← {"ok":true,"hex":H,"pending":N,"chunks":[H...]}
 *        reads until the regex R (python `re` over bytes, latin1) or the literal bytes H match
 *        what was read so far; answers the bytes up to the end of the match (the rest stays
 *        buffered; `pending` says how many bytes), and the raw os.read() chunks that made them.
 *        On timeout: {"ok":false,"error":"timeout","hex":<everything buffered>}.
 *   → {"op":"drain","quiet":S}                          ← {"ok":true,"hex":H}
 *        everything buffered plus whatever arrives until nothing has come for S seconds.
 *   → {"op":"close"}                                   ← {"ok":true}
 *   → {"op":"exit"}                                    (the process exits)
 *
 * The python process closes every descriptor it inherited first: node-pty's master descriptor is
 * not close-on-exec, and a firmware holding the modem's master would keep the PTY alive.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const FIRMWARE_PY = String.raw`
import binascii, json, os, re, select, sys, termios, time, tty
os.closerange(3, 65536)
fd = None
buf = bytearray()

def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()

def read_some(timeout):
    """One os.read() of whatever is there within timeout seconds; None on timeout."""
    r = select.select([fd], [], [], max(0.0, timeout))[0]
    if not r:
        return None
    data = os.read(fd, 65536)
    if not data:
        raise OSError("EOF on serial device")
    buf.extend(data)
    return bytes(data)

def hx(b):
    return binascii.hexlify(bytes(b)).decode()

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    req = json.loads(line)
    op = req["op"]
    try:
        if op == "open":
            fd = os.open(req["path"], os.O_RDWR | os.O_NOCTTY)
            tty.setraw(fd, termios.TCSANOW)
            attrs = termios.tcgetattr(fd)
            attrs[4] = attrs[5] = termios.B115200
            attrs[2] = (attrs[2] | termios.CLOCAL | termios.CREAD) & ~termios.CRTSCTS
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            if req.get("flush"):
                termios.tcflush(fd, termios.TCIOFLUSH)
            buf.clear()
            reply({"ok": True})
        elif op == "write":
            data = binascii.unhexlify(req["hex"])
            view = memoryview(data)
            while view:
                select.select([], [fd], [])
                n = os.write(fd, view)
                view = view[n:]
            reply({"ok": True, "n": len(data)})
        elif op == "read_until":
            if "lit" in req:
                pat = re.compile(re.escape(binascii.unhexlify(req["lit"])))
            else:
                pat = re.compile(req["re"].encode("latin1"), re.S)
            deadline = time.monotonic() + req.get("timeout", 10)
            chunks = []
            while True:
                m = pat.search(buf)
                if m:
                    out = bytes(buf[: m.end()])
                    del buf[: m.end()]
                    reply({"ok": True, "hex": hx(out), "pending": len(buf), "chunks": [hx(c) for c in chunks]})
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    reply({"ok": False, "error": "timeout", "hex": hx(buf)})
                    break
                c = read_some(left)
                if c is not None:
                    chunks.append(c)
        elif op == "drain":
            quiet = req.get("quiet", 0.2)
            while read_some(quiet) is not None:
                pass
            out = bytes(buf)
            buf.clear()
            reply({"ok": True, "hex": hx(out)})
        elif op == "close":
            if fd is not None:
                os.close(fd)
            fd = None
            buf.clear()
            reply({"ok": True})
        elif op == "exit":
            break
        else:
            reply({"ok": False, "error": "unknown op " + op})
    except Exception as e:
        reply({"ok": False, "error": "%s: %s" % (type(e).__name__, e), "hex": hx(buf)})
`;

interface Reply {
  ok: boolean;
  error?: string;
  hex?: string;
  n?: number;
  pending?: number;
  chunks?: string[];
}

export interface ReadResult {
  /** The bytes up to and including the match. */
  bytes: Buffer;
  /** The same as latin1 text (what most assertions compare). */
  text: string;
  /** Bytes read but left behind the match (already in the firmware's buffer). */
  pending: number;
  /** The os.read() chunks received while waiting (for "arrived as its own write" checks). */
  chunks: Buffer[];
}

export interface Firmware {
  /** The python process id. */
  readonly pid: number;
  /** Open the device (raw, 115200 8N1). `flush` discards what the modem wrote before. */
  open(path: string, opts?: { flush?: boolean }): Promise<void>;
  /** Write bytes (a string is sent as latin1). */
  send(bytes: string | Buffer): Promise<void>;
  /** Read until `pattern` (a literal string/Buffer, or a RegExp run by python's `re`). */
  readUntil(pattern: string | Buffer | RegExp, timeoutMs?: number): Promise<ReadResult>;
  /** Everything already read plus what arrives until the line has been quiet for `quietMs`. */
  drain(quietMs?: number): Promise<Buffer>;
  /**
   * Send `line` + CR and read through the final result code (OK / ERROR / +CME ERROR) or the
   * `> ` data prompt. Returns everything read, echo included.
   */
  at(line: string, timeoutMs?: number): Promise<string>;
  /** Close the device (the process stays). */
  closePort(): Promise<void>;
  /** Close the device and end the process; resolves when it has exited. */
  exit(): Promise<void>;
  /** SIGKILL the process (device closed by the kernel). Idempotent. */
  kill(): Promise<void>;
  /** What the process wrote on stderr (for failure messages). */
  stderr(): string;
}

/** Final result codes and the data prompt, as python regex source. */
export const FINAL_RE = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n|\r\n> /;

const live = new Set<Firmware>();

let python: string | undefined;
/**
 * The real interpreter behind `python3` (a pyenv shim costs ~0.3 s per start), asked once per
 * test process. Scripts of the tests use the standard library only: start them with
 * {@link PY_FLAGS}.
 */
export function pythonBin(): string {
  if (!python) {
    try {
      python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() || 'python3';
    } catch {
      python = 'python3';
    }
  }
  return python;
}

/**
 * `-S`: no `site` module — the scripts need only the standard library, and `site` (with whatever
 * .pth files the machine has) is most of a start-up (~60 ms of CPU instead of ~15 ms here).
 */
export const PY_FLAGS = ['-S'] as const;

/** Kill every firmware process still running (for afterEach / afterAll). */
export async function killAllFirmware(): Promise<void> {
  await Promise.all([...live].map((f) => f.kill()));
}

export function startFirmware(): Firmware {
  const child: ChildProcessWithoutNullStreams = spawn(pythonBin(), [...PY_FLAGS, '-u', '-c', FIRMWARE_PY], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('close', () => {
      exited = true;
      for (const w of waiting.splice(0)) w.reject(new Error(`firmware exited; stderr: ${err.trim()}`));
      resolve();
    });
  });
  child.once('error', (e) => {
    err += `spawn error: ${e.message}\n`;
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (err += s));
  child.stdout.on('data', (s: string) => {
    out += s;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      const w = waiting.shift();
      if (!w) continue;
      try {
        w.resolve(JSON.parse(line) as Reply);
      } catch {
        w.reject(new Error(`firmware said something that is not JSON: ${line}`));
      }
    }
  });
  // Never keep the test process alive because of a stray firmware.
  child.stdin.on('error', () => undefined);

  const request = (req: Record<string, unknown>, timeoutMs: number): Promise<Reply> =>
    new Promise<Reply>((resolve, reject) => {
      if (exited) return reject(new Error(`firmware has exited; stderr: ${err.trim()}`));
      // The python side enforces its own timeout; this guard only catches a stuck process.
      const guard = setTimeout(() => reject(new Error(`firmware did not answer ${String(req.op)} in time`)), timeoutMs + 5000);
      waiting.push({
        resolve: (r) => {
          clearTimeout(guard);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(guard);
          reject(e);
        },
      });
      child.stdin.write(`${JSON.stringify(req)}\n`);
    });

  const must = async (req: Record<string, unknown>, timeoutMs = 10_000): Promise<Reply> => {
    const r = await request(req, timeoutMs);
    if (!r.ok) {
      const got = r.hex ? JSON.stringify(Buffer.from(r.hex, 'hex').toString('latin1')) : '(nothing)';
      throw new Error(`firmware ${String(req.op)} failed: ${r.error}; read so far: ${got}`);
    }
    return r;
  };

  const readUntil = async (pattern: string | Buffer | RegExp, timeoutMs = 10_000): Promise<ReadResult> => {
    const req: Record<string, unknown> = { op: 'read_until', timeout: timeoutMs / 1000 };
    if (pattern instanceof RegExp) req.re = pattern.source;
    else req.lit = (typeof pattern === 'string' ? Buffer.from(pattern, 'latin1') : pattern).toString('hex');
    const r = await request(req, timeoutMs);
    if (!r.ok) {
      const got = JSON.stringify(Buffer.from(r.hex ?? '', 'hex').toString('latin1'));
      const what = pattern instanceof RegExp ? String(pattern) : JSON.stringify(pattern.toString());
      throw new Error(`firmware: ${r.error} waiting for ${what}; read so far: ${got}`);
    }
    const bytes = Buffer.from(r.hex ?? '', 'hex');
    return {
      bytes,
      text: bytes.toString('latin1'),
      pending: r.pending ?? 0,
      chunks: (r.chunks ?? []).map((c) => Buffer.from(c, 'hex')),
    };
  };

  const fw: Firmware = {
    pid: child.pid ?? -1,
    open: async (path, opts = {}) => {
      await must({ op: 'open', path, flush: opts.flush ?? false });
    },
    send: async (bytes) => {
      const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
      await must({ op: 'write', hex: b.toString('hex') });
    },
    readUntil,
    drain: async (quietMs = 200) => {
      const r = await must({ op: 'drain', quiet: quietMs / 1000 }, quietMs + 10_000);
      return Buffer.from(r.hex ?? '', 'hex');
    },
    at: async (line, timeoutMs = 10_000) => {
      await fw.send(`${line}\r`);
      return (await readUntil(FINAL_RE, timeoutMs)).text;
    },
    closePort: async () => {
      await must({ op: 'close' });
    },
    exit: async () => {
      if (!exited) {
        child.stdin.end(`${JSON.stringify({ op: 'exit' })}\n`);
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(t);
      }
      live.delete(fw);
    },
    kill: async () => {
      if (!exited) {
        child.kill('SIGKILL');
        await exitPromise;
      }
      live.delete(fw);
    },
    stderr: () => err,
  };
  live.add(fw);
  return fw;
}
