/**
 * AT+TCCERTCHECK — 证书校验 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.4).
 *   AT+TCCERTCHECK=?  → +TCCERTCHECK:"Cert_name"
 *   AT+TCCERTCHECK?   → +TCCERTCHECK:<cert_name> per stored file, then OK
 *   AT+TCCERTCHECK=<cert_name>  → OK, then +TCCERTCHECK:OK | +TCCERTCHECK:FAIL,<err_code>
 * The file is really parsed (node:crypto): a `.crt` must be a PEM X.509 certificate, a `.key` a
 * PEM private key.
 *
 * Where the manual is silent: no such file → FAIL,204; a file that does not parse → FAIL,203
 * (check failed).
 */
import { ok, type CommandDef } from '../../at/types.js';
import { tcArgs } from './args.js';
import { refuseCertCommand } from './tccertadd.js';
import { checkCertFile } from './certs.js';
import type { TencentContext } from './context.js';
import { CME } from './errors.js';
import { quote } from './format.js';

export function tccertcheckCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCCERTCHECK',
    test: () => ok(q.fmt.line('TCCERTCHECK', '"Cert_name"')),
    read: () => ok(...q.flash.certNames().map((n) => q.fmt.line('TCCERTCHECK', quote(n)))),
    set: (ctx) =>
      tcArgs(ctx, [{ name: 'cert_name', type: 'string' }], ([nameV]) => {
        const name = nameV;
        const refused = refuseCertCommand(q, name);
        if (refused) return refused;
        const data = q.flash.cert(name);
        if (!data) {
          q.report(q.fmt.fail('TCCERTCHECK', CME.invalidParam), 'result');
          return ok();
        }
        const check = checkCertFile(name, data);
        if (!check.ok) q.log.info({ name, problem: check.problem }, 'certificate check failed');
        q.report(check.ok ? q.fmt.ok('TCCERTCHECK') : q.fmt.fail('TCCERTCHECK', CME.checkFailed), 'result');
        return ok();
      }),
  };
}
