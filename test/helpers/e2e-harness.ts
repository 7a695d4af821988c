/**
 * End-to-end harness: a whole vmodem in this process (startVmodem, PTY + broker), a python
 * firmware in another process on the published link, and cleanup after every test.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { startVmodem, type RunningVmodem, type VmodemOptions } from '../../src/vmodem.js';
import { killAllFirmware, startFirmware, type Firmware } from './firmware.js';

/** A link path no other test (or process) uses. */
export function uniqueLink(tag = 'e2e'): string {
  return path.join(os.tmpdir(), `vmodem-${tag}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

const cleanups: (() => unknown)[] = [];

/** Run `fn` after the current test (last registered, first run). */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** Register the per-test cleanup; call once at the top of a test file. */
export function useE2eCleanup(): void {
  afterEach(async () => {
    await killAllFirmware();
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* best effort: one failed cleanup must not skip the others */
      }
    }
  });
}

export interface E2e {
  vm: RunningVmodem;
  link: string;
  /** The firmware opened on the link, `RDY` already read. */
  fw: Firmware;
  /** Start another firmware process on the same link (e.g. after a restart). */
  newFirmware(): Promise<Firmware>;
}

/** vmodem (fast timing, ephemeral broker port unless `broker` is given) plus a firmware. */
export async function startE2e(opts: VmodemOptions = {}): Promise<E2e> {
  const link = uniqueLink();
  const vm = await startVmodem({ link, mqttPort: 0, timing: 'fast', ...opts });
  onCleanup(async () => {
    await vm.stop();
    fs.rmSync(link, { force: true });
  });
  const fw = startFirmware();
  await fw.open(link);
  // The module announces itself once at power-on; the bytes waited in the PTY for the firmware.
  expect((await fw.readUntil('RDY\r\n')).text, 'boot output').toBe('\r\nRDY\r\n');
  return {
    vm,
    link,
    fw,
    newFirmware: async () => {
      const f = startFirmware();
      await f.open(link);
      return f;
    },
  };
}

/** `AT…\r` echoed, then the framed lines, then OK — what a command with echo on answers. */
export function reply(command: string, ...lines: string[]): string {
  const body = lines.length > 0 ? `\r\n${lines.join('\r\n')}\r\n` : '';
  return `${command}\r${body}\r\nOK\r\n`;
}

/** A URC as the modem writes it. */
export function urc(line: string): string {
  return `\r\n${line}\r\n`;
}

/**
 * Send a command whose result arrives later as a URC: expect exactly `reply(command)` first,
 * then exactly the URC.
 */
export async function atThenUrc(fw: Firmware, command: string, expectedUrc: string): Promise<void> {
  expect(await fw.at(command), command).toBe(reply(command));
  expect((await fw.readUntil(urc(expectedUrc))).text, `URC after ${command}`).toBe(urc(expectedUrc));
}

/** Open client 0 on the broker and connect it (the firmware names a production host). */
export async function openAndConnect(fw: Firmware, clientId: string, creds = ''): Promise<void> {
  await atThenUrc(fw, 'AT+QMTOPEN=0,"iot-as-mqtt.cn-shanghai.aliyuncs.com",1883', '+QMTOPEN: 0,0');
  await atThenUrc(fw, `AT+QMTCONN=0,"${clientId}"${creds}`, '+QMTCONN: 0,0,0');
}

/**
 * AT+QMTPUBEX: the `> ` prompt, exactly `payload.length` bytes, OK, then the +QMTPUBEX URC.
 * Returns once the URC has been read.
 */
export async function publishex(
  fw: Firmware,
  args: { msgid: number; qos: 0 | 1 | 2; retain?: boolean; topic: string },
  payload: Buffer | string,
): Promise<void> {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const cmd = `AT+QMTPUBEX=0,${args.msgid},${args.qos},${args.retain ? 1 : 0},"${args.topic}",${body.length}`;
  expect(await fw.at(cmd), cmd).toBe(`${cmd}\r\r\n> `);
  await fw.send(body);
  // The payload is not echoed (view mode 0); OK ends the command, the result follows as a URC.
  expect((await fw.readUntil('\r\nOK\r\n')).text, `${cmd}: after the payload`).toBe('\r\nOK\r\n');
  const u = urc(`+QMTPUBEX: 0,${args.msgid},0`);
  expect((await fw.readUntil(u)).text, `${cmd}: result URC`).toBe(u);
}
