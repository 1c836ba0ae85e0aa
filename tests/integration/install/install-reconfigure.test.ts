// A change of configuration restarts only the processes whose settings changed (issue 12,
// item 6): one test host as root, the real runtime, core and agents from a signed bundle.
// A change to the core's settings restarts the core alone; more agents scale the agent
// process in place and restart the GPU agent whose port moved; the runtime keeps its pid
// through both, and the plan says so beforehand. A change to the runtime's own
// configuration still restarts the runtime, and with it every process. Each apply records
// the certificate the runtime serves (for the certificate-expiry alert), though this backend
// keeps no fleet link that could read it.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { openRuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  operatorTlsOf,
  queryStore,
  startInstallBackend,
  stopInstalledRuntime,
} from '../../support/install-lab';
import { openLabSession } from '../../support/lab-session';
import { daemonPid, hostTree, type HostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-reconfigure-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'reconfigurelab';
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
let host: TestHost;
let tree: HostTree;

/** The install file: one host running core, agents and GPU agents, with `values` for the whole install. */
function installFile(values: string[]): string {
  const file = path.join(tmp.path, 'install.yaml');
  fs.writeFileSync(
    file,
    [
      `name: ${INSTALL}`,
      `bundle: ${bundle.file}`,
      'environment: development',
      'config:',
      '  - values:',
      ...values.map((line) => `      ${line}`),
      'hosts:',
      '  - name: only',
      '    role: both',
      '    gpu: true',
      `    config: { values: { install: ${JSON.stringify(tree.values)} } }`,
    ].join('\n'),
  );
  return file;
}

/** Each instance's pid as the runtime reports it, through fleet's tunnel with an admin certificate. */
async function pids(): Promise<Record<string, number | null>> {
  const tls = await operatorTlsOf(dataDir, INSTALL);
  const session = await openLabSession(host);
  try {
    const runtime = await openRuntimeConnection({ session, runtimePort: 7600, tls });
    try {
      const found: Record<string, number | null> = {};
      for (const p of await runtime.listProcesses()) {
        for (const i of p.instances) found[i.instance] = i.state === 'PROCESS_STATE_RUNNING' ? i.pid : null;
      }
      return found;
    } finally {
      await runtime.close();
    }
  } finally {
    session.close();
  }
}

/** The runtime certificate in the current release's etc/, as the configure step last wrote it. */
function certificateOnHost(): { fingerprint: string; notAfter: number } {
  const certificate = new X509Certificate(fs.readFileSync(path.join(tree.root, 'current', 'etc', 'tls', 'runtime.pem')));
  return { fingerprint: certificate.fingerprint256, notAfter: Date.parse(certificate.validTo) };
}

/** The runtime certificates the store recorded (host_id is the one host's). */
const recordedCertificates = () =>
  queryStore<{ fingerprint: string; notAfter: number }>(dataDir, 'SELECT fingerprint, not_after AS notAfter FROM runtime_certificates');

const startDetail = (plan: { hosts: Array<{ steps: Array<{ step: string; detail: string }> }> }) =>
  plan.hosts[0]!.steps.find((s) => s.step === 'start')!.detail;

beforeAll(async () => {
  const { lab } = labRef;
  [kit, host] = await Promise.all([makeBundleKit(), lab.addSshHost({ login: 'root-key' })]);
  bundle = await buildRealNodeBundle(kit, 'reconfigure', '0.1.0');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  await addLabHost(backend, host, 'only');
  tree = hostTree(path.join(tmp.path, 'only'));
}, 240_000);

afterAll(async () => {
  if (host) await stopInstalledRuntime(labRef.lab, host, tree.root).catch(() => undefined);
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('a change of configuration', () => {
  const base = ['install: { health_timeout_seconds: 90 }'];

  it('restarts only the processes whose settings changed, and the runtime keeps running', async () => {
    const installed = await backend.installs.apply(installFile([...base, 'agents: { replicas_per_host: 2, gpu_replicas_per_host: 1 }']));
    expect(installed.hosts.map((h) => [h.host, h.outcome])).toEqual([['only', 'installed']]);
    const runtimePid = daemonPid(tree.stateDir);
    expect(runtimePid).not.toBeNull();
    // The apply recorded the certificate the runtime serves, with no link to read it.
    const servedCertificate = certificateOnHost();
    expect(recordedCertificates()).toEqual([servedCertificate]);
    const first = await pids();
    expect(Object.keys(first).sort()).toEqual(['agent-1', 'agent-2', 'agent-gpu', 'core']);
    expect(Object.values(first).every((pid) => pid !== null)).toBe(true);

    // The core's log level: only the core restarts.
    const coreChange = installFile([...base, 'agents: { replicas_per_host: 2, gpu_replicas_per_host: 1 }', 'core: { log_level: warn }']);
    const plan = await backend.installs.plan(coreChange);
    expect(plan.hosts[0]!.steps.map((s) => [s.step, s.state])).toEqual(
      expect.arrayContaining([
        ['configure', 'todo'],
        ['start', 'todo'],
      ]),
    );
    expect(startDetail(plan)).toBe(
      `the runtime (pid ${runtimePid}) keeps running and takes the new manifest: restarts core (env changed); keeps agent, agent-gpu running`,
    );
    const applied = await backend.installs.apply(coreChange);
    expect(applied.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    expect(applied.hosts[0]!.steps.find((s) => s.step === 'start')!.detail).toBe(startDetail(plan));
    const second = await pids();
    expect(daemonPid(tree.stateDir)).toBe(runtimePid);
    expect(second.core).not.toBeNull();
    expect(second.core).not.toBe(first.core);
    expect({ ...second, core: 0 }).toEqual({ ...first, core: 0 });
    // configure wrote a new certificate, which the runtime that kept running does not serve: the record stays the served one.
    expect(certificateOnHost().fingerprint).not.toBe(servedCertificate.fingerprint);
    expect(recordedCertificates()).toEqual([servedCertificate]);
    // Applied, it is done: the runtime runs the manifest the host has.
    const again = await backend.installs.plan(coreChange);
    expect(again.upToDate).toBe(true);

    // A third agent: the agent process scales in place; the GPU agent's port moves, so it restarts.
    const moreAgents = installFile([...base, 'agents: { replicas_per_host: 3, gpu_replicas_per_host: 1 }', 'core: { log_level: warn }']);
    const scalePlan = await backend.installs.plan(moreAgents);
    expect(startDetail(scalePlan)).toBe(
      `the runtime (pid ${runtimePid}) keeps running and takes the new manifest: restarts agent-gpu (env, health changed); scales agent 2 -> 3; keeps core, agent running`,
    );
    const scaled = await backend.installs.apply(moreAgents);
    expect(scaled.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    const third = await pids();
    expect(daemonPid(tree.stateDir)).toBe(runtimePid);
    expect(Object.keys(third).sort()).toEqual(['agent-1', 'agent-2', 'agent-3', 'agent-gpu', 'core']);
    expect([third.core, third['agent-1'], third['agent-2']]).toEqual([second.core, second['agent-1'], second['agent-2']]);
    expect(third['agent-3']).not.toBeNull();
    expect(third['agent-gpu']).not.toBeNull();
    expect(third['agent-gpu']).not.toBe(second['agent-gpu']);
  }, 360_000);

  it("restarts the runtime, and every process with it, when the runtime's own configuration changes", async () => {
    const runtimePid = daemonPid(tree.stateDir);
    const before = await pids();
    const runtimeChange = installFile([
      ...base,
      'agents: { replicas_per_host: 3, gpu_replicas_per_host: 1 }',
      'core: { log_level: warn }',
      'runtime: { logs: { keep_files: 3 } }',
    ]);
    const plan = await backend.installs.plan(runtimeChange);
    expect(startDetail(plan)).toBe(
      `restarts the runtime (pid ${runtimePid}) for its new configuration: the runtime's own configuration (runtime.yaml, its CA or certificate names) changed, so every process restarts`,
    );
    const applied = await backend.installs.apply(runtimeChange);
    expect(applied.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    expect(daemonPid(tree.stateDir)).not.toBe(runtimePid);
    const after = await pids();
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const instance of Object.keys(before)) expect(after[instance], instance).not.toBe(before[instance]);
    // The runtime restarted on the certificate configure wrote last, and the apply recorded that one.
    expect(recordedCertificates()).toEqual([certificateOnHost()]);
  }, 360_000);
});
