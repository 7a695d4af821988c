export { createRecorder } from './recorder.js';
export type { Recorder, RecorderOptions } from './recorder.js';
export { convertRecording, recordingToTranscript, expectLine } from './to-transcript.js';
export type { ConvertedRecording } from './to-transcript.js';
export { readRecording, recordBytes, bytesOf, isPrintable, RecordingFormatError, RECORDING_FORMAT } from './format.js';
export type * from './format.js';
