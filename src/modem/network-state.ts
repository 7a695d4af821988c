/**
 * The emulated radio side: functionality level (AT+CFUN), registration (AT+CREG/CEREG), attach,
 * PDP context and signal quality. Command sets listen for `down` to end their links the way
 * the module documents.
 */
import { EventEmitter } from 'node:events';

export interface NetworkEvents {
  /** The data path went away (CFUN=0/4, registration lost): open links must end. */
  down: [cause: 'cfun' | 'deregistered'];
  up: [];
  change: [];
}

/** 3GPP TS 27.007 <stat>: 0 not registered, 1 home, 2 searching, 3 denied, 5 roaming. */
export type RegStat = 0 | 1 | 2 | 3 | 4 | 5;

export class NetworkState extends EventEmitter<NetworkEvents> {
  cfun: 0 | 1 | 4 = 1;
  /** Registration as the operator would grant it when the radio is on. */
  private operatorStat: RegStat = 1;
  /** AT+CSQ: rssi 0–31 or 99, ber 0–7 or 99. */
  rssi = 24;
  ber = 99;
  /** AT+CREG=<n> / AT+CEREG=<n> unsolicited modes. */
  cregMode = 0;
  ceregMode = 0;
  pdpActive = true;

  get regStat(): RegStat {
    return this.cfun === 1 ? this.operatorStat : 0;
  }

  /** Whether data can flow (registered, attached, PDP up). */
  get dataReady(): boolean {
    return this.cfun === 1 && (this.operatorStat === 1 || this.operatorStat === 5) && this.pdpActive;
  }

  setCfun(level: 0 | 1 | 4): void {
    const was = this.dataReady;
    this.cfun = level;
    this.settle(was, 'cfun');
  }

  setRegistration(stat: RegStat): void {
    const was = this.dataReady;
    this.operatorStat = stat;
    this.settle(was, 'deregistered');
  }

  private settle(was: boolean, cause: 'cfun' | 'deregistered'): void {
    const now = this.dataReady;
    this.emit('change');
    if (was && !now) this.emit('down', cause);
    if (!was && now) this.emit('up');
  }
}
