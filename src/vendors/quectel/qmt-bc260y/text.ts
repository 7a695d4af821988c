/**
 * Host bytes ↔ text. The AT parser hands quoted strings over byte for byte (latin1); MQTT strings
 * (topics, client id, user name) are UTF-8 on the wire [MQTT-1.5.3], so the bytes the firmware
 * typed are read as UTF-8 and printed back as the same bytes.
 */
import type { Bc260yContext } from './data.js';
import type { Fault } from './errors.js';

/** The host's bytes as text, or a fault (8506) when they are not UTF-8. */
export function hostText(raw: string, what: string): string | Fault {
  const bytes = Buffer.from(raw, 'latin1');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return { cause: 'illegalUtf8', reason: `<${what}> is not UTF-8` };
  return text;
}

/** Text back to the host's bytes, quoted, in the latin1 domain the engine writes. */
export function quoted(text: string): string {
  return `"${Buffer.from(text, 'utf8').toString('latin1')}"`;
}

/**
 * A topic name (PUBLISH, will) or filter (SUBSCRIBE, UNSUBSCRIBE). The manual allows 0–256
 * bytes; an empty topic is refused (8507) since MQTT requires at least one character
 * [MQTT-4.7.3-1] and the broker would drop the whole connection for it.
 */
export function checkTopic(q: Bc260yContext, raw: string, kind: 'name' | 'filter', what = 'topic'): string | Fault {
  const max = q.data.maxTopicLength;
  if (raw.length === 0) return { cause: 'invalidParameter', reason: `empty <${what}>` };
  if (raw.length > max) return { cause: 'invalidParameter', reason: `<${what}> longer than ${max} bytes` };
  const text = hostText(raw, what);
  if (typeof text !== 'string') return text;
  if (text.includes('\u0000')) return { cause: 'illegalCharacter', reason: `<${what}> contains U+0000` };
  const levels = text.split('/');
  if (kind === 'name') {
    // [MQTT-3.3.2-2]: no wildcards in a topic name.
    if (/[+#]/.test(text)) return { cause: 'illegalCharacter', reason: `wildcard in <${what}>` };
  } else {
    // [MQTT-4.7.1-2]: '#' alone and last; [MQTT-4.7.1-3]: '+' occupies a whole level.
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i]!;
      if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return { cause: 'illegalCharacter', reason: `misplaced '#' in <${what}>` };
      if (l.includes('+') && l !== '+') return { cause: 'illegalCharacter', reason: `misplaced '+' in <${what}>` };
    }
  }
  return text;
}
