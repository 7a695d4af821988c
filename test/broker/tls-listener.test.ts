import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type AuthRequest, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { issueDeviceCertificate } from '../../src/broker/tls-material.js';
import { LinkOpenError } from '../../src/mqtt/types.js';
import { openLink } from '../../src/mqtt/link.js';
import { Cleanup, connect } from '../cloud/helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function start(opts: Parameters<typeof startEmbeddedBroker>[0]): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker(opts);
  cleanup.add(() => b.close());
  return b;
}

describe('the embedded broker TLS listener', () => {
  it('creates a CA and server certificate in <stateDir>/tls on first start and reuses them', async () => {
    const stateDir = cleanup.tempDir();
    const b = await start({ port: 0, tlsPort: 0, stateDir });
    expect(b.tlsPort).toBeGreaterThan(0);
    expect(b.tlsUrl).toBe(`mqtts://127.0.0.1:${b.tlsPort}`);
    expect(b.caPath).toBe(path.join(stateDir, 'tls', 'ca.pem'));
    expect(b.ca).toBe(readFileSync(b.caPath!, 'utf8'));
    for (const f of ['ca.pem', 'server.pem', 'server-key.pem', 'ca-key.pem']) expect(statSync(path.join(stateDir, 'tls', f)).isFile()).toBe(true);
    expect(statSync(path.join(stateDir, 'tls', 'server-key.pem')).mode & 0o077).toBe(0);
    const server = readFileSync(path.join(stateDir, 'tls', 'server.pem'), 'utf8');
    await b.close();

    const again = await start({ port: 0, tlsPort: 0, stateDir });
    expect(again.ca).toBe(b.ca);
    expect(readFileSync(path.join(stateDir, 'tls', 'server.pem'), 'utf8')).toBe(server);
  });

  it('is reachable by a client trusting the generated CA, and refused without it', async () => {
    const stateDir = cleanup.tempDir();
    const b = await start({ port: 0, tlsPort: 0, stateDir });
    const { outcome } = await connect(cleanup, b.tlsPort!, { clientId: 'tls-client' }, { ca: b.ca! });
    expect(outcome).toEqual({ kind: 'accepted', sessionPresent: false });

    const err = await openLink({ target: { host: '127.0.0.1', port: b.tlsPort!, tls: true }, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkOpenError);
    expect((err as LinkOpenError).reason).toBe('tls');
  });

  it('tells the authenticator the transport and the client certificate', async () => {
    const stateDir = cleanup.tempDir();
    const seen: AuthRequest[] = [];
    const b = await start({ port: 0, tlsPort: 0, stateDir, authenticate: (r) => (seen.push(r), true) });
    const device = await issueDeviceCertificate(stateDir, 'dev_g1');

    await connect(cleanup, b.port, { clientId: 'plain' });
    await connect(cleanup, b.tlsPort!, { clientId: 'no-cert' }, { ca: b.ca! });
    await connect(cleanup, b.tlsPort!, { clientId: 'with-cert' }, { ca: b.ca!, cert: device.cert, key: device.key });

    expect(seen.map((r) => [r.clientId, r.transport, r.peerCertificate?.fingerprint256])).toEqual([
      ['plain', 'tcp', undefined],
      ['no-cert', 'tls', undefined],
      ['with-cert', 'tls', device.fingerprint256],
    ]);
    expect(seen[2]!.peerCertificate).toMatchObject({ commonName: 'dev_g1', authorized: true });
    expect(seen[2]!.client.id).toBe('with-cert');
  });

  it('needs a state directory for its certificates', async () => {
    await expect(startEmbeddedBroker({ port: 0, tlsPort: 0 })).rejects.toThrow(/state directory/);
  });

  it('reports a busy TLS port clearly and leaves nothing listening', async () => {
    const stateDir = cleanup.tempDir();
    const b = await start({ port: 0, tlsPort: 0, stateDir });
    const err = (await startEmbeddedBroker({ port: 0, tlsPort: b.tlsPort!, stateDir }).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toMatch(new RegExp(`MQTT TLS port ${b.tlsPort} .*already in use`));
  });
});
