/**
 * The modems of a whole cluster (issue 12 §1), kept in Redis so any node's control API (and
 * `vmodem ctl cluster`) can list them: names, node, state.
 *
 * Each node writes its modems to `vmodem:modems:<node>` (field = modem name, value = JSON) and a
 * heartbeat `vmodem:node:<node>`; both expire after three missed refreshes, so the modems of a
 * node that died (SIGKILL) drop out of the list by themselves. `vmodem:nodes` is the set of node
 * ids ever seen; ids whose heartbeat is gone are skipped (and removed) when listing.
 */
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { openRedis } from '../util/redis-conn.js';
import type { RedisEndpoint } from '../util/redis-url.js';

export const DIRECTORY_KEYS = {
  nodes: 'vmodem:nodes',
  node: (id: string) => `vmodem:node:${id}`,
  modems: (id: string) => `vmodem:modems:${id}`,
} as const;

export interface ClusterModem {
  name: string;
  node: string;
  index: number;
  profile: string;
  imei: string;
  /** 'connected' | 'online' | 'offline' (ModemController.clusterState). */
  state: string;
  link?: string;
  device: string;
}

export interface ClusterNode {
  node: string;
  host: string;
  pid: number;
  broker?: string;
  control?: string;
  modems: number;
}

/** What the directory needs of each local modem. */
export interface DirectoryModem {
  readonly name: string;
  readonly index: number;
  readonly profile: { readonly id: string };
  readonly imei: string;
  readonly devicePath: string;
  readonly linkPath?: string;
  readonly controller: { clusterState(): string };
}

export interface ClusterDirectory {
  readonly nodeId: string;
  /** Every live node's modems, sorted by node then index. */
  listModems(): Promise<ClusterModem[]>;
  listNodes(): Promise<ClusterNode[]>;
  /** Add to what the node's heartbeat says of it (the control API's URL once it listens). */
  announce(fields: { control?: string }): void;
  /** Write this node's entries now (tests; the timer does it every refresh). */
  refresh(): Promise<void>;
  /** Remove this node's entries and stop. */
  close(): Promise<void>;
}

export interface ClusterDirectoryOptions {
  redis: RedisEndpoint;
  nodeId: string;
  modems: readonly DirectoryModem[];
  brokerUrl?: string;
  controlUrl?: string;
  /** How often the entries are rewritten (default 1000 ms); they expire after three of these. */
  refreshMs?: number;
  log?: Logger;
}

export async function startClusterDirectory(opts: ClusterDirectoryOptions): Promise<ClusterDirectory> {
  const log = (opts.log ?? silentLogger()).child({ component: 'cluster-directory' });
  const node = opts.nodeId;
  const refreshMs = opts.refreshMs ?? 1000;
  const ttl = refreshMs * 3;
  const db: Redis = openRedis(opts.redis, 'directory', log);
  let info: Omit<ClusterNode, 'node'> = {
    host: os.hostname(),
    pid: process.pid,
    modems: opts.modems.length,
    ...(opts.brokerUrl ? { broker: opts.brokerUrl } : {}),
    ...(opts.controlUrl ? { control: opts.controlUrl } : {}),
  };
  /** Last value written per modem; a field is rewritten only when it changed. */
  const written = new Map<string, string>();

  const refresh = async (): Promise<void> => {
    const m = db.multi();
    m.sadd(DIRECTORY_KEYS.nodes, node);
    m.set(DIRECTORY_KEYS.node(node), JSON.stringify(info), 'PX', ttl);
    const changed: [string, string][] = [];
    for (const modem of opts.modems) {
      const entry: ClusterModem = {
        name: modem.name,
        node,
        index: modem.index,
        profile: modem.profile.id,
        imei: modem.imei,
        state: modem.controller.clusterState(),
        device: modem.devicePath,
        ...(modem.linkPath ? { link: modem.linkPath } : {}),
      };
      const text = JSON.stringify(entry);
      if (written.get(modem.name) !== text) changed.push([modem.name, text]);
    }
    if (changed.length > 0) m.hset(DIRECTORY_KEYS.modems(node), Object.fromEntries(changed));
    m.pexpire(DIRECTORY_KEYS.modems(node), ttl);
    await m.exec();
    for (const [name, text] of changed) written.set(name, text);
  };

  // A fresh start: drop what an earlier process with this node id left.
  await db.del(DIRECTORY_KEYS.modems(node));
  await refresh();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    refresh()
      .catch((err: unknown) => {
        // Redis away: what was written may have expired meanwhile, so write everything again.
        written.clear();
        log.debug({ err: (err as Error).message }, 'cluster directory: refresh failed');
      })
      .finally(() => {
        busy = false;
      });
  }, refreshMs);
  timer.unref();
  log.info({ node, modems: opts.modems.length }, 'cluster node registered');

  const liveNodes = async (): Promise<[string, string][]> => {
    const ids = (await db.smembers(DIRECTORY_KEYS.nodes)).sort();
    if (ids.length === 0) return [];
    const values = await db.mget(ids.map((id) => DIRECTORY_KEYS.node(id)));
    const dead = ids.filter((_, i) => values[i] === null);
    if (dead.length > 0) await db.srem(DIRECTORY_KEYS.nodes, ...dead);
    return ids.flatMap((id, i) => (values[i] === null ? [] : [[id, values[i]!] as [string, string]]));
  };

  let closing: Promise<void> | undefined;
  return {
    nodeId: node,
    refresh,
    announce: (fields) => {
      info = { ...info, ...fields };
    },
    listNodes: async () => (await liveNodes()).map(([id, text]) => ({ node: id, ...(JSON.parse(text) as Omit<ClusterNode, 'node'>) })),
    listModems: async () => {
      const out: ClusterModem[] = [];
      for (const [id] of await liveNodes()) {
        const all = await db.hvals(DIRECTORY_KEYS.modems(id));
        const ms = all.map((t) => JSON.parse(t) as ClusterModem).sort((a, b) => a.index - b.index);
        out.push(...ms);
      }
      return out;
    },
    close: () =>
      (closing ??= (async () => {
        clearInterval(timer);
        info = { ...info, modems: 0 };
        try {
          await Promise.race([
            db.multi().del(DIRECTORY_KEYS.modems(node)).del(DIRECTORY_KEYS.node(node)).srem(DIRECTORY_KEYS.nodes, node).exec(),
            new Promise((resolve) => setTimeout(resolve, 1000).unref()),
          ]);
        } finally {
          db.disconnect();
        }
      })()),
  };
}
