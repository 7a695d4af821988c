export { parseConfig, loadConfigFile, configToVmodemOptions, applyConfigToStartOptions } from './config-file.js';
export type { VmodemConfig, ParseConfigOptions } from './config-file.js';
