// access_control: abac in the runtime (issue 14, item 3): the real gRPC server over mutual TLS
// (certificates from the app's PKI), calls made for an operator with the access token the
// control center signs, and the policy it pushes (SetAccessState's abac_policy_yaml, with the
// host's install and labels under `target:`). An operator limited to rack=b4 restarts an agent
// on a host labelled so (the stand-in runtime API's one process, core), and is refused on one that is not; a deny rule is named; with no
// policy pushed (rbac) the role alone decides; the control center's own calls are not judged.
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import type { SetAccessStateRequest } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/SetAccessStateRequest';
import { ACCESS_STATE_FILE } from '../../../agents-runtime/src/server/access-state';
import { startRuntimeServer, type RuntimeServer } from '../../../agents-runtime/src/server/runtime-server';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import { generateTokenSigningKey, signAccessToken, type TokenSigningKey } from '../../../electron/backend/pki/access-tokens';
import { createInstallCa, type InstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';
import { FixedRuntimeApi } from '../../support/fixed-runtime-api';

const INSTALL = 'prod';
const protos = loadRuntimeProtos();
const RULES = [
  { name: 'allow-by-role', effect: 'allow', source: 'config/policies/default.yaml:24:5' },
  {
    name: 'vendor-never-scales',
    effect: 'deny',
    actions: ['scale'],
    operators: { attributes: { team: 'vendor' } },
    source: '/data/policies/site.yaml:2:5',
  },
];

let ca: InstallCa;
let serverCert: IssuedCertificate;
let controlCenterCert: IssuedCertificate;
let key: TokenSigningKey;
let api: FixedRuntimeApi;
let stateDir: string;
let server: RuntimeServer;
let cc: RuntimeClient;
let version = 0;

function call<T>(start: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<T>) => void, token?: string) {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return new Promise<T>((resolve, reject) =>
    start(metadata, { deadline: Date.now() + 5_000 }, (error, value) => (error ? reject(error) : resolve(value as T))),
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

/** A token for one call by `subject`, as the control center signs it for a call made on their behalf. */
const tokenOf = (subject: string, role: 'operator' | 'admin') =>
  signAccessToken(key, { install: INSTALL, subject, role, attributes: {}, issuedAtS: Math.floor(Date.now() / 1000) });

/** Pushes the access state with the policy as the control center renders it for a host with these labels ('' policy: rbac). */
async function pushPolicy(hostLabels: string[] | null): Promise<void> {
  version += 1;
  const abacPolicyYaml =
    hostLabels === null ? '' : stringify({ target: { install: INSTALL, host_name: 'gpu-7', host_labels: hostLabels }, rules: RULES });
  const state: SetAccessStateRequest = {
    version: String(version),
    install: INSTALL,
    authenticationMethod: 'mtls',
    revokedCertificateSerials: [],
    revokedSubjects: [],
    tokenKeys: [{ keyId: key.keyId, publicKeyPem: key.publicKeyPem }],
    operators: [
      { name: 'vera', role: 'operator', attributesJson: JSON.stringify({ team: 'vendor', hostLabels: ['rack=b4'] }) },
      { name: 'ada', role: 'admin', attributesJson: '{}' },
    ],
    abacPolicyYaml,
  };
  await call<{ version: string }>((m, o, cb) => cc.SetAccessState(state, m, o, cb));
}

const restartAs = async (subject: string, role: 'operator' | 'admin') =>
  call((m, o, cb) => cc.RestartProcess({ name: 'core' }, m, o, cb), await tokenOf(subject, role));
const scaleAs = async (subject: string, role: 'operator' | 'admin') =>
  call((m, o, cb) => cc.ScaleProcess({ name: 'core', replicas: 3 }, m, o, cb), await tokenOf(subject, role));

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-runtime-abac-'));
  ca = await createInstallCa({ installName: INSTALL });
  [serverCert, controlCenterCert] = await Promise.all([
    issueServerCertificate(ca, { hostName: 'gpu-7' }),
    issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', controlCenter: true }),
  ]);
  key = generateTokenSigningKey();
  api = new FixedRuntimeApi();
  server = await startRuntimeServer({
    tls: { caCertPem: ca.certPem, certPem: serverCert.certPem, keyPem: serverCert.keyPem },
    api,
    accessStateFile: path.join(stateDir, ACCESS_STATE_FILE),
  });
  const credentials = grpc.credentials.createSsl(
    Buffer.from(ca.certPem),
    Buffer.from(controlCenterCert.keyPem),
    Buffer.from(controlCenterCert.certPem),
  );
  cc = new protos.sutazai.runtime.v1.Runtime(`127.0.0.1:${server.port}`, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
  });
});

afterAll(async () => {
  cc?.close();
  await server?.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('access_control: abac in the runtime', () => {
  it('an operator limited to rack=b4 restarts a process on a host labelled rack=b4', async () => {
    await pushPolicy(['rack=b4', 'gpu']);
    await restartAs('vera', 'operator');
    expect(api.changes.at(-1)).toBe('restart core');
  });

  it('and is refused on a host that is not, naming the attribute; the admin is not', async () => {
    await pushPolicy(['rack=a1']);
    const before = api.changes.length;
    const refused = await refusal(restartAs('vera', 'operator'));
    expect(refused).toMatchObject({ status: grpc.status.PERMISSION_DENIED, code: 'ACCESS_POLICY_DENIED' });
    expect(refused.details).toContain(
      "RestartProcess for vera is refused by the access policy: vera's attribute hostLabels (rack=b4) selects hosts labelled rack=b4, and gpu-7 is not",
    );
    expect(api.changes.length).toBe(before);
    await restartAs('ada', 'admin');
    expect(api.changes.at(-1)).toBe('restart core');
  });

  it('a deny rule wins and is named with where it was written', async () => {
    await pushPolicy(['rack=b4']);
    const refused = await refusal(scaleAs('vera', 'operator'));
    expect(refused.code).toBe('ACCESS_POLICY_DENIED');
    expect(refused.details).toContain('denied by rule "vendor-never-scales" (/data/policies/site.yaml:2:5)');
  });

  it("with no policy pushed (rbac) the role alone decides, and the control center's own calls are never judged by it", async () => {
    await pushPolicy(null);
    await restartAs('vera', 'operator');
    await scaleAs('vera', 'operator');
    expect(api.changes.slice(-2)).toEqual(['restart core', 'scale(3) core']);
    await pushPolicy(['rack=a1']);
    await call((m, o, cb) => cc.RestartProcess({ name: 'core' }, m, o, cb));
    expect(api.changes.at(-1)).toBe('restart core');
  });
});
