// The shipped daemon (the esbuild bundle run by plain `node`) keeps its one-use record of
// access tokens across a kill -9 (issue 14): the control center pushes its access state
// (authentication_method: jwt) and makes a call for an operator with a token it signed; the
// daemon is killed with SIGKILL and started again on the same state_dir; the same token sent
// again, seconds later and so well within the clock tolerance of the new start, is refused as
// already used, and the call it carries is not made. Certificates and tokens are the app's own
// (electron/backend/pki).
import * as grpc from '@grpc/grpc-js';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListProcessesResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ListProcessesResponse';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import type { SetAccessStateRequest } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/SetAccessStateRequest';
import { generateTokenSigningKey, signAccessToken, type TokenSigningKey } from '../../../electron/backend/pki/access-tokens';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';
import { freePort } from '../../support/free-ports';
import { bearerCall, runtimeRefusal } from '../../support/runtime-bearer-calls';
import {
  buildRuntimeBundle,
  daemonLayout,
  killDaemonsAndInstances,
  runtimeClient,
  startBundledDaemon,
  type BundledDaemon,
} from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const INSTALL = 'lab';
const MANIFEST = `version: 1
processes:
  - name: worker
    command: sh
    args: ["-c", "echo working; exec sleep 300"]
    stop: { grace_ms: 1000 }
`;

const tmp = makeTempDir('sutazai-token-replay-');
const { bundleDir, bundle, stateDir, logDir, configFile, runtimeId } = daemonLayout(tmp.path);
const daemons: ChildProcess[] = [];
const clients: grpc.Client[] = [];
let caPem: string;
let controlCenter: IssuedCertificate;
let key: TokenSigningKey;
let port = 0;

const waitFor = makeWaitFor({ timeoutMs: 20_000, pollMs: 100, retryErrors: true });

beforeAll(async () => {
  buildRuntimeBundle(bundleDir, 60_000);
  const ca = await createInstallCa({ installName: INSTALL });
  const server = await issueServerCertificate(ca, { hostName: 'db-1' });
  controlCenter = await issueClientCertificate(ca, { operatorName: 'sutazai-control-center', role: 'admin', controlCenter: true });
  caPem = ca.certPem;
  key = generateTokenSigningKey();
  port = await freePort();
  const etc = path.dirname(configFile);
  fs.mkdirSync(path.join(etc, 'tls'), { recursive: true });
  fs.writeFileSync(path.join(etc, 'tls/ca.pem'), ca.certPem);
  fs.writeFileSync(path.join(etc, 'tls/server.pem'), server.certPem);
  fs.writeFileSync(path.join(etc, 'tls/server.key'), server.keyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(etc, 'manifest.yaml'), MANIFEST);
  fs.writeFileSync(
    configFile,
    [
      'manifest: manifest.yaml',
      `listen: 127.0.0.1:${port}`,
      'tls: { ca: tls/ca.pem, cert: tls/server.pem, key: tls/server.key }',
      `state_dir: ${stateDir}`,
      `log_dir: ${logDir}`,
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(() => {
  for (const c of clients) c.close();
  killDaemonsAndInstances(daemons, runtimeId);
  tmp.remove();
});

async function startDaemon(): Promise<BundledDaemon> {
  const d = startBundledDaemon(bundle, configFile, tmp.path);
  daemons.push(d.child);
  await waitFor('the daemon to be ready', () => {
    if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}: ${JSON.stringify(d.lines)}`);
    return d.lines.some((l) => l.msg === 'sutazai-runtime ready');
  });
  return d;
}

/** A channel with the control center's own certificate, as its link to this runtime has. */
function channel(): RuntimeClient {
  const c = runtimeClient(port, caPem, controlCenter);
  clients.push(c as unknown as grpc.Client);
  return c;
}

const restartWorker = (c: RuntimeClient, token: string | null) =>
  bearerCall<object>((m, o, cb) => c.RestartProcess({ name: 'worker' }, m, o, cb), token);
/** The worker's pid: a restart made changes it. */
const workerPid = async (c: RuntimeClient): Promise<number | null> => {
  const listed = await bearerCall<ListProcessesResponse__Output>((m, o, cb) => c.ListProcesses({}, m, o, cb), null);
  const instance = listed.processes.find((p) => p.name === 'worker')?.instances[0];
  return instance?.state === 'PROCESS_STATE_RUNNING' && instance.pid > 0 ? instance.pid : null;
};
const aliceToken = () => signAccessToken(key, { install: INSTALL, subject: 'alice', role: 'operator', attributes: {} });

const accessState: SetAccessStateRequest = {
  version: '1',
  install: INSTALL,
  authenticationMethod: 'jwt',
  revokedCertificateSerials: [],
  revokedSubjects: [],
  tokenKeys: [{ keyId: '', publicKeyPem: '' }],
  operators: [{ name: 'alice', role: 'operator', attributesJson: '{}' }],
  abacPolicyYaml: '',
};

describe('a token used before a kill -9 of the daemon', () => {
  it('is refused as already used by the daemon started again on the same state_dir, and its call is not made', async () => {
    const first = await startDaemon();
    const cc = channel();
    const before = await waitFor('the worker to run', () => workerPid(cc));
    const pushed = await bearerCall<{ version: string }>(
      (m, o, cb) => cc.SetAccessState({ ...accessState, tokenKeys: [{ keyId: key.keyId, publicKeyPem: key.publicKeyPem }] }, m, o, cb),
      null,
    );
    expect(pushed).toEqual({ version: '1' });

    const captured = await aliceToken();
    await expect(restartWorker(cc, captured)).resolves.toEqual({});
    const restarted = await waitFor('the worker to run again', async () => {
      const pid = await workerPid(cc);
      return pid !== null && pid !== before ? pid : null;
    });
    // Kept before the call was served: the daemon killed now cannot have lost it.
    const record = path.join(stateDir, 'access-tokens.used');
    expect(fs.readFileSync(record, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    expect(fs.statSync(record).mode & 0o777).toBe(0o600);

    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startDaemon();
    const again = channel();
    // The new daemon adopts the worker the killed one left running.
    expect(await waitFor('the worker to be adopted', () => workerPid(again))).toBe(restarted);
    const replayed = await runtimeRefusal(restartWorker(again, captured));
    expect(replayed.code).toBe('ACCESS_TOKEN_INVALID');
    expect(replayed.details).toContain('was already used');
    // The replayed call was not made; a fresh token's is.
    expect(await workerPid(again)).toBe(restarted);
    await expect(restartWorker(again, await aliceToken())).resolves.toEqual({});
    await waitFor('the worker to be restarted by the fresh token', async () => {
      const pid = await workerPid(again);
      return pid !== null && pid !== restarted;
    });
    expect(second.lines.filter((l) => l.msg === 'the record of used access tokens is not whole or cannot be rewritten')).toEqual([]);
  });
});
