/**
 * What a system test needs from the machine (test/system/): programs from Debian packages.
 * A test whose programs are missing is skipped, and says so in its name with the package to
 * install — it never fails for that reason, and it never passes without having run.
 *
 *   const mosq = requires('mosquitto', 'mosquitto_sub');
 *   describe.skipIf(mosq.missing)(`against mosquitto${mosq.note}`, () => { … });
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** The Debian package that brings each program a system test may need. */
const PACKAGES = {
  mosquitto: 'mosquitto',
  mosquitto_passwd: 'mosquitto',
  mosquitto_sub: 'mosquitto-clients',
  mosquitto_pub: 'mosquitto-clients',
  python3: 'python3',
  stdbuf: 'coreutils',
  'chromium': 'chromium',
  'redis-server': 'redis-server',
} as const;

export type Program = keyof typeof PACKAGES;

/** sbin directories too: Debian puts the mosquitto broker in /usr/sbin, often not on a user's PATH. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of an executable program, or undefined. */
export function which(program: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN];
  for (const dir of dirs) {
    const p = path.join(dir, program);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export interface Requirement {
  /** True when a program is missing: pass to describe.skipIf / it.skipIf. */
  missing: boolean;
  /** '' when everything is there; otherwise ` — skipped: needs mosquitto (apt-get install mosquitto)`. */
  note: string;
  /** The reason alone ('' when nothing is missing). */
  reason: string;
}

const announced = new Set<string>();

/** Check that these programs are installed; see the file comment for the shape of a use. */
export function requires(...programs: Program[]): Requirement {
  const absent = programs.filter((p) => which(p) === undefined);
  if (absent.length === 0) return { missing: false, note: '', reason: '' };
  const packages = [...new Set(absent.map((p) => PACKAGES[p]))];
  const reason = `skipped: needs ${absent.join(', ')} (apt-get install ${packages.join(' ')})`;
  // One line on the console per missing set, so a skip is seen even by the default reporter.
  if (!announced.has(reason)) {
    announced.add(reason);
    process.stdout.write(`${reason}\n`);
  }
  return { missing: true, note: ` — ${reason}`, reason };
}
