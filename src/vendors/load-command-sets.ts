/**
 * The command sets of registry.ts, each loaded when a profile needs it: `vmodem start` builds
 * only its profiles' sets instead of evaluating every vendor's commands (about 20 ms of a cold
 * start on the 2-core machine, issue 12 §3). registry.ts stays the registry of everything (the
 * library, `vmodem check`, tests); test/vendors/load-command-sets.test.ts keeps the two alike.
 */
import type { CommandSetFactory, CommandSetRegistry } from '../modem/device.js';

export const COMMAND_SET_LOADERS: Readonly<Record<string, () => Promise<CommandSetFactory>>> = {
  common: async () => (await import('./common/index.js')).commonCommandSet,
  cellular: async () => (await import('./common/cellular.js')).cellularCommandSet,
  'quectel-basic': async () => (await import('./quectel/basic/index.js')).quectelBasicCommandSet,
  'quectel-lte': async () => (await import('./quectel/basic/lte.js')).quectelLteCommandSet,
  'quectel-nbiot': async () => (await import('./quectel/basic/nbiot.js')).quectelNbiotCommandSet,
  'onemo-basic': async () => (await import('./onemo/basic/index.js')).onemoBasicCommandSet,
  'yuge-basic': async () => (await import('./yuge/basic/index.js')).yugeBasicCommandSet,
  'esp-at': async () => (await import('./espressif/esp-at/index.js')).espAtCommandSet,
  'neoway-basic': async () => (await import('./neoway/basic/index.js')).neowayBasicCommandSet,
  'quectel-qmt-ec200': async () => (await import('./quectel/qmt/index.js')).quectelQmtEc200CommandSet,
  'quectel-qmt-bc260y': async () => (await import('./quectel/qmt-bc260y/index.js')).quectelQmtBc260yCommandSet,
  'onemo-mqtt': async () => (await import('./onemo/mqtt/index.js')).onemoMqttCommandSet,
  'tencent-qcloud': async () => (await import('./tencent/index.js')).tencentQcloudCommandSet,
  'yuge-imqtt': async () => (await import('./yuge/imqtt/index.js')).yugeImqttCommandSet,
};

/**
 * A registry with `common` and the given sets. An id no loader knows is left out, so the modem
 * reports it as it reports an id missing from registry.ts ("unknown command set").
 */
export async function loadCommandSets(ids: Iterable<string>): Promise<CommandSetRegistry> {
  const wanted = [...new Set(['common', ...ids])].filter((id) => Object.hasOwn(COMMAND_SET_LOADERS, id));
  const sets = await Promise.all(wanted.map(async (id) => [id, await COMMAND_SET_LOADERS[id]!()] as const));
  return Object.fromEntries(sets);
}
