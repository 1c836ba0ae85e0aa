// The time checks an identity provider's token goes through at a runtime are the control
// center's tokens' (server/token-clock.ts): each clock fault refused as ACCESS_TOKEN_INVALID
// with the same words (runtime-access-state covers the control center's tokens).
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyProviderToken, type OidcSettings } from '../../../agents-runtime/src/server/oidc-token';
import { CLOCK_TOLERANCE_S } from '../../../agents-runtime/src/server/token-clock';

const ISSUER = 'https://sso.example.org/realms/site';
const NOW_S = 1_800_000_000;
let privateKey: CryptoKey;
let settings: OidcSettings;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  settings = {
    issuer: ISSUER,
    audience: 'sutazai',
    jwksJson: JSON.stringify({ keys: [publicJwk] }),
    algorithms: ['ES256'],
    operatorClaim: 'preferred_username',
    roleClaim: 'groups',
    roleMap: [{ value: 'ops', role: 'operator' }],
    attributeClaims: [],
    maxTokenLifetimeS: 3600,
  };
});

function token(times: { iat: number; exp: number; nbf?: number }): Promise<string> {
  return new SignJWT({ preferred_username: 'alice', groups: ['ops'], ...times })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience('sutazai')
    .sign(privateKey);
}

describe("an identity provider's token at a runtime: the shared clock checks", () => {
  const faults: Array<[string, { iat: number; exp: number; nbf?: number }, string]> = [
    ['expired', { iat: NOW_S - 600, exp: NOW_S - 300 }, 'expired at'],
    ['issued longer ago than its life allows', { iat: NOW_S - 7200, exp: NOW_S + 600 }, 'more than 3600 s ago'],
    ['issued in the future', { iat: NOW_S + 600, exp: NOW_S + 900 }, 'in the future'],
    ['not valid yet', { iat: NOW_S, exp: NOW_S + 900, nbf: NOW_S + 600 }, 'is not valid before'],
    ['living longer than allowed', { iat: NOW_S, exp: NOW_S + 7200 }, 'longer than the 3600 s accepted'],
  ];
  for (const [what, times, words] of faults)
    it(`refuses a token ${what}`, async () => {
      await expect(verifyProviderToken(await token(times), settings, NOW_S * 1000)).rejects.toMatchObject({
        code: 'ACCESS_TOKEN_INVALID',
        message: expect.stringContaining(words) as unknown,
      });
    });

  it(`accepts a token within the ${CLOCK_TOLERANCE_S} s tolerance of this host's clock`, async () => {
    const claims = await verifyProviderToken(await token({ iat: NOW_S + CLOCK_TOLERANCE_S - 5, exp: NOW_S + 600 }), settings, NOW_S * 1000);
    expect(claims).toMatchObject({ subject: 'alice', role: 'operator', expiresAtMs: (NOW_S + 600) * 1000 });
  });
});
