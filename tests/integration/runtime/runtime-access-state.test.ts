// The runtime's real gRPC server over mutual TLS (certificates from the app's PKI) with the
// access state the control center pushes (SetAccessState) and access tokens it signs
// (electron/backend/pki/access-tokens.ts): each bad token refused with its reason, a
// removed operator's certificate and token refused once the push is answered, and the
// state kept across a restart of the server.
import * as grpc from '@grpc/grpc-js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import type { SetAccessStateRequest } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/SetAccessStateRequest';
import { ACCESS_STATE_FILE } from '../../../agents-runtime/src/server/access-state';
import { startRuntimeServer, type RuntimeServer } from '../../../agents-runtime/src/server/runtime-server';
import { runtimeErrorFromMetadata, TOKEN_ISSUER } from '../../../agents-runtime/src/wire';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import { generateTokenSigningKey, signAccessToken, type TokenSigningKey } from '../../../electron/backend/pki/access-tokens';
import { createInstallCa, type InstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';
import { FixedRuntimeApi } from '../../support/fixed-runtime-api';

const CALL_DEADLINE_MS = 5_000;
const INSTALL = 'lab';
const protos = loadRuntimeProtos();

let ca: InstallCa;
let serverCert: IssuedCertificate;
let controlCenter: IssuedCertificate;
let aliceCert: IssuedCertificate;
let bobCert: IssuedCertificate;
let key: TokenSigningKey;
let otherKey: TokenSigningKey;
let api: FixedRuntimeApi;
let stateDir: string;
const servers: RuntimeServer[] = [];
const clients: grpc.Client[] = [];

async function startServer(options: { dir?: string; now?: () => number } = {}): Promise<RuntimeServer> {
  const server = await startRuntimeServer({
    tls: { caCertPem: ca.certPem, certPem: serverCert.certPem, keyPem: serverCert.keyPem },
    api,
    accessStateFile: path.join(options.dir ?? stateDir, ACCESS_STATE_FILE),
    ...(options.now ? { now: options.now } : {}),
  });
  servers.push(server);
  return server;
}

function client(port: number, cert: IssuedCertificate): RuntimeClient {
  const credentials = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem));
  const c = new protos.sutazai.runtime.v1.Runtime(`127.0.0.1:${port}`, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
  });
  clients.push(c);
  return c;
}

function bearer(token: string | null): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

