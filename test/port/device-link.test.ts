/**
 * A link that belongs to a running vmodem is not taken over: a second start with the same link is
 * refused with one line, while a link whose owner is gone (SIGKILL, a reused pid, a reused
 * /dev/pts/N) is replaced as before. In process with real PTYs and the CLI in-process; the spawned
 * CLI check is in test/system/cli/device-link.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLinkPath, linkOwnerFile } from '../../src/port/device-link.js';
import { openPtyPort, type PtyPort } from '../../src/port/pty-port.js';
import { runMain, useMainCleanup } from '../cli/in-process.js';

useMainCleanup();

const ports: PtyPort[] = [];
const links: string[] = [];
afterEach(async () => {
  for (const p of ports.splice(0)) await p.close();
  for (const l of links.splice(0)) {
    fs.rmSync(l, { force: true });
    fs.rmSync(linkOwnerFile(l), { force: true });
  }
});

function uniqueLink(): string {
  const l = path.join(os.tmpdir(), `vmodem-link-${process.pid}-${randomBytes(4).toString('hex')}`);
  links.push(l);
  return l;
}

async function open(link: string): Promise<PtyPort> {
  const p = await openPtyPort({ link, hostEvents: false });
  ports.push(p);
  return p;
}

function writeOwner(link: string, pid: number, device: string): void {
  const file = linkOwnerFile(link);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ pid, link, device }));
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

describe('link ownership', () => {
  it('refuses a second port on a link a running port owns, and leaves the link to its owner', async () => {
    const link = uniqueLink();
    const first = await open(link);
    const expected = `link ${link} belongs to a running vmodem (pid ${process.pid}, ${first.devicePath}); stop it first or choose another --link`;
    await expect(checkLinkPath(link)).rejects.toThrow(expected);
    await expect(openPtyPort({ link, hostEvents: false })).rejects.toThrow(expected);
    expect(fs.readlinkSync(link)).toBe(first.devicePath);

    // Once the owner closes, the link is free again.
    await first.close();
    expect(fs.existsSync(linkOwnerFile(link))).toBe(false);
    const second = await open(link);
    expect(fs.readlinkSync(link)).toBe(second.devicePath);
  });

  it('replaces a link whose recorded owner is dead (e.g. SIGKILLed)', async () => {
    const link = uniqueLink();
    fs.symlinkSync('/dev/pts/ptmx', link);
    writeOwner(link, deadPid(), '/dev/pts/ptmx');
    await expect(checkLinkPath(link)).resolves.toBe(link);
    const port = await open(link);
    expect(fs.readlinkSync(link)).toBe(port.devicePath);
    expect(JSON.parse(fs.readFileSync(linkOwnerFile(link), 'utf8'))).toEqual({ pid: process.pid, link, device: port.devicePath });
  });

  it('replaces a link whose recorded owner is alive but no longer holds the device (pid or pty reused)', async () => {
    const link = uniqueLink();
    fs.symlinkSync('/dev/pts/does-not-exist', link);
    // This process is alive, but holds no /dev/pts/does-not-exist.
    writeOwner(link, process.pid, '/dev/pts/does-not-exist');
    const port = await open(link);
    expect(fs.readlinkSync(link)).toBe(port.devicePath);
  });

  it('vmodem start (the CLI in-process) with the link of a running modem exits 2 with one line', async () => {
    const link = uniqueLink();
    const first = await open(link);
    const r = await runMain(['start', '--link', link, '--mqtt-port', '0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`vmodem: link ${link} belongs to a running vmodem (pid ${process.pid}, ${first.devicePath}); stop it first or choose another --link\n`);
    expect(fs.readlinkSync(link)).toBe(first.devicePath);
  });
});
