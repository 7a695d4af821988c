/** Moved to src/check/memory-modem.ts (`vmodem check` uses it); re-exported for the tests. */
export { createMemoryModem } from '../../src/check/memory-modem.js';
export type { MemoryModem, MemoryModemOptions } from '../../src/check/memory-modem.js';
