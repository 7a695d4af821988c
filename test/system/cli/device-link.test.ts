/**
 * The spawned bin/vmodem refuses the link of a vmodem running in another process (this one):
 * one line, exit 2 (moved from test/port/device-link.test.ts, which checks the same in-process).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { linkOwnerFile } from '../../../src/port/device-link.js';
import { openPtyPort, type PtyPort } from '../../../src/port/pty-port.js';
import { ensureDist } from '../../api/ensure-dist.js';
import { runCli, useCliCleanup } from '../../cli/helpers.js';

useCliCleanup();
beforeAll(() => ensureDist(['cli/main.ts', 'vmodem.ts', 'port/device-link.ts']), 120_000);

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
  const l = path.join(os.tmpdir(), `vmodem-dl-${process.pid}-${randomBytes(6).toString('hex')}`);
  links.push(l);
  return l;
}

async function open(link: string): Promise<PtyPort> {
  const p = await openPtyPort({ link, hostEvents: false });
  ports.push(p);
  return p;
}

describe('link ownership across processes (spawned bin/vmodem)', () => {
  it('vmodem start with the link of a running modem exits 2 with one line', async () => {
    const link = uniqueLink();
    const first = await open(link);
    const r = await runCli(['start', '--link', link, '--mqtt-port', '0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`vmodem: link ${link} belongs to a running vmodem (pid ${process.pid}, ${first.devicePath}); stop it first or choose another --link\n`);
    expect(fs.readlinkSync(link)).toBe(first.devicePath);
  });
});
