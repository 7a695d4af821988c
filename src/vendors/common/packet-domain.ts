/**
 * AT+CGATT (3GPP TS 27.007 §10.1.9) and AT+CGACT (§10.1.10). Detaching or deactivating the
 * context takes the data path down like losing the network does.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';

export function packetDomainCommands(device: Device): CommandDef[] {
  const net = device.network;
  const attached = () => (net.regStat === 1 || net.regStat === 5 ? 1 : 0);
  return [
    {
      name: '+CGATT',
      test: () => ok('+CGATT: (0,1)'),
      read: () => ok(`+CGATT: ${attached()}`),
      set: (ctx) =>
        withArgs(ctx, [{ name: 'state', type: 'int', values: [0, 1] }], ([state]) => {
          net.setRegistration(state === 1 ? 1 : 0);
          return ok();
        }),
    },
    {
      name: '+CGACT',
      test: () => ok('+CGACT: (0,1)'),
      read: () => ok(`+CGACT: 1,${net.pdpActive && net.dataReady ? 1 : 0}`),
      set: (ctx) =>
        withArgs(
          ctx,
          [
            { name: 'state', type: 'int', values: [0, 1] },
            { name: 'cid', type: 'int', min: 1, max: 15, optional: true },
          ],
          ([state]) => {
            const was = net.dataReady;
            net.pdpActive = state === 1;
            if (was && !net.dataReady) net.emit('down', 'deregistered');
            if (!was && net.dataReady) net.emit('up');
            net.emit('change');
            return ok();
          },
        ),
    },
  ];
}
