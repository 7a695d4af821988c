/** The state rule of the commands that need a connection (AT+MQTTSUB/UNSUB/PUB, §5): 602 or 603. */
import type { Outcome } from '../../../at/types.js';
import type { OneMoClient } from './client.js';
import { fail, MQTT_ERR } from './errors.js';

/** undefined when the client is connected; otherwise the error to answer. */
export function needConnected(client: OneMoClient): Outcome | undefined {
  if (client.state === 'connected') return undefined;
  if (client.state === 'connecting' || client.state === 'reconnecting') {
    return fail(MQTT_ERR.connecting, `client ${client.id} is ${client.state}`);
  }
  return fail(MQTT_ERR.notConnected, `client ${client.id} is not connected`);
}
