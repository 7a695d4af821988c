/**
 * Which modem used which MQTT client id on a shared embedded broker. Every publish the broker
 * takes is handed to the modem whose links used its client id (the controller's `publishesUp`
 * and publish log), and the broker-fault hooks ask for that modem's rules. Asking each modem in
 * turn made both O(modems) per publish: a fleet of 1,000 modems publishing once a second spent
 * two million calls a second there, a fifth of the process's CPU (issue 12 §3, bench:fleet).
 * Here both are one map lookup.
 */
import type { BrokerPublish, EmbeddedBroker } from '../broker/embedded-broker.js';
import { installBrokerFaults, type ClientRules } from './broker-faults.js';

export interface ClientOwner {
  /** The client ids the owner's links used so far, and news of the ones it uses next. */
  readonly ids: ReadonlySet<string>;
  onNewId(listener: (clientId: string) => void): () => void;
  /** A publish the broker took from one of the owner's client ids. */
  onPublish(p: BrokerPublish): void;
  /** The broker faults the owner's clients get. */
  rules(): ClientRules;
}

interface Entry {
  owner: ClientOwner;
  /** Registration order: with two owners of one id, the first registered gives the rules. */
  seq: number;
}

class ClientIndex {
  private readonly byId = new Map<string, Entry[]>();
  private seq = 0;

  constructor(broker: EmbeddedBroker) {
    broker.onPublish((p) => {
      const owners = this.byId.get(p.clientId);
      if (owners) for (const e of owners) e.owner.onPublish(p);
    });
    installBrokerFaults(broker, (clientId) => (!clientId ? undefined : this.byId.get(clientId)?.[0]?.owner.rules()));
  }

  add(owner: ClientOwner): () => void {
    const entry: Entry = { owner, seq: this.seq++ };
    const mine = new Set<string>();
    const take = (id: string) => {
      if (mine.has(id)) return;
      mine.add(id);
      const list = this.byId.get(id);
      if (!list) this.byId.set(id, [entry]);
      else {
        list.push(entry);
        list.sort((a, b) => a.seq - b.seq);
      }
    };
    for (const id of owner.ids) take(id);
    const off = owner.onNewId(take);
    return () => {
      off();
      for (const id of mine) {
        const list = this.byId.get(id)?.filter((e) => e !== entry);
        if (list?.length) this.byId.set(id, list);
        else this.byId.delete(id);
      }
      mine.clear();
    };
  }
}

const indexes = new WeakMap<EmbeddedBroker, ClientIndex>();

/** Register a modem's clients on the broker; returns the function that forgets them. */
export function ownClients(broker: EmbeddedBroker, owner: ClientOwner): () => void {
  let index = indexes.get(broker);
  if (!index) {
    index = new ClientIndex(broker);
    indexes.set(broker, index);
  }
  return index.add(owner);
}
