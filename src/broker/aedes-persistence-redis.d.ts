// aedes-persistence-redis ships no types; only the factory vmodem calls is declared.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';
  interface PersistenceRedisOptions {
    conn?: Redis;
    maxSessionDelivery?: number;
  }
  function aedesPersistenceRedis(opts?: PersistenceRedisOptions): unknown;
  export default aedesPersistenceRedis;
}
