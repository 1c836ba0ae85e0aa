// A recorded install operated by its name through the API, over the real WebSocket, on a
// real test host (root, in its own network namespace) with the real runtime: an install
// cancelled during its upload and resumed from the bytes already on the host; jobs kept
// in SQLite, so a finished one reads the same after a restart of the backend and one cut
// off by the restart reads as interrupted (and upgrading again resumes it); an upgrade
// offered by a newer imported bundle, planned and applied; a rollback and an uninstall by
// name; and bad requests refused with a code, a message and a remedy.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError, type ApiClient, type InstallProgress } from '../../../electron/contract';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { serveInstallApi, type InstallApiServer } from '../../support/install-api-server';
import { addLabHostOverApi, buildRealNodeBundle, runtimeReports, stopInstalledRuntime } from '../../support/install-lab';
import { bundleReference as reference, labInstallDefinition } from '../../support/lab-install-definition';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { restoreHostLink, slowHostLink } from '../../support/test-hosts/slow-link';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

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
let running: InstallApiServer | null = null;
const waitFor = makeWaitFor({ timeoutMs: 240_000, pollMs: 200 });
/** Every progress event this test's connections saw. */
const events: InstallProgress[] = [];

async function serve(): Promise<void> {
  running = await serveInstallApi(dataDir, tmp.path, TOKEN);
  await running.client.subscribe('installs.progress', {}, (event) => events.push(event));
}

async function stop(): Promise<void> {
  await running?.stop();
  running = null;
}

function api(): ApiClient {
  return running!.client;
}

/** A link slow enough (several seconds for the bundle) to act in the middle of an upload. */
const slowLink = () => slowHostLink(labRef.lab, host);
const fastLink = () => restoreHostLink(labRef.lab, host);

const definitionFor = (bundle: BuiltBundle) => labInstallDefinition({ name: INSTALL, bundle, hostName: HOST, base });

async function finished(jobId: string): Promise<void> {
  await waitFor(`job ${jobId} to finish`, () => events.some((e) => e.jobId === jobId && e.kind === 'finished'));
}

/**
 * Acknowledged bytes on the host before the test cancels. A resume keeps whole 64 KiB blocks
 * of the partial file (upload-bundle.ts), so a cancel right after the first 32 KiB write was
 * answered (what a loaded machine made happen in a full run) left nothing to resume from.
 */
const RESUMABLE_BYTES = 1024 * 1024;

/** Waits until some of the bundle, at least RESUMABLE_BYTES and not all of it, is on the host in this job. */
async function midUpload(jobId: string): Promise<void> {
  await waitFor('the upload to be under way', () =>
    events.some(
      (e) =>
        e.jobId === jobId && e.kind === 'upload' && e.upload.bytesOnHost >= RESUMABLE_BYTES && e.upload.bytesOnHost < e.upload.totalBytes,
    ),
  );
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

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fs.mkdirSync(dataDir, { recursive: true });
    [kit, host] = await Promise.all([makeBundleKit(), labRef.lab.addSshHost({ login: 'root-key' })]);
    defer(kit.remove);
    defer(stop);
    defer(() => stopInstalledRuntime(labRef.lab, host, root));
    defer(fastLink);
    [v1, v2] = await Promise.all([buildRealNodeBundle(kit, 'ops-v1', '1.0.0'), buildRealNodeBundle(kit, 'ops-v2', '1.1.0')]);
    await serve();
    await running!.importBundle(v1.file, kit.key.fingerprint);
    await addLabHostOverApi(api(), host, HOST);
  },
  { setUpMs: 240_000, undoMs: 120_000 },
);

