/**
 * The last-resort boundary's report. An unexpected error inside one modem (a bug in vmodem, never
 * a firmware or network condition, which each get their documented answer) is logged with the
 * modem's name and announced here; the modem answers ERROR or resets its MQTT state, and the other
 * modems carry on. The test suites listen and fail any test during which a fault was reported.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

export interface FaultReport {
  modem: string;
  where: string;
  err: unknown;
}

export const faults = new EventEmitter<{ fault: [report: FaultReport] }>();

export function reportFault(r: FaultReport & { log: Logger }): void {
  r.log.error({ modem: r.modem, where: r.where, err: r.err }, 'unexpected error (last-resort boundary); the modem carries on');
  faults.emit('fault', { modem: r.modem, where: r.where, err: r.err });
}
