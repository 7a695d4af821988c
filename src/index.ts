/**
 * vmodem as a library: start a modem (PTY + broker) from a test and drive it.
 */
export { startVmodem, parseBrokerUrl, VmodemConfigError, DEFAULT_LINK, DEFAULT_MQTT_PORT, DEFAULT_PROFILE } from './vmodem.js';
export type { VmodemOptions, RunningVmodem } from './vmodem.js';
export { Modem } from './modem/modem.js';
export type { ModemOptions } from './modem/modem.js';
export type { CommandSetFactory, CommandSetRegistry } from './modem/device.js';
// The default command sets, for `new Modem({ commandSets: COMMAND_SETS, … })`.
export { COMMAND_SETS } from './vendors/registry.js';
export { MemoryPort } from './port/memory-port.js';
export type { BytePort } from './port/byte-port.js';
export { openPtyPort } from './port/pty-port.js';
export { startEmbeddedBroker } from './broker/embedded-broker.js';
export { loadProfile, listProfileIds } from './profiles/load-profile.js';
export type { Profile } from './profiles/profile.js';
export { createLogger } from './util/logger.js';

// The test API: one modem (or several) with the controller's operations and expectations.
export { startModem, startModems, modemHandle, uniqueLinkPath, CONTROLLER_OPERATIONS } from './api.js';
export type {
  VirtualModem,
  StartModemOptions,
  StartModemsOptions,
  ControllerOperations,
  ExpectPublishMatch,
  ExpectOptions,
  ExpectPublishOptions,
  ExpectUrcOptions,
  UrcLine,
  UrcMatch,
  CloudPublish,
} from './api.js';
export { ModemController, ControlError } from './control/controller.js';
export type { ControlEvent, DevicePublish, Override } from './control/controller.js';
export type { ModemSpec, ModemInstance } from './vmodem.js';
// Scenarios (YAML timelines of operations) and config files (many modems).
export { parseScenario, loadScenarioFile, runScenario, checkScenarioTargets, parseDuration, ScenarioError, SCENARIO_SCHEMA } from './control/scenario.js';
export type { Scenario, ScenarioStep, ScenarioAction, ScenarioRun, ScenarioEvent, ScenarioModem, ScenarioTarget, RunScenarioOptions } from './control/scenario.js';
export { parseConfig, loadConfigFile, configToVmodemOptions } from './config/config-file.js';
export type { VmodemConfig, ParseConfigOptions } from './config/config-file.js';
// Recordings (`vmodem start --record`) as transcripts (`vmodem convert`, `vmodem check`); a
// recording's `hex` fields are the bytes, its `text` fields only a readable copy.
export { recordingToTranscript, convertRecording } from './record/to-transcript.js';
export type { ConvertedRecording } from './record/to-transcript.js';
