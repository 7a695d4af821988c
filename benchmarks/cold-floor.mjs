// The floor of `npm run bench:start` (benchmarks/cold-start.ts): the least a Node process must do
// before a firmware can get `OK` — load node-pty's native binding, open a PTY (openpty(3), as
// src/port/native-pty.ts does), publish the link (symlink under a temporary name, then rename)
// and answer every `\r` with `\r\nOK\r\n`. No stty: the client sets raw mode itself.
//   node benchmarks/cold-floor.mjs <link>
import fs from 'node:fs';
import { createRequire } from 'node:module';
import tty from 'node:tty';

const link = process.argv[2];
const require = createRequire(import.meta.url);
const pty = require('node-pty/lib/utils.js').loadNativeModule('pty').module;
const { master, slave, pty: device } = pty.open(80, 24);
fs.symlinkSync(device, `${link}.tmp`);
fs.renameSync(`${link}.tmp`, link);
const reader = new tty.ReadStream(master);
reader.on('data', (d) => {
  for (const b of d) if (b === 13) fs.writeSync(master, '\r\nOK\r\n');
});
const stop = () => {
  fs.rmSync(link, { force: true });
  fs.closeSync(slave);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdout.write('ready\n');
