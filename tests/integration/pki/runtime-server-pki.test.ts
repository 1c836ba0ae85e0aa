// The runtime's real gRPC server on 127.0.0.1, with TLS material made by the app's own
// PKI (electron/backend/pki) instead of openssl: the install's CA, a server certificate
// for the host, operators' client certificates carrying their roles.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GetInfoResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/GetInfoResponse';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import { startRuntimeServer, type RuntimeServer } from '../../../agents-runtime/src/server/runtime-server';
import { createInstallCa, type InstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';
import { FIXED_RUNTIME_VERSION, FixedRuntimeApi } from '../../support/fixed-runtime-api';

const CALL_DEADLINE_MS = 5_000;
const protos = loadRuntimeProtos();

let ca: InstallCa;
let otherCa: InstallCa;
let admin: IssuedCertificate;
let viewer: IssuedCertificate;
let otherAdmin: IssuedCertificate;
let api: FixedRuntimeApi;
const servers: RuntimeServer[] = [];
const clients: grpc.Client[] = [];

async function startServer(serverCert: IssuedCertificate): Promise<RuntimeServer> {
  const server = await startRuntimeServer({ tls: { caCertPem: ca.certPem, certPem: serverCert.certPem, keyPem: serverCert.keyPem }, api });
  servers.push(server);
  return server;
}

/** A client that trusts `root` and presents `client`; TLS checks the name `localhost`. */
function runtimeClient(port: number, root: InstallCa, client: IssuedCertificate): RuntimeClient {
  const credentials = grpc.credentials.createSsl(Buffer.from(root.certPem), Buffer.from(client.keyPem), Buffer.from(client.certPem));
  const c = new protos.sutazai.runtime.v1.Runtime(`127.0.0.1:${port}`, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
  });
  clients.push(c);
  return c;
}

function call<T>(start: (options: grpc.CallOptions, callback: grpc.requestCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    start({ deadline: Date.now() + CALL_DEADLINE_MS }, (error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  const outcome = await promise.then(
    () => null,
    (error: unknown) => error as grpc.ServiceError,
  );
  if (outcome === null) throw new Error('expected the call to fail');
  return outcome;
}

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createInstallCa({ installName: 'pki-test' }), createInstallCa({ installName: 'another-install' })]);
  [admin, viewer, otherAdmin] = await Promise.all([
    issueClientCertificate(ca, { operatorName: 'alice', role: 'admin' }),
    issueClientCertificate(ca, { operatorName: 'victor', role: 'viewer' }),
    issueClientCertificate(otherCa, { operatorName: 'mallory', role: 'admin' }),
  ]);
  api = new FixedRuntimeApi();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((server) => server.close()));
});

describe('the runtime server with certificates from the app PKI', () => {
  let port: number;
  beforeAll(async () => {
    port = (await startServer(await issueServerCertificate(ca, { hostName: 'db-1', ipAddresses: ['198.18.0.5'] }))).port;
  });

  it('serves an admin, who may also change things', async () => {
    const client = runtimeClient(port, ca, admin);
    const info = await call<GetInfoResponse__Output>((o, cb) => client.GetInfo({}, o, cb));
    expect(info.runtimeVersion).toBe(FIXED_RUNTIME_VERSION);
    await call((o, cb) => client.RestartProcess({ name: 'core' }, o, cb));
    expect(api.changes).toContain('restart core');
  });

  it('lets a viewer read and refuses its RestartProcess with PERMISSION_DENIED', async () => {
    const client = runtimeClient(port, ca, viewer);
    const before = [...api.changes];
    const list = await call<{ processes: Array<{ name: string }> }>((o, cb) => client.ListProcesses({}, o, cb));
    expect(list.processes.map((p) => p.name)).toEqual(['core']);
    const error = await failure(call((o, cb) => client.RestartProcess({ name: 'core' }, o, cb)));
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error.details).toContain('this client certificate carries viewer');
    expect(runtimeErrorFromMetadata(error.metadata)?.code).toBe('PERMISSION_DENIED');
    expect(api.changes).toEqual(before);
  });

  it("refuses an admin certificate from another install's CA at the handshake", async () => {
    const before = [...api.changes];
    const error = await failure(call((o, cb) => runtimeClient(port, ca, otherAdmin).RestartProcess({ name: 'core' }, o, cb)));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(api.changes).toEqual(before);
  });

  it("is refused by a client that trusts only another install's CA", async () => {
    const error = await failure(call<GetInfoResponse__Output>((o, cb) => runtimeClient(port, otherCa, otherAdmin).GetInfo({}, o, cb)));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toMatch(/certificate|verify/i);
  });
});

describe('server certificate names', () => {
  it('a certificate without the name the client checks is refused, one with it is accepted', async () => {
    // Only the loopback names are always present; the client here checks `db-1.example`.
    const withName = await startServer(await issueServerCertificate(ca, { hostName: 'db-2', dnsNames: ['db-2.example'] }));
    const named = (name: string): RuntimeClient => {
      const credentials = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(admin.keyPem), Buffer.from(admin.certPem));
      const c = new protos.sutazai.runtime.v1.Runtime(`127.0.0.1:${withName.port}`, credentials, {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.ssl_target_name_override': name,
      });
      clients.push(c);
      return c;
    };
    const ok = await call<GetInfoResponse__Output>((o, cb) => named('db-2.example').GetInfo({}, o, cb));
    expect(ok.runtimeVersion).toBe(FIXED_RUNTIME_VERSION);
    const error = await failure(call((o, cb) => named('db-3.example').GetInfo({}, o, cb)));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toMatch(/altnames|does not match|Hostname/i);
  });
});
