/**
 * The virtual cloud's TLS material: a private CA and a server certificate for the embedded
 * broker's TLS listener (and the HTTPS endpoints), created on first start in `<stateDir>/tls/`
 * and reused afterwards, plus client certificates signed by the same CA for devices that sign in
 * with a certificate (Tencent's certificate mode).
 *
 * node:crypto can verify X.509 certificates but cannot create them, so the `openssl` command
 * line tool does the signing (Debian ships it; `which openssl`). Files are written into a
 * private temporary directory first and renamed into place, so a crash never leaves half a pair.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';

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

const CA_DAYS = 3650;
const LEAF_DAYS = 825;
// ECDSA P-256: instant to generate, accepted by node:tls and OpenSSL-based tools alike.
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-contained openssl configuration, so the host's openssl.cnf plays no part. */
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = vmodem
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

type ErrnoError = Error & { code?: string | number };

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 60_000 }, (err, _stdout, stderr) => {
      if (!err) {
        resolve();
        return;
      }
      const e = err as ErrnoError;
      if (e.code === 'ENOENT') {
        reject(new Error('the openssl command is not installed (needed to create the TLS certificates); install it, e.g. apt-get install openssl'));
        return;
      }
      reject(new Error(`openssl ${args[0]} failed: ${String(stderr).trim() || e.message}`));
    });
  });
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
    await fs.writeFile(path.join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function serialArg(): string {
  // Positive 64-bit serial, unique per certificate.
  const bytes = randomBytes(8);
  bytes[0] = bytes[0]! & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

/** Issue a leaf certificate signed by the CA in `tlsDir`, into `tmp/leaf.pem` + `tmp/leaf-key.pem`. */
async function issueLeaf(tmp: string, tlsDir: string, commonName: string, extensions: 'server' | 'client'): Promise<void> {
  const subject = `/CN=${commonName.replace(/[/\\=+,]/g, '_')}`;
  await openssl(['req', '-new', '-config', 'openssl.cnf', ...KEY_ARGS, '-keyout', 'leaf-key.pem', '-out', 'leaf.csr', '-subj', subject], tmp);
  await openssl(
    [
      'x509', '-req', '-in', 'leaf.csr',
      '-CA', path.join(tlsDir, 'ca.pem'), '-CAkey', path.join(tlsDir, 'ca-key.pem'),
      '-set_serial', serialArg(), '-days', String(LEAF_DAYS), '-sha256',
      '-extfile', 'openssl.cnf', '-extensions', extensions, '-out', 'leaf.pem',
    ],
    tmp,
  );
}

async function moveInto(tmpFile: string, target: string, mode: number): Promise<void> {
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
    await withTempDir(dir, async (tmp) => {
      await openssl(
        ['req', '-x509', '-config', 'openssl.cnf', '-extensions', 'v3_ca', ...KEY_ARGS, '-sha256', '-days', String(CA_DAYS),
          '-subj', '/CN=vmodem virtual cloud CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem'],
        tmp,
      );
      await moveInto(path.join(tmp, 'ca-key.pem'), caKeyPath, 0o600);
      await moveInto(path.join(tmp, 'ca.pem'), caPath, 0o644);
    });
    await fs.rm(certPath, { force: true });
    log.debug({ caPath }, 'created the virtual cloud CA');
  }
  const ca = await fs.readFile(caPath, 'utf8');

  const serverOk = (await exists(certPath)) && (await exists(keyPath)) && issuedBy(await fs.readFile(certPath, 'utf8'), ca);
  if (!serverOk) {
    await withTempDir(dir, async (tmp) => {
      await issueLeaf(tmp, dir, 'localhost', 'server');
      await moveInto(path.join(tmp, 'leaf-key.pem'), keyPath, 0o600);
      await moveInto(path.join(tmp, 'leaf.pem'), certPath, 0o644);
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
  await withTempDir(material.dir, async (tmp) => {
    await issueLeaf(tmp, material.dir, name, 'client');
    await moveInto(path.join(tmp, 'leaf-key.pem'), keyPath, 0o600);
    await moveInto(path.join(tmp, 'leaf.pem'), certPath, 0o644);
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
