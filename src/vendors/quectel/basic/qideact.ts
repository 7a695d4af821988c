/**
 * AT+QIDEACT — deactivate a PDP context (Quectel LTE Standard TCP/IP application note §2.1.3):
 * `AT+QIDEACT=<contextID>` answers OK once it is down (the manual allows 40 s). Links over it end
 * the way losing the network ends them (+QMTSTAT for MQTT).
 */
import { error, ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';
import { QUECTEL_MAX_CONTEXT } from './qicsgp.js';

export function qideactCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+QIDEACT',
    test: () => ok(`+QIDEACT: (1-${QUECTEL_MAX_CONTEXT})`),
    set: (ctx) =>
      withArgs(
        ctx,
        [{ name: 'contextID', type: 'int', min: 1, max: QUECTEL_MAX_CONTEXT }],
        async ([cid]) => {
          await net.deactivate(cid);
          return ok();
        },
        () => error(undefined, 'bad AT+QIDEACT arguments'),
      ),
  };
}
