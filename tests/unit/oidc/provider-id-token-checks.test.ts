// The checks oidc-sign-in.ts makes of the provider's answer before anyone is signed in: a
// provider on 127.0.0.1 (discovery and token endpoint over real HTTP) answers the code with
// an ID token signed by a real key, its claims set per test.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createProviderSignIn,
  endpointUrl,
  MAX_ATTEMPTS,
  type ProviderIdentity,
  type ProviderSignIn,
} from '../../../electron/backend/oidc/oidc-sign-in';
import type { OidcKeySource } from '../../../electron/backend/oidc/oidc-key-source';
import type { SignInProviderSettings } from '../../../electron/backend/oidc/sign-in-provider-settings';
import { finishProviderSignIn, startProviderSignIn, type ProviderRouteDeps } from '../../../electron/backend/server/web-team-provider';
import { ApiError } from '../../../electron/contract';

const CLIENT_ID = 'sutazai';
let server: http.Server;
let issuer: string;
let sign: (claims: JWTPayload) => Promise<string>;
let keys: string;
/** The ID token's claims for the attempt's nonce (each test sets them). */
let claimsFor: (nonce: string) => JWTPayload;
/** The token requests' forms, in order. */
const tokenRequests: URLSearchParams[] = [];
/** What the discovery document says (each test may change it). */
let discovery: (base: string) => Record<string, unknown>;
const defaultDiscovery = (base: string) => ({
  issuer: base,
  authorization_endpoint: `${base}/auth`,
  token_endpoint: `${base}/token`,
  jwks_uri: `${base}/jwks`,
});
let lastNonce = '';
/** Set: the token endpoint answers this way instead of with an ID token. */
let tokenAnswer: ((res: http.ServerResponse) => void) | null = null;
let lastIdentity: ProviderIdentity | undefined;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  keys = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
  discovery = defaultDiscovery;
  server = http.createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') return void res.end(JSON.stringify(discovery(issuer)));
    if (req.url === '/token' && tokenAnswer !== null) {
      req.resume();
      tokenAnswer(res);
      return;
    }
    if (req.url === '/token') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        tokenRequests.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        void sign(claimsFor(lastNonce)).then((idToken) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ id_token: idToken, token_type: 'Bearer', access_token: 'a' }));
        });
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function flowWith(extra: Partial<SignInProviderSettings> = {}, tokenDeadlineMs?: number): ProviderSignIn {
  const settings: SignInProviderSettings = {
    display_name: 'Test',
    issuer,
    client_id: CLIENT_ID,
    scopes: ['openid'],
    operator_claim: 'preferred_username',
    algorithms: ['ES256'],
    multi_factor_amr: ['mfa'],
    trusted_audiences: [],
    ...extra,
  };
  const keySource: OidcKeySource = { keysFor: () => keys, problemOf: () => null, refresh: () => Promise.resolve() };
  return createProviderSignIn(settings, { keySource, ...(tokenDeadlineMs !== undefined ? { tokenDeadlineMs } : {}) });
}

