// The install as the app drives it, over the real WebSocket: the wizard's draft kept in
// SQLite across a restart of the backend, then a test host (root, in its own network
// namespace) placed, checked, planned and installed through installs.* with live
// installs.progress events, the job's status, the recorded install and its releases, and
// the runtime's own report of its processes. Everything started is removed afterwards.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError, type ApiClient, type InstallDefinition, type InstallProgress, type WizardDraftInput } from '../../../electron/contract';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { serveInstallApi, type InstallApiServer } from '../../support/install-api-server';
import { addLabHostOverApi, buildRealNodeBundle, stopInstalledRuntime } from '../../support/install-lab';
import { labInstallDefinition } from '../../support/lab-install-definition';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-install-api-');
const dataDir = path.join(tmp.path, 'data');
const TOKEN = 'install-api-test-token';
const HOST = 'api-host';
let kit: BundleKit;
let bundle: BuiltBundle;
let host: TestHost;
let running: InstallApiServer | null = null;
const root = path.join(tmp.path, HOST, 'opt');
const waitFor = makeWaitFor({ timeoutMs: 240_000, pollMs: 200 });

const serve = () => serveInstallApi(dataDir, tmp.path, TOKEN);

async function stop(): Promise<void> {
  await running?.stop();
  running = null;
}

function api(): ApiClient {
  return running!.client;
}

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    [kit, host] = await Promise.all([makeBundleKit(), labRef.lab.addSshHost({ login: 'root-key' })]);
    defer(kit.remove);
    defer(stop);
    defer(() => stopInstalledRuntime(labRef.lab, host, root));
    bundle = await buildRealNodeBundle(kit, 'install-api');
    running = await serve();
  },
  { setUpMs: 180_000, undoMs: 120_000 },
);

