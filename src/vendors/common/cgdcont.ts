/**
 * AT+CGDCONT — define PDP context (3GPP TS 27.007 §10.1.1):
 * `AT+CGDCONT=<cid>[,<PDP_type>[,<APN>[,<PDP_addr>[,<d_comp>[,<h_comp>]]]]]`; `AT+CGDCONT=<cid>`
 * alone undefines it. Read: `+CGDCONT: <cid>,<PDP_type>,<APN>,<PDP_addr>,<d_comp>,<h_comp>` per
 * defined context, the address the network assigned while it is active. The definitions are kept
 * in the module's NV on real modules: a reset keeps them.
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';
import { MAX_CID } from './packet-domain.js';

export const PDP_TYPES = ['IP', 'IPV6', 'IPV4V6', 'NON-IP'];

export function cgdcontCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+CGDCONT',
    test: () => ok(...['IP', 'IPV6', 'IPV4V6'].map((t) => `+CGDCONT: (1-${MAX_CID}),"${t}",,,(0-2),(0-4)`)),
    read: () =>
      ok(
        ...[...net.contexts.values()]
          .sort((a, b) => a.cid - b.cid)
          .map((c) => `+CGDCONT: ${c.cid},"${c.type}","${c.apn}","${c.active && c.ip ? c.ip : '0.0.0.0'}",0,0`),
      ),
    set: (ctx) =>
      withArgs(
        ctx,
        [
          { name: 'cid', type: 'int', min: 1, max: MAX_CID },
          { name: 'PDP_type', type: 'string', maxLength: 8, optional: true },
          { name: 'APN', type: 'string', maxLength: 99, optional: true },
          { name: 'PDP_addr', type: 'string', maxLength: 64, optional: true },
          { name: 'd_comp', type: 'int', min: 0, max: 3, optional: true },
          { name: 'h_comp', type: 'int', min: 0, max: 4, optional: true },
        ],
        ([cid, type, apn]) => {
          if (ctx.args.length === 1) {
            net.undefineContext(cid);
            return ok();
          }
          const t = type === undefined ? undefined : type.toUpperCase();
          if (t !== undefined && !PDP_TYPES.includes(t)) return error(50, `PDP type ${t}`);
          net.defineContext(cid, { type: t === 'NON-IP' ? 'Non-IP' : t, apn });
          return ok();
        },
      ),
  };
}
