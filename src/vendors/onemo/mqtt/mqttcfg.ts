/**
 * AT+MQTTCFG — configure connection parameters (OneMO MQTT manual §3.1, "AT+MQTTCFG 配置连接参数").
 *   AT+MQTTCFG=?                              → one `+MQTTCFG: "<option>",(0-5),…` line per option, OK
 *   AT+MQTTCFG="<option>",<connect_id>        → +MQTTCFG: "<option>",<values…>, OK   (query)
 *   AT+MQTTCFG="<option>",<connect_id>,<v…>   → OK                                 (set)
 *   AT+MQTTCFG="query",<connect_id>           → every option's query line, OK
 * Options: version, cid, ssl, keepalive, clean, retrans, willoption, willpayload, pingreq,
 * pingresp, encoding, cached, reconn. Errors: +CME ERROR: <err> (§5). "模组掉电后配置参数不保存".
 *
 * Where the manual is silent or cut by the scan:
 * - The manual's only reply example prints no space after the commas (`+MQTTCFG: "encoding",0,0`);
 *   all replies follow it (the syntax tables' `", <version>"` spacing is typesetting).
 * - Ten options are set only "若指定可选参数且MQTT连接未创建": while connecting or reconnecting they
 *   answer 603 (正在连接), while connected 604 (已经连接). "pingresp", "encoding" and "cached" carry
 *   no such condition ("设置完成后立即生效") and are accepted at any time.
 * - Optional values left out keep their previous value ("ssl" without <ssl_id>, "retrans" without
 *   <retry_times>, "willoption"/"reconn"/"encoding" with fewer values).
 * - <version>: only 4 is accepted on this module (note 3, "当前仅支持<version>=4"); the profile
 *   lists the accepted values.
 * - <keepalive_time> is 0 or 60–65535; 1–59 are refused (601).
 * - "willpayload" needs both <will_topic> and <will_msg> (they are bracketed together). <will_msg>
 *   is converted by the "encoding" <input_format> in force when it is set ("<will_msg>输入格式解析受
 *   "encoding"配置影响"); its 0–256 byte limit applies after conversion. The query prints both as
 *   typed; with no topic set it prints `+MQTTCFG: "willpayload"` (the brackets of the "query"
 *   list). The will goes into CONNECT when <will_flag> is 1 and a topic is set.
 * - The option name is matched case-insensitively; replies use the manual's lower case.
 */
import { rangeText, type Decoded, type IntParam, type ParamSpec } from '../../../at/decode-args.js';
import { ok, type CommandContext, type CommandDef, type Outcome } from '../../../at/types.js';
import { connectIdParam, connectIdRange, mqttArgs, textFromAt } from './args.js';
import type { OneMoClientConfig } from './client-config.js';
import type { OneMoClient } from './client.js';
import type { OneMoContext } from './context.js';
import { decodeInput } from './encoding.js';
import { badParam, fail, MQTT_ERR } from './errors.js';

interface OptionDef {
  /** As the manual spells it. */
  name: string;
  /** Values after <connect_id>; the first is present in every set. */
  params: readonly ParamSpec[];
  /** Ranges for the test form when they are not plain ranges (keepalive's "0 or 60–65535"). */
  testText?: string;
  /** Values of the query reply, rendered; empty = the bare `+MQTTCFG: "<option>"`. */
  query(cfg: OneMoClientConfig): string[];
  /** Store decoded values; a string is the reason for refusing them (601). */
  apply(client: OneMoClient, values: Decoded): string | void;
  /** May be set while a connection exists. */
  anyTime?: boolean;
}

const int = (name: string, min: number, max: number, optional = false): IntParam => ({ name, type: 'int', min, max, optional });
const flag = (name: string, optional = false): IntParam => ({ name, type: 'int', values: [0, 1], optional });
const bit = (b: boolean): string => (b ? '1' : '0');
const quoted = (raw: string): string => `"${raw}"`;