describe('the install wizard’s draft', () => {
  it('is where the operator left it after the backend restarts on the same data directory', async () => {
    await expect(api().call('wizard.get', {})).resolves.toEqual({ draft: null });
    const imported = await running!.importBundle(bundle.file, kit.key.fingerprint);
    const draft: WizardDraftInput = {
      step: 'configuration',
      bundleId: imported.bundle.id,
      installName: 'lab',
      hostIds: [],
      roles: [],
      environment: 'development',
      config: { name: 'install.yaml', text: 'agents:\n  replicas_per_host: 2\n' },
      hostConfigs: [],
      preflightAccepted: true,
      probeJobId: null,
      installJobId: null,
    };
    const saved = await api().call('wizard.save', { draft });
    expect(saved.draftId).toMatch(/^[0-9a-f-]{36}$/);

    await stop();
    running = await serve();
    const { draft: loaded } = await api().call('wizard.get', {});
    expect(loaded).toEqual({ ...draft, draftId: saved.draftId, createdAt: saved.createdAt, updatedAt: saved.updatedAt });
    await expect(api().call('wizard.get', { draftId: saved.draftId })).resolves.toEqual({ draft: loaded });

    // A later save of the same draft moves it on; discarding it leaves none.
    const moved = await api().call('wizard.save', { draft: { ...draft, draftId: saved.draftId, step: 'review' } });
    expect(moved).toMatchObject({ draftId: saved.draftId, step: 'review', createdAt: saved.createdAt });
    await expect(api().call('wizard.discard', { draftId: saved.draftId })).resolves.toEqual({ discarded: true });
    await expect(api().call('wizard.get', {})).resolves.toEqual({ draft: null });
    await expect(api().call('wizard.save', { draft: { ...draft, draftId: saved.draftId } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(api().call('wizard.save', { draft: { ...draft, bundleId: 9999 } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);
});

describe('an install through installs.*', () => {
  let hostId = 0;
  let definition: InstallDefinition;

  it('adds the host with its key pinned, and suggests it as the only machine: core and agents', async () => {
    hostId = await addLabHostOverApi(api(), host, HOST);
    const [placement] = await api().call('installs.suggestPlacement', { hostIds: [hostId] });
    expect(placement).toMatchObject({ hostId, name: HOST, role: 'both', gpu: false, gpuCount: 0 });
    expect(placement!.reason).toContain('the only machine');

    const preflight = await api().call('installs.preflight', { hosts: [{ hostId, role: 'both', gpu: false }] });
    expect(preflight.hosts[0]!.results.map((r) => r.profile)).toEqual(['core', 'agent']);
    for (const result of preflight.hosts[0]!.results) expect(result.checks.length).toBeGreaterThan(0);
  }, 60_000);

  it('refuses to start, before touching any host, an install naming a host not in the inventory', async () => {
    const error = await api()
      .call('installs.start', {
        install: {
          name: 'lab',
          bundle: `${bundle.manifest.name}@${bundle.manifest.version}`,
          hosts: [{ name: 'no-such-host', role: 'both' }],
        },
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'HOST_NOT_FOUND' });
  });

  it('plans, then installs with progress per host and step, and the job’s status says the same', async () => {
    definition = labInstallDefinition({ name: 'lab', bundle, hostName: HOST, base: path.join(tmp.path, HOST) });
    const plan = await api().call('installs.plan', { install: definition });
    expect(plan.upToDate).toBe(false);
    expect(plan.hosts[0]).toMatchObject({ host: HOST, mode: 'system', privilege: 'root', root, error: null });
    expect(plan.hosts[0]!.steps.filter((s) => s.state === 'todo').map((s) => s.step)).toEqual([
      'upload',
      'unpack',
      'configure',
      'service',
      'start',
      'switch',
      'record',
    ]);
    expect(fs.existsSync(root)).toBe(false);

    const events: InstallProgress[] = [];
    const unsubscribe = await api().subscribe('installs.progress', {}, (event) => events.push(event));
    const { jobId } = await api().call('installs.start', { install: definition });
    await waitFor('the install job to finish', () => events.some((e) => e.jobId === jobId && e.kind === 'finished'));
    await unsubscribe();

    const mine = events.filter((e) => e.jobId === jobId);
    expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i + 1));
    const done = mine.filter((e) => e.kind === 'step' && e.status === 'done').map((e) => (e.kind === 'step' ? e.step : null));
    expect(done).toEqual(['connect', 'check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record']);
    const lastUpload = mine.filter((e) => e.kind === 'upload').at(-1);
    expect(lastUpload).toMatchObject({ upload: { bytesOnHost: bundle.sizeBytes, totalBytes: bundle.sizeBytes } });
    expect(mine.at(-1)).toMatchObject({ kind: 'finished', state: 'succeeded', error: null });

    const status = await api().call('installs.status', { jobId });
    expect(status).toMatchObject({ jobId, install: 'lab', state: 'succeeded', seq: mine.length });
    expect(status.hosts[0]!.state).toBe('installed');
    expect(status.hosts[0]!.steps.map((s) => s.status)).toEqual(Array(10).fill('done'));
    // Each finished step carries what it printed: the health step names the processes it saw running.
    expect(status.hosts[0]!.steps.find((s) => s.step === 'health')!.output).toMatch(/core running 1\/1/);
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe(`releases/${bundle.manifest.version}`);
  }, 300_000);

  it('lists the install with the host’s role, place and current release, and its runtime reports every process running', async () => {
    const list = await api().call('installs.list', {});
    expect(list.map((i) => i.name)).toEqual(['lab']);
    const record = await api().call('installs.get', { name: 'lab' });
    expect(record.bundle).toMatchObject({ name: bundle.manifest.name, version: bundle.manifest.version });
    expect(record.hosts).toEqual([
      expect.objectContaining({
        hostId,
        hostName: HOST,
        role: 'both',
        state: 'installed',
        mode: 'system',
        rootDir: root,
        service: 'detached',
        releases: [expect.objectContaining({ version: bundle.manifest.version, state: 'current' })],
      }),
    ]);
    await expect(api().call('installs.get', { name: 'other' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const health = await api().call('installs.health', { name: 'lab' });
    expect(health.healthy).toBe(true);
    expect(health.hosts[0]).toMatchObject({
      host: HOST,
      reachable: true,
      healthy: true,
      error: null,
      runtime: { bundleVersion: bundle.manifest.version },
    });
    expect(health.hosts[0]!.processes.map((p) => [p.name, p.instances.map((i) => i.state)])).toEqual([
      ['core', ['running']],
      ['agent', ['running']],
    ]);
  }, 60_000);

  it('started again, changes nothing and says every step was already done', async () => {
    const { jobId } = await api().call('installs.start', { install: definition });
    await waitFor(
      'the second install job to finish',
      async () => (await api().call('installs.status', { jobId })).state !== 'running',
      120_000,
    );
    const status = await api().call('installs.status', { jobId });
    expect(status.state).toBe('succeeded');
    expect(status.hosts[0]!.state).toBe('unchanged');
    expect(status.hosts[0]!.steps.map((s) => s.status)).toEqual(['done', ...Array(9).fill('already-done')]);
  }, 150_000);
});
