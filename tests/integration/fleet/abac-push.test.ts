// access_control: abac from the control center to a runtime (issue 14, item 3), on a real
// store and vault, against the runtime's real gRPC server over mutual TLS: the link's access
// state consumer pushes the policy the control center loaded (config/policies, then the data
// directory's site rules) with the host's labels, and the runtime judges each call made with
// an operator's one-call token by it. An operator limited to rack=b4 is refused on a host
// labelled rack=a1; relabelled rack=b4 (one more push) she restarts there, and the site's deny
// rule still refuses her a scale, named with its file:line:column. A policy file broken by a
// typo fails closed at the runtime too: the push carries the problem (`invalid:`), the runtime
// refuses her calls with ACCESS_POLICY_INVALID naming it while the control center's own calls
// go on, and the fixed file's push ends it. Every wait is for an event (the consumer's
// answered push), never for a time.
import * as grpc from '@grpc/grpc-js';
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { startRuntimeServer, type RuntimeServer } from '../../../agents-runtime/src/server/runtime-server';
import { runtimeErrorFromMetadata, type SetAccessStateRequest } from '../../../agents-runtime/src/wire';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import { createAccessPolicy } from '../../../electron/backend/access/access-policy';
import { storePolicyFacts } from '../../../electron/backend/access/policy-facts';
import { createPolicyGate } from '../../../electron/backend/access/policy-gate';
import { createAccessStateConsumer } from '../../../electron/backend/fleet/credentials/access-state-consumer';
import { createRuntimeCredentials, type RuntimeCredentials } from '../../../electron/backend/fleet/credentials/runtime-credentials';
import { createRuntimeCredentialsRepo } from '../../../electron/backend/fleet/credentials/runtime-credentials-repo';
import type { LinkTarget } from '../../../electron/backend/fleet/link/link-types';
import type { RuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import { decoyHash } from '../../../electron/backend/operators/operator-passwords';
import { createOperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { FixedRuntimeApi } from '../../support/fixed-runtime-api';
import { openMemoryStore } from '../../support/memory-store';
import { recordInstall } from '../../support/recorded-installs';
import { seedStandInBundle } from '../../support/stand-in-rows';
import { makeTempDir } from '../../support/temp-dir';

const protos = loadRuntimeProtos();
const tmp = makeTempDir('sutazai-abac-push-');
const SITE = `rules:
  - name: vendor-never-scales
    effect: deny
    actions: [scale]
    operators: { attributes: { team: vendor } }
`;

let db: Database.Database;
let credentials: RuntimeCredentials;
let target: LinkTarget;
let server: RuntimeServer;
/** As the control center's link: its own certificate with the operator role. */
let link: RuntimeClient;
/** The admin channel the consumer pushes over. */
let cc: RuntimeClient;
const api = new FixedRuntimeApi();
const pushes = new EventEmitter();

function call<T>(
  start: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<T>) => void,
  token: string | null,
) {
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  return new Promise<T>((resolve, reject) =>
    start(metadata, { deadline: Date.now() + 5_000 }, (error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string | undefined; details: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e as grpc.ServiceError,
  );
  if (error === null) throw new Error('expected the call to be refused');
  return { code: runtimeErrorFromMetadata(error.metadata)?.code, details: error.details };
}

/** The consumer's admin channel: the parts of a RuntimeConnection it uses, over the control center's own admin certificate. */
const adminChannel = (): RuntimeConnection =>
  ({
    setAccessState: (state: SetAccessStateRequest) =>
      call<{ version: string }>((m, o, cb) => cc.SetAccessState(state, m, o, cb), null).then((r) => Number(r.version)),
    close: () => Promise.resolve(),
  }) as unknown as RuntimeConnection;

const veraToken = async (): Promise<string> => (await credentials.tokenFor(target, 'vera'))!;
const restart = async () => call((m, o, cb) => link.RestartProcess({ name: 'core' }, m, o, cb), await veraToken());
const list = async (token: string | null) => call((m, o, cb) => link.ListProcesses({}, m, o, cb), token);
const scale = async () => call((m, o, cb) => link.ScaleProcess({ name: 'core', replicas: 2 }, m, o, cb), await veraToken());

/** The link's access-state consumer, each push it makes told on `pushes`; its first push awaited through `firstPush`. */
function startConsumer() {
  const abort = new AbortController();
  const observed: RuntimeCredentials = {
    ...credentials,
    pushed: (at, state) => {
      credentials.pushed(at, state);
      pushes.emit('pushed', state);
    },
  };
  const consumer = createAccessStateConsumer({ credentials: observed, openAdminChannel: async () => adminChannel() });
  const firstPush = once(pushes, 'pushed');
  const running = consumer.run(target, adminChannel(), abort.signal);
  return { abort, running, firstPush };
}

beforeAll(async () => {
  db = openMemoryStore();
  const vault = createSecretVault(db);
  vault.unlock({ kind: 'os-secret-store', key: randomBytes(32) });
  recordInstall(db, seedStandInBundle(db), {
    name: 'lab',
    config: 'system_integration:\n  security:\n    access_control: abac\n',
    hosts: [{ name: 'gpu-7', address: '198.18.0.9' }],
  });
  const installs = createInstallsRepo(db);
  const hosts = createHostsRepo(db);
  const hostId = installs.hosts(installs.findByName('lab')!.id)[0]!.hostId;
  hosts.update(hostId, { labels: ['rack=a1'] }, 2);
  target = { installName: 'lab', hostId, hostName: 'gpu-7' };
  const operators = createOperatorsRepo(db);
  operators.insert({ name: 'root', role: 'admin', attributes: {}, password: decoyHash(), now: 1 });
  operators.insert({
    name: 'vera',
    role: 'operator',
    attributes: { team: 'vendor', hostLabels: ['rack=b4'] },
    password: decoyHash(),
    now: 1,
  });

  const site = path.join(tmp.path, 'policies');
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'site.yaml'), SITE);
  const facts = storePolicyFacts({ hosts, installs, operators });
  const policy = createAccessPolicy({
    folders: () => [path.resolve('config/policies'), site],
    inventory: () => facts.inventory(),
    logger: { warn: () => {}, info: () => {} },
  });
  const gate = createPolicyGate({ policy, facts, now: Date.now, timeZone: 'UTC' });
  credentials = createRuntimeCredentials({
    repo: createRuntimeCredentialsRepo(db),
    vault,
    installs,
    operators,
    now: Date.now,
    abacPolicy: (id) => gate.pushedPolicy(id),
  });

  const ca = await createInstallCa({ installName: 'lab' });
  const serverCert = await issueServerCertificate(ca, { hostName: 'gpu-7' });
  const controlCenter = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'operator', controlCenter: true });
  const admin = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', controlCenter: true });
  server = await startRuntimeServer({ tls: { caCertPem: ca.certPem, ...serverCert }, api });
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
  link?.close();
  cc?.close();
  await server?.close();
  db?.close();
  tmp.remove();
});

