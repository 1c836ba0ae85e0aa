// The control center's path to a runtime, for real: a runtime API server (the runtime's
// own gRPC server) inside a test host's network namespace, listening on that namespace's
// loopback only; OpenSSH in the same namespace; ssh2 logged in with the host key pinned;
// an SSH tunnel from this process's loopback; gRPC over TLS with certificates from the
// app's own PKI on top. Then the ways it breaks, each a clear ApiError in bounded time.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ErrorCode } from '../../../electron/contract';
import { connectSsh, type SshSession, type SshTarget } from '../../../electron/backend/hosts/ssh/connect-ssh';
import { openRuntimeConnection, type RuntimeConnection, type RuntimeTls } from '../../../electron/backend/fleet/runtime-connection';
import { createInstallCa, type InstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate } from '../../../electron/backend/pki/issue-certificate';
import { FIXED_RUNTIME_VERSION } from '../../support/fixed-runtime-api';
import { startDaemon, logTail, type Daemon } from '../../support/test-hosts/daemon';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const RUNTIME_PORT = 7600;
// A second runtime on the same host whose config trusts another install's CA for clients.
const FOREIGN_CA_RUNTIME_PORT = 7602;
const CALL_TIMEOUT_MS = 2_000;
// The call's deadline, the handshake that explains a failure (at most 3 s), and a busy machine.
const FAILURE_BOUND_MS = CALL_TIMEOUT_MS + 3_000 + 1_500;
const SERVER_SCRIPT = path.resolve(__dirname, '../../support/runtime-api-server-process.ts');

const tmp = makeTempDir('sutazai-fleet-tunnel-');
let host: TestHost;
let ca: InstallCa;
let admin: RuntimeTls;
const servers: Daemon[] = [];
const sessions: SshSession[] = [];
const connections: RuntimeConnection[] = [];

function targetFor(h: TestHost): SshTarget {
  return {
    hostId: 1,
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    credentials: { method: 'key', keyPath: h.privateKeyPath },
    pinned: { keyType: h.hostKeyType, fingerprint: h.hostKeyFingerprint, trustedAt: Date.now() },
    jump: null,
  };
}

async function connect(tls: RuntimeTls = admin, runtimePort = RUNTIME_PORT): Promise<{ session: SshSession; runtime: RuntimeConnection }> {
  const session = await connectSsh(targetFor(host), { timeoutMs: 5_000 });
  sessions.push(session);
  const runtime = await openRuntimeConnection({ session, runtimePort, tls, callTimeoutMs: CALL_TIMEOUT_MS });
  connections.push(runtime);
  return { session, runtime };
}

/** The ApiError a promise rejects with, and how long that took. */
async function failure(promise: Promise<unknown>, code: ErrorCode): Promise<{ error: ApiError; ms: number }> {
  const started = performance.now();
  const outcome = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  const ms = performance.now() - started;
  expect(outcome, `expected ${code}`).toBeInstanceOf(ApiError);
  const error = outcome as ApiError;
  expect({ code: error.code, message: error.message }).toMatchObject({ code });
  expect(error.remedy.length).toBeGreaterThan(20);
  return { error, ms };
}

function tcpConnects(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

beforeAll(async () => {
  const { lab } = labRef;
  host = await lab.addSshHost({ login: 'root-key' });
  ca = await createInstallCa({ installName: 'fleet-test' });
  const [serverCert, operator] = await Promise.all([
    issueServerCertificate(ca, { hostName: host.name, ipAddresses: [host.address] }),
    issueClientCertificate(ca, { operatorName: 'alice', role: 'admin' }),
  ]);
  admin = { caCertPem: ca.certPem, ...operator };
  const otherCa = await createInstallCa({ installName: 'another-install' });
  await Promise.all([
    startRuntimeServer('runtime', RUNTIME_PORT, ca.certPem, serverCert),
    startRuntimeServer('foreign-ca-runtime', FOREIGN_CA_RUNTIME_PORT, otherCa.certPem, serverCert),
  ]);
});

/** The runtime API server inside the host's namespace, whose 127.0.0.1 is not this process's. */
async function startRuntimeServer(
  name: string,
  port: number,
  clientCaPem: string,
  serverCert: { certPem: string; keyPem: string },
): Promise<void> {
  const tlsDir = path.join(tmp.path, name);
  fs.mkdirSync(tlsDir, { mode: 0o700 });
  fs.writeFileSync(path.join(tlsDir, 'ca.pem'), clientCaPem);
  fs.writeFileSync(path.join(tlsDir, 'server.pem'), serverCert.certPem);
  fs.writeFileSync(path.join(tlsDir, 'server.key'), serverCert.keyPem, { mode: 0o600 });
  const logFile = path.join(tmp.path, `${name}.log`);
  const server = startDaemon(
    host.namespace,
    [process.execPath, '--import', 'tsx', SERVER_SCRIPT, '--listen', `127.0.0.1:${port}`, '--tls-dir', tlsDir],
    logFile,
  );
  servers.push(server);
  const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 100, diagnostics: () => `\n${logTail(logFile)}` });
  await waitFor(`the ${name} API server in the namespace`, () => {
    if (server.hasExited()) throw new Error(`the ${name} API server exited:\n${logTail(logFile)}`);
    return fs.readFileSync(logFile, 'utf8').includes(`listening 127.0.0.1:${port}`);
  });
}

afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
  for (const session of sessions.splice(0)) session.close();
});

afterAll(async () => {
  // Each in its own process group; the lab kills whatever is left in the namespace after this.
  for (const server of servers.filter((s) => !s.hasExited() && s.pid > 0)) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await Promise.race([Promise.all(servers.map((s) => s.exited)), new Promise((resolve) => setTimeout(resolve, 3_000))]);
  tmp.remove();
});

