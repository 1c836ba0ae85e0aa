// Two-factor sign-in required of web mode for a team (issue 14, item 4: "TOTP required for
// web-mode login"): with `mfa.setWebRequired` on, an operator without two-factor sign-in whose
// password is right gets no session but a forced enrolment (a ticket in an HttpOnly cookie);
// the first right code starts the session and answers the recovery codes once; wrong codes are
// refused and counted, five end the ticket, the ticket signs in once, cancelling ends it on the
// server; off, sign-in is as before; only an admin with two-factor sign-in changes it; each step
// is in the audit log; break-glass leaves an admin to enrol at the next web sign-in; the desktop
// pipe is not affected. Real backend, real web server over TLS, real TOTP codes.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SUBPROTOCOL, createApiClient, type ApiClient, type AuditEntry } from '../../../electron/contract';
import type { Backend } from '../../../electron/backend/app/backend';
import { resetAdmin } from '../../../electron/backend/operators/break-glass';
import { totpCode } from '../../../electron/backend/operators/totp';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { issueServerCertificate } from '../../../electron/backend/pki/issue-certificate';
import { startWebServer, type WebServer } from '../../../electron/backend/server/web-server';
import { webTeamTls } from '../../../electron/backend/server/web-team-tls';
import { codeOf } from '../../support/api-pipes';
import { startQuietBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';
import { wsTransport } from '../../support/ws-peer';

const dir = makeTempDir('sutazai-web-enrolment-');
const dataDir = path.join(dir.path, 'data');
const PASSWORD = 'a long team password';
/** The backend's clock, moved on by the test (TOTP codes are computed on it too). */
let skewMs = 0;
const clock = () => Date.now() + skewMs;
let backend: Backend;
let server: WebServer;
let ca: string;
let local: ApiClient;
const sockets: WebSocket[] = [];
const clients: ApiClient[] = [];

/** Codes of one TOTP secret, each of a time step no earlier code of it used (a step's code is taken once). */
function codesOf(secret: string): () => string {
  let step = 0;
  return () => {
    step = Math.max(step + 1, Math.floor(clock() / 30_000));
    // Within the accepted window: at most one step ahead of the clock.
    if (step > Math.floor(clock() / 30_000) + 1) skewMs += 30_000;
    return totpCode(secret, step * 30_000);
  };
}
let adaCode: () => string;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** Each Set-Cookie, whole (attributes included). */
  setCookies: string[];
  /** name=value of the cookie named, or null. */
  cookie(name: string): string | null;
}