describe('the access policy pushed over the link', () => {
  it('is judged by the runtime: refused off rack=b4, allowed once relabelled, the deny rule named', async () => {
    const { abort, running, firstPush } = startConsumer();
    const [first] = (await firstPush) as [SetAccessStateRequest];
    expect(first.abacPolicyYaml).toContain('host_labels:\n    - rack=a1');

    const before = api.changes.length;
    const offRack = await refusal(restart());
    expect(offRack.code).toBe('ACCESS_POLICY_DENIED');
    expect(offRack.details).toContain(
      "RestartProcess for vera is refused by the access policy: vera's attribute hostLabels (rack=b4) selects hosts labelled rack=b4, and gpu-7 is not",
    );
    expect(api.changes.length).toBe(before);

    // The host is relabelled in the inventory: the next push carries it.
    createHostsRepo(db).update(target.hostId, { labels: ['rack=b4'] }, 3);
    const secondPush = once(pushes, 'pushed');
    credentials.changed();
    const [second] = (await secondPush) as [SetAccessStateRequest];
    expect(Number(second.version)).toBeGreaterThan(Number(first.version));
    await expect(restart()).resolves.toEqual({});
    expect(api.changes.slice(before)).toEqual(['restart core']);
    const denied = await refusal(scale());
    expect(denied.code).toBe('ACCESS_POLICY_DENIED');
    expect(denied.details).toContain(`denied by rule "vendor-never-scales" (${path.join(tmp.path, 'policies', 'site.yaml')}:2:5)`);

    abort.abort();
    await running;
  });

  it('fails closed while a policy file does not load: her calls refused with the problem named, the link’s own calls not', async () => {
    const { abort, running, firstPush } = startConsumer();
    await firstPush;
    // Allowed before the file breaks (the host is rack=b4 since the case above).
    await expect(restart()).resolves.toEqual({});

    const site = path.join(tmp.path, 'policies', 'site.yaml');
    fs.writeFileSync(site, SITE.replace('effect: deny', 'efect: deny'));
    const brokenPush = once(pushes, 'pushed');
    credentials.changed();
    const [broken] = (await brokenPush) as [SetAccessStateRequest];
    expect(broken.abacPolicyYaml).toMatch(/^invalid:/m);
    const before = api.changes.length;
    const refused = await refusal(restart());
    expect(refused.code).toBe('ACCESS_POLICY_INVALID');
    expect(refused.details).toContain('RestartProcess for vera is refused: the access policy does not load');
    expect(refused.details).toContain(`${site}:`);
    expect(api.changes.length).toBe(before);
    // The control center's own calls (its certificate, no operator's token) are not the policy's to judge.
    await expect(list(null)).resolves.toMatchObject({ processes: expect.any(Array) });

    fs.writeFileSync(site, SITE);
    const fixedPush = once(pushes, 'pushed');
    credentials.changed();
    const [fixed] = (await fixedPush) as [SetAccessStateRequest];
    expect(fixed.abacPolicyYaml).not.toMatch(/^invalid:/m);
    await expect(restart()).resolves.toEqual({});
    expect(api.changes.slice(before)).toEqual(['restart core']);

    abort.abort();
    await running;
  });
});
