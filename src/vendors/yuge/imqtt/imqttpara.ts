/**
 * AT+IMQTTPARA — 设置 MQTT 参数 (manual §2.2 "AT+IMQTTPARA 设置 MQTT 参数").
 *   AT+IMQTTPARA=TIMEOUT,<value>,CLEAN,<value>,KEEPALIVE,<value>,VERSION,<value>  → OK
 *   AT+IMQTTPARA?   → +IMQTTPARA:TIMEOUT,<value>,CLEAN,<value>,KEEPALIVE,<value>,VERSION,<value>  OK
 *   AT+IMQTTPARA=?  → OK
 * TIMEOUT: MQTT request timeout, 1–3 s ("单位秒 范围 1~3"). CLEAN: clean session 0/1.
 * KEEPALIVE: 60–180 s. VERSION: 3.1 or 3.1.1 ("默认 3.1.1").
 *
 * Keys are names followed by their value; the manual writes them bare
 * (`AT+IMQTTPARA=TIMEOUT,1,CLEAN,0,KEEPALIVE,60,VERSION,3.1.1`), drivers also quote them.
 * Where the manual is silent:
 * - Any subset of the four pairs, in any order, is accepted; the others keep their values. Keys
 *   are matched without regard to case. VERSION's value may be quoted too.
 * - An unknown key, a key given twice, a key without its value, or a value out of its range is
 *   refused with the module's one documented failure, `ERROR`, and nothing changes.
 * - The read form prints every key, upper case, as its example does. A new value applies from
 *   the next AT+IMQTTCONN (TIMEOUT also to requests sent after it).
 */
import { ok, type CommandDef, type RawArg } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import { fail } from './args.js';
import type { YugeConfig } from './config.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';

type Para = Pick<YugeConfig, 'timeout' | 'clean' | 'keepalive' | 'version'>;

const RANGES = { TIMEOUT: [1, 3], KEEPALIVE: [60, 180] } as const;
const VERSIONS = ['3.1', '3.1.1'] as const;

function keyOf(a: RawArg): string | undefined {
  if (a.kind !== 'string' && a.kind !== 'bare') return undefined;
  return a.value.toUpperCase();
}

function intOf(a: RawArg, key: string, min: number, max: number): number | string {
  if (a.kind !== 'int') return `${key} needs an integer`;
  if (a.value < min || a.value > max) return `${key}=${a.value} not in ${min}–${max}`;
  return a.value;
}

/** Apply `args` to a copy of `para`; a string is why it was refused. */
export function applyPara(para: Para, args: readonly RawArg[]): Para | string {
  if (args.length === 0 || args.length % 2 !== 0) return 'keys and values must come in pairs';
  const next: Para = { timeout: para.timeout, clean: para.clean, keepalive: para.keepalive, version: para.version };
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i += 2) {
    const key = keyOf(args[i]!);
    const value = args[i + 1]!;
    if (key === undefined) return `argument ${i + 1} is not a key`;
    if (seen.has(key)) return `${key} given twice`;
    seen.add(key);
    switch (key) {
      case 'TIMEOUT':
      case 'KEEPALIVE': {
        const [min, max] = RANGES[key];
        const v = intOf(value, key, min, max);
        if (typeof v === 'string') return v;
        if (key === 'TIMEOUT') next.timeout = v;
        else next.keepalive = v;
        break;
      }
      case 'CLEAN': {
        const v = intOf(value, key, 0, 1);
        if (typeof v === 'string') return v;
        next.clean = oneOf(v, [0, 1]);
        break;
      }
      case 'VERSION': {
        const v = value.kind === 'string' || value.kind === 'bare' ? value.value : value.text;
        const version = VERSIONS.find((known) => known === v);
        if (version === undefined) return `VERSION ${v} is neither 3.1 nor 3.1.1`;
        next.version = version;
        break;
      }
      default:
        return `unknown key ${key}`;
    }
  }
  return next;
}

export function imqttparaCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTPARA',
    test: () => ok(),
    read: () => {
      const c = q.client.config;
      return ok(line('+IMQTTPARA', `TIMEOUT,${c.timeout},CLEAN,${c.clean},KEEPALIVE,${c.keepalive},VERSION,${c.version}`));
    },
    set: (ctx) => {
      const next = applyPara(q.client.config, ctx.args);
      if (typeof next === 'string') return fail(next);
      Object.assign(q.client.config, next);
      return ok();
    },
  };
}
