/**
 * The process's open-file limit, and whether a fleet fits in it. Each modem of a fleet holds
 * file descriptors: its PTY master and slave, a driver's own descriptor on the slave (--drive),
 * and once connected its MQTT socket, the fault proxy's two sockets and the embedded broker's
 * end: ~10 in all — measured: 19,816 open descriptors for 2,000 driven, connected modems
 * (issue 12, benchmarks/cluster-fleet.ts). At the limit, accept() and connect() fail with EMFILE
 * and the fleet stalls without a word, so say so at start.
 */
import fs from 'node:fs';

/** Descriptors a connected modem holds (10 with a drive script). */
export const FDS_PER_MODEM = 10;

/** The soft "Max open files" of this process (/proc/self/limits), or undefined where unknown. */
export function openFileLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const line = fs.readFileSync(limits, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const n = Number(soft);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A one-line warning when `modems` connected modems may not fit in `limit` descriptors, else undefined. */
export function fdLimitWarning(modems: number, limit: number | undefined): string | undefined {
  if (limit === undefined) return undefined;
  const need = modems * FDS_PER_MODEM + 100;
  if (need <= limit) return undefined;
  return `${modems} modems may need about ${need} open files once connected (${FDS_PER_MODEM} each: PTY, driver, MQTT link, fault proxy, broker), more than this process's limit of ${limit}; raise it (ulimit -n ${need}) or spread the modems over --cluster nodes`;
}
