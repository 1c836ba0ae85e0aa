// The control center's side of runtime credentials (fleet/credentials) on a real store and
// vault, against the runtime's real gRPC server over mutual TLS: the access state built
// from the operators and the install's token key, pushed by the link consumer when it
// starts and again when told of a change; one-call tokens for an operator, accepted by the
// runtime; a removed operator's token refused once the next push is answered; a rotated
// key's tokens refused likewise. Every wait is for an event (the runtime's log of each
// applied state), never for a time.
import * as grpc from '@grpc/grpc-js';
import type Database from 'better-sqlite3';
import { randomBytes, X509Certificate } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { startRuntimeServer, type RuntimeServer } from '../../../agents-runtime/src/server/runtime-server';
import { runtimeErrorFromMetadata, type SetAccessStateRequest } from '../../../agents-runtime/src/wire';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import { createAccessStateConsumer } from '../../../electron/backend/fleet/credentials/access-state-consumer';
import { createRuntimeCredentials, type RuntimeCredentials } from '../../../electron/backend/fleet/credentials/runtime-credentials';
import { createRuntimeCredentialsRepo } from '../../../electron/backend/fleet/credentials/runtime-credentials-repo';
import { createOperatorCertificates, type OperatorCertificates } from '../../../electron/backend/fleet/credentials/operator-certificates';
import { createOperatorService, type OperatorService } from '../../../electron/backend/operators/operator-service';
import { sealCaKey } from '../../../electron/backend/pki/seal-ca-key';
import type { LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import type { RuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import { decoyHash } from '../../../electron/backend/operators/operator-passwords';
import { createOperatorsRepo, type OperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { createInstallCa, type InstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { FixedRuntimeApi } from '../../support/fixed-runtime-api';
import { openMemoryStore } from '../../support/memory-store';
import { recordInstall } from '../../support/recorded-installs';
import { seedStandInBundle } from '../../support/stand-in-rows';

const CALL_DEADLINE_MS = 5_000;
const protos = loadRuntimeProtos();

let db: Database.Database;
let ca: InstallCa;
let controlCenter: IssuedCertificate;
let operators: OperatorsRepo;
let credentials: RuntimeCredentials;
/** The same store, pushed by nobody and waiting for no push: every call for an operator must be refused. */
let unpushed: RuntimeCredentials;
/** The same store with the vault locked (another process's vault, never unlocked). */
let locked: RuntimeCredentials;
let target: LinkTarget;
let certificates: OperatorCertificates;
/** The control center's credentials as they would be at a chosen time (`laterMs`). */
let later: RuntimeCredentials;
let laterMs = 0;
let service: OperatorService;
let server: RuntimeServer;
/** As the control center's link: its own certificate with the operator role. */
let link: RuntimeClient;
/** The admin channel the consumer pushes over. */
let cc: RuntimeClient;
const api = new FixedRuntimeApi();
/** The runtime's log of each state it applied: `applied` with the version. */
const runtimeLog = new EventEmitter();
const applied: number[] = [];

function call<T>(
  start: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<T>) => void,
  token: string | null,
) {
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  return new Promise<T>((resolve, reject) =>
    start(metadata, { deadline: Date.now() + CALL_DEADLINE_MS }, (error, value) => (error ? reject(error) : resolve(value as T))),
  );
}
const restart = (token: string | null) => call((m, o, cb) => link.RestartProcess({ name: 'core' }, m, o, cb), token);

/** A client with an operator's own certificate, as `sutazai operators certificate issue` wrote it. */
function ownClient(issued: { certPem: string; keyPem: string; caCertPem: string }): RuntimeClient {
  const own = new protos.sutazai.runtime.v1.Runtime(
    `127.0.0.1:${server.port}`,
    grpc.credentials.createSsl(Buffer.from(issued.caCertPem), Buffer.from(issued.keyPem), Buffer.from(issued.certPem)),
    { 'grpc.use_local_subchannel_pool': 1, 'grpc.ssl_target_name_override': 'localhost' },
  );
  ownClients.push(own);
  return own;
}
const ownClients: RuntimeClient[] = [];

async function refusal(promise: Promise<unknown>): Promise<{ code: string | undefined; details: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e as grpc.ServiceError,
  );
  if (error === null) throw new Error('expected the call to be refused');
  return { code: runtimeErrorFromMetadata(error.metadata)?.code, details: error.details };
}

/** The consumer's admin channel: the parts of a RuntimeConnection it uses, over the control center's own certificate. */
const adminChannel = (): RuntimeConnection =>
  ({
    setAccessState: (state: SetAccessStateRequest) =>
      call<{ version: string }>((m, o, cb) => cc.SetAccessState(state, m, o, cb), null).then((r) => Number(r.version)),
    close: () => Promise.resolve(),
  }) as unknown as RuntimeConnection;

/** The next push the consumer saw answered (after the runtime logged it applied): its version. */
function nextPush(): Promise<number> {
  return once(runtimeLog, 'pushed').then(([version]) => version as number);
}

beforeAll(async () => {
  db = openMemoryStore();
  const vault = createSecretVault(db);
  vault.unlock({ kind: 'os-secret-store', key: randomBytes(32) });
  recordInstall(db, seedStandInBundle(db), { name: 'lab', hosts: [{ name: 'db-1', address: '198.18.0.9' }] });
  const installs = createInstallsRepo(db);
  const install = installs.findByName('lab')!;
  const hostId = installs.hosts(install.id)[0]!.hostId;
  target = { installName: 'lab', hostId, hostName: 'db-1' };
  operators = createOperatorsRepo(db);
  operators.insert({ name: 'root', role: 'admin', attributes: {}, password: decoyHash(), now: 1 });
  operators.insert({ name: 'alice', role: 'operator', attributes: { hostLabels: ['rack=b4'] }, password: decoyHash(), now: 1 });
  credentials = createRuntimeCredentials({ repo: createRuntimeCredentialsRepo(db), vault, installs, operators, now: Date.now });
  unpushed = createRuntimeCredentials({ repo: createRuntimeCredentialsRepo(db), vault, installs, operators, now: Date.now, pushWaitMs: 0 });
  locked = createRuntimeCredentials({
    repo: createRuntimeCredentialsRepo(db),
    vault: createSecretVault(db),
    installs,
    operators,
    now: Date.now,
  });

  later = createRuntimeCredentials({ repo: createRuntimeCredentialsRepo(db), vault, installs, operators, now: () => laterMs });

  ca = await createInstallCa({ installName: 'lab' });
  // The install's CA as the install engine keeps it: the certificate on the row, the key sealed in the vault.
  db.prepare('UPDATE installs SET ca_cert = ?, ca_key_secret_id = ? WHERE name = ?').run(ca.certPem, sealCaKey(vault, 'lab', ca), 'lab');
  const credentialsRepo = createRuntimeCredentialsRepo(db);
  service = createOperatorService({
    repo: operators,
    now: Date.now,
    changed: () => credentials.changed(),
    revokeCredentials: (name) => credentialsRepo.revokeCertificatesOf(name, Date.now()),
  });
  certificates = createOperatorCertificates({
    repo: credentialsRepo,
    vault,
    installs,
    operator: (name) => service.named(name),
    credentials: { changed: () => credentials.changed() },
    now: Date.now,
  });
  const serverCert = await issueServerCertificate(ca, { hostName: 'db-1' });
  controlCenter = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'operator', controlCenter: true });
  const admin = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', controlCenter: true });
  server = await startRuntimeServer({
    tls: { caCertPem: ca.certPem, ...serverCert },
    api,
    logger: {
      info: (fields, message) => {
        if (message === 'access state applied') {
          const version = (fields as { version: number }).version;
          applied.push(version);
          runtimeLog.emit('applied', version);
        }
      },
      warn: () => {},
    },
  });
  const client = (cert: IssuedCertificate): RuntimeClient =>
    new protos.sutazai.runtime.v1.Runtime(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem)),
      { 'grpc.use_local_subchannel_pool': 1, 'grpc.ssl_target_name_override': 'localhost' },
    );
  link = client(controlCenter);
  cc = client(admin);
});

