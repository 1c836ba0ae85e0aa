// Web mode for a team (issue 14, item 5) over real TLS: the real backend behind the real
// web server with a certificate from an install's CA, Node's TLS client trusting only that
// CA. The API socket opens only for a live session's cookie, made by POST /session through
// the real sign-in; Host and Origin are checked against the configured names; sessions are
// listed and revoked; wrong passwords are throttled and every try is in the audit log.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, API_SUBPROTOCOL, apiSocketProtocols, createApiClient, type ApiClient } from '../../../electron/contract';
import type { Backend } from '../../../electron/backend/app/backend';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { issueServerCertificate } from '../../../electron/backend/pki/issue-certificate';
import { startWebServer, type WebServer } from '../../../electron/backend/server/web-server';
import { webTeamTls } from '../../../electron/backend/server/web-team-tls';
import { startQuietBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';
import { wsTransport } from '../../support/ws-peer';

let dir: ReturnType<typeof makeTempDir>;
let backend: Backend;
let server: WebServer;
let admin: ApiClient;
let ca: string;
let certFile: string;
let keyFile: string;
const sockets: WebSocket[] = [];

const PASSWORD = 'a long team password';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: { code: string; message: string; remedy: string } } & Record<string, unknown>;
}

/** One HTTPS request to the server, trusting only the install's CA. */
function request(method: string, pathName: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = https.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path: pathName,
        ca,
        servername: 'localhost',
        headers: { host: `localhost:${server.port}`, 'content-type': 'application/json', ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.startsWith('{') ? JSON.parse(raw) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** As a browser on this server's page signs in: with its Origin (a request with none is refused unless it says it is no browser). */
const signIn = (name: string, password: string, headers: Record<string, string> = {}) =>
  request('POST', '/session', { body: { name, password }, headers: { origin: `https://localhost:${server.port}`, ...headers } });

function cookieOf(answer: Answer): string {
  const setCookie = answer.headers['set-cookie']?.[0];
  if (!setCookie) throw new Error(`no cookie (HTTP ${answer.status})`);
  return setCookie.split(';')[0]!;
}

/** The API socket as a browser with this cookie opens it; rejects with the HTTP status when refused. */
function openApi(cookie: string | null, extra: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<ApiClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`wss://localhost:${server.port}/api`, extra.protocols ?? [API_SUBPROTOCOL], {
      ca,
      headers: { ...(cookie ? { cookie } : {}), ...extra.headers },
    });
    sockets.push(socket);
    socket.once('open', () => resolve(createApiClient(wsTransport(socket))));
    socket.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
    );
    socket.once('error', reject);
  });
}

async function refusedWith(promise: Promise<unknown>): Promise<string | number> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    return (error as { status?: number }).status ?? String(error);
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  dir = makeTempDir('sutazai-web-team-');
  backend = await startQuietBackend(path.join(dir.path, 'data'));
  admin = backend.openClient();
  await admin.call('operators.add', { name: 'ada', role: 'admin', password: PASSWORD });
  await admin.call('operators.add', { name: 'vera', role: 'viewer', password: PASSWORD });
  await admin.call('operators.add', { name: 'otto', role: 'operator', password: PASSWORD });
  const installCa = await createInstallCa({ installName: 'site' });
  ca = installCa.certPem;
  const issued = await issueServerCertificate(installCa, { hostName: 'control.test' });
  certFile = path.join(dir.path, 'web.crt');
  keyFile = path.join(dir.path, 'web.key');
  fs.writeFileSync(certFile, issued.certPem);
  fs.writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
  const team = webTeamTls({ listen: '127.0.0.1', tlsCert: certFile, tlsKey: keyFile });
  server = await startWebServer({
    dispatcher: backend.dispatcher,
    rendererDir: path.join(dir.path, 'renderer'),
    token: 'launch-token-unused-in-team-mode',
    port: 0,
    logger: backend.logger,
    team: { ...team!, sessions: backend.webSessions },
  });
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await server?.close();
  await backend?.close();
  dir?.remove();
});