describe('cancelling an install', () => {
  it('stops it during the upload as cancelled, and installing again resumes from the bytes already on the host', async () => {
    await slowLink();
    const { jobId } = await api().call('installs.start', { install: definitionFor(v1) });
    await midUpload(jobId);
    await expect(api().call('installs.cancel', { jobId })).resolves.toEqual({ jobId, cancelled: true, state: 'running' });
    await finished(jobId);
    const cancelled = await api().call('installs.status', { jobId });
    expect(cancelled).toMatchObject({
      kind: 'apply',
      state: 'cancelled',
      error: { code: 'INSTALL_CANCELLED', remedy: expect.stringContaining('resumes from the bytes already on the host') },
    });
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

describe('a rollback with nothing to roll back to', () => {
  it('is refused before any job starts, in words for the app rather than command-line flags', async () => {
    const jobsBefore = await api().call('installs.jobs', { name: INSTALL, limit: 10 });
    const refused = await refusal(api().call('installs.rollback', { name: INSTALL }));
    expect(refused).toMatchObject({
      code: 'NOT_FOUND',
      message: `Nothing to roll back to: ${HOST} keeps no earlier release (it keeps 1.0.0 (current)).`,
      remedy: expect.stringContaining(`upgrade or downgrade it to an imported bundle`),
    });
    expect(refused.remedy).not.toMatch(/--|sutazai |installs\./);
    await expect(api().call('installs.jobs', { name: INSTALL, limit: 10 })).resolves.toEqual(jobsBefore);
  });
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
    await expect(api().call('installs.upgradeOffer', { name: INSTALL })).resolves.toMatchObject({
      from: '1.0.0',
      candidates: [],
      offer: null,
    });
    await running!.importBundle(v2.file);
    const offer = await api().call('installs.upgradeOffer', { name: INSTALL });
    expect(offer).toMatchObject({
      install: INSTALL,
      from: '1.0.0',
      offer: { bundle: reference(v2), version: '1.1.0', compatible: true, problem: null },
    });
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
    expect(status).toMatchObject({
      kind: 'upgrade',
      bundle: reference(v2),
      state: 'interrupted',
      error: { code: 'INSTALL_INTERRUPTED', remedy: expect.stringContaining(`Upgrade ${INSTALL} again`) },
    });
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
    const [report] = await runtimeReports(dataDir, INSTALL, [host]);
    expect(report!.processes.map(([name]) => name)).toEqual(['core', 'agent']);
    await expect(api().call('installs.upgradeOffer', { name: INSTALL })).resolves.toMatchObject({ from: '1.1.0', offer: null });
  }, 300_000);
});

describe('bad requests on a recorded install', () => {
  it('are refused with a code, a message and a remedy, before any host is touched', async () => {
    expect(await refusal(api().call('installs.upgrade', { name: INSTALL, bundle: 'not a reference' }))).toMatchObject({
      code: 'BAD_PARAMS',
    });
    expect(await refusal(api().call('installs.rollback', { name: 'no such install!' }))).toMatchObject({ code: 'BAD_PARAMS' });
    expect(await refusal(api().call('installs.rollback', { name: INSTALL, to: 'latest' }))).toMatchObject({ code: 'BAD_PARAMS' });
    expect(await refusal(api().call('installs.rollback', { name: 'nothing-here' }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refusal(api().call('installs.rollback', { name: INSTALL, to: '9.9.9' }))).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('keeps no release 9.9.9'),
    });
    expect(await refusal(api().call('installs.uninstall', { name: INSTALL, host: 'other-host' }))).toMatchObject({
      code: 'HOST_NOT_FOUND',
    });
    // The older imported bundle is a downgrade: offered only as one, planned as one, refused unless asked for by name.
    const offer = await api().call('installs.upgradeOffer', { name: INSTALL });
    expect(offer).toMatchObject({
      from: '1.1.0',
      offer: null,
      candidates: [],
      downgrades: [{ bundle: reference(v1), version: '1.0.0', downgradeFrom: ['1.1.0'] }],
    });
    await expect(api().call('installs.upgradePlan', { name: INSTALL, bundle: reference(v1) })).resolves.toMatchObject({
      bundle: { version: '1.0.0' },
      downgradeFrom: ['1.1.0'],
    });
    const downgrade = await refusal(api().call('installs.upgrade', { name: INSTALL, bundle: reference(v1) }));
    expect(downgrade).toMatchObject({
      code: 'INSTALL_DOWNGRADE_REFUSED',
      message: expect.stringContaining(`${reference(v1)} is older than 1.1.0, which ${INSTALL} runs`),
      remedy: expect.stringContaining('allowDowngrade: true'),
    });
    expect(await refusal(api().call('installs.upgrade', { name: INSTALL, bundle: reference(v1), allowDowngrade: false }))).toMatchObject({
      code: 'INSTALL_DOWNGRADE_REFUSED',
    });
    expect(await refusal(api().call('installs.upgrade', { name: INSTALL, bundle: reference(v2) }))).toMatchObject({
      code: 'INSTALL_UPGRADE_REFUSED',
    });
    // The wizard's path (an install definition naming the older bundle) is refused the same way, before any host is touched.
    expect(await refusal(api().call('installs.start', { install: definitionFor(v1) }))).toMatchObject({
      code: 'INSTALL_DOWNGRADE_REFUSED',
    });
    expect(await refusal(api().call('installs.upgrade', { name: INSTALL, bundle: `${v1.manifest.name}@7.0.0` }))).toMatchObject({
      code: 'NOT_FOUND',
    });
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
    await expect(api().call('installs.upgradeOffer', { name: INSTALL })).resolves.toMatchObject({
      from: '1.0.0',
      offer: { version: '1.1.0' },
    });
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
