// installs.cancelRun on a real file run (issue 14 gap: the method had no test of its own): an
// apply slowed by a throttled link is stopped in its upload by an admin's cancel, named by its
// progress id; a viewer's cancel of the same run is refused and leaves it going; an unknown or
// finished run answers cancelled: false; each cancel is in the audit log under who asked. An
// uninstall is never cut halfway: its cancel answers cancelled: false and it runs to its end.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { connectInProcess } from '../../../electron/backend/server/in-process-transport';
import { createApiClient, type ApiClient, type InstallRunEvent } from '../../../electron/contract';
import { codeOf } from '../../support/api-pipes';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  queryStore,
  startInstallBackend,
  stopInstalledRuntime,
  writeLabInstallFile,
} from '../../support/install-lab';
import { hostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { restoreHostLink, slowHostLink } from '../../support/test-hosts/slow-link';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-cancel-run-');
const dataDir = path.join(tmp.path, 'data');
const tree = hostTree(path.join(tmp.path, 'slow-host'));
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
let host: TestHost;
let installFile: string;
const clients: ApiClient[] = [];

/** A client signed in as `name`, as the app's pipe for that operator would be. */
async function signedIn(name: string, password: string): Promise<ApiClient> {
  const client = createApiClient(connectInProcess(backend.dispatcher, name));
  clients.push(client);
  await client.call('session.signIn', { name, password });
  return client;
}

beforeAll(async () => {
  const { lab } = labRef;
  [kit, host] = await Promise.all([makeBundleKit(), lab.addSshHost({ login: 'root-key' })]);
  bundle = await buildRealNodeBundle(kit, 'cancel-run');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  await addLabHost(backend, host, 'slow-host');
  await backend.api.call('operators.add', { name: 'ada', role: 'admin', password: 'the password of ada' });
  await backend.api.call('operators.add', { name: 'vic', role: 'viewer', password: 'the password of vic' });
  installFile = writeLabInstallFile(tmp.path, { name: 'slow', bundle, hosts: [{ name: 'slow-host', installValues: tree.values }] });
  // A link slow enough that the upload is still going when the cancels arrive (the bundle carries a Node binary).
  await slowHostLink(lab, host, '16mbit');
}, 180_000);

afterAll(async () => {
  // Only a run the cancel failed to stop started a runtime; stopped all the same.
  if (host) await stopInstalledRuntime(labRef.lab, host, tree.root).catch(() => undefined);
  for (const client of clients) client.close();
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('installs.cancelRun', () => {
  it('stops a running apply by its progress id; a viewer may not; unknown and finished runs answer false', async () => {
    const [ada, vic] = [await signedIn('ada', 'the password of ada'), await signedIn('vic', 'the password of vic')];
    const progressId = randomUUID();
    const events: InstallRunEvent[] = [];
    let uploaded: (() => void) | null = null;
    const unsubscribe = await ada.subscribe('installs.runProgress', { progressId }, ({ event }) => {
      events.push(event);
      if (event.kind === 'upload') uploaded?.();
    });
    const run = ada.call('installs.applyFile', { file: { path: installFile }, progressId });
    /** The next upload progress after now, or the run's end (a run that ended must not leave the test waiting). */
    const nextUpload = async () => {
      const seen = events.length;
      await Promise.race([new Promise<void>((resolve) => (uploaded = resolve)), run]);
      return events.slice(seen).some((e) => e.kind === 'upload');
    };
    expect(await nextUpload()).toBe(true);

    expect(await codeOf(vic.call('installs.cancelRun', { progressId }))).toMatch(/^ACCESS_/);
    // The viewer's refused cancel left the upload going.
    expect(await nextUpload()).toBe(true);
    expect(await ada.call('installs.cancelRun', { progressId: randomUUID() })).toEqual({ cancelled: false });
    expect(await ada.call('installs.cancelRun', { progressId })).toEqual({ cancelled: true });

    const result = await run;
    await unsubscribe();
    const slow = result.hosts[0]!;
    expect(slow.outcome).toBe('failed');
    expect(slow.error).toMatchObject({ code: 'INSTALL_UPLOAD_FAILED' });
    expect(slow.steps.find((s) => s.step === 'upload')!.status).toBe('failed');
    expect(slow.steps.filter((s) => s.status === 'skipped').map((s) => s.step)).toEqual([
      'unpack',
      'configure',
      'service',
      'start',
      'health',
      'switch',
      'record',
    ]);
    expect(fs.existsSync(path.join(tree.root, 'releases'))).toBe(false);
    // The run is over: nothing of that id to cancel any more.
    expect(await ada.call('installs.cancelRun', { progressId })).toEqual({ cancelled: false });

    const cancels = queryStore<{ operator: string | null; outcome: string }>(
      dataDir,
      "SELECT operator, outcome FROM audit_log WHERE method = 'installs.cancelRun' ORDER BY seq",
    );
    expect(cancels.map((c) => c.operator)).toEqual(['vic', 'ada', 'ada', 'ada']);
    expect(cancels[0]!.outcome).not.toBe(cancels[2]!.outcome);
  }, 300_000);

  it('leaves an uninstall to run to its end: its cancel answers cancelled: false', async () => {
    await restoreHostLink(labRef.lab, host);
    const [ada] = [await signedIn('ada', 'the password of ada')];
    const applied = await ada.call('installs.applyFile', { file: { path: installFile } });
    expect(applied.hosts[0]).toMatchObject({ outcome: 'installed', error: null });

    const progressId = randomUUID();
    const answers: Array<Promise<{ cancelled: boolean }>> = [];
    const unsubscribe = await ada.subscribe('installs.runProgress', { progressId }, () => {
      // Asked at its first progress, while it runs.
      if (answers.length === 0) answers.push(ada.call('installs.cancelRun', { progressId }));
    });
    const uninstalled = await ada.call('installs.uninstallFile', { file: { path: installFile }, progressId });
    await unsubscribe();
    expect(answers).toHaveLength(1);
    expect(await answers[0]).toEqual({ cancelled: false });
    expect(uninstalled).toMatchObject({ installRemoved: true, hosts: [{ host: 'slow-host', outcome: 'removed', error: null }] });
  }, 300_000);
});
