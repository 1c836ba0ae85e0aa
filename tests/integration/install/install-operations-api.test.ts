// A recorded install operated by its name through the API, over the real WebSocket, on a
// real test host (root, in its own network namespace) with the real runtime: an install
// cancelled during its upload and resumed from the bytes already on the host; jobs kept
// in SQLite, so a finished one reads the same after a restart of the backend and one cut
// off by the restart reads as interrupted (and upgrading again resumes it); an upgrade
// offered by a newer imported bundle, planned and applied; a rollback and an uninstall by
// name; and bad requests refused with a code, a message and a remedy.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createApiClient, type ApiClient, type InstallDefinition, type InstallProgress } from '../../../electron/contract';
import type { Backend } from '../../../electron/backend/app/backend';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { startWebServer, type WebServer } from '../../../electron/backend/server/web-server';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { buildRealNodeBundle, runtimeReports, startInstallBackend, stopInstalledRuntime } from '../../support/install-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';
import { openSocket, wsTransport } from '../../support/ws-peer';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-install-ops-');
const dataDir = path.join(tmp.path, 'data');
const TOKEN = 'install-operations-test-token';
const HOST = 'ops-host';
const INSTALL = 'opslab';
const base = path.join(tmp.path, HOST);
const root = path.join(base, 'opt');
let kit: BundleKit;
let v1: BuiltBundle;
let v2: BuiltBundle;
let host: TestHost;
let running: { backend: Backend; server: WebServer; client: ApiClient } | null = null;
const waitFor = makeWaitFor({ timeoutMs: 240_000, pollMs: 200 });
/** Every progress event this test's connections saw. */
const events: InstallProgress[] = [];

async function serve(): Promise<void> {
  const backend = await startInstallBackend(dataDir);
  const server = await startWebServer({ dispatcher: backend.dispatcher, rendererDir: path.join(tmp.path, 'renderer'), token: TOKEN, port: 0, logger: backend.logger });
  const client = createApiClient(wsTransport(await openSocket(`ws://127.0.0.1:${server.port}/api?token=${TOKEN}`)));
  await client.subscribe('installs.progress', {}, (event) => events.push(event));
  running = { backend, server, client };
}

async function stop(): Promise<void> {
  if (!running) return;
  running.client.close();
  await running.server.close();
  await running.backend.close();
  running = null;
}

function api(): ApiClient {
  return running!.client;
}

const reference = (bundle: BuiltBundle) => `${bundle.manifest.name}@${bundle.manifest.version}`;

/** A link slow enough (several seconds for the bundle) to act in the middle of an upload. */
const slowLink = () => labRef.lab.exec(host, 'tc qdisc replace dev eth0 root tbf rate 80mbit burst 256kb latency 100ms');
const fastLink = () => labRef.lab.exec(host, 'tc qdisc del dev eth0 root 2>/dev/null || :');

function definitionFor(bundle: BuiltBundle): InstallDefinition {
  const values = { root_dir: root, config_dir: path.join(base, 'etc'), state_dir: path.join(base, 'state'), log_dir: path.join(base, 'log'), health_timeout_seconds: 90 };
  return {
    name: INSTALL,
    bundle: reference(bundle),
    environment: 'development',
    config: [{ name: 'install.yaml', text: `install:\n${Object.entries(values).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n` }],
    hosts: [{ name: HOST, role: 'both', gpu: false }],
  };
}

async function finished(jobId: string): Promise<void> {
  await waitFor(`job ${jobId} to finish`, () => events.some((e) => e.jobId === jobId && e.kind === 'finished'));
}

/** Waits until some of the bundle, not all of it, is on the host in this job. */
async function midUpload(jobId: string): Promise<void> {
  await waitFor('the upload to be under way', () => events.some((e) => e.jobId === jobId && e.kind === 'upload' && e.upload.bytesOnHost > 0 && e.upload.bytesOnHost < e.upload.totalBytes));
}

async function refusal(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).remedy.length).toBeGreaterThan(0);
  return error as ApiError;
}

beforeAll(async () => {
  fs.mkdirSync(dataDir, { recursive: true });
  [kit, host] = await Promise.all([makeBundleKit(), labRef.lab.addSshHost({ login: 'root-key' })]);
  [v1, v2] = await Promise.all([buildRealNodeBundle(kit, 'ops-v1', '1.0.0'), buildRealNodeBundle(kit, 'ops-v2', '1.1.0')]);
  await serve();
  await api().call('bundles.import', { path: v1.file, trustKey: kit.key.fingerprint });
  const added = await api().call('hosts.add', { name: HOST, address: host.address, port: host.port, user: host.user, auth: { method: 'key', keyPath: host.privateKeyPath } });
  await api().call('hosts.trust', { hostId: added.id, fingerprint: host.hostKeyFingerprint });
  await api().call('hosts.probe', { hostId: added.id });
}, 240_000);

