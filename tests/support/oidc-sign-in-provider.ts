// A real OpenID Connect provider (the `oidc-provider` package) for sign-in tests: the
// authorization code flow with PKCE, its own login and consent forms (any name signs in as
// that name; the password is not checked; signInAtProvider fills both), on 127.0.0.1.
// How a person signed in there (`amr`, RFC 8176) is set per account (`amrByAccount`) or for
// everyone (setAmr): the login result carries it into the provider's session, and the ID
// token carries it because the `openid` scope's claims name it (oidc-provider puts in an ID
// token only the claims its scopes, or a `claims` request parameter, ask for).
// Two clients: a confidential one for web mode (its secret in `clientSecretFile`) and a
// public native one for the desktop app's loopback redirect (any port on 127.0.0.1).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import type { Page } from 'playwright-core';

interface InteractionFinisher {
  interactionFinished(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    result: { login: { accountId: string; amr?: string[] } },
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
}

export const WEB_CLIENT_ID = 'sutazai-web';
export const DESKTOP_CLIENT_ID = 'sutazai-desktop';
const WEB_CLIENT_SECRET = 'web-client-secret-0123456789abcdef0123';

export interface SignInProvider {
  issuer: string;
  /** Writes sign-in-provider.yaml for `client` into `dataDir` (the secret beside it, for the web client). */
  configure(dataDir: string, client: 'web' | 'desktop', extra?: Record<string, unknown>): void;
  /** The `amr` (RFC 8176) the next ID tokens carry: how the person signed in at the provider (none: no claim). */
  setAmr(amr: string[] | undefined): void;
  close(): Promise<void>;
}

/**
 * `webRedirects`: the web client's callback URLs (https://NAME:PORT/oidc/callback).
 * `amrByAccount`: the `amr` of each sign-in as that account (e.g. a person whose provider asks
 * for a second factor: `['mfa', 'pwd', 'otp']`), over setAmr's.
 * `nameByAccount`: the `preferred_username` of an account whose name claim is not its account
 * id (someone who renamed themselves at the provider); by default the two are the same.
 */
export async function startSignInProvider(options: {
  webRedirects: string[];
  amrByAccount?: Record<string, string[]>;
  nameByAccount?: Record<string, string>;
}): Promise<SignInProvider> {
  let amr: string[] | undefined;
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const key = { ...(await exportJWK(privateKey)), kid: 'sign-in-key-1', alg: 'ES256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: WEB_CLIENT_ID,
        client_secret: WEB_CLIENT_SECRET,
        redirect_uris: options.webRedirects,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
      },
      {
        client_id: DESKTOP_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        // RFC 8252 7.3: the provider takes any port on the loopback address.
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [key] },
    features: { devInteractions: { enabled: true } },
    // The profile scope's claims in the ID token itself (the control center reads no userinfo).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // amr (RFC 8176): the login records it in the session (below); listed under `openid`, every ID
    // token carries it (a claim listed on its own, `amr: null`, goes only to a client that asks
    // for it with the `claims` request parameter, which the control center does not send).
    claims: { openid: ['sub', 'amr'], profile: ['preferred_username'] },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({ sub, preferred_username: Object.hasOwn(options.nameByAccount ?? {}, sub) ? options.nameByAccount![sub] : sub }),
    }),
  });
  const callback = provider.callback();
  // The login form's answer is taken here, not by the provider's own development form handler,
  // so that the sign-in carries `amr` (how the person signed in), which that handler never sets.
  handler = (req, res) => {
    if (req.method !== 'POST' || !/^\/interaction\/[\w-]+$/.test(req.url ?? '')) return void callback(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.get('prompt') !== 'login') {
        // Consent goes to the provider's own handler with the body it read.
        (req as unknown as { body: Record<string, string> }).body = Object.fromEntries(form);
        return void callback(req, res);
      }
      const accountId = form.get('login') ?? '';
      const accountAmr = Object.hasOwn(options.amrByAccount ?? {}, accountId) ? options.amrByAccount![accountId] : amr;
      const login = { accountId, ...(accountAmr ? { amr: accountAmr } : {}) };
      // interactionFinished is the provider's (v9) own API; its type declarations are older.
      (provider as unknown as InteractionFinisher)
        .interactionFinished(req, res, { login }, { mergeWithLastSubmission: false })
        .catch((error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        });
    });
  };

  return {
    issuer,
    configure(dataDir, client, extra = {}) {
      fs.mkdirSync(dataDir, { recursive: true });
      const lines = [
        'display_name: Test SSO',
        `issuer: ${issuer}`,
        `client_id: ${client === 'web' ? WEB_CLIENT_ID : DESKTOP_CLIENT_ID}`,
        'algorithms: [ES256]',
      ];
      if (client === 'web') {
        const secretFile = path.join(dataDir, 'provider-client-secret');
        fs.writeFileSync(secretFile, `${WEB_CLIENT_SECRET}\n`, { mode: 0o600 });
        lines.push(`client_secret_file: ${secretFile}`);
      }
      for (const [name, value] of Object.entries(extra)) lines.push(`${name}: ${JSON.stringify(value)}`);
      fs.writeFileSync(path.join(dataDir, 'sign-in-provider.yaml'), `${lines.join('\n')}\n`);
    },
    setAmr: (value) => void (amr = value),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Signs in at the provider's own pages in `page` (showing its login form): the name, any
 * password, then the consent form. Resolves once the browser left the provider.
 */
export async function signInAtProvider(page: Page, issuer: string, login: string): Promise<void> {
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('whatever the provider checks');
  await page.locator('button[type=submit]').click();
  const consent = page.locator('input[name=prompt][value=consent]');
  const left = page.waitForURL((url) => !url.href.startsWith(issuer), { waitUntil: 'commit' });
  const asked = await Promise.race([left.then(() => false), consent.waitFor({ state: 'attached' }).then(() => true)]);
  if (asked) {
    await page.locator('button[type=submit]').click();
    await left;
  }
}

/**
 * The provider's pages import a web font from the internet: a test machine without it can
 * wait long on that name's lookup before the page is ready. Anything but this machine's
 * addresses is refused at once in `page`.
 */
export async function keepPageLocal(page: Page): Promise<void> {
  await page.route(
    (url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname),
    (route) => route.abort('internetdisconnected'),
  );
}
