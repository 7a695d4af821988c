#!/usr/bin/env python3
"""AT round-trip client for `npm run bench`: the fallback for rt-client.c when no C compiler is
available. Same arguments, the same JSON output and the same RT_RAW latency file:

    rt_client.py DEVICE WARMUP COUNT [INIT_CMD...]

Python tops out around 8-11k round trips/s on the reference 2-core machine, so with this client
the client itself may be the bottleneck.
"""
import json
import struct
import os
import resource
import sys
import termios
import time
import tty

TIMEOUT_DS = 50
REQ = b"AT\r"
EXPECTED = b"\r\nOK\r\n"


def read_reply(fd):
    buf = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            sys.stderr.write("rt_client.py: timed out waiting for OK (got %r)\n" % buf)
            sys.exit(3)
        buf += chunk
        if buf.endswith(b"OK\r\n"):
            return True, buf
        if b"ERROR" in buf and buf.endswith(b"\r\n"):
            return False, buf


def cpu_us():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e6)


def drain(fd):
    attrs = termios.tcgetattr(fd)
    quick = list(attrs)
    quick[6] = list(attrs[6])
    quick[6][termios.VMIN] = 0
    quick[6][termios.VTIME] = 2
    termios.tcsetattr(fd, termios.TCSANOW, quick)
    total = 0
    while True:
        b = os.read(fd, 4096)
        if not b:
            break
        total += len(b)
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    return total


def main():
    if len(sys.argv) < 4:
        sys.stderr.write("usage: rt_client.py DEVICE WARMUP COUNT [INIT_CMD...]\n")
        return 64
    dev, warmup, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    inits = sys.argv[4:]
    fd = os.open(dev, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[6][termios.VMIN] = 0
    attrs[6][termios.VTIME] = TIMEOUT_DS
    termios.tcsetattr(fd, termios.TCSANOW, attrs)

    out = {"client": "python", "drained": drain(fd), "init": []}
    for cmd in inits:
        os.write(fd, cmd.encode("latin-1") + b"\r")
        ok, buf = read_reply(fd)
        out["init"].append({"cmd": cmd, "ok": ok, "bytes": len(buf)})

    write, read, clock = os.write, read_reply, time.perf_counter_ns
    for _ in range(warmup):
        write(fd, REQ)
        ok, _buf = read(fd)
        if not ok:
            sys.stderr.write("rt_client.py: AT answered ERROR during warm-up\n")
            return 4

    lat = [0] * count
    unexpected = 0
    first = b""
    cpu0 = cpu_us()
    start = clock()
    for i in range(count):
        t0 = clock()
        write(fd, REQ)
        ok, buf = read(fd)
        lat[i] = clock() - t0
        if not ok:
            sys.stderr.write("rt_client.py: AT answered ERROR\n")
            return 4
        if i == 0:
            first = buf[:63]
        if buf != EXPECTED:
            unexpected += 1
    elapsed = clock() - start
    os.close(fd)

    raw = os.environ.get("RT_RAW")
    if raw:
        with open(raw, "wb") as f:
            f.write(struct.pack("<%dI" % count, *(min(v, 0xFFFFFFFF) for v in lat)))

    lat.sort()

    def pct(p):
        return lat[int((count - 1) * p + 0.5)]

    out.update(
        n=count,
        elapsed_ns=elapsed,
        min_ns=lat[0],
        mean_ns=sum(lat) // count,
        p50_ns=pct(0.50),
        p90_ns=pct(0.90),
        p99_ns=pct(0.99),
        p999_ns=pct(0.999),
        max_ns=lat[-1],
        unexpected=unexpected,
        cpu_us=cpu_us() - cpu0,
        cpu_total_us=cpu_us(),
        reply_bytes=len(first),
        reply_hex=first.hex(),
    )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