afterAll(async () => {
  if (host) await fastLink().catch(() => undefined);
  if (host) await stopInstalledRuntime(labRef.lab, host, root).catch(() => undefined);
  await stop();
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('cancelling an install', () => {
  it('stops it during the upload as cancelled, and installing again resumes from the bytes already on the host', async () => {
    await slowLink();
    const { jobId } = await api().call('installs.start', { install: definitionFor(v1) });
    await midUpload(jobId);
    await expect(api().call('installs.cancel', { jobId })).resolves.toEqual({ jobId, cancelled: true, state: 'running' });
    await finished(jobId);
    const cancelled = await api().call('installs.status', { jobId });
    expect(cancelled).toMatchObject({ kind: 'apply', state: 'cancelled', error: { code: 'INSTALL_CANCELLED', remedy: expect.stringContaining('resumes from the bytes already on the host') } });
    expect(cancelled.hosts[0]).toMatchObject({ host: HOST, state: 'cancelled' });
    expect(cancelled.hosts[0]!.steps.find((s) => s.step === 'upload')!.status).toBe('failed');
    expect(cancelled.hosts[0]!.steps.find((s) => s.step === 'switch')!.status).toBe('skipped');
    expect(fs.existsSync(path.join(root, 'current'))).toBe(false);
    // Cancelling what has ended changes nothing.
    await expect(api().call('installs.cancel', { jobId })).resolves.toEqual({ jobId, cancelled: false, state: 'cancelled' });

    await fastLink();
    const again = await api().call('installs.start', { install: definitionFor(v1) });
    await finished(again.jobId);
    const resumed = await api().call('installs.status', { jobId: again.jobId });
    expect(resumed).toMatchObject({ state: 'succeeded', hosts: [{ state: 'installed' }] });
    const upload = resumed.hosts[0]!.upload!;
    expect(upload.resumedFrom).toBeGreaterThan(0);
    expect(upload.resumedFrom + upload.bytesSent).toBe(v1.sizeBytes);
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe('releases/1.0.0');
  }, 300_000);
});

describe('jobs across a restart of the backend', () => {
  let finishedJob = '';
  let cutJob = '';

  it('answers a finished job the same after the restart', async () => {
    const [latest] = await api().call('installs.jobs', { name: INSTALL, limit: 1 });
    finishedJob = latest!.jobId;
    const before = await api().call('installs.status', { jobId: finishedJob });
    await stop();
    await serve();
    await expect(api().call('installs.status', { jobId: finishedJob })).resolves.toEqual(before);
    const jobs = await api().call('installs.jobs', { name: INSTALL, limit: 10 });
    expect(jobs.map((j) => [j.kind, j.state])).toEqual([
      ['apply', 'succeeded'],
      ['apply', 'cancelled'],
    ]);
  }, 60_000);

  it('offers the newer imported bundle as an upgrade and plans it without changing anything', async () => {
    await expect(api().call('installs.upgradeOffer', { name: INSTALL })).resolves.toMatchObject({ from: '1.0.0', candidates: [], offer: null });
    await api().call('bundles.import', { path: v2.file });
    const offer = await api().call('installs.upgradeOffer', { name: INSTALL });
    expect(offer).toMatchObject({ install: INSTALL, from: '1.0.0', offer: { bundle: reference(v2), version: '1.1.0', compatible: true, problem: null } });
    expect(offer.candidates.map((c) => c.version)).toEqual(['1.1.0']);
    const plan = await api().call('installs.upgradePlan', { name: INSTALL, bundle: reference(v2) });
    expect(plan).toMatchObject({ install: INSTALL, bundle: { version: '1.1.0' }, upToDate: false });
    expect(plan.hosts[0]!.steps.find((s) => s.step === 'upload')!.state).toBe('todo');
    expect(fs.existsSync(path.join(root, 'releases', '1.1.0'))).toBe(false);
  }, 120_000);

  it('shows an upgrade cut off by the restart as interrupted, with how to resume', async () => {
    await slowLink();
    ({ jobId: cutJob } = await api().call('installs.upgrade', { name: INSTALL, bundle: reference(v2) }));
    await midUpload(cutJob);
    await stop();
    await fastLink();
    await serve();
    const status = await api().call('installs.status', { jobId: cutJob });
    expect(status).toMatchObject({ kind: 'upgrade', bundle: reference(v2), state: 'interrupted', error: { code: 'INSTALL_INTERRUPTED', remedy: expect.stringContaining(`Upgrade ${INSTALL} again`) } });
    expect(status.hosts[0]!.state).toBe('interrupted');
    expect(status.hosts[0]!.steps.some((s) => s.status === 'running')).toBe(false);
    // The host still runs what it ran.
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe('releases/1.0.0');
  }, 300_000);

  it('upgrades by name when asked again, resuming the upload, rolling and health-gated', async () => {
    const { jobId } = await api().call('installs.upgrade', { name: INSTALL, bundle: reference(v2) });
    await finished(jobId);
    const status = await api().call('installs.status', { jobId });
    expect(status).toMatchObject({ kind: 'upgrade', state: 'succeeded', error: null, hosts: [{ host: HOST, state: 'installed' }] });
    expect(status.hosts[0]!.upload!.resumedFrom).toBeGreaterThan(0);
    expect(status.hosts[0]!.steps.find((s) => s.step === 'health')!.output).toMatch(/core running 1\/1/);
    const record = await api().call('installs.get', { name: INSTALL });
    expect(record.hosts[0]!.releases.map((r) => [r.version, r.state])).toEqual([
      ['1.1.0', 'current'],
      ['1.0.0', 'previous'],
    ]);
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe('releases/1.1.0');
    const [report] = await runtimeReports(running!.backend, dataDir, INSTALL, [host]);
    expect(report!.processes.map(([name]) => name)).toEqual(['core', 'agent']);
    await expect(api().call('installs.upgradeOffer', { name: INSTALL })).resolves.toMatchObject({ from: '1.1.0', offer: null });
  }, 300_000);
});

describe('bad requests on a recorded install', () => {
  it('are refused with a code, a message and a remedy, before any host is touched', async () => {
    expect(await refusal(api().call('installs.upgrade', { name: INSTALL, bundle: 'not a reference' }))).toMatchObject({ code: 'BAD_PARAMS' });
    expect(await refusal(api().call('installs.rollback', { name: 'no such install!' }))).toMatchObject({ code: 'BAD_PARAMS' });
    expect(await refusal(api().call('installs.rollback', { name: INSTALL, to: 'latest' }))).toMatchObject({ code: 'BAD_PARAMS' });
    expect(await refusal(api().call('installs.rollback', { name: 'nothing-here' }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refusal(api().call('installs.rollback', { name: INSTALL, to: '9.9.9' }))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('keeps no release 9.9.9') });
    expect(await refusal(api().call('installs.uninstall', { name: INSTALL, host: 'other-host' }))).toMatchObject({ code: 'HOST_NOT_FOUND' });
    expect(await refusal(api().call('installs.upgrade', { name: INSTALL, bundle: reference(v1) }))).toMatchObject({ code: 'INSTALL_UPGRADE_REFUSED' });
    expect(await refusal(api().call('installs.upgrade', { name: INSTALL, bundle: `${v1.manifest.name}@7.0.0` }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refusal(api().call('installs.cancel', { jobId: 'no-such-job' }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe('releases/1.1.0');
  }, 60_000);
});

describe('rollback and uninstall by name', () => {
  it('rolls the install back to its previous release as a job, health-gated', async () => {
    const { jobId } = await api().call('installs.rollback', { name: INSTALL });
    await finished(jobId);
    const status = await api().call('installs.status', { jobId });
    expect(status).toMatchObject({ kind: 'rollback', state: 'succeeded', hosts: [{ host: HOST, state: 'rolled-back', error: null }] });
    expect(status.hosts[0]!.steps.map((s) => [s.step, s.status])).toEqual([
      ['read', 'done'],
      ['service', 'done'],
      ['start', 'done'],
      ['health', 'done'],
      ['switch', 'done'],
      ['record', 'done'],
    ]);
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe('releases/1.0.0');
    const record = await api().call('installs.get', { name: INSTALL });
    expect(record.hosts[0]!.releases.find((r) => r.state === 'current')!.version).toBe('1.0.0');
    const health = await api().call('installs.health', { name: INSTALL });
    expect(health).toMatchObject({ healthy: true, hosts: [{ reachable: true, healthy: true }] });
    // The newer bundle is offered again.
    await expect(api().call('installs.upgradeOffer', { name: INSTALL })).resolves.toMatchObject({ from: '1.0.0', offer: { version: '1.1.0' } });
  }, 300_000);

  it('uninstalls it as a job: the host loses what the install made, the record goes, the jobs stay', async () => {
    const { jobId } = await api().call('installs.uninstall', { name: INSTALL });
    await finished(jobId);
    const status = await api().call('installs.status', { jobId });
    expect(status).toMatchObject({ kind: 'uninstall', state: 'succeeded', hosts: [{ host: HOST, state: 'removed' }] });
    expect(status.hosts[0]!.steps.map((s) => s.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(fs.existsSync(path.join(root, 'releases'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'current'))).toBe(false);
    await expect(api().call('installs.list', {})).resolves.toEqual([]);
    expect((await refusal(api().call('installs.get', { name: INSTALL }))).code).toBe('NOT_FOUND');
    const jobs = await api().call('installs.jobs', { name: INSTALL, limit: 10 });
    expect(jobs.map((j) => [j.kind, j.state])).toEqual([
      ['uninstall', 'succeeded'],
      ['rollback', 'succeeded'],
      ['upgrade', 'succeeded'],
      ['upgrade', 'interrupted'],
      ['apply', 'succeeded'],
      ['apply', 'cancelled'],
    ]);
  }, 120_000);
});
