// An install that is cut off and resumed, and one refused for lack of space: the upload
// keeps the verified bytes already on the host and sends only the rest; a host whose
// disk cannot hold the release is refused before anything is written to it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import type { InstallEvent } from '../../../electron/backend/install/engine/install-steps';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import {
  addLabHost,
  buildRealNodeBundle,
  type LabBackend,
  queryStore,
  startInstallBackend,
  stopInstalledRuntime,
} from '../../support/install-lab';
import { openLabSession } from '../../support/lab-session';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { restoreHostLink, slowHostLink } from '../../support/test-hosts/slow-link';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-install-resume-');
const dataDir = path.join(tmp.path, 'data');
const tinyDisk = path.join(tmp.path, 'tiny');
let mounted = false;
let kit: BundleKit;
let bundle: BuiltBundle;
let backend: LabBackend;
const hosts = new Map<string, TestHost>();

/** An install file for one host, everything under tmp/<name>/ (or root_dir on the tiny disk). */
function installFileFor(name: string, rootDir = path.join(tmp.path, name, 'opt')): string {
  const base = path.join(tmp.path, name);
  const file = path.join(tmp.path, `${name}.yaml`);
  const paths = {
    root_dir: rootDir,
    config_dir: path.join(base, 'etc'),
    state_dir: path.join(base, 'state'),
    log_dir: path.join(base, 'log'),
  };
  fs.writeFileSync(
    file,
    [
      `name: ${name}`,
      `bundle: ${bundle.manifest.name}@${bundle.manifest.version}`,
      'environment: development',
      'hosts:',
      `  - name: ${name}`,
      '    role: both',
      `    config: { values: { install: ${JSON.stringify(paths)} } }`,
    ].join('\n'),
  );
  return file;
}

beforeAll(async () => {
  const { lab } = labRef;
  // A disk far too small for the bundle (twice) and the margin. Mounted before the hosts
  // start: each sshd lives in a copy of the mount namespace made when it started.
  fs.mkdirSync(tinyDisk);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'tmpfs', tinyDisk]);
  mounted = true;
  const [built, resumeHost, fullHost, dropHost] = await Promise.all([
    makeBundleKit(),
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'root-key' }),
    lab.addSshHost({ login: 'root-key' }),
  ]);
  kit = built;
  bundle = await buildRealNodeBundle(kit, 'install-resume');
  backend = await startInstallBackend(dataDir);
  await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
  hosts.set('resume-host', resumeHost);
  hosts.set('full-host', fullHost);
  hosts.set('drop-host', dropHost);
  await addLabHost(backend, resumeHost, 'resume-host');
  await addLabHost(backend, fullHost, 'full-host');
  await addLabHost(backend, dropHost, 'drop-host');
}, 180_000);

afterAll(async () => {
  const { lab } = labRef;
  const resumeHost = hosts.get('resume-host');
  if (resumeHost) await stopInstalledRuntime(lab, resumeHost, path.join(tmp.path, 'resume-host', 'opt')).catch(() => undefined);
  const dropHost = hosts.get('drop-host');
  if (dropHost) await stopInstalledRuntime(lab, dropHost, path.join(tmp.path, 'drop-host', 'opt')).catch(() => undefined);
  await backend?.close();
  if (mounted) execFileSync('umount', [tinyDisk]);
  kit?.remove();
  tmp.remove();
}, 120_000);

