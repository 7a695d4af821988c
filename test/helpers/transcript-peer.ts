/** Moved to src/check/transcript-peer.ts (`vmodem check` uses it); re-exported for the tests. */
export { transcriptPeer } from '../../src/check/transcript-peer.js';
export type { RecordingTranscriptPeer } from '../../src/check/transcript-peer.js';
