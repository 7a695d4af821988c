/**
 * AT+QIACT — activate a PDP context (Quectel LTE Standard TCP/IP application note §2.1.2):
 * `AT+QIACT=<contextID>` answers OK once the context is up (the manual allows 150 s; the radio's
 * activateMs here), ERROR when it cannot be (not registered). The read form lists the active
 * contexts: `+QIACT: <contextID>,<context_state>,<context_type>,"<IP_address>"`.
 *
 * Activating a context that is already active answers OK: EC200-class modules bring context 1 up
 * with the LTE default bearer at attach, and the drivers written for them send AT+QIACT=1 anyway
 * (profile notes).
 */
import { error, ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';
import { contextTypeCode, QUECTEL_MAX_CONTEXT } from './qicsgp.js';

export function qiactCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+QIACT',
    test: () => ok(`+QIACT: (1-${QUECTEL_MAX_CONTEXT})`),
    read: () =>
      ok(
        ...[...net.contexts.values()]
          .filter((c) => c.active && net.registered)
          .sort((a, b) => a.cid - b.cid)
          .map((c) => `+QIACT: ${c.cid},1,${contextTypeCode(c.type)},"${c.ip ?? ''}"`),
      ),
    set: (ctx) =>
      withArgs(
        ctx,
        [{ name: 'contextID', type: 'int', min: 1, max: QUECTEL_MAX_CONTEXT }],
        async ([cid]) => {
          // An undefined context is activated with an empty APN (the network's default).
          if (!net.contexts.has(cid)) net.defineContext(cid, { type: 'IP', apn: '' });
          return (await net.activate(cid)) ? ok() : error(undefined, 'not registered');
        },
        () => error(undefined, 'bad AT+QIACT arguments'),
      ),
  };
}
