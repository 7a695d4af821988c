/**
 * Topic rules shared by the subscribe and publish commands (MQTT 3.1.1 §4.7, which the manual's
 * module implements; §2 gives no rules of its own). Checked before anything is sent, so a bad
 * topic answers ERROR instead of getting the connection closed by the broker.
 */

/** A subscription filter: `+` fills a whole level, `#` only the whole last one [MQTT-4.7.1-2/3]. */
export function validFilter(filter: string): boolean {
  if (filter === '' || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

/** A topic name to publish on: no wildcards [MQTT-3.3.2-2]. */
export function validTopicName(topic: string): boolean {
  return topic !== '' && !/[+#\u0000]/.test(topic);
}
