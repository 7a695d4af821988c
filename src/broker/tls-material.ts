/**
 * The virtual cloud's TLS material: a private CA and a server certificate for the embedded
 * broker's TLS listener (and the HTTPS endpoints), created on first start in `<stateDir>/tls/`
 * and reused afterwards, plus client certificates signed by the same CA for devices that sign in
 * with a certificate (Tencent's certificate mode).
 *
 * node:crypto can verify X.509 certificates but cannot create them; @peculiar/x509 (on Node's
 * WebCrypto) builds and signs them in process — no `openssl` command needed, ~50 ms for all three.
 * Keys are ECDSA P-256 (instant to generate, accepted by node:tls and OpenSSL-based tools such as
 * mosquitto alike), written as PKCS#8 PEM. Files are written into a private temporary directory
 * first and renamed into place, so a crash never leaves half a pair.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';

/**
 * Making certificates needs @peculiar/x509 (and its ASN.1 stack, ~1 MB of code): 0.1–0.3 s to
 * load on the 2-core machine, a large share of a cold `vmodem start` (issue 12 §3). Reusing the
 * material in the state dir needs only node:crypto, so tls-issue.ts is loaded on first need.
 */
const issuer = () => import('./tls-issue.js');

export interface TlsMaterial {
  /** `<stateDir>/tls` */
  dir: string;
  /** The CA certificate users (and modules) trust: `<stateDir>/tls/ca.pem`. */
  caPath: string;
  /** The CA's private key (mode 0600), needed to issue device certificates. */
  caKeyPath: string;
  /** `<stateDir>/tls/server.pem`, valid for localhost, 127.0.0.1 and ::1. */
  certPath: string;
  /** `<stateDir>/tls/server-key.pem` (mode 0600). */
  keyPath: string;
  ca: string;
  cert: string;
  key: string;
}

export interface DeviceCertificate {
  name: string;
  /** `<stateDir>/tls/devices/<name>.pem` */
  certPath: string;
  /** `<stateDir>/tls/devices/<name>-key.pem` (mode 0600) */
  keyPath: string;
  cert: string;
  key: string;
  /** SHA-256 fingerprint as node reports it (`AB:CD:…`). */
  fingerprint256: string;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

async function withTempDir<T>(parent: string, fn: (dir: string) => Promise<T>): Promise<T> {
  await fs.mkdir(parent, { recursive: true });
  const dir = await fs.mkdtemp(path.join(parent, '.tmp-'));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Write `text` into `dir/name` with `mode`, then rename it to `target`. */
async function writeInto(dir: string, name: string, text: string, target: string, mode: number): Promise<void> {
  const tmpFile = path.join(dir, name);
  await fs.writeFile(tmpFile, text, { mode });
  await fs.chmod(tmpFile, mode);
  await fs.rename(tmpFile, target);
}

/** True when `certPem` parses, is currently valid and was signed by `caPem`'s key. */
function issuedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    const now = Date.now();
    return cert.verify(ca.publicKey) && Date.parse(cert.validTo) > now;
  } catch {
    return false;
  }
}

const pending = new Map<string, Promise<TlsMaterial>>();

/**
 * Make sure `<stateDir>/tls/` holds a CA and a server certificate signed by it; create what is
 * missing (or no longer matches the CA) and return the paths and PEM texts. Concurrent calls for
 * the same directory share one run.
 */
export function ensureTlsMaterial(stateDir: string, opts: { log?: Logger } = {}): Promise<TlsMaterial> {
  const dir = path.resolve(stateDir, 'tls');
  let run = pending.get(dir);
  if (!run) {
    run = createTlsMaterial(dir, (opts.log ?? silentLogger()).child({ component: 'tls' })).finally(() => pending.delete(dir));
    pending.set(dir, run);
  }
  return run;
}

async function createTlsMaterial(dir: string, log: Logger): Promise<TlsMaterial> {
  const caPath = path.join(dir, 'ca.pem');
  const caKeyPath = path.join(dir, 'ca-key.pem');
  const certPath = path.join(dir, 'server.pem');
  const keyPath = path.join(dir, 'server-key.pem');
  // The directory stays readable (users point their tools at ca.pem); private keys are 0600.
  await fs.mkdir(dir, { recursive: true });

  if (!((await exists(caPath)) && (await exists(caKeyPath)))) {
    const made = await (await issuer()).createCa();
    await withTempDir(dir, async (tmp) => {
      await writeInto(tmp, 'ca-key.pem', made.key, caKeyPath, 0o600);
      await writeInto(tmp, 'ca.pem', made.cert, caPath, 0o644);
    });
    await fs.rm(certPath, { force: true });
    log.debug({ caPath }, 'created the virtual cloud CA');
  }
  const ca = await fs.readFile(caPath, 'utf8');

  const serverOk = (await exists(certPath)) && (await exists(keyPath)) && issuedBy(await fs.readFile(certPath, 'utf8'), ca);
  if (!serverOk) {
    const leaf = await (await issuer()).issueLeaf(ca, await fs.readFile(caKeyPath, 'utf8'), 'localhost', 'server');
    await withTempDir(dir, async (tmp) => {
      await writeInto(tmp, 'leaf-key.pem', leaf.key, keyPath, 0o600);
      await writeInto(tmp, 'leaf.pem', leaf.cert, certPath, 0o644);
    });
    log.debug({ certPath }, 'created the TLS server certificate');
  }
  return {
    dir,
    caPath,
    caKeyPath,
    certPath,
    keyPath,
    ca,
    cert: await fs.readFile(certPath, 'utf8'),
    key: await fs.readFile(keyPath, 'utf8'),
  };
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Issue a client certificate (CN = `name`) signed by the virtual cloud's CA, creating the CA
 * first if needed. Written to `<stateDir>/tls/devices/<name>.pem` and `<name>-key.pem`; an
 * existing pair for the same name is replaced.
 */
export async function issueDeviceCertificate(stateDir: string, name: string): Promise<DeviceCertificate> {
  if (!SAFE_NAME.test(name)) {
    throw new Error(`device certificate name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (at most 128)`);
  }
  const material = await ensureTlsMaterial(stateDir);
  const devicesDir = path.join(material.dir, 'devices');
  await fs.mkdir(devicesDir, { recursive: true });
  const certPath = path.join(devicesDir, `${name}.pem`);
  const keyPath = path.join(devicesDir, `${name}-key.pem`);
  const leaf = await (await issuer()).issueLeaf(material.ca, await fs.readFile(material.caKeyPath, 'utf8'), name, 'client');
  await withTempDir(material.dir, async (tmp) => {
    await writeInto(tmp, 'leaf-key.pem', leaf.key, keyPath, 0o600);
    await writeInto(tmp, 'leaf.pem', leaf.cert, certPath, 0o644);
  });
  const cert = await fs.readFile(certPath, 'utf8');
  return {
    name,
    certPath,
    keyPath,
    cert,
    key: await fs.readFile(keyPath, 'utf8'),
    fingerprint256: new X509Certificate(cert).fingerprint256,
  };
}