function optionDefs(q: OneMoContext): OptionDef[] {
  const d = q.data;
  return [
    {
      name: 'version',
      params: [{ name: 'version', type: 'int', values: d.versions }],
      query: (c) => [String(c.version)],
      apply: (cl, [v]) => void (cl.config.version = v as 3 | 4),
    },
    {
      name: 'cid',
      params: [int('cid', d.cid.min, d.cid.max)],
      query: (c) => [String(c.cid)],
      apply: (cl, [cid]) => void (cl.config.cid = cid as number),
    },
    {
      name: 'ssl',
      params: [flag('ssl_enable'), int('ssl_id', 0, d.sslIdMax, true)],
      query: (c) => [bit(c.ssl.enabled), String(c.ssl.id)],
      apply: (cl, [enable, id]) => {
        cl.config.ssl = { enabled: enable === 1, id: (id as number | undefined) ?? cl.config.ssl.id };
      },
    },
    {
      name: 'keepalive',
      params: [int('keepalive_time', 0, 65535)],
      testText: '(0,60-65535)',
      query: (c) => [String(c.keepalive)],
      apply: (cl, [t]) => {
        // "范围：0或60~65535".
        if ((t as number) !== 0 && (t as number) < 60) return `<keepalive_time>=${t as number} is neither 0 nor 60–65535`;
        cl.config.keepalive = t as number;
      },
    },
    {
      name: 'clean',
      params: [flag('clean_session')],
      query: (c) => [bit(c.clean)],
      apply: (cl, [clean]) => void (cl.config.clean = clean === 1),
    },
    {
      name: 'retrans',
      params: [int('retrans_interval', 20, 60), int('retry_times', 0, 3, true)],
      query: (c) => [String(c.retrans.interval), String(c.retrans.retries)],
      apply: (cl, [interval, retries]) => {
        cl.config.retrans = { interval: interval as number, retries: (retries as number | undefined) ?? cl.config.retrans.retries };
      },
    },
    {
      name: 'willoption',
      params: [flag('will_flag'), int('will_qos', 0, 2, true), flag('will_retain', true)],
      query: (c) => [bit(c.will.flag), String(c.will.qos), bit(c.will.retain)],
      apply: (cl, [flagV, qos, retain]) => {
        const w = cl.config.will;
        cl.config.will = {
          ...w,
          flag: flagV === 1,
          qos: (qos as 0 | 1 | 2 | undefined) ?? w.qos,
          retain: retain === undefined ? w.retain : retain === 1,
        };
      },
    },
    {
      name: 'willpayload',
      params: [
        { name: 'will_topic', type: 'string', maxLength: d.maxWillLength },
        // Hex will messages may be typed unquoted, like AT+MQTTPUB <message>.
        { name: 'will_msg', type: 'string', allowBare: true },
      ],
      query: (c) => (c.will.topic === '' ? [] : [quoted(Buffer.from(c.will.topic, 'utf8').toString('latin1')), quoted(c.will.messageText)]),
      apply: (cl, [topic, msg]) => {
        if (msg === undefined) return '<will_topic> and <will_msg> go together';
        const message = decodeInput(Buffer.from(msg as string, 'latin1'), cl.config.encoding.input);
        if (typeof message === 'string') return `<will_msg>: ${message}`;
        if (message.length > d.maxWillLength) return `<will_msg> longer than ${d.maxWillLength} bytes`;
        cl.config.will = { ...cl.config.will, topic: textFromAt(topic as string), messageText: msg as string, message };
      },
    },
    {
      name: 'pingreq',
      params: [int('ping_interval', 60, 86400)],
      query: (c) => [String(c.pingInterval)],
      apply: (cl, [s]) => void (cl.config.pingInterval = s as number),
    },
    {
      name: 'pingresp',
      anyTime: true,
      params: [flag('pingack')],
      query: (c) => [bit(c.pingack)],
      apply: (cl, [v]) => void (cl.config.pingack = v === 1),
    },
    {
      name: 'encoding',
      anyTime: true,
      params: [int('input_format', 0, 2), flag('output_format', true)],
      query: (c) => [String(c.encoding.input), String(c.encoding.output)],
      apply: (cl, [input, output]) => {
        cl.config.encoding = { input: input as 0 | 1 | 2, output: (output as 0 | 1 | undefined) ?? cl.config.encoding.output };
      },
    },
    {
      name: 'cached',
      anyTime: true,
      params: [flag('cached_mode')],
      query: (c) => [bit(c.cached)],
      apply: (cl, [v]) => void (cl.config.cached = v === 1),
    },
    {
      name: 'reconn',
      params: [int('reconn_times', 0, 3), int('reconn_interval', 20, 60, true), flag('mode', true)],
      query: (c) => [String(c.reconn.times), String(c.reconn.interval), String(c.reconn.mode)],
      apply: (cl, [times, interval, mode]) => {
        const r = cl.config.reconn;
        cl.config.reconn = {
          times: times as number,
          interval: (interval as number | undefined) ?? r.interval,
          mode: (mode as 0 | 1 | undefined) ?? r.mode,
        };
      },
    },
  ];
}

export function mqttcfgCommand(q: OneMoContext): CommandDef {
  const options = optionDefs(q);
  const byName = new Map(options.map((o) => [o.name, o]));
  const log = q.device.log.child({ component: 'onemo-mqtt' });

  const testLines = options.map((o) => {
    const values = o.testText ?? o.params.map((p) => (p.type === 'int' ? rangeText(p) : '')).join(',');
    return `+MQTTCFG: "${o.name}",${connectIdRange(q)},${values}`;
  });

  const queryLine = (o: OptionDef, cfg: OneMoClientConfig): string => {
    const values = o.query(cfg);
    return `+MQTTCFG: "${o.name}"${values.map((v) => `,${v}`).join('')}`;
  };

  function set(ctx: CommandContext, o: OptionDef): Outcome | Promise<Outcome> {
    return mqttArgs(ctx, [connectIdParam(q), ...o.params], ([id, ...values]) => {
      const client = q.client(id as number);
      if (client.active && !o.anyTime) {
        const code = client.state === 'connected' ? MQTT_ERR.alreadyConnected : MQTT_ERR.connecting;
        return fail(code, `client ${client.id} is ${client.state}: "${o.name}" cannot change`);
      }
      const problem = o.apply(client, values);
      if (typeof problem === 'string') return badParam(problem);
      log.debug({ client: client.id, option: o.name, values }, 'config set');
      return ok();
    });
  }

  return {
    name: '+MQTTCFG',
    test: () => ok(...testLines),
    set: (ctx) => {
      const [nameArg, ...rest] = ctx.args;
      if (nameArg?.kind !== 'string') return badParam('<option> must be a quoted string');
      const name = nameArg.value.toLowerCase();
      const sub: CommandContext = { ...ctx, args: rest };
      if (name === 'query') {
        return mqttArgs(sub, [connectIdParam(q)], ([id]) => {
          const cfg = q.client(id as number).config;
          return ok(...options.map((o) => queryLine(o, cfg)));
        });
      }
      const o = byName.get(name);
      if (!o) return badParam(`unknown option "${nameArg.value}"`);
      // `"<option>",<connect_id>` queries; anything more (even an empty value) is a set.
      if (rest.length <= 1) {
        return mqttArgs(sub, [connectIdParam(q)], ([id]) => ok(queryLine(o, q.client(id as number).config)));
      }
      return set(sub, o);
    },
  };
}