function call<T>(
  start: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<T>) => void,
  token: string | null = null,
) {
  return new Promise<T>((resolve, reject) =>
    start(bearer(token), { deadline: Date.now() + CALL_DEADLINE_MS }, (error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

async function refusal(promise: Promise<unknown>): Promise<{ status: grpc.status; code: string | undefined; details: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e as grpc.ServiceError,
  );
  if (error === null) throw new Error('expected the call to be refused');
  return { status: error.code, code: runtimeErrorFromMetadata(error.metadata)?.code, details: error.details };
}

const restart = (c: RuntimeClient, token: string | null = null) => call((m, o, cb) => c.RestartProcess({ name: 'core' }, m, o, cb), token);
const updateManifest = (c: RuntimeClient, token: string | null = null) =>
  call((m, o, cb) => c.UpdateManifest({ manifestYaml: 'processes: []' }, m, o, cb), token);
const getInfo = (c: RuntimeClient, token: string | null = null) => call((m, o, cb) => c.GetInfo({}, m, o, cb), token);
const push = (c: RuntimeClient, state: SetAccessStateRequest) => call<{ version: string }>((m, o, cb) => c.SetAccessState(state, m, o, cb));

const nowS = (): number => Math.floor(Date.now() / 1000);
const tokenFor = (
  subject: string,
  role: 'viewer' | 'operator' | 'admin',
  overrides: Partial<Parameters<typeof signAccessToken>[1]> = {},
  signer: Pick<TokenSigningKey, 'keyId' | 'privateKeyPem'> = key,
) => signAccessToken(signer, { install: INSTALL, subject, role, attributes: { team: 'night' }, ...overrides });

function stateV(version: number, changes: Partial<SetAccessStateRequest> = {}): SetAccessStateRequest {
  return {
    version: String(version),
    install: INSTALL,
    authenticationMethod: 'jwt',
    revokedCertificateSerials: [],
    revokedSubjects: [],
    tokenKeys: [{ keyId: key.keyId, publicKeyPem: key.publicKeyPem }],
    operators: [
      { name: 'alice', role: 'operator', attributesJson: JSON.stringify({ hostLabels: ['rack=b4'] }) },
      { name: 'bob', role: 'admin', attributesJson: '{}' },
    ],
    abacPolicyYaml: '',
    ...changes,
  };
}

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-access-state-'));
  ca = await createInstallCa({ installName: INSTALL });
  [serverCert, controlCenter, aliceCert, bobCert] = await Promise.all([
    issueServerCertificate(ca, { hostName: 'db-1' }),
    issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', controlCenter: true }),
    issueClientCertificate(ca, { operatorName: 'alice', role: 'operator' }),
    issueClientCertificate(ca, { operatorName: 'bob', role: 'admin' }),
  ]);
  key = generateTokenSigningKey();
  otherKey = generateTokenSigningKey();
  api = new FixedRuntimeApi();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((server) => server.close()));
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('a runtime with the access state the control center pushes', () => {
  let port: number;
  let cc: RuntimeClient;
  beforeAll(async () => {
    port = (await startServer()).port;
    cc = client(port, controlCenter);
  });

  it('before any push, judges certificates by their role and refuses tokens: it has no key to check them with', async () => {
    await expect(restart(client(port, aliceCert))).resolves.toEqual({});
    const refused = await refusal(restart(cc, await tokenFor('alice', 'operator')));
    expect(refused).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'ACCESS_TOKEN_INVALID' });
    expect(refused.details).toContain('holds no token keys yet');
  });

  it('refuses the push from a certificate below admin, and applies the control center’s', async () => {
    const denied = await refusal(push(client(port, aliceCert), stateV(1)));
    expect(denied).toMatchObject({ status: grpc.status.PERMISSION_DENIED, code: 'PERMISSION_DENIED' });
    expect(await push(cc, stateV(1))).toEqual({ version: '1' });
  });

  it('serves a call made for an operator with their token, within the lowest of token, certificate and pushed role', async () => {
    const before = api.changes.length;
    await expect(restart(cc, await tokenFor('alice', 'operator'))).resolves.toEqual({});
    expect(api.changes.slice(before)).toEqual(['restart core']);
    // alice's token claims admin, but the control center's current word on alice is operator.
    const refused = await refusal(updateManifest(cc, await tokenFor('alice', 'admin')));
    expect(refused).toMatchObject({ status: grpc.status.PERMISSION_DENIED, code: 'PERMISSION_DENIED' });
    expect(refused.details).toContain('needs the role admin');
    await expect(updateManifest(cc, await tokenFor('bob', 'admin'))).resolves.toEqual({});
    expect(api.changes.slice(before)).toEqual(['restart core', 'updateManifest']);
  });

  it('with jwt, accepts a call without a token only from the control center’s own certificate', async () => {
    await expect(getInfo(cc)).resolves.toMatchObject({ runtimeVersion: expect.any(String) });
    const refused = await refusal(getInfo(client(port, bobCert)));
    expect(refused).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'ACCESS_TOKEN_INVALID' });
    expect(refused.details).toContain('carries none');
  });

  it.each([
    ['expired', () => tokenFor('alice', 'operator', { issuedAtS: nowS() - 600, lifetimeS: 300 }), 'expired at'],
    ['not yet valid', () => tokenFor('alice', 'operator', { notBeforeS: nowS() + 600 }), 'is not valid before'],
    ['for another install', () => tokenFor('alice', 'operator', { install: 'prod' }), 'is meant for "prod", not for the install lab'],
    ['living too long', () => tokenFor('alice', 'operator', { lifetimeS: 3600 }), 'longer than the 900 s accepted'],
    // exp - iat is short, yet the token would be good for an hour: iat itself must not be ahead of the clock.
    ['issued in the future', () => tokenFor('alice', 'operator', { issuedAtS: nowS() + 3600, notBeforeS: nowS() - 1 }), 'in the future'],
    ['signed by an unknown key', () => tokenFor('alice', 'operator', {}, otherKey), 'which this runtime does not trust'],
    [
      'wrongly signed',
      () => tokenFor('alice', 'operator', {}, { keyId: key.keyId, privateKeyPem: otherKey.privateKeyPem }),
      'signature that does not verify',
    ],
    ['not a token', () => Promise.resolve('not.a.token'), 'cannot be read'],
  ])('refuses a token %s, saying so', async (_what, make, reason) => {
    const before = api.changes.length;
    const refused = await refusal(restart(cc, await make()));
    expect(refused).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'ACCESS_TOKEN_INVALID' });
    expect(refused.details).toContain(reason);
    expect(api.changes.length).toBe(before);
  });

  it('refuses a token for one operator sent with another operator’s certificate', async () => {
    const refused = await refusal(restart(client(port, aliceCert), await tokenFor('bob', 'admin')));
    expect(refused).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'ACCESS_TOKEN_INVALID' });
    expect(refused.details).toContain("the access token is for bob, and the client certificate is alice's");
    await expect(restart(client(port, aliceCert), await tokenFor('alice', 'operator'))).resolves.toEqual({});
  });

  it('refuses a token used a second time', async () => {
    const token = await tokenFor('alice', 'operator');
    await expect(restart(cc, token)).resolves.toEqual({});
    const refused = await refusal(restart(cc, token));
    expect(refused).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'ACCESS_TOKEN_INVALID' });
    expect(refused.details).toContain('was already used');
  });

  it('refuses a token whose jti is not a string: it could not be kept to one call', async () => {
    const before = api.changes.length;
    // Not a JWTPayload by its types (jti: string): what a signer gone wrong would send.
    const payload = { role: 'operator', attrs: {}, jti: { one: 'call' } } as unknown as JWTPayload;
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(INSTALL)
      .setSubject('alice')
      .setIssuedAt(nowS())
      .setNotBefore(nowS())
      .setExpirationTime(nowS() + 60)
      .sign(createPrivateKey(key.privateKeyPem));
    for (let use = 0; use < 2; use++) {
      const refused = await refusal(restart(cc, token));
      expect(refused).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'ACCESS_TOKEN_INVALID' });
      expect(refused.details).toContain('"jti" that is not a string');
    }
    expect(api.changes.length).toBe(before);
  });

  it('refuses a removed operator’s certificate and token once the push that removes them is answered, and an older push', async () => {
    // mtls again, so alice's certificate alone would reach the runtime if it were not revoked.
    expect(await push(cc, stateV(2, { authenticationMethod: 'mtls' }))).toEqual({ version: '2' });
    await expect(restart(client(port, aliceCert))).resolves.toEqual({});
    const aliceToken = await tokenFor('alice', 'operator');

    const serial = new X509Certificate(aliceCert.certPem).serialNumber;
    const removed = stateV(3, {
      authenticationMethod: 'mtls',
      revokedCertificateSerials: [serial],
      revokedSubjects: ['alice'],
      operators: [{ name: 'bob', role: 'admin', attributesJson: '{}' }],
    });
    expect(await push(cc, removed)).toEqual({ version: '3' });

    const byCertificate = await refusal(restart(client(port, aliceCert)));
    expect(byCertificate).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'CREDENTIAL_REVOKED' });
    expect(byCertificate.details).toContain('revoked');
    const byToken = await refusal(restart(cc, aliceToken));
    expect(byToken).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'CREDENTIAL_REVOKED' });
    expect(byToken.details).toContain('the operator alice');
    await expect(restart(client(port, bobCert))).resolves.toEqual({});

    const stale = await refusal(push(cc, stateV(2)));
    expect(stale).toMatchObject({ status: grpc.status.FAILED_PRECONDITION, code: 'ACCESS_STATE_STALE' });
  });

  it('keeps the state across a restart of the runtime: the removed operator stays refused', async () => {
    const kept = JSON.parse(fs.readFileSync(path.join(stateDir, ACCESS_STATE_FILE), 'utf8')) as { version: number };
    expect(kept.version).toBe(3);
    expect(fs.statSync(path.join(stateDir, ACCESS_STATE_FILE)).mode & 0o777).toBe(0o600);
    await servers[0]?.close();
    const again = await startServer();
    const refused = await refusal(restart(client(again.port, aliceCert)));
    expect(refused).toMatchObject({ code: 'CREDENTIAL_REVOKED' });
    await expect(restart(client(again.port, controlCenter), await tokenFor('bob', 'admin'))).resolves.toEqual({});
    await expect(push(client(again.port, controlCenter), stateV(2))).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  });

  it('refuses an operator the control center no longer lists, revoked or not', async () => {
    const runtime = servers.at(-1)!;
    const cc = client(runtime.port, controlCenter);
    expect(await push(cc, stateV(4, { authenticationMethod: 'mtls', operators: [] }))).toEqual({ version: '4' });
    const byCertificate = await refusal(restart(client(runtime.port, bobCert)));
    expect(byCertificate).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'CREDENTIAL_REVOKED' });
    expect(byCertificate.details).toContain('bob is not an operator of this install');
    const byToken = await refusal(restart(cc, await tokenFor('bob', 'admin')));
    expect(byToken).toMatchObject({ code: 'CREDENTIAL_REVOKED' });
    // The control center's own certificate names no operator: its streams and calls go on.
    await expect(getInfo(cc)).resolves.toMatchObject({ runtimeVersion: expect.any(String) });
  });
});

