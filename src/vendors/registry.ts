/**
 * Vendor command sets by id, as profiles name them in `commandSets`. The `common` set is built
 * by the modem itself (it needs the modem's reset hooks).
 */
import type { CommandSetFactory } from '../modem/device.js';
import { onemoMqttCommandSet } from './onemo/mqtt/index.js';
import { quectelBasicCommandSet } from './quectel/basic/index.js';
import { quectelQmtEc200CommandSet } from './quectel/qmt/index.js';
import { quectelQmtBc260yCommandSet } from './quectel/qmt-bc260y/index.js';
import { tencentQcloudCommandSet } from './tencent/index.js';
import { yugeImqttCommandSet } from './yuge/imqtt/index.js';

export const COMMAND_SETS: Record<string, CommandSetFactory> = {
  'quectel-basic': quectelBasicCommandSet,
  'quectel-qmt-ec200': quectelQmtEc200CommandSet,
  'quectel-qmt-bc260y': quectelQmtBc260yCommandSet,
  'onemo-mqtt': onemoMqttCommandSet,
  'tencent-qcloud': tencentQcloudCommandSet,
  'yuge-imqtt': yugeImqttCommandSet,
};
