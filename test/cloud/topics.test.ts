import { describe, expect, it } from 'vitest';
import { canPublish, canSubscribe, filterWithin, platformRules, topicMatches, validTopicFilter, type TopicPolicy } from '../../src/cloud/topics.js';

describe('topic filters', () => {
  it('match concrete topics the MQTT way', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('#', '$ota/update/P/d')).toBe(false);
    expect(topicMatches('+/update/P/d', '$ota/update/P/d')).toBe(false);
    expect(topicMatches('$ota/update/+/d', '$ota/update/P/d')).toBe(true);
  });

  it('tell when one filter stays inside another', () => {
    expect(filterWithin('P/d/+', 'P/d/#')).toBe(true);
    expect(filterWithin('P/d/#', 'P/d/#')).toBe(true);
    expect(filterWithin('P/+/x', 'P/d/#')).toBe(false);
    expect(filterWithin('P/d/#', 'P/d/+')).toBe(false);
    expect(filterWithin('#', 'P/#')).toBe(false);
  });

  it('rejects malformed filters', () => {
    expect(validTopicFilter('a/#/b')).toBe(false);
    expect(validTopicFilter('a/b+')).toBe(false);
    expect(validTopicFilter('')).toBe(false);
    expect(validTopicFilter('a/+/#')).toBe(true);
  });
});

describe('Tencent topic rules', () => {
  const policy: TopicPolicy = { extra: [], platform: platformRules('tencent', 'S3EUVBRJLB', 'device1') };

  it('let a device subscribe to control and data but not to event (manual §3.5: FAIL,-108)', () => {
    expect(canSubscribe(policy, 'S3EUVBRJLB/device1/control')).toBe(true);
    expect(canSubscribe(policy, 'S3EUVBRJLB/device1/data')).toBe(true);
    expect(canSubscribe(policy, 'S3EUVBRJLB/device1/event')).toBe(false);
  });

  it('let a device publish to event and data but not to control', () => {
    expect(canPublish(policy, 'S3EUVBRJLB/device1/event')).toBe(true);
    expect(canPublish(policy, 'S3EUVBRJLB/device1/data')).toBe(true);
    expect(canPublish(policy, 'S3EUVBRJLB/device1/control')).toBe(false);
    expect(canPublish(policy, 'S3EUVBRJLB/device1/custom/x')).toBe(true);
  });

  it('keep OTA directions: report up, update down', () => {
    expect(canPublish(policy, '$ota/report/S3EUVBRJLB/device1')).toBe(true);
    expect(canSubscribe(policy, '$ota/report/S3EUVBRJLB/device1')).toBe(false);
    expect(canSubscribe(policy, '$ota/update/S3EUVBRJLB/device1')).toBe(true);
    expect(canPublish(policy, '$ota/update/S3EUVBRJLB/device1')).toBe(false);
  });

  it('refuse other devices and wildcards that reach outside the device', () => {
    expect(canSubscribe(policy, 'S3EUVBRJLB/device2/data')).toBe(false);
    expect(canPublish(policy, 'S3EUVBRJLB/device2/data')).toBe(false);
    expect(canSubscribe(policy, 'S3EUVBRJLB/+/data')).toBe(false);
    expect(canSubscribe(policy, '#')).toBe(false);
    expect(canSubscribe(policy, 'S3EUVBRJLB/device1/#')).toBe(true);
  });

  it('let registry rules add permissions', () => {
    const withExtra: TopicPolicy = { ...policy, extra: [{ filter: 'S3EUVBRJLB/device1/event', access: 'sub' }, { filter: 'shared/#', access: 'pubsub' }] };
    expect(canSubscribe(withExtra, 'S3EUVBRJLB/device1/event')).toBe(true);
    expect(canPublish(withExtra, 'S3EUVBRJLB/device1/event')).toBe(true);
    expect(canSubscribe(withExtra, 'shared/a/b')).toBe(true);
  });
});

describe('Aliyun, OneNET and Huawei topic rules', () => {
  it('Aliyun: custom and /sys topics of the device, OTA directions', () => {
    const p: TopicPolicy = { extra: [], platform: platformRules('aliyun', 'pk', 'dn') };
    expect(canPublish(p, '/pk/dn/user/update')).toBe(true);
    expect(canSubscribe(p, '/pk/dn/user/get')).toBe(true);
    expect(canPublish(p, '/sys/pk/dn/thing/event/property/post')).toBe(true);
    expect(canPublish(p, '/ota/device/inform/pk/dn')).toBe(true);
    expect(canSubscribe(p, '/ota/device/upgrade/pk/dn')).toBe(true);
    expect(canPublish(p, '/ota/device/upgrade/pk/dn')).toBe(false);
    expect(canSubscribe(p, '/pk/other/user/get')).toBe(false);
    expect(canPublish(p, '/sys/pk/other/thing/event/property/post')).toBe(false);
  });

  it('OneNET: $sys/{pid}/{dev}/…; Huawei: $oc/devices/{id}/…', () => {
    const o: TopicPolicy = { extra: [], platform: platformRules('onenet', 'P', 'm1') };
    expect(canPublish(o, '$sys/P/m1/thing/property/post')).toBe(true);
    expect(canSubscribe(o, '$sys/P/m2/#')).toBe(false);
    const h: TopicPolicy = { extra: [], platform: platformRules('huawei', '', 'p_dev') };
    expect(canPublish(h, '$oc/devices/p_dev/sys/messages/up')).toBe(true);
    expect(canSubscribe(h, '$oc/devices/other/sys/commands/#')).toBe(false);
  });
});
