/**
 * vmodem as a library: start a modem (PTY + broker) from a test and drive it.
 */
export { startVmodem, parseBrokerUrl, VmodemConfigError, DEFAULT_LINK, DEFAULT_MQTT_PORT, DEFAULT_PROFILE } from './vmodem.js';
export type { VmodemOptions, RunningVmodem } from './vmodem.js';
export { Modem } from './modem/modem.js';
export type { ModemOptions } from './modem/modem.js';
export { MemoryPort } from './port/memory-port.js';
export type { BytePort } from './port/byte-port.js';
export { openPtyPort } from './port/pty-port.js';
export { startEmbeddedBroker } from './broker/embedded-broker.js';
export { loadProfile, listProfileIds } from './profiles/load-profile.js';
export type { Profile } from './profiles/profile.js';
export { createLogger } from './util/logger.js';
