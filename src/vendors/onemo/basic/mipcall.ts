/**
 * AT+MIPCALL — activate / deactivate a data call (OneMO ML307 TCP/IP user manual, "AT+MIPCALL"):
 * `AT+MIPCALL=<operation>[,<cid>[,"<APN>"[,"<username>","<password>"[,<auth_type>]]]]`,
 * <operation> 1 activate, 0 deactivate; <cid> 1 by default. OK comes first, the result as the
 * URC `+MIPCALL: <cid>,1,"<IP>"` (up) or `+MIPCALL: <cid>,0` (down) — the same URC the module
 * prints when the network deactivates the context. Read: `+MIPCALL: <cid>,<state>[,"<IP>"]` per
 * defined context.
 *
 * The module brings context 1 up by itself after registering; activating an active context
 * answers "+CME ERROR: 50" on a real ML307R (drivers query AT+MIPCALL? first for that reason).
 */
import { error, ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';
import { CME_NO_NETWORK, MAX_CID } from '../../common/packet-domain.js';

export function mipcallCommand(device: Device): CommandDef {
  const net = device.network;
  const up = (cid: number) => `+MIPCALL: ${cid},1,"${net.contexts.get(cid)?.ip ?? ''}"`;
  net.on('context', (cid, active, cause) => {
    if (!active && cause === 'network') device.urc(`+MIPCALL: ${cid},0`);
  });
  return {
    name: '+MIPCALL',
    sensitive: true,
    test: () => ok(`+MIPCALL: (0,1),(1-${MAX_CID})`),
    read: () =>
      ok(
        ...[...net.contexts.values()]
          .sort((a, b) => a.cid - b.cid)
          .map((c) => (c.active && net.registered ? up(c.cid) : `+MIPCALL: ${c.cid},0`)),
      ),
    set: (ctx) =>
      withArgs(
        ctx,
        [
          { name: 'operation', type: 'int', values: [0, 1] },
          { name: 'cid', type: 'int', min: 1, max: MAX_CID, optional: true },
          { name: 'APN', type: 'string', maxLength: 99, optional: true },
          { name: 'username', type: 'string', maxLength: 127, optional: true },
          { name: 'password', type: 'string', maxLength: 127, optional: true },
          { name: 'auth_type', type: 'int', min: 0, max: 3, optional: true },
        ],
        ([op, c, apn, username, password, auth]) => {
          const cid = (c as number | undefined) ?? 1;
          const existing = net.contexts.get(cid);
          if (op === 0) {
            if (!existing?.active) return error(50, `context ${cid} is not active`);
            void net.deactivate(cid).then(() => device.urc(`+MIPCALL: ${cid},0`));
            return ok();
          }
          if (existing?.active) return error(50, `context ${cid} is already active`);
          if (!net.registered) return error(CME_NO_NETWORK, 'not registered');
          if (!existing || apn !== undefined) {
            net.defineContext(cid, {
              apn: (apn as string | undefined) ?? existing?.apn ?? '',
              username: username as string | undefined,
              password: password as string | undefined,
              auth: auth as number | undefined,
            });
          }
          void net.activate(cid).then((done) => device.urc(done ? up(cid) : `+MIPCALL: ${cid},0`));
          return ok();
        },
      ),
  };
}
