/**
 * AT+CGATT (3GPP TS 27.007 §10.1.9) and AT+CGACT (§10.1.10). Attaching waits until the module is
 * registered (the command answers when it is, as on the module); detaching or deactivating a
 * context takes the data path down like losing the network does.
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';

/** 27.007 §9.2.1: 30 "no network service". */
export const CME_NO_NETWORK = 30;
export const MAX_CID = 15;

export function packetDomainCommands(device: Device): CommandDef[] {
  const net = device.network;
  return [
    {
      name: '+CGATT',
      test: () => ok('+CGATT: (0,1)'),
      read: () => ok(`+CGATT: ${net.registered ? 1 : 0}`),
      set: (ctx) =>
        withArgs(ctx, [{ name: 'state', type: 'int', values: [0, 1] }], async ([state]) => {
          const done = await net.setAttached(state === 1);
          return done ? ok() : error(CME_NO_NETWORK, 'cannot attach now');
        }),
    },
    {
      name: '+CGACT',
      test: () => ok('+CGACT: (0,1)'),
      read: () => ok(...[...net.contexts.values()].sort((a, b) => a.cid - b.cid).map((c) => `+CGACT: ${c.cid},${c.active && net.registered ? 1 : 0}`)),
      set: (ctx) =>
        withArgs(
          ctx,
          [
            { name: 'state', type: 'int', values: [0, 1] },
            { name: 'cid', type: 'int', min: 1, max: MAX_CID, optional: true },
          ],
          async ([state, cid]) => {
            // No <cid>: every defined context (§10.1.10).
            const cids = cid === undefined ? [...net.contexts.keys()] : [cid];
            for (const c of cids) {
              if (!net.contexts.has(c)) return error(50, `context ${c} is not defined`);
              if (state === 1) {
                if (!(await net.activate(c))) return error(CME_NO_NETWORK, 'not registered');
              } else await net.deactivate(c);
            }
            return ok();
          },
        ),
    },
  ];
}
