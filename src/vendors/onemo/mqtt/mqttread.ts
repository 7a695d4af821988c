/**
 * AT+MQTTREAD — read cached messages (OneMO MQTT manual §3.6, "AT+MQTTREAD 读取消息").
 *   AT+MQTTREAD=<connect_id>          → +MQTTREAD: <connect_id>,<store_msgs>,<total_len>, OK
 *   AT+MQTTREAD=<connect_id>,<count>  → <count> × +MQTTREAD: <connect_id>,<mid>,<topic>,<payload_len>,<payload>, OK
 * Messages are cached in "cached" mode (AT+MQTTCFG="cached",<id>,1), announced by "pubnmi", and
 * read oldest first; reading removes them. "4G/5G模组缓存上限为8KB" (profile cacheBytes).
 * <count> is 1 to the number of cached messages ("范围：1~当前缓存消息条数"): anything else, an
 * empty cache included, is 601. <total_len> counts payload bytes. The cache outlives the
 * connection (messages received before AT+MQTTDISC can still be read).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { connectIdParam, mqttArgs } from './args.js';
import type { OneMoContext } from './context.js';
import { badParam } from './errors.js';

export function mqttreadCommand(q: OneMoContext): CommandDef {
  return {
    name: '+MQTTREAD',
    set: (ctx) =>
      mqttArgs(ctx, [connectIdParam(q), { name: 'count', type: 'int', min: 1, max: 65535, optional: true }], ([id, count]) => {
        const client = q.client(id);
        if (count === undefined) return ok(`+MQTTREAD: ${client.id},${client.cache.length},${client.cacheBytes}`);
        if (count > client.cache.length) return badParam(`<count>=${count} but ${client.cache.length} cached`);
        return ok(...client.readCached(count));
      }),
  };
}
