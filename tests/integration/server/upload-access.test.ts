// Who may upload in web mode for a team (real TLS, the real backend and sign-in): a file is
// taken only from a session whose operator may call the method it is for, checked as the
// dispatcher checks a call (role and access policy), before a byte is kept; an upload that does
// not say its length is answered 411, a page of another site 403, each with its own code.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../electron/backend/app/backend';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { issueServerCertificate } from '../../../electron/backend/pki/issue-certificate';
import { startWebServer, type WebServer } from '../../../electron/backend/server/web-server';
import { webTeamTls } from '../../../electron/backend/server/web-team-tls';
import { startQuietBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';

let dir: ReturnType<typeof makeTempDir>;
let backend: Backend;
let server: WebServer;
let ca = '';
const PASSWORD = 'a long team password';

interface Answer {
  status: number;
  connection: string | undefined;
  code: string | undefined;
  cookie: string | null;
}

/** One HTTPS request from this server's own page (its Origin), trusting only the install's CA. */
function request(
  method: string,
  pathName: string,
  headers: Record<string, string>,
  body?: Buffer | string,
  chunked = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path: pathName,
        ca,
        servername: 'localhost',
        headers: { host: `localhost:${server.port}`, origin: `https://localhost:${server.port}`, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            connection: res.headers.connection,
            code: text.startsWith('{"error"') ? (JSON.parse(text) as { error: { code: string } }).error.code : undefined,
            cookie: res.headers['set-cookie']?.[0]?.split(';')[0] ?? null,
          }),
        );
      },
    );
    req.on('error', reject);
    if (chunked) {
      req.write(body);
      req.end();
    } else req.end(body);
  });
}

async function signIn(name: string): Promise<string> {
  const answer = await request('POST', '/session', { 'content-type': 'application/json' }, JSON.stringify({ name, password: PASSWORD }));
  expect(answer.status).toBe(200);
  return answer.cookie!;
}

beforeAll(async () => {
  dir = makeTempDir('upload-access-');
  backend = await startQuietBackend(path.join(dir.path, 'data'), {});
  const local = backend.openClient('setup');
  await local.call('operators.add', { name: 'ada', role: 'admin', password: PASSWORD });
  await local.call('session.signIn', { name: 'ada', password: PASSWORD });
  await local.call('operators.add', { name: 'vic', role: 'viewer', password: PASSWORD });
  local.close();
  const installCa = await createInstallCa({ installName: 'site' });
  ca = installCa.certPem;
  const issued = await issueServerCertificate(installCa, { hostName: 'localhost' });
  fs.writeFileSync(path.join(dir.path, 'web.crt'), issued.certPem);
  fs.writeFileSync(path.join(dir.path, 'web.key'), issued.keyPem, { mode: 0o600 });
  const team = webTeamTls({ listen: '127.0.0.1', tlsCert: path.join(dir.path, 'web.crt'), tlsKey: path.join(dir.path, 'web.key') });
  server = await startWebServer({
    dispatcher: backend.dispatcher,
    rendererDir: dir.path,
    token: 'unused in team mode',
    port: 0,
    logger: backend.logger,
    downloads: backend.downloads,
    team: { ...team!, sessions: backend.webSessions },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await backend?.close();
  dir?.remove();
});

describe('an upload in web mode for a team', () => {
  it('is refused to a viewer for what it may not import (a release bundle, a configuration), before a byte is kept; its support bundle is taken', async () => {
    const viewer = await signIn('vic');
    const body = Buffer.alloc(64 * 1024, 1);
    for (const kind of ['bundle', 'config']) {
      const refused = await request('POST', `/upload?kind=${kind}`, { cookie: viewer, 'content-length': String(body.length) }, body);
      expect({ kind, status: refused.status, code: refused.code, connection: refused.connection }).toEqual({
        kind,
        status: 403,
        code: 'ACCESS_DENIED',
        connection: 'close',
      });
    }
    expect(backend.downloads.usedBytes).toBe(0);
    expect(fs.existsSync(path.join(dir.path, 'data', 'downloads'))).toBe(false);
    // support.analyzeUpload is a view: a viewer may send a support bundle to read.
    const support = await request('POST', '/upload?kind=support', { cookie: viewer, 'content-length': String(body.length) }, body);
    expect(support.status).toBe(200);
    // An admin may send a release bundle.
    const admin = await signIn('ada');
    const bundle = await request('POST', '/upload?kind=bundle', { cookie: admin, 'content-length': String(body.length) }, body);
    expect(bundle.status).toBe(200);
  });

  it('answers a chunked upload (no length) with 411, and a page of another site with 403: each its own code', async () => {
    const admin = await signIn('ada');
    const chunked = await request(
      'POST',
      '/upload?kind=bundle',
      { cookie: admin, 'transfer-encoding': 'chunked' },
      Buffer.alloc(1024),
      true,
    );
    expect([chunked.status, chunked.code]).toEqual([411, 'UPLOAD_LENGTH_REQUIRED']);
    const foreign = await request(
      'POST',
      '/upload?kind=bundle',
      { cookie: admin, origin: 'https://evil.example', 'content-length': '4' },
      'abcd',
    );
    expect([foreign.status, foreign.code]).toEqual([403, 'UPLOAD_ORIGIN_REFUSED']);
    const unsigned = await request('POST', '/upload?kind=bundle', { 'content-length': '4' }, 'abcd');
    expect([unsigned.status, unsigned.code]).toEqual([401, 'UNAUTHORIZED']);
  });
});
