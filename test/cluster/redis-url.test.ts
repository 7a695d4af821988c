import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/util/redis-url.js';

describe('--cluster redis URLs', () => {
  it('reads host, port and database, and keeps the password out of the display form', () => {
    expect(parseRedisUrl('redis://10.0.0.5:6380')).toEqual({ host: '10.0.0.5', port: 6380, db: 0, display: 'redis://10.0.0.5:6380' });
    const withAuth = parseRedisUrl('redis://:s3cret@redis.local/2');
    expect(withAuth).toMatchObject({ host: 'redis.local', port: 6379, db: 2, password: 's3cret' });
    expect(withAuth.display).not.toContain('s3cret');
  });

  it('refuses what is not a redis URL, naming the flag', () => {
    expect(() => parseRedisUrl('mqtt://x:1883')).toThrow(/--cluster "mqtt:\/\/x:1883": unsupported scheme mqtt:/);
    expect(() => parseRedisUrl('redis://x/abc')).toThrow(/database/);
    expect(() => parseRedisUrl('nonsense')).toThrow(/not a valid URL/);
  });
});
