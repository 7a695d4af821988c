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

/**
 * The answer when the session core refused a request after the state check passed: the only
 * cause left is that all 65535 packet ids are waiting for acknowledgements. The manual has no
 * code for it; 600 (未知错误) says the least that is wrong.
 */
export function requestRefused(client: OneMoClient): Outcome {
  return needConnected(client) ?? fail(MQTT_ERR.unknown, `client ${client.id}: no free packet id`);
}
