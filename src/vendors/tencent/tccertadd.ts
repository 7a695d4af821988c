/**
 * AT+TCCERTADD — 证书添加 (腾讯云 IoT MQTT AT 指令 V3.1.3 §2.3).
 *   AT+TCCERTADD=?  → +TCCERTADD:"CERT_NAME",CERT_SIZE(1-4096)
 *   AT+TCCERTADD?   → +TCCERTADD:<cert_name>,<cert_size> per stored file, then OK
 *   AT+TCCERTADD=<cert_name>,<cert_size>
 *                   → OK, `>`, then <cert_size> bytes (or fewer ended by Ctrl+Z),
 *                     then +TCCERTADD:OK | +TCCERTADD:FAIL,<err_code>
 * The file is stored in flash as given; a file of the same name is replaced. Certificates end in
 * `.crt`, private keys in `.key` (§2.3 note). AT+TCCERTCHECK parses them.
 *
 * Where the manual is silent:
 * - The prompt is `>` on a line of its own, after the OK (§1.2.3 "返回 OK >"). Drivers send a CRLF
 *   after the data that is not part of <cert_size>; it is dropped.
 * - Input ends at <cert_size> bytes, or at a Ctrl+Z (0x1A) before that (the data before it is the
 *   file). If no byte arrives for `dataIdleTimeout` (profile timing, 10 s) before either, the
 *   transfer fails with FAIL,202 (command timeout) and nothing is stored — unless the last byte
 *   that came was a Ctrl+Z (an engine that ends fixed-length input only by length still honours
 *   it, after the idle time).
 * - Names are 1–64 bytes without `/` or `\`; at most `certCount` files (more: +CME ERROR: 207).
 */
import { ok, type CommandDef, type DataEnd, type DataSpec, type Outcome } from '../../at/types.js';
import { refuseBusy, tcArgs } from './args.js';
import type { TencentContext } from './context.js';
import { badParam, cmeError, CME } from './errors.js';
import { quote } from './format.js';


/** A stored-file name (§2.3 <cert_name>). */
/**
 * The checks every certificate command makes first: a valid <cert_name>, and no connection or
 * OTA in progress. An outcome to answer with, or undefined to go on.
 */
export function refuseCertCommand(q: TencentContext, name: string): Outcome | undefined {
  const problem = certNameProblem(q, name);
  if (problem) return badParam(problem);
  return refuseBusy(q);
}

export function certNameProblem(q: TencentContext, name: string): string | undefined {
  if (name.length < 1 || name.length > q.data.limits.certName) return `<cert_name> must be 1-${q.data.limits.certName} bytes`;
  if (/[/\\\x00-\x1f]/.test(name)) return '<cert_name> has no slashes or control characters';
  return undefined;
}

/**
 * Data-mode input of <length> bytes that a Ctrl+Z may end early (§2.3, §3.4 "待收取<len>长度数据
 * 或者收取到 Ctr+Z"): the engine ends the input at the Ctrl+Z and leaves it out.
 */
export function fixedOrCtrlZ(length: number, idleTimeoutMs: number): DataSpec {
  return { mode: 'fixed', length, idleTimeoutMs, endOnCtrlZ: true };
}

/** The bytes of a data-mode transfer, or undefined when it failed (cancelled or timed out). */
export function dataUpToCtrlZ(end: DataEnd): Buffer | undefined {
  return end.kind === 'complete' ? end.payload : undefined;
}

export function tccertaddCommand(q: TencentContext): CommandDef {
  const maxSize = q.data.limits.certSize;
  return {
    name: '+TCCERTADD',
    test: () => ok(q.fmt.line('TCCERTADD', `"CERT_NAME",CERT_SIZE(1-${maxSize})`)),
    read: () => ok(...q.flash.certNames().map((n) => q.fmt.line('TCCERTADD', `${quote(n)},${q.flash.cert(n)?.length ?? 0}`))),
    set: (ctx) =>
      tcArgs(
        ctx,
        [
          { name: 'cert_name', type: 'string' },
          { name: 'cert_size', type: 'int', min: 1, max: maxSize },
        ],
        ([nameV, sizeV]): Outcome => {
          const name = nameV;
          const problem = certNameProblem(q, name);
          if (problem) return badParam(problem);
          const refused = refuseBusy(q);
          if (refused) return refused;
          const names = q.flash.certNames();
          if (!names.includes(name) && names.length >= q.data.limits.certCount) return cmeError(CME.flash, 'certificate storage is full');
          return {
            type: 'prompt',
            lines: ['OK'],
            spec: fixedOrCtrlZ(sizeV, q.device.timing.limit('dataIdleTimeout', 10_000)),
            onData: (end): Outcome => {
              const data = dataUpToCtrlZ(end);
              if (!data) {
                q.log.info({ name, expected: sizeV, got: end.payload.length }, 'certificate transfer timed out');
                q.report(q.fmt.fail('TCCERTADD', CME.timeout), 'result');
                return { type: 'silent', lines: [] };
              }
              try {
                q.flash.putCert(name, data);
                q.log.info({ name, bytes: data.length }, 'certificate stored');
                q.report(q.fmt.ok('TCCERTADD'), 'result');
              } catch (err) {
                q.log.warn({ err }, 'flash write failed');
                q.report(q.fmt.fail('TCCERTADD', CME.flash), 'result');
              }
              return { type: 'silent', lines: [] };
            },
          };
        },
      ),
  };
}
