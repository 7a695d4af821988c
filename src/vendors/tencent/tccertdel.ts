/**
 * AT+TCCERTDEL — 证书删除 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.5).
 *   AT+TCCERTDEL=?  → +TCCERTDEL:"Cert_name"
 *   AT+TCCERTDEL?   → +TCCERTDEL:<cert_name> per stored file, then OK
 *   AT+TCCERTDEL=<cert_name>  → OK, then +TCCERTDEL:OK | +TCCERTDEL:FAIL,<err_code>
 *
 * Where the manual is silent: no such file → FAIL,204. A connection already signed in with the
 * certificate stays up (the TLS session holds its copy).
 */
import { ok, type CommandDef } from '../../at/types.js';
import { tcArgs } from './args.js';
import { refuseCertCommand } from './tccertadd.js';
import type { TencentContext } from './context.js';
import { CME } from './errors.js';
import { quote } from './format.js';

export function tccertdelCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCCERTDEL',
    test: () => ok(q.fmt.line('TCCERTDEL', '"Cert_name"')),
    read: () => ok(...q.flash.certNames().map((n) => q.fmt.line('TCCERTDEL', quote(n)))),
    set: (ctx) =>
      tcArgs(ctx, [{ name: 'cert_name', type: 'string' }], ([nameV]) => {
        const name = nameV;
        const refused = refuseCertCommand(q, name);
        if (refused) return refused;
        if (!q.flash.cert(name)) {
          q.report(q.fmt.fail('TCCERTDEL', CME.invalidParam), 'result');
          return ok();
        }
        try {
          q.flash.removeCert(name);
          q.log.info({ name }, 'certificate deleted');
          q.report(q.fmt.ok('TCCERTDEL'), 'result');
        } catch (err) {
          q.log.warn({ err }, 'flash write failed');
          q.report(q.fmt.fail('TCCERTDEL', CME.flash), 'result');
        }
        return ok();
      }),
  };
}
