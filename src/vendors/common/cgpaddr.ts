/**
 * AT+CGPADDR — show PDP address(es) (3GPP TS 27.007 §10.1.14): `+CGPADDR: <cid>[,<PDP_addr>]`,
 * the address left out while the context is not active. No <cid>: every defined context.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';
import { MAX_CID } from './packet-domain.js';

export function cgpaddrCommand(device: Device): CommandDef {
  const net = device.network;
  const line = (cid: number) => {
    const c = net.contexts.get(cid);
    return c?.active && c.ip ? `+CGPADDR: ${cid},"${c.ip}"` : `+CGPADDR: ${cid}`;
  };
  const defined = () => [...net.contexts.keys()].sort((a, b) => a - b);
  return {
    name: '+CGPADDR',
    test: () => ok(`+CGPADDR: (${defined().join(',')})`),
    exec: () => ok(...defined().map(line)),
    set: (ctx) =>
      withArgs(ctx, [{ name: 'cid', type: 'int', min: 1, max: MAX_CID }], ([cid]) =>
        // 27.007: several <cid>s may be listed; each one answers a line.
        ok(...[cid, ...ctx.args.slice(1).flatMap((a) => (a.kind === 'int' ? [a.value] : []))].map(line)),
      ),
  };
}
