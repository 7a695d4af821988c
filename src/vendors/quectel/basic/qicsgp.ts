/**
 * AT+QICSGP — configure parameters of a TCP/IP context (Quectel LTE Standard TCP/IP application
 * note §2.1.1): `AT+QICSGP=<contextID>[,<context_type>,"<APN>"[,"<username>","<password>"[,<authentication>]]]`.
 * With only <contextID> it reports `+QICSGP: <context_type>,"<APN>","<username>","<password>",<authentication>`.
 * <context_type> 1 IPv4, 2 IPv6, 3 IPv4v6; <authentication> 0 none, 1 PAP, 2 CHAP, 3 PAP or CHAP.
 * It writes the same context definitions as AT+CGDCONT (one table on the module).
 */
import { error, ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';

export const QUECTEL_MAX_CONTEXT = 15;
const TYPE_OF: Record<number, string> = { 1: 'IP', 2: 'IPV6', 3: 'IPV4V6' };
export const contextTypeCode = (type: string): number => ({ IP: 1, IPV6: 2, IPV4V6: 3 })[type.toUpperCase()] ?? 1;

export function qicsgpCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+QICSGP',
    sensitive: true,
    test: () => ok(`+QICSGP: (1-${QUECTEL_MAX_CONTEXT}),(1-3),"APN","USERNAME","PASSWORD",(0-3)`),
    set: (ctx) =>
      withArgs(
        ctx,
        [
          { name: 'contextID', type: 'int', min: 1, max: QUECTEL_MAX_CONTEXT },
          { name: 'context_type', type: 'int', min: 1, max: 3, optional: true },
          { name: 'APN', type: 'string', maxLength: 99, optional: true },
          { name: 'username', type: 'string', maxLength: 127, optional: true },
          { name: 'password', type: 'string', maxLength: 127, optional: true },
          { name: 'authentication', type: 'int', min: 0, max: 3, optional: true },
        ],
        ([cid, type, apn, username, password, auth]) => {
          if (ctx.args.length === 1) {
            const c = net.contexts.get(cid);
            if (!c) return ok(`+QICSGP: 1,"","","",0`);
            return ok(`+QICSGP: ${contextTypeCode(c.type)},"${c.apn}","${c.username}","${c.password}",${c.auth}`);
          }
          if (type === undefined || apn === undefined) return error(undefined, 'AT+QICSGP needs <context_type> and <APN>');
          net.defineContext(cid, {
            type: TYPE_OF[type]!,
            apn,
            username: username ?? '',
            password: password ?? '',
            auth: auth ?? 0,
          });
          return ok();
        },
        () => error(undefined, 'bad AT+QICSGP arguments'),
      ),
  };
}
