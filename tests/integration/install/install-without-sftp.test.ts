// A host whose sshd has the sftp subsystem turned off, as hardened servers often do: the
// install sends the bundle and the step files through commands instead, still resumes an
// upload that was cut off, still has the host check the bundle's SHA-256, and says which
// way the bundle went in the upload step's detail.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import type { InstallEvent } from '../../../electron/backend/install/engine/install-steps';
import { uploadBundle } from '../../../electron/backend/install/steps/upload-bundle';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { addLabHost, buildRealNodeBundle, type LabBackend, startInstallBackend, stopInstalledRuntime } from '../../support/install-lab';
import { openLabSession } from '../../support/lab-session';
import { hostTree } from '../../support/release-lab';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-no-sftp-');
const dataDir = path.join(tmp.path, 'data');
const tree = hostTree(path.join(tmp.path, 'bare-host'));
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
let host: TestHost;
let installFile: string;

beforeAll(async () => {
  const { lab } = labRef;
  [kit, host] = await Promise.all([makeBundleKit(), lab.addSshHost({ login: 'root-key', sftp: false })]);
  bundle = await buildRealNodeBundle(kit, 'no-sftp');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  await addLabHost(backend, host, 'bare-host');
  installFile = path.join(tmp.path, 'install.yaml');
  fs.writeFileSync(
    installFile,
    [
      'name: bare',
      `bundle: ${bundle.manifest.name}@${bundle.manifest.version}`,
      'environment: development',
      'hosts:',
      '  - name: bare-host',
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(tree.values)} } }`,
    ].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  if (host) await stopInstalledRuntime(labRef.lab, host, tree.root).catch(() => undefined);
  await backend?.close();
  kit?.remove();
  tmp.remove();
}, 120_000);

const uploadDetail = (events: InstallEvent[]) =>
  events.find((e): e is Extract<InstallEvent, { kind: 'step' }> => e.kind === 'step' && e.step === 'upload' && e.status === 'done')?.detail;

describe('an install on a host without SFTP', () => {
  it('is cut off in the upload, then resumes through commands and installs, saying so in the upload step', async () => {
    const total = bundle.sizeBytes;
    const cut = new AbortController();
    const first = await backend.installs.apply(installFile, {
      signal: cut.signal,
      onEvent: (event) => {
        if (event.kind === 'upload' && event.bytesOnHost >= total / 3) cut.abort();
      },
    });
    expect(first.hosts[0]).toMatchObject({ outcome: 'failed', error: { code: 'INSTALL_UPLOAD_FAILED' } });
    const staging = path.join(tree.root, 'staging');
    const kept = fs.statSync(
      path.join(
        staging,
        fs.readdirSync(staging).find((f) => f.endsWith('.partial'))!,
      ),
    ).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(total);

    const events: InstallEvent[] = [];
    const second = await backend.installs.apply(installFile, { onEvent: (e) => events.push(e) });
    expect(second.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    const upload = second.hosts[0]!.upload!;
    expect(upload.resumedFrom).toBe(kept - (kept % 65536));
    expect(upload.resumedFrom).toBeGreaterThan(0);
    expect(upload.resumedFrom + upload.bytesSent).toBe(total);
    expect(uploadDetail(events)).toMatch(
      /^resumed at [\d.]+ MiB, sent [\d.]+ MiB through a command \(the host offers no SFTP\); SHA-256 verified on the host$/,
    );

    // The step files went through commands too: the key is in place, private to root.
    const key = fs.statSync(path.join(tree.root, 'releases', bundle.manifest.version, 'etc', 'tls', 'runtime.key'));
    expect([key.mode & 0o777, key.uid]).toEqual([0o600, 0]);
    expect(fs.readlinkSync(path.join(tree.root, 'current'))).toBe(`releases/${bundle.manifest.version}`);
    // sshd refused every SFTP request: nothing went over SFTP.
    const log = fs.readFileSync(path.join(labRef.lab.dir, 'hosts', host.namespace, 'sshd.log'), 'utf8');
    expect(log).toMatch(/subsystem request for sftp by user root failed, subsystem not found/);
  }, 300_000);

  it('has the host check the SHA-256 of what arrived, and removes a copy that does not match', async () => {
    const staging = path.join(tree.root, 'staging');
    const wrong = '0'.repeat(64);
    const session = await openLabSession(host);
    try {
      const error = await uploadBundle({
        session,
        localFile: bundle.file,
        sha256: wrong,
        size: bundle.sizeBytes,
        stagedPath: path.join(staging, 'mismatch.sutazai-bundle'),
        partialPath: path.join(staging, 'mismatch.sutazai-bundle.partial'),
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'INSTALL_UPLOAD_FAILED',
        message: expect.stringContaining(`the uploaded file's SHA-256 on the host (${bundle.sha256}) differs from the bundle's (${wrong})`),
      });
      expect(fs.readdirSync(staging).filter((f) => f.startsWith('mismatch'))).toEqual([]);
    } finally {
      session.close();
    }
  }, 120_000);
});
