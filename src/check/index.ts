export { runCheck, DEFAULT_CHECK_PROFILE } from './check.js';
export type { CheckOptions, CheckResult, CheckFailure } from './check.js';
export { createMemoryModem } from './memory-modem.js';
export type { MemoryModem, MemoryModemOptions } from './memory-modem.js';
export { transcriptPeer } from './transcript-peer.js';
export type { RecordingTranscriptPeer } from './transcript-peer.js';
