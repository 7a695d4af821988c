/**
 * Rules every Tencent IoT AT command shares (腾讯云 IoT MQTT AT 指令 V3.1.3 §1.2, §6.2): a bad,
 * missing or extra argument answers `+CME ERROR: 204` (Parameter invalid); a command that answers
 * `OK` now and `+TC…:OK` / `+TC…:FAIL,<err_code>` later (§1.2.3 "首先返回 OK,接下来返回…") holds
 * the module until its result is out (200 for another such command meanwhile).
 */
import { withArgs } from '../common/decode.js';
import { type DecodedOf, type IntParam, type ParamSpec, type StringParam } from '../../at/decode-args.js';
import { ok, type CommandContext, type Outcome } from '../../at/types.js';
import type { TencentContext } from './context.js';
import { badParam, cmeError, CME, stateError } from './errors.js';

/**
 * Decode with the Tencent error rule (204). A parameter list written in place types `run`'s
 * values (see DecodedOf): `[topicParam(q), QOS_PARAM]` → `[string, 0 | 1]`.
 */
export function tcArgs<const Ps extends readonly ParamSpec[]>(
  ctx: CommandContext,
  params: Ps,
  run: (values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
): Outcome | Promise<Outcome> {
  return withArgs(ctx, params, run, badParam);
}

export function topicParam(q: TencentContext): Omit<StringParam, 'optional'> {
  return { name: 'topic', type: 'string', minLength: 1, maxLength: q.data.limits.topic };
}

/** §3.3/§3.5: "QoS 值,暂只支持 0,1". */
/** Its values written out, so it decodes to `0 | 1` (see ParamValue). */
export const QOS_PARAM: Omit<IntParam, 'optional'> & { values: readonly [0, 1] } = { name: 'qos', type: 'int', values: [0, 1] };

/** §2.2/§2.6: <tlsmode> 0 direct, 1 TLS with key, 2 TLS with certificate. */
/** Decodes to `0 | 1 | 2` (TlsMode). */
export const TLSMODE_PARAM: Omit<IntParam, 'optional'> & { values: readonly [0, 1, 2] } = { name: 'tlsmode', type: 'int', values: [0, 1, 2] };

/** 200 while another command's result is still to come. */
export function refuseBusy(q: TencentContext): Outcome | undefined {
  const busy = q.jobs.busy;
  return busy ? cmeError(CME.notComplete, `${busy} has not reported its result yet`) : undefined;
}

/**
 * The "refused while connected or during OTA" rule of AT+TCDEVINFOSET, AT+TCPRDINFOSET,
 * AT+TCDEVREG, AT+TCRESTORE (§2.2, §2.6, §2.7, §2.9): 208 (State error).
 */
export function refuseConnectedOrOta(q: TencentContext): Outcome | undefined {
  if (q.client.active) return stateError(`MQTT is ${q.client.state}; send AT+TCMQTTDISCONN first`);
  if (q.ota.downloading) return stateError('an OTA download is running');
  return undefined;
}

/**
 * `OK` now, then `+<name>:OK` or `+<name>:FAIL,<code>` when `work` settles with 0 or a code.
 */
export function okThen(q: TencentContext, name: string, work: () => Promise<number>): Outcome {
  const started = q.jobs.start(name, async () => {
    const rc = await work();
    return rc === 0 ? q.fmt.ok(name) : q.fmt.fail(name, rc);
  });
  return started ? ok() : cmeError(CME.notComplete, `${q.jobs.busy} has not reported its result yet`);
}

/** A topic a PUBLISH may carry: no wildcards [MQTT-3.3.2-2]. */
export function publishTopicProblem(topic: string): string | undefined {
  return /[+#]/.test(topic) ? 'a publish topic has no wildcards' : undefined;
}

/** A valid subscription filter: `+` fills a whole level, `#` only the whole last one [MQTT-4.7.1-2/3]. */
export function filterProblem(filter: string): string | undefined {
  const levels = filter.split('/');
  const ok = levels.every((level, i) => (level.includes('#') ? level === '#' && i === levels.length - 1 : !level.includes('+') || level === '+'));
  return ok ? undefined : 'not a valid topic filter';
}
