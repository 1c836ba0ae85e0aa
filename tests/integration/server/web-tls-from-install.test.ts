// Web mode for a team with a certificate from an install's CA (issue 14 item 5, left from
// earlier sessions): `npm run web -- --listen 127.0.0.1 --tls-from-install lab --name localhost`,
// the real entry as a child process on a data directory whose install has its CA key sealed in
// the vault (as the install engine leaves it). Node's TLS client trusting only that CA reaches
// it and signs in; the certificate is the CA's, names localhost and the address, lives 30 days;
// the CA's certificate is written for browsers. Refused before serving: an unknown install, a
// locked vault, and both ways of giving a certificate at once.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQuietBackend } from '../../support/backend-harness';
import type { InstallCa } from '../../../electron/backend/pki/install-ca';
import { recordInstallWithSealedCa } from '../../support/recorded-installs';
import { makeTempDir } from '../../support/temp-dir';
import { startWebModeServer, stopWebModeServer, waitForUrl, type WebModeServer } from '../../support/web-mode-server';

const dir = makeTempDir('sutazai-web-tls-install-');
const dataDir = path.join(dir.path, 'data');
const PASSPHRASE = { SUTAZAI_PASSPHRASE: 'vault passphrase of the test' };
const ADA = 'ada has a long password';
const TEAM_URL = /https:\/\/localhost:(\d+)\//;
let ca: InstallCa;
const servers: WebModeServer[] = [];

beforeAll(async () => {
  const backend = await startQuietBackend(dataDir);
  const admin = backend.openClient();
  await admin.call('operators.add', { name: 'ada', role: 'admin', password: ADA });
  admin.close();
  await backend.close();
  ca = await recordInstallWithSealedCa(dataDir, PASSPHRASE.SUTAZAI_PASSPHRASE, 'lab');
}, 120_000);

afterAll(async () => {
  for (const server of servers) await stopWebModeServer(server);
  dir.remove();
}, 60_000);

function web(env: Record<string, string>, args: string[], at = dataDir): WebModeServer {
  const server = startWebModeServer(at, env, args);
  servers.push(server);
  return server;
}

/** The output of a start that must be refused: it exits non-zero without serving. */
async function refusedStart(env: Record<string, string>, args: string[], at = dataDir): Promise<string> {
  const server = web(env, args, at);
  const { code } = await server.exited;
  expect(code).not.toBe(0);
  expect(server.output()).not.toMatch(TEAM_URL);
  return server.output();
}

function post(port: number, body: unknown): Promise<{ status: number; peer: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/session',
        ca: ca.certPem,
        servername: 'localhost',
        // A connection of its own: its handshake (and the certificate read there) is this request's.
        agent: false,
        headers: { host: `localhost:${port}`, origin: `https://localhost:${port}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, peer: peer! }));
      },
    );
    let peer: X509Certificate | undefined;
    // Read at the handshake: once the answer is in, the socket may be closed and hold no certificate.
    req.on('socket', (socket) =>
      (socket as TLSSocket).once('secureConnect', () => (peer = (socket as TLSSocket).getPeerX509Certificate())),
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('web mode with --tls-from-install', () => {
  it('serves HTTPS with a certificate the install’s CA issued at start, and signs in over it', async () => {
    const server = web(PASSPHRASE, ['--listen', '127.0.0.1', '--tls-from-install', 'lab', '--name', 'localhost']);
    const url = await waitForUrl(server, undefined, TEAM_URL);
    const port = Number(TEAM_URL.exec(url)![1]);
    // Printed just after the address.
    await waitForUrl(server, undefined, /SHA-256 [0-9A-F:]+\)/);
    const caFile = path.join(dataDir, 'web-ca', 'lab.crt');
    expect(fs.readFileSync(caFile, 'utf8')).toBe(ca.certPem);
    expect(server.output()).toContain(caFile);
    const fingerprint = new X509Certificate(ca.certPem).fingerprint256;
    expect(server.output()).toContain(fingerprint);

    const wrong = await post(port, { name: 'ada', password: 'not her password at all' });
    expect(wrong.status).toBe(401);
    const signedIn = await post(port, { name: 'ada', password: ADA });
    expect(signedIn.status).toBe(200);
    const peer = signedIn.peer;
    expect(peer.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(peer.checkHost('localhost')).toBe('localhost');
    expect(peer.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(Date.parse(peer.validTo) - Date.parse(peer.validFrom)).toBeLessThanOrEqual(31 * 24 * 3600_000);
    await stopWebModeServer(server);

    // The issuance is in the control center's audit log: its serial, names and install, and the local account.
    const db = new Database(path.join(dataDir, 'sutazai.db'), { readonly: true });
    try {
      const entries = db
        .prepare("SELECT actor, operator, action, target, outcome FROM audit_log WHERE method = 'web.certificateIssue'")
        .all();
      expect(entries).toEqual([
        {
          actor: expect.stringMatching(/^web mode started by .*uid \d+.* on .+, pid \d+$/),
          operator: null,
          action: 'vault',
          target: expect.stringContaining(`install lab: web server certificate ${peer.serialNumber.toLowerCase()} for `),
          outcome: 'ok',
        },
      ]);
      const target = (entries[0] as { target: string }).target;
      expect(target).toContain('DNS:localhost');
      expect(target).toContain('IP Address:127.0.0.1');
    } finally {
      db.close();
    }
  }, 240_000);

  it('is refused before serving: a data directory with no store (nothing created), an unknown install, a locked vault, and certificate files given too', async () => {
    const mistyped = path.join(dir.path, 'dtaa');
    const missing = await refusedStart(PASSPHRASE, ['--listen', '127.0.0.1', '--tls-from-install', 'lab', '--name', 'localhost'], mistyped);
    expect(missing).toContain(`error NOT_FOUND: There is no control center in ${mistyped}`);
    expect(fs.existsSync(path.join(mistyped, 'sutazai.db'))).toBe(false);
    expect(await refusedStart(PASSPHRASE, ['--listen', '127.0.0.1', '--tls-from-install', 'nope', '--name', 'localhost'])).toContain(
      'error NOT_FOUND: There is no install named "nope"',
    );
    expect(await refusedStart({}, ['--listen', '127.0.0.1', '--tls-from-install', 'lab', '--name', 'localhost'])).toContain(
      'error SECRETS_LOCKED',
    );
    const both = await refusedStart(PASSPHRASE, [
      '--listen',
      '127.0.0.1',
      '--tls-from-install',
      'lab',
      '--tls-cert',
      path.join(dir.path, 'none.crt'),
      '--tls-key',
      path.join(dir.path, 'none.key'),
    ]);
    expect(both).toContain('error WEB_TLS_REQUIRED: --tls-from-install and --tls-cert/--tls-key were both given.');
  }, 240_000);
});
