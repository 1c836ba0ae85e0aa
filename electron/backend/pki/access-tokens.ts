import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { TOKEN_ISSUER, type Role } from '../../../agents-runtime/src/wire';

/**
 * The control center's side of `authentication_method: jwt`: an Ed25519 key per install
 * (private part sealed in the vault, public part pushed to the install's runtimes in their
 * access state) signs one short-lived token per call made for an operator. The runtime
 * checks it (agents-runtime server/access-token.ts): issuer, audience = the install,
 * lifetime, and a `jti` good for one call.
 */
export const ACCESS_TOKEN_LIFETIME_S = 5 * 60;

export interface TokenSigningKey {
  /** The token header's `kid`: names the key among those a runtime holds during a rotation. */
  keyId: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SPKI PEM: what the runtime verifies with. */
  publicKeyPem: string;
}

export function generateTokenSigningKey(): TokenSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  // The key id is the key's own fingerprint, so two installs' keys never share one by chance.
  const keyId = createPublicKey(publicKeyPem).export({ format: 'jwk' }).x as string;
  return { keyId, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem };
}

export interface AccessTokenRequest {
  install: string;
  subject: string;
  role: Role;
  attributes: object;
  /** Default ACCESS_TOKEN_LIFETIME_S. */
  lifetimeS?: number;
  /** Seconds since the epoch the token is issued at; default now. */
  issuedAtS?: number;
  /** Default issuedAtS (valid at once). */
  notBeforeS?: number;
}

export function signAccessToken(key: Pick<TokenSigningKey, 'keyId' | 'privateKeyPem'>, request: AccessTokenRequest): Promise<string> {
  const issuedAtS = request.issuedAtS ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ role: request.role, attrs: request.attributes })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(request.install)
    .setSubject(request.subject)
    .setJti(randomUUID())
    .setIssuedAt(issuedAtS)
    .setNotBefore(request.notBeforeS ?? issuedAtS)
    .setExpirationTime(issuedAtS + (request.lifetimeS ?? ACCESS_TOKEN_LIFETIME_S))
    .sign(createPrivateKey(key.privateKeyPem));
}