describe('the access state is the control center’s own word', () => {
  it('refuses a push from an admin operator, by their certificate or by their token on the control center’s channel', async () => {
    const runtime = await startRuntimeServer({
      tls: { caCertPem: ca.certPem, certPem: serverCert.certPem, keyPem: serverCert.keyPem },
      api,
    });
    servers.push(runtime);
    const cc = client(runtime.port, controlCenter);
    expect(await push(cc, stateV(1, { authenticationMethod: 'mtls' }))).toEqual({ version: '1' });
    // bob is an admin: with mtls his certificate alone reaches the runtime, and he may change its manifest.
    await expect(updateManifest(client(runtime.port, bobCert))).resolves.toEqual({});

    // What bob would push: a key of his own (tokens in anyone's name) and no policy.
    const his = stateV(2, { authenticationMethod: 'mtls', tokenKeys: [{ keyId: otherKey.keyId, publicKeyPem: otherKey.publicKeyPem }] });
    const byCertificate = await refusal(push(client(runtime.port, bobCert), his));
    expect(byCertificate).toMatchObject({ status: grpc.status.PERMISSION_DENIED, code: 'PERMISSION_DENIED' });
    expect(byCertificate.details).toContain("SetAccessState is the control center's own");
    const byToken = await refusal(call((m, o, cb) => cc.SetAccessState(his, m, o, cb), await tokenFor('bob', 'admin')));
    expect(byToken).toMatchObject({ status: grpc.status.PERMISSION_DENIED, code: 'PERMISSION_DENIED' });

    // The runtime still holds the control center's key: a token signed with bob's is refused.
    const forged = await refusal(restart(cc, await tokenFor('alice', 'admin', {}, otherKey)));
    expect(forged.details).toContain('which this runtime does not trust');
    expect(await push(cc, stateV(2, { authenticationMethod: 'mtls' }))).toEqual({ version: '2' });
  });
});