describe('an upload cut off in the middle', () => {
  it('keeps what reached the host and sends only the rest on the next apply', async () => {
    const file = installFileFor('resume-host');
    const total = bundle.sizeBytes;
    const cut = new AbortController();
    const first = await backend.installs.apply(file, {
      signal: cut.signal,
      onEvent: (event) => {
        // The app closed (or the link dropped) with a third of the bundle on the host.
        if (event.kind === 'upload' && event.bytesOnHost >= total / 3) cut.abort();
      },
    });
    const host = first.hosts[0]!;
    expect(host.outcome).toBe('failed');
    expect(host.error).toMatchObject({ code: 'INSTALL_UPLOAD_FAILED' });
    expect(host.steps.find((s) => s.step === 'upload')!.status).toBe('failed');
    expect(host.steps.filter((s) => s.status === 'skipped').map((s) => s.step)).toEqual([
      'unpack',
      'configure',
      'service',
      'start',
      'health',
      'switch',
      'record',
    ]);
    const staging = path.join(tmp.path, 'resume-host', 'opt', 'staging');
    const partial = fs.readdirSync(staging).find((f) => f.endsWith('.partial'))!;
    const kept = fs.statSync(path.join(staging, partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(total);
    expect(fs.existsSync(path.join(tmp.path, 'resume-host', 'opt', 'releases'))).toBe(false);
    expect(queryStore<{ status: string }>(dataDir, "SELECT status FROM install_steps WHERE step = 'upload'")).toEqual([
      { status: 'failed' },
    ]);

    const plan = await backend.installs.plan(file);
    expect(plan.hosts[0]!.steps.find((s) => s.step === 'upload')).toMatchObject({
      state: 'todo',
      detail: expect.stringContaining('resumes at'),
    });

    const events: InstallEvent[] = [];
    const second = await backend.installs.apply(file, { onEvent: (e) => events.push(e) });
    expect(second.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    const upload = second.hosts[0]!.upload!;
    // The host may still have written what was in flight after the cut: never less than was seen.
    expect(upload.resumedFrom).toBeGreaterThanOrEqual(kept);
    expect(upload.resumedFrom + upload.bytesSent).toBe(total);
    expect(upload.bytesSent).toBeLessThan(total);
    const uploadEvents = events.filter((e): e is Extract<InstallEvent, { kind: 'upload' }> => e.kind === 'upload');
    expect(Math.min(...uploadEvents.map((e) => e.bytesOnHost))).toBeGreaterThan(upload.resumedFrom);

    // Complete now: a third apply uploads nothing at all.
    const third = await backend.installs.apply(file);
    expect(third.unchanged).toBe(true);
    expect(third.hosts[0]!.upload).toBeNull();
  }, 300_000);

  it('resumes after the host drops the connection (sshd and its sessions killed) in the middle', async () => {
    const { lab } = labRef;
    const host = hosts.get('drop-host')!;
    const file = installFileFor('drop-host');
    const total = bundle.sizeBytes;
    // A link slow enough (about 5 s for the bundle) for the host to go down in the middle.
    await slowHostLink(lab, host, '160mbit');
    let stopping: Promise<void> | null = null;
    const first = await backend.installs.apply(file, {
      onEvent: (event) => {
        if (event.kind === 'upload' && event.bytesOnHost >= total / 4) stopping ??= lab.stopHost(host);
      },
    });
    await stopping;
    expect(first.hosts[0]).toMatchObject({
      outcome: 'failed',
      error: { code: 'INSTALL_UPLOAD_FAILED', message: expect.stringContaining('lost') },
    });
    const staging = path.join(tmp.path, 'drop-host', 'opt', 'staging');
    const kept = fs.statSync(
      path.join(
        staging,
        fs.readdirSync(staging).find((f) => f.endsWith('.partial'))!,
      ),
    ).size;
    expect(kept).toBeGreaterThan(0);

    await lab.startHost(host);
    await restoreHostLink(lab, host);
    const second = await backend.installs.apply(file);
    expect(second.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    const upload = second.hosts[0]!.upload!;
    // Resumed from the last whole 64 KiB block of what was kept (writes are that size).
    expect(upload.resumedFrom).toBe(kept - (kept % 65536));
    expect(upload.resumedFrom).toBeGreaterThan(0);
    expect(upload.resumedFrom + upload.bytesSent).toBe(total);
  }, 300_000);

  it("starts over when the bytes on the host are not the bundle's", async () => {
    // A partial upload whose content differs from the bundle's first bytes: never appended to.
    const name = 'resume-host';
    const staging = path.join(tmp.path, name, 'opt', 'staging');
    const stagedName = `${bundle.manifest.name}-${bundle.manifest.version}-${bundle.sha256.slice(0, 12)}.sutazai-bundle`;
    const { uploadBundle } = await import('../../../electron/backend/install/steps/upload-bundle');
    const host = hosts.get(name)!;
    fs.writeFileSync(path.join(staging, `${stagedName}.partial`), Buffer.alloc(1024 * 1024, 0x41));
    const session = await openLabSession(host);
    try {
      const result = await uploadBundle({
        session,
        localFile: bundle.file,
        sha256: bundle.sha256,
        size: bundle.sizeBytes,
        stagedPath: path.join(staging, `check-${stagedName}`),
        partialPath: path.join(staging, `${stagedName}.partial`),
      });
      expect(result).toEqual({ resumedFrom: 0, bytesSent: bundle.sizeBytes, transport: 'sftp' });
      expect(fs.readFileSync(path.join(staging, `check-${stagedName}.sha256`), 'utf8').trim()).toBe(bundle.sha256);
    } finally {
      session.close();
      for (const f of fs.readdirSync(staging).filter((f) => f.startsWith('check-'))) fs.rmSync(path.join(staging, f));
    }
  }, 120_000);
});

describe('an upload whose bytes on the host are not what was expected', () => {
  it("is refused by the host's checksum, and the copy is removed rather than kept for a resume", async () => {
    const name = 'resume-host';
    const staging = path.join(tmp.path, name, 'opt', 'staging');
    const { uploadBundle } = await import('../../../electron/backend/install/steps/upload-bundle');
    const host = hosts.get(name)!;
    const session = await openLabSession(host);
    const wrong = '0'.repeat(64);
    // The host's files live under this machine's temp dir (the hosts share its file system).
    fs.mkdirSync(staging, { recursive: true });
    try {
      const upload = uploadBundle({
        session,
        localFile: bundle.file,
        sha256: wrong,
        size: bundle.sizeBytes,
        stagedPath: path.join(staging, 'mismatch.sutazai-bundle'),
        partialPath: path.join(staging, 'mismatch.sutazai-bundle.partial'),
      });
      const error = await upload.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'INSTALL_UPLOAD_FAILED',
        message: expect.stringContaining(`differs from the bundle's (${wrong})`),
      });
      expect(fs.readdirSync(staging).filter((f) => f.startsWith('mismatch'))).toEqual([]);
    } finally {
      session.close();
    }
  }, 120_000);
});

describe('a host without enough space', () => {
  it('is refused before anything is written to it', async () => {
    const file = installFileFor('full-host', path.join(tinyDisk, 'opt'));
    const plan = await backend.installs.plan(file);
    expect(plan.hosts[0]!.error).toMatchObject({ code: 'INSTALL_NO_SPACE' });
    expect(plan.hosts[0]!.steps.find((s) => s.step === 'check-space')).toMatchObject({
      state: 'blocked',
      detail: expect.stringContaining(tinyDisk),
    });

    const result = await backend.installs.apply(file);
    const host = result.hosts[0]!;
    expect(host).toMatchObject({ outcome: 'failed', error: { code: 'INSTALL_NO_SPACE' } });
    expect(host.error!.remedy).toMatch(/Free space/);
    expect(host.steps.map((s) => s.status)).toEqual(['done', 'failed', ...Array(8).fill('skipped')]);
    expect(fs.readdirSync(tinyDisk)).toEqual([]);
    expect(fs.existsSync(path.join(tmp.path, 'full-host'))).toBe(false);
    expect(
      queryStore<{ created: string }>(
        dataDir,
        "SELECT created_paths AS created FROM install_hosts ih JOIN hosts h ON h.id = ih.host_id WHERE h.name = 'full-host'",
      ),
    ).toEqual([{ created: '[]' }]);
  }, 120_000);
});
