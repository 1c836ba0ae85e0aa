// A two-factor code typed on web mode's sign-in page counts as that browser session's step-up
// (issue 14 gap, decided in session 9): with step-up on, an admin who signed in with password
// and code takes admin actions from the page's socket for five minutes without typing another
// code, on every socket of that session (a reload, a second tab), and not on another session's;
// once the five minutes are past a fresh code is asked again; a step-up typed in one tab counts
// in the session's others. Real backend, real web server over TLS, real TOTP codes.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SUBPROTOCOL, createApiClient, type ApiClient } from '../../../electron/contract';
import type { Backend } from '../../../electron/backend/app/backend';
import { startQuietBackend } from '../../support/backend-harness';
import { STEP_UP_MS } from '../../../electron/backend/operators/step-up';
import { totpCode } from '../../../electron/backend/operators/totp';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { issueServerCertificate } from '../../../electron/backend/pki/issue-certificate';
import { startWebServer, type WebServer } from '../../../electron/backend/server/web-server';
import { webTeamTls } from '../../../electron/backend/server/web-team-tls';
import { codeOf } from '../../support/api-pipes';
import { makeTempDir } from '../../support/temp-dir';
import { wsTransport } from '../../support/ws-peer';

const dir = makeTempDir('sutazai-web-step-up-');
const PASSWORD = 'a long team password';
/** The backend's clock, moved on by the test (TOTP codes are computed on it too). */
let skewMs = 0;
const clock = () => Date.now() + skewMs;
let backend: Backend;
let server: WebServer;
let ca: string;
let secret = '';
let step = 0;
const sockets: WebSocket[] = [];
const clients: ApiClient[] = [];

/** A code of a time step no earlier code used (each step's code is taken once). */
function freshCode(): string {
  step = Math.max(step + 1, Math.floor(clock() / 30_000));
  // Within the accepted window: at most one step ahead of the clock.
  if (step > Math.floor(clock() / 30_000) + 1) skewMs += 30_000;
  return totpCode(secret, step * 30_000);
}

function signIn(body: Record<string, string>): Promise<{ status: number; cookie: string | null; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/session',
        ca,
        servername: 'localhost',
        headers: { host: `localhost:${server.port}`, origin: `https://localhost:${server.port}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] ?? null, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The page's API socket for a session cookie (a tab; a reload opens a new one). */
function openTab(cookie: string): Promise<ApiClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`wss://localhost:${server.port}/api`, [API_SUBPROTOCOL], { ca, headers: { cookie } });
    sockets.push(socket);
    socket.once('open', () => {
      const client = createApiClient(wsTransport(socket));
      clients.push(client);
      resolve(client);
    });
    socket.once('error', reject);
  });
}

let added = 0;
/** An admin action under step-up: adding an operator (manage-operators). */
const adminAction = (client: ApiClient) =>
  client.call('operators.add', { name: `added-${(added += 1)}`, role: 'viewer', password: 'a password long enough' });

beforeAll(async () => {
  backend = await startQuietBackend(path.join(dir.path, 'data'), {
    now: clock,
    vaultKey: { kind: 'passphrase', passphrase: 'the vault passphrase of this test' },
  });
  const local = backend.openClient('setup');
  clients.push(local);
  await local.call('operators.add', { name: 'ada', role: 'admin', password: PASSWORD });
  await local.call('session.signIn', { name: 'ada', password: PASSWORD });
  const begun = await local.call('mfa.enrolBegin', {});
  secret = begun.secret;
  await local.call('mfa.enrolConfirm', { code: freshCode() });
  await local.call('mfa.setStepUp', { required: true });
  const installCa = await createInstallCa({ installName: 'site' });
  ca = installCa.certPem;
  const issued = await issueServerCertificate(installCa, { hostName: 'control.test' });
  fs.writeFileSync(path.join(dir.path, 'web.crt'), issued.certPem);
  fs.writeFileSync(path.join(dir.path, 'web.key'), issued.keyPem, { mode: 0o600 });
  const team = webTeamTls({ listen: '127.0.0.1', tlsCert: path.join(dir.path, 'web.crt'), tlsKey: path.join(dir.path, 'web.key') });
  server = await startWebServer({
    dispatcher: backend.dispatcher,
    rendererDir: path.join(dir.path, 'renderer'),
    token: 'launch-token-unused-in-team-mode',
    port: 0,
    logger: backend.logger,
    team: { ...team!, sessions: backend.webSessions },
  });
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const socket of sockets) socket.terminate();
  await server?.close();
  await backend?.close();
  dir.remove();
});

describe('a code typed at browser sign-in', () => {
  it('counts as the session’s step-up on its sockets for five minutes, then a fresh code is asked', async () => {
    const signedIn = await signIn({ name: 'ada', password: PASSWORD, code: freshCode() });
    expect(signedIn.status).toBe(200);
    const tab = await openTab(signedIn.cookie!);
    const status = await tab.call('mfa.status', {});
    expect(status.stepUpRequired).toBe(true);
    expect(status.stepUpUntil).toBeGreaterThan(clock());
    await adminAction(tab);
    // A reload (a new socket of the same session) keeps it.
    const reloaded = await openTab(signedIn.cookie!);
    await adminAction(reloaded);

    skewMs += STEP_UP_MS + 1_000;
    expect(await codeOf(adminAction(tab))).toBe('MFA_STEP_UP_REQUIRED');
    expect(await codeOf(adminAction(reloaded))).toBe('MFA_STEP_UP_REQUIRED');
    expect((await tab.call('mfa.status', {})).stepUpUntil).toBeNull();

    // A step-up typed in one tab counts in the session's other.
    await tab.call('session.stepUp', { code: freshCode() });
    await adminAction(reloaded);
  });

  it('is the session’s own: a later sign-in’s code does not carry to an earlier session', async () => {
    const earlier = await signIn({ name: 'ada', password: PASSWORD, code: freshCode() });
    const earlierTab = await openTab(earlier.cookie!);
    skewMs += STEP_UP_MS + 1_000;
    const later = await signIn({ name: 'ada', password: PASSWORD, code: freshCode() });
    const laterTab = await openTab(later.cookie!);
    await adminAction(laterTab);
    expect(await codeOf(adminAction(earlierTab))).toBe('MFA_STEP_UP_REQUIRED');
    // Signing out ends the later session, its proof with it.
    await laterTab.call('session.signOut', {});
    expect(await codeOf(adminAction(laterTab))).toMatch(/^(SIGN_IN|UNAUTHORIZED|ACCESS_)/);
  });
});