describe('a restarted runtime', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-access-restart-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a token used before the restart (its one-use record died with the process), replayed within its lifetime', async () => {
    const first = await startServer({ dir });
    expect(await push(client(first.port, controlCenter), stateV(1))).toEqual({ version: '1' });
    const captured = await tokenFor('alice', 'operator');
    await expect(restart(client(first.port, controlCenter), captured)).resolves.toEqual({});
    await first.close();

    // The same host a minute later (beyond the clock tolerance, well within the token's 5 minutes).
    const again = await startServer({ dir, now: () => Date.now() + 60_000 });
    const before = api.changes.length;
    const replayed = await refusal(restart(client(again.port, controlCenter), captured));
    expect(replayed).toMatchObject({ status: grpc.status.UNAUTHENTICATED, code: 'ACCESS_TOKEN_INVALID' });
    expect(replayed.details).toContain('before this runtime started');
    expect(api.changes.length).toBe(before);
    // A token signed for the call after the restart goes through.
    await expect(
      restart(client(again.port, controlCenter), await tokenFor('alice', 'operator', { issuedAtS: nowS() + 60 })),
    ).resolves.toEqual({});
    await again.close();
  });

  it('with its kept access state deleted after a push, serves only the control center until the next push', async () => {
    fs.rmSync(path.join(dir, ACCESS_STATE_FILE));
    const runtime = await startServer({ dir });
    const cc = client(runtime.port, controlCenter);
    const before = api.changes.length;
    // alice's certificate alone would pass by its role in the initial state, revoked or not.
    const byCertificate = await refusal(restart(client(runtime.port, aliceCert)));
    expect(byCertificate).toMatchObject({ status: grpc.status.FAILED_PRECONDITION, code: 'ACCESS_STATE_LOST' });
    expect(byCertificate.details).toContain('is gone, and the control center pushed a state to this runtime before');
    const byToken = await refusal(restart(cc, await tokenFor('alice', 'operator')));
    expect(byToken).toMatchObject({ code: 'ACCESS_STATE_LOST' });
    expect(api.changes.length).toBe(before);
    // The control center's own calls go on, and its push restores the operators' access.
    await expect(getInfo(cc)).resolves.toMatchObject({ runtimeVersion: expect.any(String) });
    expect(await push(cc, stateV(2, { authenticationMethod: 'mtls' }))).toEqual({ version: '2' });
    await expect(restart(client(runtime.port, aliceCert))).resolves.toEqual({});
    await expect(restart(cc, await tokenFor('alice', 'operator'))).resolves.toEqual({});
    expect(api.changes.slice(before)).toEqual(['restart core', 'restart core']);
  });

  it('with its kept access state unreadable, likewise', async () => {
    await servers.at(-1)!.close();
    fs.writeFileSync(path.join(dir, ACCESS_STATE_FILE), '{"version": 3, "install": ', { mode: 0o600 });
    const runtime = await startServer({ dir });
    const refused = await refusal(restart(client(runtime.port, bobCert)));
    expect(refused).toMatchObject({ code: 'ACCESS_STATE_LOST' });
    expect(refused.details).toContain('is not a valid access state');
  });

  it('never pushed (no state, no mark of a push): judges certificates by their role, as before', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-access-fresh-'));
    try {
      const runtime = await startServer({ dir: fresh });
      await expect(restart(client(runtime.port, aliceCert))).resolves.toEqual({});
      await runtime.close();
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });
});