describe('a runtime reached through an SSH tunnel', () => {
  it('answers GetInfo, ListProcesses and the health check over TLS, and only through the tunnel', async () => {
    // Nothing listens on the host's own address: the runtime is on its loopback only.
    expect(await tcpConnects(host.address, RUNTIME_PORT)).toBe(false);

    const { runtime } = await connect();
    const info = await runtime.getInfo();
    expect(info.runtimeVersion).toBe(FIXED_RUNTIME_VERSION);
    expect(info.manifestVersion).toBe('fixed-1');
    expect((await runtime.listProcesses()).map((p) => [p.name, p.instances[0]?.state])).toEqual([['core', 'PROCESS_STATE_RUNNING']]);
    expect(await runtime.checkHealth()).toBe('SERVING');

    const { localPort } = runtime;
    expect(await tcpConnects('127.0.0.1', localPort)).toBe(true);
    await runtime.close();
    expect(await tcpConnects('127.0.0.1', localPort)).toBe(false);
    await failure(runtime.getInfo(), 'RUNTIME_UNREACHABLE');
  });

  it('says nothing listens there when the runtime port on the host is wrong', async () => {
    const { runtime } = await connect(admin, RUNTIME_PORT + 1);
    const { error, ms } = await failure(runtime.getInfo(), 'RUNTIME_UNREACHABLE');
    expect(error.message).toContain(`nothing answers on 127.0.0.1:${RUNTIME_PORT + 1}`);
    expect(error.message).toMatch(/refused/i);
    expect(error.remedy).toContain('systemctl status sutazai-runtime');
    expect(ms).toBeLessThan(FAILURE_BOUND_MS);
  });

  it("refuses a runtime whose server certificate is not from this install's CA", async () => {
    // Seen from another install: its own CA and operator, and a runtime that is not its own.
    const otherCa = await createInstallCa({ installName: 'another-install' });
    const otherOperator = await issueClientCertificate(otherCa, { operatorName: 'bob', role: 'admin' });
    const { runtime } = await connect({ caCertPem: otherCa.certPem, ...otherOperator });
    const { error } = await failure(runtime.getInfo(), 'RUNTIME_TLS_FAILED');
    expect(error.message).toContain('server certificate');
    expect(error.message).toMatch(/self-signed certificate in certificate chain/);
  });

  it("says the runtime refused the operator's certificate when the runtime trusts another CA", async () => {
    const { runtime } = await connect(admin, FOREIGN_CA_RUNTIME_PORT);
    const { error } = await failure(runtime.getInfo(), 'RUNTIME_TLS_FAILED');
    expect(error.message).toContain("refused this operator's client certificate");
    expect(error.remedy).toContain('tls.ca');
  });

  it("does not even open a tunnel with a client certificate of another install's CA", async () => {
    const otherCa = await createInstallCa({ installName: 'another-install' });
    const stranger = await issueClientCertificate(otherCa, { operatorName: 'mallory', role: 'admin' });
    const { error } = await failure(connect({ caCertPem: ca.certPem, ...stranger }), 'PKI_CERT_INVALID');
    expect(error.message).toContain("operator's client certificate (CN=mallory, O=SutazAI) was not issued by this install's CA");
  });
});

describe('when the way to the runtime breaks', () => {
  it('closing the SSH session fails the next call with RUNTIME_UNREACHABLE at once', async () => {
    const { session, runtime } = await connect();
    expect((await runtime.getInfo()).runtimeVersion).toBe(FIXED_RUNTIME_VERSION);
    session.close();
    const { error, ms } = await failure(runtime.getInfo(), 'RUNTIME_UNREACHABLE');
    expect(error.message).toContain('the SSH session it runs through was closed');
    expect(ms).toBeLessThan(FAILURE_BOUND_MS);
  });

  it('a link that goes silent fails the call at its deadline, not never', async () => {
    const { lab } = labRef;
    const { runtime } = await connect();
    expect(await runtime.checkHealth()).toBe('SERVING');
    // No FIN, no RST: packets to the host are simply lost.
    await lab.exec(host, 'ip link set eth0 down');
    try {
      const { error, ms } = await failure(runtime.getInfo(), 'RUNTIME_UNREACHABLE');
      expect(error.message).toContain(`did not answer GetInfo within ${CALL_TIMEOUT_MS / 1000} s`);
      expect(ms).toBeGreaterThanOrEqual(CALL_TIMEOUT_MS - 100);
      expect(ms).toBeLessThan(FAILURE_BOUND_MS);
    } finally {
      await lab.exec(host, 'ip link set eth0 up');
    }
  });

  it('stopping sshd on the host fails the next call with RUNTIME_UNREACHABLE naming the lost SSH connection', async () => {
    const { lab } = labRef;
    const { session, runtime } = await connect();
    expect((await runtime.getInfo()).runtimeVersion).toBe(FIXED_RUNTIME_VERSION);
    // Stops sshd with every session on it (and everything else in the namespace, the runtime too).
    await lab.stopHost(host);
    await makeWaitFor({ timeoutMs: 5_000, pollMs: 20 })('the session to notice', () => session.lost !== null);
    const { error, ms } = await failure(runtime.getInfo(), 'RUNTIME_UNREACHABLE');
    expect(error.message).toContain('the SSH connection it runs through was lost');
    expect(error.remedy).toMatch(/reachable over SSH/);
    expect(ms).toBeLessThan(FAILURE_BOUND_MS);
  });
});