describe('web mode for a team, over TLS', () => {
  it('refuses to listen beyond loopback without TLS, or with a certificate that does not fit', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
      }
      return 'accepted';
    };
    expect(code(() => webTeamTls({ listen: '0.0.0.0' }))).toMatch(/^WEB_TLS_REQUIRED: .*without TLS/);
    expect(code(() => webTeamTls({ listen: '0.0.0.0', tlsCert: certFile }))).toMatch(/^WEB_TLS_REQUIRED: Only one/);
    expect(code(() => webTeamTls({ tlsCert: certFile, tlsKey: certFile }))).toMatch(/^WEB_TLS_REQUIRED: .*no PEM private key/);
    expect(code(() => webTeamTls({ tlsCert: certFile, tlsKey: keyFile, names: ['control.example'] }))).toMatch(
      /^WEB_TLS_REQUIRED: .*does not name control.example/,
    );
    // Loopback stays as it was: no TLS asked for.
    expect(webTeamTls({ listen: '127.0.0.1' })).toBeNull();
    expect(webTeamTls({})).toBeNull();
    // Without --name, the certificate's own names.
    expect(webTeamTls({ tlsCert: certFile, tlsKey: keyFile })?.names.sort()).toEqual(['127.0.0.1', 'control.test', 'localhost']);
  });

  it('speaks only TLS, with the certificate of the install CA, and prints no token in its address', async () => {
    expect(server.url).toBe(`https://control.test:${server.port}/`);
    const plain = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: '/' }, (res) => resolve(`HTTP ${res.statusCode}`));
      req.on('error', (error) => resolve(`refused: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    });
    expect(plain).not.toBe('HTTP 200');
    const untrusted = await new Promise<string>((resolve) => {
      const req = https.get({ host: '127.0.0.1', port: server.port, path: '/', servername: 'localhost' }, () => resolve('trusted'));
      req.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
    });
    expect(untrusted).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });

  it('opens the API socket only for a live session cookie, not for the launch token or nothing', async () => {
    expect(await refusedWith(openApi(null))).toBe(401);
    expect(await refusedWith(openApi(null, { protocols: apiSocketProtocols('launch-token-unused-in-team-mode') }))).toBe(401);
    expect(await refusedWith(openApi('__Host-sutazai-session=forged-secret-of-the-right-look-1234567890'))).toBe(401);
  });

  it('signs in by POST /session: a wrong password is refused without saying which part; the right one sets a strict cookie', async () => {
    const wrong = await signIn('vera', 'not the password at all');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.code).toBe('SIGN_IN_FAILED');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const unknown = await signIn('nobody', 'not the password at all');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toEqual(wrong.body.error);

    const right = await signIn('vera', PASSWORD);
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ operatorsExist: true, role: 'viewer', operator: { name: 'vera' } });
    const setCookie = right.headers['set-cookie']![0]!;
    expect(setCookie).toMatch(/^__Host-sutazai-session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; Secure; HttpOnly; SameSite=Strict$/);

    const vera = await openApi(cookieOf(right));
    expect(await vera.call('session.whoami', {})).toMatchObject({ role: 'viewer', operator: { name: 'vera' } });
    // The role applies: a viewer may look, not act.
    expect(await refusedWith(vera.call('operators.add', { name: 'mallory', role: 'admin', password: PASSWORD }))).toBe('ACCESS_DENIED');
    // A team pipe cannot sign in as someone else over its connection.
    expect(await refusedWith(vera.call('session.signIn', { name: 'ada', password: PASSWORD }))).toBe('METHOD_NOT_ON_THIS_PIPE');
    // A file method over a browser's pipe is refused by the dispatcher itself, and recorded with who asked.
    expect(await refusedWith(vera.call('installs.applyFile', { file: { path: '/etc/sutazai/prod.yaml' } }))).toBe(
      'METHOD_NOT_ON_THIS_PIPE',
    );
    const recorded = await admin.call('audit.list', { outcome: 'METHOD_NOT_ON_THIS_PIPE', limit: 10 });
    expect(recorded.entries.map((entry) => [entry.operator, entry.method, entry.target])).toContainEqual([
      'vera',
      'installs.applyFile',
      'file /etc/sutazai/prod.yaml',
    ]);
    const own = await vera.call('sessions.list', {});
    expect(own).toEqual([expect.objectContaining({ operator: 'vera', address: '127.0.0.1', current: true })]);
    expect(await refusedWith(vera.call('sessions.list', { all: true }))).toBe('ACCESS_DENIED');
  });

  it('refuses a sign-in with no Origin unless it carries X-SutazAI-Client, and sends HSTS on every answer', async () => {
    const bare = await request('POST', '/session', { body: { name: 'vera', password: PASSWORD } });
    expect(bare.status).toBe(403);
    expect(bare.body.error?.message).toBe('A sign-in request without an Origin header is refused: every browser sends one.');
    expect(bare.body.error?.remedy).toContain('X-SutazAI-Client');
    expect(bare.headers['set-cookie']).toBeUndefined();
    const script = await request('POST', '/session', {
      body: { name: 'vera', password: PASSWORD },
      headers: { 'x-sutazai-client': 'nightly-report' },
    });
    expect(script.status).toBe(200);
    expect(script.headers['set-cookie']).toBeDefined();
    // Signing out without Origin needs the marker too (another site could otherwise sign a browser out).
    expect((await request('DELETE', '/session', { headers: { cookie: cookieOf(script) } })).status).toBe(403);
    for (const answer of [bare, script, await request('GET', '/')])
      expect(answer.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it("keeps DNS-rebinding protection: another name in Host, or another site's Origin, is refused", async () => {
    const rebound = await request('GET', '/', { headers: { host: `evil.example:${server.port}` } });
    expect(rebound.status).toBe(403);
    const crossSite = await signIn('vera', PASSWORD, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers['set-cookie']).toBeUndefined();
    const right = await signIn('vera', PASSWORD, { origin: `https://localhost:${server.port}` });
    expect(right.status).toBe(200);
    expect(await refusedWith(openApi(cookieOf(right), { headers: { origin: 'https://evil.example' } }))).toBe(403);
    expect(await refusedWith(openApi(cookieOf(right), { headers: { host: `evil.example:${server.port}` } }))).toBe(403);
  });

  it("lists everyone's sessions for an admin and revokes one: its socket acts as no one at once and its cookie opens nothing", async () => {
    const otto = await signIn('otto', PASSWORD);
    const ottoApi = await openApi(cookieOf(otto));
    expect((await ottoApi.call('session.whoami', {})).role).toBe('operator');
    const adaApi = await openApi(cookieOf(await signIn('ada', PASSWORD)));
    const all = await adaApi.call('sessions.list', { all: true });
    const ottos = all.find((session) => session.operator === 'otto');
    expect(ottos).toBeDefined();
    // An operator may not end another's session.
    const adas = all.find((session) => session.operator === 'ada')!;
    expect(await refusedWith(ottoApi.call('sessions.revoke', { id: adas.id }))).toBe('ACCESS_DENIED');
    expect(await adaApi.call('sessions.revoke', { id: ottos!.id })).toEqual({ revoked: ottos!.id });
    expect(await refusedWith(ottoApi.call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');
    expect((await ottoApi.call('session.whoami', {})).role).toBeNull();
    expect(await refusedWith(openApi(cookieOf(otto)))).toBe(401);
    expect(await refusedWith(adaApi.call('sessions.revoke', { id: ottos!.id }))).toBe('WEB_SESSION_ENDED');
    const audit = await admin.call('audit.list', { target: `web session ${ottos!.id}` });
    expect(audit.entries.map((entry) => [entry.operator, entry.method, entry.outcome])).toEqual([
      ['ada', 'sessions.revoke', 'WEB_SESSION_ENDED'],
      ['ada', 'sessions.revoke', 'ok'],
    ]);
  });

  it("ends a removed or disabled operator's sessions, and signing out ends one's own", async () => {
    const vera = await openApi(cookieOf(await signIn('vera', PASSWORD)));
    await admin.call('operators.set', { name: 'vera', disabled: true });
    expect(await refusedWith(vera.call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');
    await admin.call('operators.set', { name: 'vera', disabled: false });
    // Enabled again, the ended session stays ended.
    expect(await refusedWith(vera.call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');

    // Removed: its open socket acts as no one, its cookie opens nothing, and an operator added
    // next (who may be given the removed one's row id) does not inherit its session.
    await admin.call('operators.add', { name: 'rita', role: 'operator', password: PASSWORD });
    const rita = await signIn('rita', PASSWORD);
    const ritaApi = await openApi(cookieOf(rita));
    expect((await ritaApi.call('session.whoami', {})).role).toBe('operator');
    await admin.call('operators.remove', { name: 'rita' });
    expect(await refusedWith(ritaApi.call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');
    expect(await refusedWith(openApi(cookieOf(rita)))).toBe(401);
    await admin.call('operators.add', { name: 'rosa', role: 'admin', password: PASSWORD });
    expect((await ritaApi.call('session.whoami', {})).role).toBeNull();
    expect(await refusedWith(openApi(cookieOf(rita)))).toBe(401);

    const otto = await signIn('otto', PASSWORD);
    const ottoApi = await openApi(cookieOf(otto));
    await ottoApi.call('session.signOut', {});
    expect(await refusedWith(openApi(cookieOf(otto)))).toBe(401);
    const out = await request('DELETE', '/session', { headers: { cookie: cookieOf(otto), origin: `https://localhost:${server.port}` } });
    expect(out.headers['set-cookie']?.[0]).toMatch(/^__Host-sutazai-session=; Path=\/; Max-Age=0; Secure; HttpOnly; SameSite=Strict$/);
  });

  it('throttles wrong passwords per name, the right one included while throttled, and records every try', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 5; i += 1) codes.push(String((await signIn('otto', `wrong guess ${i}`)).body.error?.code));
    expect(codes).toEqual(Array(5).fill('SIGN_IN_FAILED'));
    const throttled = await signIn('otto', PASSWORD);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error?.code).toBe('SIGN_IN_THROTTLED');
    expect(throttled.body.error?.message).toMatch(/try again in \d+ seconds/);
    expect(throttled.headers['set-cookie']).toBeUndefined();
    // A wrong password while throttled gets the very same answer: nothing tells the two apart.
    const wrongWhileThrottled = await signIn('otto', 'yet another guess');
    expect(wrongWhileThrottled.body.error?.code).toBe('SIGN_IN_THROTTLED');
    // Another name from the same address is not throttled yet (the address has a larger allowance).
    expect((await signIn('ada', PASSWORD)).status).toBe(200);

    const tries = await admin.call('audit.list', { who: 'web:127.0.0.1', target: 'operator otto', order: 'oldest' });
    const outcomes = tries.entries.filter((entry) => entry.method === 'session.signIn').map((entry) => entry.outcome);
    expect(outcomes.slice(-7)).toEqual([...Array(5).fill('SIGN_IN_FAILED'), 'SIGN_IN_THROTTLED', 'SIGN_IN_THROTTLED']);
    expect(tries.entries.every((entry) => entry.peer.startsWith('https:127.0.0.1:'))).toBe(true);
  });
});
