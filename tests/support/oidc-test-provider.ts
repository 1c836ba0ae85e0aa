// A real OpenID Connect provider for tests (the `oidc-provider` package, a certified
// implementation) on 127.0.0.1: issues JWT access tokens by client credentials, each
// client standing for one person (its claims: name, groups, attributes). `rotate()` starts
// it again on the same issuer with a new signing key, as a provider's key rotation does.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestPerson {
  clientId: string;
  claims: Record<string, unknown>;
}

export interface OidcTestProvider {
  issuer: string;
  /** What every access token is meant for (`aud`). */
  audience: string;
  /** A fresh access token (JWT) for `person`'s client. */
  tokenFor(clientId: string): Promise<string>;
  /** The provider's signing key now (private JWK), to forge look-alikes in tests. */
  signingKey(): JWK;
  /** A new signing key (new kid); the old one is no longer published. */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

const SECRET = 'test-client-secret-0123456789abcdef';

async function newKey(n: number): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `test-key-${n}`, alg: 'ES256', use: 'sig' };
}

export async function startOidcTestProvider(
  people: TestPerson[],
  options: { audience?: string; ttlS?: number } = {},
): Promise<OidcTestProvider> {
  const audience = options.audience ?? 'sutazai';
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const claims = new Map(people.map((person) => [person.clientId, person.claims]));
  let generation = 0;
  let key = await newKey(generation);

  const build = (): void => {
    const provider = new Provider(issuer, {
      clients: people.map((person) => ({
        client_id: person.clientId,
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        id_token_signed_response_alg: 'ES256',
      })),
      jwks: { keys: [key] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => 'urn:sutazai',
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: 'sutazai',
            audience,
            accessTokenTTL: options.ttlS ?? 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          }),
        },
      },
      extraTokenClaims: (_ctx, token) => claims.get((token as { clientId?: string }).clientId ?? '') ?? {},
    });
    handler = provider.callback();
  };
  build();

  return {
    issuer,
    audience,
    async tokenFor(clientId) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'sutazai', resource: 'urn:sutazai' }).toString(),
      });
      const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!response.ok || body.access_token === undefined)
        throw new Error(`the test provider refused a token for ${clientId}: ${body.error}: ${body.error_description}`);
      return body.access_token;
    },
    signingKey: () => key,
    async rotate() {
      generation += 1;
      key = await newKey(generation);
      build();
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