/** A sign-in whose ID token carries `claims` (besides the usual ones): who it names, or the refusal's message. */
async function signInWith(claims: JWTPayload, flow = flowWith()): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  claimsFor = (nonce) => ({ iss: issuer, aud: CLIENT_ID, sub: 'subject-1', iat: now, exp: now + 300, nonce, ...claims });
  const begun = await flow.begin('https://team.example/oidc/callback');
  lastNonce = new URL(begun.url).searchParams.get('nonce')!;
  try {
    const who = await flow.complete({ state: begun.state, code: 'the-code', binding: begun.binding });
    lastIdentity = who;
    return `${who.operatorName} ${who.issuer} ${who.subject}`;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

describe('the ID token names an operator only by a claim the provider vouches for', () => {
  it('returns the account (iss, sub) with the name', async () => {
    expect(await signInWith({ preferred_username: 'ada' })).toBe(`ada ${issuer} subject-1`);
  });

  it('refuses a name claim outside printable ASCII (the Kelvin sign lower-cases to "k")', async () => {
    expect(await signInWith({ preferred_username: '\u212Aate' })).toMatch(/^OIDC_SIGN_IN_FAILED: .*printable ASCII only/);
    expect(await signInWith({ preferred_username: 'ka te' })).toMatch(/^OIDC_SIGN_IN_FAILED/);
  });

  it('takes an email claim only when the provider verified it', async () => {
    const flow = () => flowWith({ operator_claim: 'email' });
    expect(await signInWith({ email: 'ada@example.org' }, flow())).toMatch(/email_verified is not true/);
    expect(await signInWith({ email: 'ada@example.org', email_verified: 'true' }, flow())).toMatch(/email_verified is not true/);
    expect(await signInWith({ email: 'ada@example.org', email_verified: true }, flow())).toBe(`ada@example.org ${issuer} subject-1`);
  });
});

describe("the provider's sign-in stands for the two-factor code only when fresh and multi-factor", () => {
  const nowS = () => Math.floor(Date.now() / 1000);
  it('asks for max_age and counts amr only with an auth_time within it', async () => {
    const flow = flowWith();
    const begun = await flow.begin('https://team.example/oidc/callback');
    expect(new URL(begun.url).searchParams.get('max_age')).toBe('300');
    const multiFactor = async (claims: JWTPayload) => {
      const who = await signInWith({ preferred_username: 'ada', ...claims });
      expect(who).toMatch(/^ada /);
      return lastIdentity!.multiFactor;
    };
    expect(await multiFactor({ amr: ['mfa'], auth_time: nowS() - 10 })).toBe(true);
    // A provider session from an hour ago, and one that does not say when.
    expect(await multiFactor({ amr: ['mfa'], auth_time: nowS() - 3600 })).toBe(false);
    expect(await multiFactor({ amr: ['mfa'] })).toBe(false);
    // One method of its own is not a second factor (RFC 8176).
    expect(await multiFactor({ amr: ['otp'], auth_time: nowS() - 10 })).toBe(false);
    expect(await multiFactor({ amr: ['hwk'], auth_time: nowS() - 10 })).toBe(false);
  });
});

describe('a flood of starts from one address', () => {
  it("evicts that address's own attempts, never another address's", async () => {
    const now = Math.floor(Date.now() / 1000);
    claimsFor = (nonce) => ({ iss: issuer, aud: CLIENT_ID, sub: 'subject-1', iat: now, exp: now + 300, nonce, preferred_username: 'ada' });
    const flow = flowWith();
    const victim = await flow.begin('https://team.example/oidc/callback', '192.0.2.1');
    const flooder: Array<{ state: string; binding: string }> = [];
    for (let i = 0; i < MAX_ATTEMPTS + 10; i++) flooder.push(await flow.begin('https://team.example/oidc/callback', '198.51.100.7'));
    // Many sources filling the table to its cap: the biggest source's oldest go first (the victim holds one).
    for (let i = 0; i < MAX_ATTEMPTS - 10; i++) await flow.begin('https://team.example/oidc/callback', `203.0.113.${i % 250}/${i}`);
    for (let i = 0; i < 20; i++) await flow.begin('https://team.example/oidc/callback', '198.51.100.8');
    lastNonce = new URL(victim.url).searchParams.get('nonce')!;
    expect((await flow.complete({ state: victim.state, code: 'c', binding: victim.binding })).operatorName).toBe('ada');
    // The flooder holds its last MAX_ATTEMPTS_PER_SOURCE at most: its first is gone.
    await expect(flow.complete({ state: flooder[0]!.state, code: 'c', binding: flooder[0]!.binding })).rejects.toThrow(
      /unknown, used already/,
    );
  });
});

describe('the ID token is for this client', () => {
  it('refuses an azp naming another client, even with aud this client alone', async () => {
    expect(await signInWith({ preferred_username: 'ada', azp: 'other-client' })).toMatch(/issued to another client \(azp\)/);
    expect(await signInWith({ preferred_username: 'ada', azp: CLIENT_ID })).toMatch(/^ada /);
  });

  it('refuses audiences besides this client unless trusted_audiences names them', async () => {
    const claims = { preferred_username: 'ada', aud: [CLIENT_ID, 'other-client'], azp: CLIENT_ID };
    expect(await signInWith(claims)).toMatch(/meant for other clients too/);
    expect(await signInWith(claims, flowWith({ trusted_audiences: ['other-client'] }))).toMatch(/^ada /);
  });
});

describe("the provider's endpoints and answers", () => {
  it('an https issuer must name https endpoints (a loopback http one would get the secret and code in clear)', () => {
    expect(() => endpointUrl('http://127.0.0.1:8080/token', 'https://sso.example.org')).toThrow(/not https, for an https issuer/);
    expect(endpointUrl('https://sso.example.org/token', 'https://sso.example.org').href).toBe('https://sso.example.org/token');
    expect(endpointUrl('http://127.0.0.1:8080/token', 'http://127.0.0.1:8080').port).toBe('8080');
  });

  it('gives up on a token endpoint that trickles its answer, at the whole-request deadline', async () => {
    let timer: NodeJS.Timeout | undefined;
    tokenAnswer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      // A byte every 50 ms (never idle 10 s), for at most 20 s.
      timer = setInterval(() => (++sent > 400 || res.destroyed ? clearInterval(timer) : res.write(' ')), 50);
    };
    try {
      expect(await signInWith({ preferred_username: 'ada' }, flowWith({}, 500))).toMatch(/no complete answer within 500 ms/);
    } finally {
      clearInterval(timer);
      tokenAnswer = null;
    }
  });

  it("shows only a listed error code from the token endpoint, never the provider's text", async () => {
    tokenAnswer = (res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Call +1 555 0100 to restore your account', error_description: 'visit evil.example' }));
    };
    try {
      const refusal = await signInWith({ preferred_username: 'ada' });
      expect(refusal).toMatch(/refused the code \(an unlisted error\)/);
      expect(refusal).not.toMatch(/evil|555/);
      tokenAnswer = (res) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'visit evil.example' }));
      };
      expect(await signInWith({ preferred_username: 'ada' })).toMatch(/refused the code \(invalid_grant\)\.$/);
    } finally {
      tokenAnswer = null;
    }
  });

  it('a callback with ?error= shows only a listed code', async () => {
    const deps = { provider: null, dispatcher: null, sessions: null } as unknown as ProviderRouteDeps;
    const evil = await finishProviderSignIn(
      {} as http.IncomingMessage,
      new URL('https://team.example/oidc/callback?error=Call+555+0100'),
      deps,
    );
    expect(evil.kind === 'error' && evil.error.message).toBe('The provider did not sign you in (an unlisted error).');
    const denied = await finishProviderSignIn(
      {} as http.IncomingMessage,
      new URL('https://team.example/oidc/callback?error=access_denied'),
      deps,
    );
    expect(denied.kind === 'error' && denied.error.message).toBe('The provider did not sign you in (access_denied).');
  });
});

describe('the web callback URL', () => {
  it('is built from the configured name the Host matched, in one fixed form, never from the header text', async () => {
    const asked: string[] = [];
    const provider: ProviderSignIn = {
      displayName: 'Test',
      begin: (redirectUri) => {
        asked.push(redirectUri);
        return Promise.resolve({ url: 'https://idp.example/auth', state: 's', binding: 'b' });
      },
      complete: () => Promise.reject(new Error('not used')),
    };
    const deps = { provider, dispatcher: null, sessions: null, names: ['control.example.org'], port: 8443 } as unknown as ProviderRouteDeps;
    const request = (host: string) => ({ headers: { host }, socket: { remoteAddress: '192.0.2.1' } }) as unknown as http.IncomingMessage;
    expect((await startProviderSignIn(request('CONTROL.Example.org:8443'), deps)).kind).toBe('redirect');
    expect((await startProviderSignIn(request('evil.example:8443'), deps)).kind).toBe('error');
    expect(asked).toEqual(['https://control.example.org:8443/oidc/callback']);
  });
});