afterAll(async () => {
  for (const own of ownClients) own.close();
  link?.close();
  cc?.close();
  await server?.close();
  db?.close();
});

describe('runtime credentials of the control center', () => {
  it('builds one state per content: the same version until something changes, the operators and the install key in it', () => {
    const first = credentials.stateFor(target)!;
    expect(first).toMatchObject({
      install: 'lab',
      authenticationMethod: 'mtls',
      revokedSubjects: [],
      operators: [
        { name: 'alice', role: 'operator', attributesJson: JSON.stringify({ hostLabels: ['rack=b4'] }) },
        { name: 'root', role: 'admin', attributesJson: '{}' },
      ],
      abacPolicyYaml: '',
    });
    expect(first.tokenKeys).toHaveLength(1);
    expect(credentials.stateFor(target)).toEqual(first);
    expect(credentials.stateFor({ ...target, installName: 'gone' })).toBeNull();
  });

  it('fails closed: no token (and no call) for a runtime not yet pushed, with the vault locked, or for someone who is no operator', async () => {
    await expect(unpushed.tokenFor(target, 'alice')).rejects.toMatchObject({ code: 'OPERATOR_CREDENTIAL_NOT_READY' });
    await expect(locked.tokenFor(target, 'alice')).rejects.toMatchObject({ code: 'SECRETS_LOCKED' });
    await expect(unpushed.tokenFor(target, 'mallory')).rejects.toMatchObject({ code: 'OPERATOR_NOT_FOUND' });
  });

  it('pushes the state when the link comes up and again on a change; the removed operator’s token is refused after that push', async () => {
    const abort = new AbortController();
    const observed: RuntimeCredentials = {
      ...credentials,
      pushed: (at, state) => {
        credentials.pushed(at, state);
        expect(applied.at(-1)).toBe(Number(state.version));
        runtimeLog.emit('pushed', Number(state.version));
      },
    };
    const consumer = createAccessStateConsumer({ credentials: observed, openAdminChannel: async () => adminChannel() });
    const firstPush = nextPush();
    const running = consumer.run(target, adminChannel(), abort.signal);
    const firstVersion = await firstPush;
    expect(firstVersion).toBe(Number(credentials.stateFor(target)!.version));

    const before = api.changes.length;
    const aliceToken = await credentials.tokenFor(target, 'alice');
    expect(aliceToken).not.toBeNull();
    await expect(restart(aliceToken)).resolves.toEqual({});
    expect(api.changes.slice(before)).toEqual(['restart core']);
    await expect(credentials.tokenFor(target, 'mallory')).rejects.toMatchObject({ code: 'OPERATOR_NOT_FOUND' });

    // An operator added after the push: the token waits for the push that names her (asked for by tokenFor itself).
    operators.insert({ name: 'carol', role: 'viewer', attributes: {}, password: decoyHash(), now: 1 });
    const carolPush = nextPush();
    const carolToken = credentials.tokenFor(target, 'carol');
    const pushedFirst = await Promise.race([carolPush.then(() => 'push'), carolToken.then(() => 'token')]);
    expect(pushedFirst).toBe('push');
    expect(await carolToken).toEqual(expect.any(String));

    // Signed before the removal, used after the push that follows it.
    const leftover = await credentials.tokenFor(target, 'alice');
    operators.remove(operators.byName('alice')!.id);
    const secondPush = nextPush();
    credentials.changed();
    expect(await secondPush).toBeGreaterThan(firstVersion);
    const refused = await refusal(restart(leftover));
    expect(refused.code).toBe('CREDENTIAL_REVOKED');
    expect(refused.details).toContain('alice is not an operator of this install');
    await expect(credentials.tokenFor(target, 'alice')).rejects.toMatchObject({ code: 'OPERATOR_NOT_FOUND' });

    // A rotated key: tokens signed with the old one are refused once the new state is applied.
    const rootOld = await credentials.tokenFor(target, 'root');
    const thirdPush = nextPush();
    credentials.rotateKey('lab');
    await thirdPush;
    const stale = await refusal(restart(rootOld));
    expect(stale.code).toBe('ACCESS_TOKEN_INVALID');
    expect(stale.details).toContain('which this runtime does not trust');
    await expect(restart(await credentials.tokenFor(target, 'root'))).resolves.toEqual({});

    abort.abort();
    await running;
    expect(applied).toHaveLength(4);
  });

  it('issues an operator their own certificate, which the runtime accepts; revoked, it is refused after the push, and so is a removed operator’s', async () => {
    const abort = new AbortController();
    const observed: RuntimeCredentials = {
      ...credentials,
      pushed: (at, state) => {
        credentials.pushed(at, state);
        runtimeLog.emit('pushed', Number(state.version));
      },
    };
    const consumer = createAccessStateConsumer({ credentials: observed, openAdminChannel: async () => adminChannel() });
    const firstPush = nextPush();
    const running = consumer.run(target, adminChannel(), abort.signal);
    await firstPush;

    const issued = await certificates.issue({ name: 'root', install: 'lab' });
    expect(issued).toMatchObject({ operator: 'root', role: 'admin', install: 'lab', revokedAt: null });
    // Short by default: a day.
    expect(issued.notAfter - issued.issuedAt).toBeLessThanOrEqual(24 * 3600_000);
    const x509 = new X509Certificate(issued.certPem);
    expect(x509.subjectAltName).toContain('URI:urn:sutazai:operator:root');
    expect(x509.subjectAltName).toContain('URI:urn:sutazai:role:admin');
    expect(certificates.list('root').map((c) => c.serial)).toEqual([issued.serial]);

    const before = api.changes.length;
    await expect(call((m, o, cb) => ownClient(issued).RestartProcess({ name: 'core' }, m, o, cb), null)).resolves.toEqual({});
    expect(api.changes.slice(before)).toEqual(['restart core']);

    const revokedPush = nextPush();
    const { revoked } = certificates.revoke({ serial: issued.serial.toUpperCase() });
    expect(revoked.map((c) => c.serial)).toEqual([issued.serial]);
    await revokedPush;
    const refused = await refusal(call((m, o, cb) => ownClient(issued).RestartProcess({ name: 'core' }, m, o, cb), null));
    expect(refused.code).toBe('CREDENTIAL_REVOKED');
    // The runtime names the serial as TLS wrote it (a leading zero kept); we record it without one.
    expect(refused.details).toMatch(new RegExp(`serial 0*${issued.serial}\\b`));
    expect(() => certificates.revoke({ serial: 'abcdef' })).toThrow(expect.objectContaining({ code: 'OPERATOR_CERTIFICATE_NOT_FOUND' }));

    // Removing an operator revokes their certificates by serial, in the same change.
    const doraPush = nextPush();
    await service.add({ name: 'dora', role: 'operator', password: 'a long enough password', attributes: {} });
    const dora = await certificates.issue({ name: 'dora', install: 'lab', validityHours: 2 });
    await doraPush;
    await expect(call((m, o, cb) => ownClient(dora).RestartProcess({ name: 'core' }, m, o, cb), null)).resolves.toEqual({});
    const removedPush = nextPush();
    service.remove('dora');
    await removedPush;
    expect(credentials.stateFor(target)!.revokedCertificateSerials).toContain(dora.serial);
    const gone = await refusal(call((m, o, cb) => ownClient(dora).RestartProcess({ name: 'core' }, m, o, cb), null));
    expect(gone.code).toBe('CREDENTIAL_REVOKED');
    expect(gone.details).toMatch(new RegExp(`serial 0*${dora.serial}\\b`));

    abort.abort();
    await running;
  });

  it('reports a certificate revoked twice as already revoked: its first time kept, nothing pushed again', async () => {
    const changes: string[] = [];
    const counted = createOperatorCertificates({
      repo: createRuntimeCredentialsRepo(db),
      vault: createSecretVault(db),
      installs: createInstallsRepo(db),
      operator: (name) => service.named(name),
      credentials: { changed: () => changes.push('changed') },
      now: Date.now,
    });
    const issued = await certificates.issue({ name: 'root', install: 'lab', validityHours: 1 });
    const first = counted.revoke({ serial: issued.serial });
    expect(first.revoked.map((c) => c.serial)).toEqual([issued.serial]);
    expect(first.alreadyRevoked).toEqual([]);
    expect(changes).toEqual(['changed']);
    const again = counted.revoke({ serial: issued.serial.toUpperCase() });
    expect(again.revoked).toEqual([]);
    expect(again.alreadyRevoked).toEqual([expect.objectContaining({ serial: issued.serial, revokedAt: first.revoked[0]!.revokedAt })]);
    // Nothing changed, so no push; an operator with nothing left to revoke is no change either.
    expect(changes).toEqual(['changed']);
    expect(counted.revoke({ name: 'root', all: true })).toEqual({ revoked: [], alreadyRevoked: [] });
    expect(changes).toEqual(['changed']);
  });

  it('pushes a revoked certificate’s serial for a day past its end: a runtime whose clock runs behind still takes it as unexpired', async () => {
    const issued = await certificates.issue({ name: 'root', install: 'lab', validityHours: 1 });
    certificates.revoke({ serial: issued.serial });
    // The control center's clock a minute past the certificate's end; a host's clock minutes behind still holds it valid.
    laterMs = issued.notAfter + 60_000;
    expect(later.stateFor(target)!.revokedCertificateSerials).toContain(issued.serial);
    // Long past its end on any host's clock: no longer listed.
    laterMs = issued.notAfter + 2 * 24 * 3600_000;
    expect(later.stateFor(target)!.revokedCertificateSerials).not.toContain(issued.serial);
  });
});