/** One request to the team server as the page sends it (its own Origin), with `cookie` when given. */
function send(method: string, urlPath: string, body?: object, cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path: urlPath,
        ca,
        servername: 'localhost',
        headers: {
          host: `localhost:${server.port}`,
          origin: `https://localhost:${server.port}`,
          'content-type': 'application/json',
          ...(cookie ? { cookie } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => {
          const setCookies = res.headers['set-cookie'] ?? [];
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
            setCookies,
            cookie: (name) => setCookies.find((line) => line.startsWith(`${name}=`))?.split(';')[0] ?? null,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const ENROLMENT = '__Host-sutazai-enrolment';
const SESSION = '__Host-sutazai-session';
const errorCodeOf = (answer: Answer) => (answer.body.error as { code?: string } | undefined)?.code;

/** The page's API socket for a cookie: opens for a live session, refused otherwise. */
function openTab(cookie: string): Promise<ApiClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`wss://localhost:${server.port}/api`, [API_SUBPROTOCOL], { ca, headers: { cookie } });
    sockets.push(socket);
    socket.once('open', () => {
      const client = createApiClient(wsTransport(socket));
      clients.push(client);
      resolve(client);
    });
    socket.once('unexpected-response', (_req, res) => reject(new Error(`socket refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

/** A desktop-like pipe signed in as `name` (the backend's own client: no web mode). */
async function pipeAs(name: string, password = PASSWORD): Promise<ApiClient> {
  const client = backend.openClient(`pipe-${name}`);
  clients.push(client);
  await client.call('session.signIn', { name, password });
  return client;
}

/** Audit entries of `method` (newest last). */
async function auditOf(method: string): Promise<AuditEntry[]> {
  const page = await local.call('audit.list', { limit: 200 });
  return page.entries.filter((entry) => entry.method === method).sort((a, b) => a.seq - b.seq);
}

/** A password sign-in that is answered with a forced enrolment: its cookie. */
async function enrolmentOf(name: string): Promise<string> {
  const answer = await send('POST', '/session', { name, password: PASSWORD });
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({ enrolment: { operator: name, expiresAt: expect.any(Number) } });
  expect(answer.cookie(SESSION)).toBeNull();
  const cookie = answer.cookie(ENROLMENT);
  expect(cookie).not.toBeNull();
  return cookie!;
}

beforeAll(async () => {
  backend = await startQuietBackend(dataDir, {
    now: clock,
    vaultKey: { kind: 'passphrase', passphrase: 'the vault passphrase of this test' },
  });
  local = backend.openClient('setup');
  clients.push(local);
  await local.call('operators.add', { name: 'ada', role: 'admin', password: PASSWORD });
  await local.call('session.signIn', { name: 'ada', password: PASSWORD });
  for (const [name, role] of [
    ['bea', 'admin'],
    ['otto', 'operator'],
    ['vera', 'operator'],
    ['wes', 'operator'],
    ['cid', 'operator'],
    ['max', 'admin'],
  ] as const)
    await local.call('operators.add', { name, role, password: PASSWORD });
  const begun = await local.call('mfa.enrolBegin', {});
  adaCode = codesOf(begun.secret);
  await local.call('mfa.enrolConfirm', { code: adaCode() });
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

describe('two-factor sign-in required of web mode for a team', () => {
  it('is changed only by an admin who has two-factor sign-in, and is audited', async () => {
    const otto = await pipeAs('otto');
    expect(await codeOf(otto.call('mfa.setWebRequired', { required: true }))).toBe('ACCESS_DENIED');
    const bea = await pipeAs('bea');
    expect(await codeOf(bea.call('mfa.setWebRequired', { required: true }))).toBe('MFA_NOT_ENROLLED');
    expect((await local.call('mfa.status', {})).webRequired).toBe(false);
    expect(await local.call('mfa.setWebRequired', { required: true })).toEqual({ required: true });
    expect((await otto.call('mfa.status', {})).webRequired).toBe(true);
    const entries = await auditOf('mfa.setWebRequired');
    expect(entries.map((entry) => [entry.operator, entry.outcome])).toEqual([
      ['otto', 'ACCESS_DENIED'],
      ['bea', 'MFA_NOT_ENROLLED'],
      ['ada', 'ok'],
    ]);
  });

  it('off: an operator without two-factor sign-in gets a session with the password alone, as before', async () => {
    await local.call('mfa.setWebRequired', { required: false });
    const answer = await send('POST', '/session', { name: 'cid', password: PASSWORD });
    expect(answer.status).toBe(200);
    expect(answer.cookie(ENROLMENT)).toBeNull();
    const tab = await openTab(answer.cookie(SESSION)!);
    expect((await tab.call('session.whoami', {})).operator?.name).toBe('cid');
    await local.call('mfa.setWebRequired', { required: true });
  });

  it('turning it on ends the browser sessions signed in without two-factor sign-in; an enrolled operator keeps hers', async () => {
    await local.call('mfa.setWebRequired', { required: false });
    const cid = (await send('POST', '/session', { name: 'cid', password: PASSWORD })).cookie(SESSION)!;
    const ada = (await send('POST', '/session', { name: 'ada', password: PASSWORD, code: adaCode() })).cookie(SESSION)!;
    const cidTab = await openTab(cid);
    expect((await cidTab.call('session.whoami', {})).operator?.name).toBe('cid');
    await local.call('mfa.setWebRequired', { required: true });
    // A session that never proved a second factor does not outlive the rule: cid signs in again and enrols.
    expect((await cidTab.call('session.whoami', {})).operator).toBeNull();
    await expect(openTab(cid)).rejects.toThrow(/401/);
    expect((await (await openTab(ada)).call('session.whoami', {})).operator?.name).toBe('ada');
    expect((await local.call('sessions.list', { all: true })).filter((session) => session.operator === 'cid')).toEqual([]);
    const [entry] = (await auditOf('mfa.setWebRequired')).slice(-1);
    expect(entry).toMatchObject({ outcome: 'ok', target: 'browser sessions of operators without two-factor sign-in ended: cid' });
  });

  it('on: a right password gives no session but a set-up ticket; the first right code starts the session with the recovery codes', async () => {
    const signIn = await send('POST', '/session', { name: 'vera', password: PASSWORD });
    expect(signIn.status).toBe(200);
    expect(signIn.body).toEqual({ enrolment: { operator: 'vera', expiresAt: expect.any(Number) } });
    expect(signIn.cookie(SESSION)).toBeNull();
    const line = signIn.setCookies.find((text) => text.startsWith(`${ENROLMENT}=`))!;
    // 256 random bits, base64url; the cookie is the page's never (HttpOnly), this site's only (Strict), TLS only, 5 minutes.
    expect(line).toMatch(/^__Host-sutazai-enrolment=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=300; Secure; HttpOnly; SameSite=Strict$/);
    const ticket = signIn.cookie(ENROLMENT)!;
    // The ticket opens no API socket: it is no session.
    await expect(openTab(ticket)).rejects.toThrow(/401/);
    expect((await send('GET', '/session/enrolment', undefined, ticket)).body).toEqual({ waiting: true });
    expect((await send('GET', '/session/enrolment')).body).toEqual({ waiting: false });

    // A first code before any secret was shown confirms nothing.
    const secret = await send('POST', '/session/enrolment/secret', {}, ticket);
    expect(secret.status).toBe(200);
    expect(secret.body).toEqual({
      name: 'vera',
      secret: expect.stringMatching(/^[A-Z2-7]+$/),
      uri: expect.any(String),
      expiresAt: expect.any(Number),
    });
    expect(secret.body.uri).toMatch(/^otpauth:\/\/totp\//);
    const veraCode = codesOf(secret.body.secret as string);

    const wrong = await send('POST', '/session/enrolment', { code: '000000' }, ticket);
    expect(wrong.status).toBe(401);
    expect(errorCodeOf(wrong)).toBe('MFA_CODE_WRONG');
    expect((wrong.body.error as { message: string }).message).toContain('4 tries left');
    // The same set-up takes the next code: its cookie is not cleared.
    expect(wrong.cookie(ENROLMENT)).toBeNull();

    const right = await send('POST', '/session/enrolment', { code: veraCode() }, ticket);
    expect(right.status).toBe(200);
    expect(right.body.operator).toMatchObject({ name: 'vera' });
    expect(right.body.recoveryCodes).toHaveLength(10);
    expect(right.setCookies).toContain(`${ENROLMENT}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict`);
    const tab = await openTab(right.cookie(SESSION)!);
    expect((await tab.call('session.whoami', {})).operator?.name).toBe('vera');
    expect(await tab.call('mfa.status', {})).toMatchObject({ enrolled: true, recoveryCodesLeft: 10 });

    // The ticket signs in once: the same cookie again, even with a right code, is refused.
    const again = await send('POST', '/session/enrolment', { code: veraCode() }, ticket);
    expect(errorCodeOf(again)).toBe('MFA_ENROLMENT_ENDED');
    expect(again.cookie(ENROLMENT)).toBe(`${ENROLMENT}=`);

    // From now on vera is asked for her code, as every enrolled operator.
    expect(errorCodeOf(await send('POST', '/session', { name: 'vera', password: PASSWORD }))).toBe('MFA_REQUIRED');
    expect((await send('POST', '/session', { name: 'vera', password: PASSWORD, code: veraCode() })).status).toBe(200);

    const of = async (method: string) => (await auditOf(method)).filter((entry) => entry.target?.startsWith('operator vera'));
    expect((await of('session.signIn')).map((entry) => [entry.target, entry.outcome])).toEqual([
      ['operator vera, two-factor enrolment asked', 'ok'],
      ['operator vera', 'MFA_REQUIRED'],
      ['operator vera', 'ok'],
    ]);
    expect((await of('session.beginWebEnrolment')).map((entry) => [entry.target, entry.outcome])).toEqual([
      ['operator vera, two-factor secret shown', 'ok'],
    ]);
    expect((await of('session.confirmWebEnrolment')).map((entry) => [entry.target, entry.outcome])).toEqual([
      ['operator vera, two-factor first code', 'MFA_CODE_WRONG'],
      ['operator vera, two-factor sign-in set up', 'ok'],
    ]);
  });

  it('a reload makes a new secret: a code of the one shown before is refused, saying the QR code changed', async () => {
    await local.call('operators.add', { name: 'rhea', role: 'viewer', password: PASSWORD });
    const ticket = await enrolmentOf('rhea');
    const first = await send('POST', '/session/enrolment/secret', {}, ticket);
    // The page reloaded (or opened in a second tab) after rhea scanned the first QR code.
    const second = await send('POST', '/session/enrolment/secret', {}, ticket);
    expect(second.body.secret).not.toBe(first.body.secret);
    const stale = await send('POST', '/session/enrolment', { code: codesOf(first.body.secret as string)() }, ticket);
    expect(errorCodeOf(stale)).toBe('MFA_CODE_WRONG');
    expect((stale.body.error as { remedy: string }).remedy).toContain('its QR code changed: scan the one shown now');
    const right = await send('POST', '/session/enrolment', { code: codesOf(second.body.secret as string)() }, ticket);
    expect(right.status).toBe(200);
  });

  it('refuses wrong codes and counts them against the name; five end the set-up', async () => {
    const ticket = await enrolmentOf('wes');
    expect((await send('POST', '/session/enrolment/secret', {}, ticket)).status).toBe(200);
    const answers: Answer[] = [];
    for (let guess = 1; guess <= 5; guess += 1) answers.push(await send('POST', '/session/enrolment', { code: `00000${guess}` }, ticket));
    expect(answers.map(errorCodeOf)).toEqual([
      'MFA_CODE_WRONG',
      'MFA_CODE_WRONG',
      'MFA_CODE_WRONG',
      'MFA_CODE_WRONG',
      'MFA_ENROLMENT_ENDED',
    ]);
    // The last one clears the cookie; the ticket is gone on the server too.
    expect(answers[4]!.cookie(ENROLMENT)).toBe(`${ENROLMENT}=`);
    expect(errorCodeOf(await send('POST', '/session/enrolment/secret', {}, ticket))).toBe('MFA_ENROLMENT_ENDED');
    // Counted like wrong passwords: the name now waits, the right password included.
    const throttled = await send('POST', '/session', { name: 'wes', password: PASSWORD });
    expect(throttled.status).toBe(429);
    expect(errorCodeOf(throttled)).toBe('SIGN_IN_THROTTLED');
  });

  it('cancelling ends the set-up on the server: a kept copy of the cookie types no code after it', async () => {
    const ticket = await enrolmentOf('max');
    const secret = await send('POST', '/session/enrolment/secret', {}, ticket);
    const cancelled = await send('DELETE', '/session/enrolment', undefined, ticket);
    expect(cancelled.status).toBe(200);
    expect(cancelled.cookie(ENROLMENT)).toBe(`${ENROLMENT}=`);
    const copy = await send('POST', '/session/enrolment', { code: codesOf(secret.body.secret as string)() }, ticket);
    expect(errorCodeOf(copy)).toBe('MFA_ENROLMENT_ENDED');
    expect(copy.cookie(SESSION)).toBeNull();
    const entries = (await auditOf('session.cancelWebEnrolment')).map((entry) => [entry.target, entry.outcome]);
    expect(entries).toEqual([['operator max, two-factor set-up cancelled', 'ok']]);
  });

  it('tells a stranger nothing more: a wrong password or an unknown name is refused as before, with no set-up', async () => {
    const wrong = await send('POST', '/session', { name: 'cid', password: 'not the password at all' });
    const unknown = await send('POST', '/session', { name: 'nobody-here', password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(errorCodeOf(wrong)).toBe('SIGN_IN_FAILED');
    expect(wrong.cookie(ENROLMENT)).toBeNull();
    // No ticket, no set-up: nothing is said of any operator.
    expect(errorCodeOf(await send('POST', '/session/enrolment/secret', {}))).toBe('MFA_ENROLMENT_ENDED');
  });

  it('asks an enrolled operator for the code as before, and leaves the desktop pipe alone', async () => {
    // With the setting on (a guard that the rest means something).
    expect((await local.call('mfa.status', {})).webRequired).toBe(true);
    expect(errorCodeOf(await send('POST', '/session', { name: 'ada', password: PASSWORD }))).toBe('MFA_REQUIRED');
    expect((await send('POST', '/session', { name: 'ada', password: PASSWORD, code: adaCode() })).status).toBe(200);
    // A pipe of the app itself (not web mode's sign-in page): cid, without two-factor sign-in, signs in as before.
    const pipe = backend.openClient('desktop-like');
    clients.push(pipe);
    expect(await pipe.call('session.signIn', { name: 'cid', password: PASSWORD })).toMatchObject({ operator: { name: 'cid' } });
  });

  it('after break-glass reset-admin, the admin enrols at the next web sign-in', async () => {
    // bea enrols first (on a pipe), then loses her phone: break-glass, from another process's connection to the store.
    const bea = await pipeAs('bea');
    const begun = await bea.call('mfa.enrolBegin', {});
    await bea.call('mfa.enrolConfirm', { code: codesOf(begun.secret)() });
    expect(errorCodeOf(await send('POST', '/session', { name: 'bea', password: PASSWORD }))).toBe('MFA_REQUIRED');
    const db = new Database(path.join(dataDir, 'sutazai.db'));
    try {
      await resetAdmin(db, { name: 'bea', password: 'bea has a brand new password', now: clock });
    } finally {
      db.close();
    }
    const signIn = await send('POST', '/session', { name: 'bea', password: 'bea has a brand new password' });
    expect(signIn.body).toEqual({ enrolment: { operator: 'bea', expiresAt: expect.any(Number) } });
    const ticket = signIn.cookie(ENROLMENT)!;
    const secret = await send('POST', '/session/enrolment/secret', {}, ticket);
    const right = await send('POST', '/session/enrolment', { code: codesOf(secret.body.secret as string)() }, ticket);
    expect(right.status).toBe(200);
    const tab = await openTab(right.cookie(SESSION)!);
    expect((await tab.call('session.whoami', {})).operator).toMatchObject({ name: 'bea', role: 'admin' });
  });

  it('ends a set-up whose operator changed since the password was right (a new password)', async () => {
    const ticket = await enrolmentOf('otto');
    skewMs += 1_000;
    await local.call('operators.set', { name: 'otto', password: 'otto got another password' });
    expect(errorCodeOf(await send('POST', '/session/enrolment/secret', {}, ticket))).toBe('MFA_ENROLMENT_ENDED');
  });
});
