/**
 * `vmodem start --broker <url>`: is anything listening there? (issue 14 §9). vmodem starts
 * anyway — the broker may come up later, and the modem reports failed opens as the module
 * would — but a typo in the URL should show at start, not as `+QMTOPEN: 0,-1` much later.
 */
import net from 'node:net';
import { parseBrokerUrl } from '../vmodem.js';

/** Undefined when a TCP connection to the broker succeeds; else why not (ECONNREFUSED, timeout, …). */
export function probeBroker(url: string, timeoutMs = 2000): Promise<string | undefined> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseBrokerUrl(url).plain);
  } catch (err) {
    return Promise.resolve((err as Error).message);
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (why: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}
