/**
 * The dashboard's server side (issue 11): the single page bundled into dist/ui by
 * scripts/build-ui.mjs (Preact + xterm.js, no CDN), served by the control server with
 * `vmodem start --ui`, and what the page asks for that the plain API does not keep (a modem's
 * identity, who holds its port, its platform registry entry).
 *
 * The page itself holds no secret, so it is served without the token; the token travels in the
 * URL fragment (`/#token=…`), which browsers never send to a server, and the page then sends it
 * as `Authorization: Bearer` and as the WebSocket subprotocol `token.<t>`. Like the event stream,
 * the page is served only under this server's own Host (a DNS-rebinding page sends its own name),
 * and a Content-Security-Policy keeps it to scripts and connections of its own origin.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceEntry, DeviceRegistry } from '../cloud/registry.js';

/** Files of the bundled page: name → bytes and type. */
export interface DashboardFiles {
  readonly dir: string;
  get(name: string): { body: Buffer; type: string } | undefined;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Where the bundle is: dist/ui next to the compiled control server (dist/control/…), or the
 * repository's dist/ui when running from src/ (tsx, vitest).
 */
export function defaultDashboardDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '..', 'ui'), path.resolve(here, '..', '..', 'dist', 'ui')];
  return candidates.find((d) => existsSync(path.join(d, 'index.html')));
}

/**
 * Load the bundle once (it is small: ~400 KB). Only files that exist at start are served, by
 * exact name: nothing in a request path reaches the file system.
 */
export function loadDashboardFiles(dir: string): DashboardFiles {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (!type || !/^[\w.-]+$/.test(name)) continue;
    files.set(name, { body: readFileSync(path.join(dir, name)), type });
  }
  if (!files.has('index.html')) throw new Error(`${dir} has no index.html: run \`npm run build\``);
  return { dir, get: (name) => files.get(name) };
}

/** Security headers of every page file; `port` names the only WebSocket the page may open. */
export function pageHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      // xterm.js writes its theme into a <style> element.
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "font-src 'self'",
      `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

/** Secrets a registry entry holds are shown as set or not, never as their value. */
function redacted(v: string | undefined): string | null {
  return v === undefined ? null : '(set)';
}

/**
 * The platform registry entries the device signed in as: matched on the client ids it used
 * (Tencent `productId + deviceName`, Aliyun `{id}|…|` with the device name, OneNET/Huawei the
 * device name or id).
 */
export function registryEntriesFor(registry: DeviceRegistry | undefined, clientIds: readonly string[]): Record<string, unknown>[] {
  if (!registry || clientIds.length === 0) return [];
  const out: Record<string, unknown>[] = [];
  for (const p of registry.products()) {
    for (const d of p.devices.values()) {
      const hit = clientIds.some(
        (id) => id === d.clientId || id === `${d.productId}${d.deviceName}` || id === d.deviceName || id.startsWith(`${d.deviceName}|`) || id.startsWith(`${d.productId}.${d.deviceName}|`),
      );
      if (hit) out.push(entryJson(d, registry.strict));
    }
  }
  return out;
}

function entryJson(d: DeviceEntry, strict: boolean): Record<string, unknown> {
  return {
    platform: d.platform,
    productId: d.productId,
    deviceName: d.deviceName,
    deviceSecret: redacted(d.deviceSecret),
    deviceToken: redacted(d.deviceToken),
    clientId: d.clientId ?? null,
    certificate: d.certificate ? { fingerprint256: d.certificate.fingerprint256 } : null,
    topics: d.topics,
    registered: d.registered,
    activated: d.activated,
    registry: strict ? 'file' : 'learnt (no registry file)',
  };
}
