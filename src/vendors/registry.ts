/**
 * The default command-set registry: every set by id, as profiles name them in `commandSets`.
 * The composition root (src/vmodem.ts, src/check/memory-modem.ts, tests) passes it to
 * `new Modem({ commandSets: COMMAND_SETS })`; the modem imports no vendor. `common` (3GPP/V.250
 * basics) is built for every modem, first.
 */
import type { CommandSetRegistry } from '../modem/device.js';
import { cellularCommandSet } from './common/cellular.js';
import { commonCommandSet } from './common/index.js';
import { espAtCommandSet } from './espressif/esp-at/index.js';
import { neowayBasicCommandSet } from './neoway/basic/index.js';
import { onemoBasicCommandSet } from './onemo/basic/index.js';
import { onemoMqttCommandSet } from './onemo/mqtt/index.js';
import { quectelBasicCommandSet } from './quectel/basic/index.js';
import { quectelLteCommandSet } from './quectel/basic/lte.js';
import { quectelNbiotCommandSet } from './quectel/basic/nbiot.js';
import { quectelQmtEc200CommandSet } from './quectel/qmt/index.js';
import { quectelQmtBc260yCommandSet } from './quectel/qmt-bc260y/index.js';
import { tencentQcloudCommandSet } from './tencent/index.js';
import { yugeBasicCommandSet } from './yuge/basic/index.js';
import { yugeImqttCommandSet } from './yuge/imqtt/index.js';

export const COMMAND_SETS: CommandSetRegistry = {
  common: commonCommandSet,
  cellular: cellularCommandSet,
  'quectel-basic': quectelBasicCommandSet,
  'quectel-lte': quectelLteCommandSet,
  'quectel-nbiot': quectelNbiotCommandSet,
  'onemo-basic': onemoBasicCommandSet,
  'yuge-basic': yugeBasicCommandSet,
  'esp-at': espAtCommandSet,
  'neoway-basic': neowayBasicCommandSet,
  'quectel-qmt-ec200': quectelQmtEc200CommandSet,
  'quectel-qmt-bc260y': quectelQmtBc260yCommandSet,
  'onemo-mqtt': onemoMqttCommandSet,
  'tencent-qcloud': tencentQcloudCommandSet,
  'yuge-imqtt': yugeImqttCommandSet,
};
