/**
 * Faults the embedded broker can play for one modem's clients: refuse subscriptions or publishes
 * whose topic matches a filter, and delay or withhold PUBACK/SUBACK. Installed as Aedes hooks
 * that wrap whatever hooks were there (the virtual cloud's permissions), and applied only to the
 * client ids the given modem used, so modems sharing a broker do not disturb each other (which
 * modem owns which client id: client-owners.ts).
 */
import type { EmbeddedBroker } from '../broker/embedded-broker.js';

export interface AckFault {
  /** Delay in ms, or null to withhold the acknowledgement for good. */
  delayMs: number | null;
}

export interface ClientRules {
  refuseSubscribe: string[];
  refusePublish: string[];
  puback?: AckFault;
  suback?: AckFault;
}

/** MQTT topic filter match ([MQTT-4.7]): `+` one level, `#` the rest. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

function later(fault: AckFault | undefined, run: () => void): void {
  if (!fault) return run();
  if (fault.delayMs === null) return; // withheld: the device's retransmission logic takes over
  setTimeout(run, fault.delayMs);
}

/**
 * Install the hooks on the broker (once per broker: client-owners.ts does). `rulesFor` names the
 * rules of a client id, or undefined for clients no modem owns.
 */
export function installBrokerFaults(broker: EmbeddedBroker, rulesFor: (clientId: string | undefined) => ClientRules | undefined): void {
  const aedes = broker.aedes;
  const prevSubscribe = aedes.authorizeSubscribe.bind(aedes);
  const prevPublish = aedes.authorizePublish.bind(aedes);
  aedes.authorizeSubscribe = (client, sub, done) => {
    const rules = rulesFor(client?.id);
    if (!rules) return prevSubscribe(client, sub, done);
    later(rules.suback, () => {
      if (rules.refuseSubscribe.some((f) => topicMatches(f, sub.topic) || f === sub.topic)) return done(null, null);
      prevSubscribe(client, sub, done);
    });
  };
  aedes.authorizePublish = (client, packet, done) => {
    const rules = rulesFor(client?.id);
    if (!rules) return prevPublish(client, packet, done);
    if (rules.refusePublish.some((f) => topicMatches(f, packet.topic))) {
      // MQTT 3.1.1 has no way to refuse a PUBLISH: brokers drop the client (Aedes does on error).
      return done(new Error(`publish to ${packet.topic} refused by test fault`));
    }
    later(packet.qos > 0 ? rules.puback : undefined, () => prevPublish(client, packet, done));
  };
}
