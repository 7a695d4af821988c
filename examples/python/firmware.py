#!/usr/bin/env python3
"""A minimal firmware for vmodem's quectel-ec200 profile, in Python with pyserial.

Opens the serial device, connects to the broker, subscribes to dev/<id>/down, publishes
"hello from python" to dev/<id>/up, waits for one message on dev/<id>/down and prints it.

    sudo apt-get install python3-serial        # or: pip install pyserial
    npx vmodem start --timing fast &           # or ./bin/vmodem start in a clone
    python3 examples/python/firmware.py /tmp/vmodem0 py1
    mosquitto_pub -p 1883 -t dev/py1/down -m hi  # what the cloud sends

Commands and results as in Quectel's "LTE Standard(A) Series MQTT Application Note" §3.3.
Exit status 0 once a message was received, 1 on an error or after 30 s.
"""
import re
import sys
import time

import serial  # pyserial

DEVICE = sys.argv[1] if len(sys.argv) > 1 else "/tmp/vmodem0"
ID = sys.argv[2] if len(sys.argv) > 2 else "py1"
DEADLINE = time.monotonic() + 30

port = serial.Serial(DEVICE, 115200, timeout=0.1)  # a PTY ignores the baud rate
buf = b""


def read_until(pattern):
    """Read lines until one matches `pattern` (a regex); return the match."""
    global buf
    while time.monotonic() < DEADLINE:
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            text = line.decode("latin1")
            if text:
                print("<", text, flush=True)
            m = re.match(pattern, text)
            if m:
                return m
            if text == "ERROR" or text.startswith("+CME ERROR"):
                sys.exit(f"error: {text}")
        if re.match(pattern, buf.decode("latin1")):  # the "> " prompt has no line end
            m = re.match(pattern, buf.decode("latin1"))
            buf = b""
            return m
        buf += port.read(256)
    sys.exit(f"timed out waiting for {pattern!r}")


def at(cmd, until="OK$"):
    print(">", cmd, flush=True)
    port.write(cmd.encode("latin1") + b"\r")
    return read_until(until)


at("ATE0")                                           # no echo: only answers come back
at('AT+QMTOPEN=0,"broker.example.com",1883')         # any host: vmodem uses its broker
read_until(r"\+QMTOPEN: 0,0$")
at(f'AT+QMTCONN=0,"{ID}"')
read_until(r"\+QMTCONN: 0,0,0$")
at(f'AT+QMTSUB=0,1,"dev/{ID}/down",1')
read_until(r"\+QMTSUB: 0,1,0,")
payload = b"hello from python"
at(f'AT+QMTPUBEX=0,1,1,0,"dev/{ID}/up",{len(payload)}', until=r"> ?$")
port.write(payload)                                  # exactly <length> bytes, no CR
read_until("OK$")
read_until(r"\+QMTPUBEX: 0,1,0$")
m = read_until(rf'\+QMTRECV: 0,\d+,"dev/{ID}/down","(.*)"$')
print("received:", m.group(1), flush=True)
port.close()
