// authentication_method: oauth2 at the runtime (server/oidc-token.ts through
// caller-identity.ts): a provider token's attribute claims fill only what the control
// center's record leaves unset, a provider token counts only under oauth2, the state (with the
// provider's settings) is kept across a restart, and settings that would weaken the check
// (a private key, an HMAC algorithm) are refused when pushed.
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_STATE_FILE,
  accessView,
  createAccessStateStore,
  INITIAL_ACCESS_STATE,
  type AccessState,
} from '../../../agents-runtime/src/server/access-state';
import { createAccessTokenVerifier } from '../../../agents-runtime/src/server/access-token';
import { identifyCaller } from '../../../agents-runtime/src/server/caller-identity';
import type { OidcSettings } from '../../../agents-runtime/src/server/oidc-token';

const ISSUER = 'https://sso.example.org/realms/site';
let privateKey: CryptoKey;
let publicJwk: JWK;
let dir: string;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-oidc-identity-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function settings(changes: Partial<OidcSettings> = {}): OidcSettings {
  return {
    issuer: ISSUER,
    audience: 'sutazai',
    jwksJson: JSON.stringify({ keys: [publicJwk] }),
    algorithms: ['ES256'],
    operatorClaim: 'preferred_username',
    roleClaim: 'groups',
    roleMap: [
      { value: 'ops', role: 'operator' },
      { value: 'admins', role: 'admin' },
    ],
    attributeClaims: [
      { attribute: 'hostLabels', claim: 'racks' },
      { attribute: 'team', claim: 'team' },
      { attribute: 'installs', claim: 'sutazai_installs' },
    ],
    maxTokenLifetimeS: 3600,
    ...changes,
  };
}

function state(changes: Partial<AccessState> = {}): AccessState {
  return {
    ...INITIAL_ACCESS_STATE,
    version: 1,
    install: 'lab',
    authenticationMethod: 'oauth2',
    operators: [{ name: 'alice', role: 'operator', attributes: { team: 'day' } }],
    oidc: settings(),
    ...changes,
  };
}

const token = (claims: Record<string, unknown>, typ?: string) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', ...(typ === undefined ? {} : { typ }) })
    .setIssuer(ISSUER)
    .setAudience('sutazai')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

describe('a provider token at the runtime', () => {
  it('takes attributes from the claims only where the record leaves them unset', async () => {
    const caller = await identifyCaller(
      undefined,
      `Bearer ${await token({ preferred_username: 'alice', groups: ['admins'], racks: ['rack=b4'], team: 'night' })}`,
      accessView(state()),
      createAccessTokenVerifier(),
    );
    expect(caller).toMatchObject({ subject: 'alice', via: 'token', controlCenter: false });
    // The record says team: day; the claim's team: night does not override it. hostLabels, unset there, comes from the claim.
    expect(caller.attributes).toEqual({ team: 'day', hostLabels: ['rack=b4'] });
  });

  it('reads a list attribute released as one text as one name, never as a text to search in; another type refuses the token', async () => {
    const callerWith = async (claims: Record<string, unknown>) =>
      identifyCaller(
        undefined,
        `Bearer ${await token({ preferred_username: 'alice', groups: ['ops'], ...claims })}`,
        accessView(state()),
        createAccessTokenVerifier(),
      );
    // "lab-prod" as a text: the install lab-prod only (a text's includes would also take install "lab").
    const caller = await callerWith({ sutazai_installs: 'lab-prod' });
    expect(caller.attributes.installs).toEqual(['lab-prod']);
    expect((caller.attributes.installs as string[]).includes('lab')).toBe(false);
    await expect(callerWith({ sutazai_installs: { lab: true } })).rejects.toMatchObject({ code: 'ACCESS_TOKEN_INVALID' });
    await expect(callerWith({ racks: ['rack=b4', 7] })).rejects.toMatchObject({ code: 'ACCESS_TOKEN_INVALID' });
    await expect(callerWith({ team: ['night'] })).rejects.toMatchObject({ code: 'ACCESS_TOKEN_INVALID' });
  });

  it("refuses the provider's ID tokens (nonce, at_hash, c_hash, or another header type) and takes at+jwt, JWT or no typ", async () => {
    const callerWith = async (claims: Record<string, unknown>, typ?: string) =>
      identifyCaller(
        undefined,
        `Bearer ${await token({ preferred_username: 'alice', groups: ['ops'], ...claims }, typ)}`,
        accessView(state()),
        createAccessTokenVerifier(),
      );
    for (const marker of ['nonce', 'at_hash', 'c_hash'])
      await expect(callerWith({ [marker]: 'x' })).rejects.toMatchObject({
        code: 'ACCESS_TOKEN_INVALID',
        message: expect.stringMatching(new RegExp(`ID token \\(it carries "${marker}"\\)`)),
      });
    await expect(callerWith({}, 'id_token+jwt')).rejects.toMatchObject({
      code: 'ACCESS_TOKEN_INVALID',
      message: expect.stringMatching(/header type "id_token\+jwt"/),
    });
    for (const typ of ['at+jwt', 'JWT', undefined]) expect((await callerWith({}, typ)).subject).toBe('alice');
  });

  it('is not taken under jwt, even with the provider settings present', async () => {
    await expect(
      identifyCaller(
        undefined,
        `Bearer ${await token({ preferred_username: 'alice', groups: ['ops'] })}`,
        accessView(state({ authenticationMethod: 'jwt' })),
        createAccessTokenVerifier(),
      ),
    ).rejects.toMatchObject({ code: 'ACCESS_TOKEN_INVALID' });
  });

  it('keeps the provider settings across a restart, and refuses settings with a private key or an HMAC algorithm', () => {
    const file = path.join(dir, ACCESS_STATE_FILE);
    createAccessStateStore(file).replace(state());
    expect(createAccessStateStore(file).current().state.oidc).toEqual(settings());
    const store = createAccessStateStore(null);
    expect(() => store.replace(state({ version: 2, oidc: settings({ algorithms: ['HS256'] }) }))).toThrow(/HS256/);
    const withPrivate = JSON.stringify({ keys: [{ ...publicJwk, d: 'AAAA' }] });
    expect(() => store.replace(state({ version: 3, oidc: settings({ jwksJson: withPrivate }) }))).toThrow(/private or symmetric/);
  });
});
