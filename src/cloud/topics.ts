/**
 * Topic permissions of the virtual cloud: MQTT filter matching, and each platform's rules for
 * what a signed-in device may publish and subscribe to.
 *
 * Evaluation: a device's own extra rules and its product's extra rules (registry `topics`) allow
 * whatever they match; otherwise the platform's list decides, first matching rule wins — so
 * Tencent's `{pid}/{dn}/control` (subscribe only) is decided before the catch-all for custom
 * topics.
 */
import type { Platform, TopicRule } from './registry.js';

/** True for a valid MQTT topic filter: `+` fills a whole level, `#` only the whole last one [MQTT-4.7.1-2/3]. */
export function validTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 65535 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

/** Does `filter` match the concrete `topic`? Wildcards in the first level never match `$` topics [MQTT-4.7.2-1]. */
export function topicMatches(filter: string, topic: string): boolean {
  return filterWithin(topic, filter);
}

/**
 * Is every topic that `filter` matches also matched by `pattern`? (With a concrete topic as
 * `filter`, this is plain matching.)
 */
export function filterWithin(filter: string, pattern: string): boolean {
  const f = filter.split('/');
  const p = pattern.split('/');
  for (let i = 0; i < f.length; i++) {
    const pl = p[i];
    const fl = f[i]!;
    if (pl === undefined) return false;
    const dollar = i === 0 && fl.startsWith('$');
    if (pl === '#') return !dollar;
    if (fl === '#') return false;
    if (pl === '+') {
      if (dollar) return false;
      continue;
    }
    if (fl !== pl) return false;
  }
  // `a/#` also matches `a` [MQTT-4.7.1-2].
  return p.length === f.length || (p.length === f.length + 1 && p[f.length] === '#');
}

function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

function allows(rule: TopicRule, direction: 'pub' | 'sub'): boolean {
  return rule.access === 'pubsub' || rule.access === direction;
}

/** The permissions of one signed-in device. */
export interface TopicPolicy {
  /** Registry rules (device first, then product), placeholders already filled in. */
  extra: TopicRule[];
  /** The platform's rules; first match decides. */
  platform: TopicRule[];
}

export function canPublish(policy: TopicPolicy, topic: string): boolean {
  if (policy.extra.some((r) => allows(r, 'pub') && topicMatches(r.filter, topic))) return true;
  const first = policy.platform.find((r) => topicMatches(r.filter, topic));
  return first !== undefined && allows(first, 'pub');
}

export function canSubscribe(policy: TopicPolicy, filter: string): boolean {
  if (!validTopicFilter(filter)) return false;
  if (policy.extra.some((r) => allows(r, 'sub') && filterWithin(filter, r.filter))) return true;
  if (!hasWildcard(filter)) {
    const first = policy.platform.find((r) => topicMatches(r.filter, filter));
    return first !== undefined && allows(first, 'sub');
  }
  // A wildcard subscription must stay inside one rule that allows subscribing.
  return policy.platform.some((r) => allows(r, 'sub') && filterWithin(filter, r.filter));
}

/** Fill `${productId}` / `${productKey}` / `${deviceName}` / `${deviceId}` in registry rules. */
export function expandRules(rules: TopicRule[], productId: string, deviceName: string): TopicRule[] {
  return rules.map((r) => ({
    access: r.access,
    filter: r.filter
      .replaceAll('${productId}', productId)
      .replaceAll('${productKey}', productId)
      .replaceAll('${deviceName}', deviceName)
      .replaceAll('${deviceId}', deviceName),
  }));
}

const r = (filter: string, access: TopicRule['access']): TopicRule => ({ filter, access });

/**
 * The topics a platform lets a device use.
 *
 * - Tencent (FACTS "Cloud sign-in schemes"; manual §3.5 example: subscribing to `…/event` fails
 *   with `+TCMQTTSUB: FAIL,-108`): `{pid}/{dn}/control` subscribe, `/event` publish, `/data` both,
 *   other `{pid}/{dn}/…` custom topics both; `$ota/report/{pid}/{dn}` publish,
 *   `$ota/update/{pid}/{dn}` subscribe; the IoT Explorer `$thing/up|down/…`, `$shadow/…`,
 *   `$sys/…`, `$rrpc/…` and broadcast topics of the same device, and the older data-template
 *   topics `$template/operation/{pid}/{dn}` (publish) and `$template/operation/result/{pid}/{dn}`
 *   (subscribe) that IoT Explorer SDKs before `$thing` use (tencent-services.ts).
 * - Aliyun: `/{pk}/{dn}/…` custom topics and `/sys/{pk}/{dn}/…` both ways; OTA
 *   `/ota/device/inform|progress|request/{pk}/{dn}` publish, `/ota/device/upgrade/{pk}/{dn}`
 *   subscribe; shadow, NTP, session, error and broadcast topics.
 * - OneNET (OneNET Studio): `$sys/{pid}/{dn}/…` both ways.
 * - Huawei IoTDA: `$oc/devices/{deviceId}/…` both ways.
 */
export function platformRules(platform: Platform, productId: string, deviceName: string): TopicRule[] {
  const pid = productId;
  const dn = deviceName;
  switch (platform) {
    case 'tencent':
      return [
        r(`${pid}/${dn}/control`, 'sub'),
        r(`${pid}/${dn}/event`, 'pub'),
        r(`${pid}/${dn}/data`, 'pubsub'),
        r(`${pid}/${dn}/#`, 'pubsub'),
        r(`$ota/report/${pid}/${dn}`, 'pub'),
        r(`$ota/update/${pid}/${dn}`, 'sub'),
        r(`$thing/up/+/${pid}/${dn}`, 'pub'),
        r(`$thing/down/+/${pid}/${dn}`, 'sub'),
        r(`$shadow/operation/${pid}/${dn}`, 'pub'),
        r(`$shadow/operation/result/${pid}/${dn}`, 'sub'),
        r(`$sys/operation/${pid}/${dn}`, 'pub'),
        r(`$sys/operation/result/${pid}/${dn}`, 'sub'),
        r(`$template/operation/${pid}/${dn}`, 'pub'),
        r(`$template/operation/result/${pid}/${dn}`, 'sub'),
        r(`$rrpc/txd/${pid}/${dn}/+`, 'pub'),
        r(`$rrpc/rxd/${pid}/${dn}/+`, 'sub'),
        r(`$broadcast/rxd/${pid}/${dn}`, 'sub'),
      ];
    case 'aliyun':
      return [
        r(`/${pid}/${dn}/#`, 'pubsub'),
        r(`/sys/${pid}/${dn}/#`, 'pubsub'),
        r(`/ota/device/inform/${pid}/${dn}`, 'pub'),
        r(`/ota/device/progress/${pid}/${dn}`, 'pub'),
        r(`/ota/device/request/${pid}/${dn}`, 'pub'),
        r(`/ota/device/upgrade/${pid}/${dn}`, 'sub'),
        r(`/shadow/update/${pid}/${dn}`, 'pub'),
        r(`/shadow/get/${pid}/${dn}`, 'sub'),
        r(`/ext/ntp/${pid}/${dn}/request`, 'pub'),
        r(`/ext/ntp/${pid}/${dn}/response`, 'sub'),
        r(`/ext/session/${pid}/${dn}/#`, 'pubsub'),
        r(`/ext/error/${pid}/${dn}`, 'sub'),
        r(`/broadcast/${pid}/#`, 'sub'),
      ];
    case 'onenet':
      return [r(`$sys/${pid}/${dn}/#`, 'pubsub')];
    case 'huawei':
      return [r(`$oc/devices/${dn}/#`, 'pubsub')];
  }
}
