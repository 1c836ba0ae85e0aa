// authentication_method: oauth2 end to end at the runtime (issue 14 item 2): a real OpenID
// Connect provider (oidc-provider on 127.0.0.1) issues access tokens; the control center
// (real store, vault, runtime credentials and its oidc/ key source) reads the provider's
// discovery document and keys and its link consumer pushes them with the access state to the
// runtime's real gRPC server over mutual TLS. The runtime then takes the provider's tokens
// (role from the mapped group, bounded by the control center's record), refuses forged,
// expired, wrong-audience, alg-none and HMAC ones, refuses a disabled operator from the next
// push, and a token of a key rotated out at the provider from the push after the next refresh.
// Every wait is for an event (a push answered), never for a time.
import * as grpc from '@grpc/grpc-js';
import type Database from 'better-sqlite3';
import { importJWK, SignJWT, UnsecuredJWT } from 'jose';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter, once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { startRuntimeServer, type RuntimeServer } from '../../../agents-runtime/src/server/runtime-server';
import type { SetAccessStateRequest } from '../../../agents-runtime/src/wire';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import { createAccessStateConsumer } from '../../../electron/backend/fleet/credentials/access-state-consumer';
import { createRuntimeCredentials, type RuntimeCredentials } from '../../../electron/backend/fleet/credentials/runtime-credentials';
import { createRuntimeCredentialsRepo } from '../../../electron/backend/fleet/credentials/runtime-credentials-repo';
import type { LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import type { RuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import { createOidcKeySource, type OidcKeySource } from '../../../electron/backend/oidc/oidc-key-source';
import { createOidcKeySetsRepo } from '../../../electron/backend/oidc/oidc-key-sets-repo';
import { oauth2ConfigOf, oidcVerificationOf, type OAuth2Config } from '../../../electron/backend/oidc/oidc-settings';
import { decoyHash } from '../../../electron/backend/operators/operator-passwords';
import { createOperatorsRepo, type OperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate } from '../../../electron/backend/pki/issue-certificate';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { FixedRuntimeApi } from '../../support/fixed-runtime-api';
import { openMemoryStore } from '../../support/memory-store';
import { startOidcTestProvider, type OidcTestProvider } from '../../support/oidc-test-provider';
import { recordInstall } from '../../support/recorded-installs';
import { bearerCall, runtimeRefusal } from '../../support/runtime-bearer-calls';
import { seedStandInBundle } from '../../support/stand-in-rows';

const protos = loadRuntimeProtos();

let db: Database.Database;
let provider: OidcTestProvider;
let operators: OperatorsRepo;
let credentials: RuntimeCredentials;
let keys: OidcKeySource;
let oauth2: OAuth2Config;
let target: LinkTarget;
let server: RuntimeServer;
/** The link's shared channel (the control center's own certificate), each call carrying a provider's token. */
let caller: RuntimeClient;
let cc: RuntimeClient;
const abort = new AbortController();
let consumerDone: Promise<void> = Promise.resolve();
const pushes = new EventEmitter();
const api = new FixedRuntimeApi();

const restart = (token: string | null) => bearerCall((m, o, cb) => caller.RestartProcess({ name: 'core' }, m, o, cb), token);
const refusal = runtimeRefusal;

/** The next push answered by the runtime: the state it holds now. */
const nextPush = (): Promise<SetAccessStateRequest> => once(pushes, 'pushed').then(([state]) => state as SetAccessStateRequest);

beforeAll(async () => {
  provider = await startOidcTestProvider([
    { clientId: 'alice-cli', claims: { preferred_username: 'alice', groups: ['sutazai-operators', 'staff'], rack: ['rack=b4'] } },
    { clientId: 'vera-cli', claims: { preferred_username: 'vera', groups: ['sutazai-viewers'] } },
    { clientId: 'root-cli', claims: { preferred_username: 'root', groups: ['sutazai-admins'] } },
    { clientId: 'mallory-cli', claims: { preferred_username: 'mallory', groups: ['sutazai-admins'] } },
    { clientId: 'nobody-cli', claims: { preferred_username: 'alice', groups: ['staff'] } },
  ]);
  db = openMemoryStore();
  const vault = createSecretVault(db);
  vault.unlock({ kind: 'os-secret-store', key: randomBytes(32) });
  recordInstall(db, seedStandInBundle(db), {
    name: 'lab',
    config: [
      'system_integration:',
      '  security:',
      '    authentication_method: oauth2',
      '    oauth2:',
      `      issuer: ${provider.issuer}`,
      '      client_id: sutazai',
      '      audience: sutazai',
      '      algorithms: [ES256]',
      '      role_map: {sutazai-admins: admin, sutazai-operators: operator, sutazai-viewers: viewer}',
      '      attribute_claims: {hostLabels: rack}',
      '',
    ].join('\n'),
    hosts: [{ name: 'db-1', address: '198.18.0.9' }],
  });
  const installs = createInstallsRepo(db);
  const install = installs.findByName('lab')!;
  const host = installs.hosts(install.id)[0]!;
  oauth2 = oauth2ConfigOf(host.config)!;
  target = { installName: 'lab', hostId: host.hostId, hostName: 'db-1' };
  operators = createOperatorsRepo(db);
  operators.insert({ name: 'root', role: 'admin', attributes: {}, password: decoyHash(), now: 1 });
  // The record says operator; vera's record says admin, and her group only viewer: the lower counts.
  operators.insert({ name: 'alice', role: 'operator', attributes: {}, password: decoyHash(), now: 1 });
  operators.insert({ name: 'vera', role: 'admin', attributes: {}, password: decoyHash(), now: 1 });
  keys = createOidcKeySource({ changed: () => credentials.changed(), repo: createOidcKeySetsRepo(db) });
  credentials = createRuntimeCredentials({
    repo: createRuntimeCredentialsRepo(db),
    vault,
    installs,
    operators,
    now: Date.now,
    oidc: (row) => {
      const config = oauth2ConfigOf(row.config);
      const jwks = config && keys.keysFor(config);
      return config && jwks ? oidcVerificationOf(config, jwks) : null;
    },
  });

  const ca = await createInstallCa({ installName: 'lab' });
  const serverCert = await issueServerCertificate(ca, { hostName: 'db-1' });
  const admin = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', controlCenter: true });
  const link = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', controlCenter: true });
  server = await startRuntimeServer({ tls: { caCertPem: ca.certPem, ...serverCert }, api });
  const client = (cert: { certPem: string; keyPem: string }): RuntimeClient =>
    new protos.sutazai.runtime.v1.Runtime(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem)),
      { 'grpc.use_local_subchannel_pool': 1, 'grpc.ssl_target_name_override': 'localhost' },
    );
  cc = client(admin);
  caller = client(link);
});

afterAll(async () => {
  abort.abort();
  credentials?.changed();
  await consumerDone.catch(() => {});
  caller?.close();
  cc?.close();
  await server?.close();
  await provider?.close();
  db?.close();
});

describe('authentication_method: oauth2, the provider’s keys pushed over the link', () => {
  it('reads the provider’s discovery document and keys, and pushes them with the access state', async () => {
    expect(credentials.stateFor(target)).toMatchObject({ authenticationMethod: 'oauth2', oidc: null });
    await keys.refresh([oauth2]);
    expect(keys.problemOf(oauth2)).toBeNull();
    const observed: RuntimeCredentials = {
      ...credentials,
      pushed: (at, state) => {
        credentials.pushed(at, state);
        pushes.emit('pushed', state);
      },
    };
    const adminChannel = (): RuntimeConnection =>
      ({
        setAccessState: (state: SetAccessStateRequest) =>
          bearerCall<{ version: string }>((m, o, cb) => cc.SetAccessState(state, m, o, cb), null).then((r) => Number(r.version)),
        close: () => Promise.resolve(),
      }) as unknown as RuntimeConnection;
    const first = nextPush();
    consumerDone = createAccessStateConsumer({
      credentials: observed,
      openAdminChannel: async () => adminChannel(),
      recheckMs: 3_600_000,
    }).run(target, {} as RuntimeConnection, abort.signal);
    const state = await first;
    expect(state.oidc).toMatchObject({
      issuer: provider.issuer,
      audience: 'sutazai',
      algorithms: ['ES256'],
      operatorClaim: 'preferred_username',
    });
    expect(JSON.parse(state.oidc!.jwksJson!).keys.map((k: { kid: string }) => k.kid)).toEqual(['test-key-0']);
    // Public keys only: the provider's private part never leaves the control center (it never had it).
    expect(state.oidc!.jwksJson).not.toContain('"d"');
  });

  it('takes a provider token: the operator it names, the role its group maps to, never above the record', async () => {
    const before = api.changes.length;
    await expect(restart(await provider.tokenFor('alice-cli'))).resolves.toMatchObject({});
    expect(api.changes.slice(before)).toEqual(['restart core']);
    // vera's group maps to viewer (her record says admin): a restart is refused.
    const vera = await refusal(restart(await provider.tokenFor('vera-cli')));
    expect(vera.details).toMatch(/viewer/);
  });

  it('refuses a person the control center does not list, and one whose groups map to no role', async () => {
    expect(await refusal(restart(await provider.tokenFor('mallory-cli')))).toMatchObject({ code: 'CREDENTIAL_REVOKED' });
    const unmapped = await refusal(restart(await provider.tokenFor('nobody-cli')));
    expect(unmapped).toMatchObject({ code: 'ACCESS_TOKEN_INVALID' });
    expect(unmapped.details).toMatch(/maps to no role/);
  });

  it('refuses forged, expired, wrong-audience, alg-none, HMAC and ID tokens, each with its reason', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const claims = { preferred_username: 'root', groups: ['sutazai-admins'] };
    const sign = (
      key: CryptoKey | KeyObject | Uint8Array | Awaited<ReturnType<typeof importJWK>>,
      alg: string,
      kid: string,
      changes: { aud?: string; iat?: number; exp?: number; typ?: string; idToken?: boolean } = {},
    ) =>
      new SignJWT(changes.idToken ? { ...claims, nonce: 'n-0S6_WzA2Mj', at_hash: '77QmUPtjPfzWtF2AnpK9RQ' } : claims)
        .setProtectedHeader({ alg, kid, typ: changes.typ ?? 'at+jwt' })
        .setIssuer(provider.issuer)
        .setAudience(changes.aud ?? 'sutazai')
        .setIssuedAt(changes.iat ?? nowS)
        .setExpirationTime(changes.exp ?? nowS + 300)
        .sign(key as CryptoKey);
    const kid = provider.signingKey().kid!;
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const real = await importJWK(provider.signingKey(), 'ES256');

    const forged = await refusal(restart(await sign(forger, 'ES256', kid)));
    expect(forged).toMatchObject({ code: 'ACCESS_TOKEN_INVALID' });
    expect(forged.details).toMatch(/signature/);
    const expired = await refusal(restart(await sign(real, 'ES256', kid, { iat: nowS - 900, exp: nowS - 600 })));
    expect(expired.details).toMatch(/expired/);
    const audience = await refusal(restart(await sign(real, 'ES256', kid, { aud: 'another-app' })));
    expect(audience.details).toMatch(/meant for "another-app"/);
    const none = new UnsecuredJWT(claims)
      .setIssuer(provider.issuer)
      .setAudience('sutazai')
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 300)
      .encode();
    expect(await refusal(restart(none))).toMatchObject({ code: 'ACCESS_TOKEN_INVALID' });
    const hmac = await refusal(restart(await sign(new TextEncoder().encode('a-shared-secret-anyone-could-know!'), 'HS256', kid)));
    expect(hmac.details).toMatch(/allowed algorithm/);
    // The provider's own key, the right audience, but an ID token's claims or header type.
    const idToken = await refusal(restart(await sign(real, 'ES256', kid, { typ: 'JWT', idToken: true })));
    expect(idToken.details).toMatch(/is an ID token \(it carries "nonce"\)/);
    const idType = await refusal(restart(await sign(real, 'ES256', kid, { typ: 'id_token+jwt' })));
    expect(idType.details).toMatch(/header type "id_token\+jwt"/);
    // The same real key and claims, untouched, pass: the refusals above are for what was changed.
    await expect(restart(await sign(real, 'ES256', kid))).resolves.toMatchObject({});
  });

  it('refuses a disabled operator’s provider token from the next push on', async () => {
    const token = await provider.tokenFor('alice-cli');
    await expect(restart(token)).resolves.toMatchObject({});
    const alice = operators.list().find((o) => o.name === 'alice')!;
    const pushed = nextPush();
    operators.update(alice.id, { disabled: true }, Date.now());
    credentials.changed();
    expect((await pushed).revokedSubjects).toContain('alice');
    expect(await refusal(restart(token))).toMatchObject({ code: 'CREDENTIAL_REVOKED' });
    const back = nextPush();
    operators.update(alice.id, { disabled: false }, Date.now());
    credentials.changed();
    await back;
  });

  it('refuses a token of a key rotated out at the provider once the next refresh is pushed', async () => {
    const old = await provider.tokenFor('root-cli');
    await expect(restart(old)).resolves.toMatchObject({});
    await provider.rotate();
    const fresh = await provider.tokenFor('root-cli');
    // Until the control center reads the provider again, the runtime knows only the old key.
    expect((await refusal(restart(fresh))).details).toMatch(/not pushed/);
    const pushed = nextPush();
    await keys.refresh([oauth2]);
    expect(JSON.parse((await pushed).oidc!.jwksJson!).keys.map((k: { kid: string }) => k.kid)).toEqual(['test-key-1']);
    expect((await refusal(restart(old))).details).toMatch(/not pushed/);
    await expect(restart(fresh)).resolves.toMatchObject({});
  });

  it('reads a pinned key file instead of the provider (offline sites), refusing one that holds a private key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-oidc-pinned-'));
    try {
      const file = path.join(dir, 'jwks.json');
      const { d: _private, ...publicKey } = provider.signingKey();
      fs.writeFileSync(file, JSON.stringify({ keys: [publicKey] }));
      const pinned: OAuth2Config = { ...oauth2, issuer: 'https://sso.offline.example', jwks_file: file };
      const source = createOidcKeySource({ changed: () => {} });
      await source.refresh([pinned]);
      expect(source.problemOf(pinned)).toBeNull();
      expect(JSON.parse(source.keysFor(pinned)!).keys).toEqual([expect.objectContaining({ kid: publicKey.kid, x: publicKey.x })]);
      fs.writeFileSync(file, JSON.stringify({ keys: [provider.signingKey()] }));
      await source.refresh([pinned]);
      expect(source.problemOf(pinned)).toMatchObject({ code: 'OIDC_KEYS_INVALID' });
      // The keys read before stay: a bad file does not take the runtimes' keys away.
      expect(JSON.parse(source.keysFor(pinned)!).keys).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pushes the keys last read after a restart while the provider is down (kept in the store)', async () => {
    await provider.close();
    const restarted = createOidcKeySource({ changed: () => {}, repo: createOidcKeySetsRepo(db) });
    await restarted.refresh([oauth2]);
    expect(restarted.problemOf(oauth2)).toMatchObject({ code: 'OIDC_PROVIDER_UNAVAILABLE' });
    expect(JSON.parse(restarted.keysFor(oauth2)!).keys.map((k: { kid: string }) => k.kid)).toEqual(['test-key-1']);
  });
});
