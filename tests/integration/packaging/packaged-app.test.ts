// The packaged app without Electron: the files electron-builder.yml makes electron-builder
// take (its own matching, tests/support/packaged-app.ts) from a production build, the
// runtime and a default release bundle, laid out as in a package; then the backend run from
// there in plain Node (web mode, with the resources path the shell passes when packaged, from
// a working directory with no checkout above it) through a real install onto a test host and
// a runtime call through the fleet connection. Every runtime call needs the shipped .proto
// files, every probe the shipped probe script, every install the shipped config/.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient, type InstallProgress } from '../../../electron/contract';
import { PACKAGED_PATHS, RESOURCES_PATH_VARIABLE } from '../../../electron/backend/app/packaged-resources';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
// @ts-expect-error: a plain .mjs script without type declarations
import { buildAll as buildAllUntyped } from '../../../scripts/build.mjs';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { addLabHostOverApi, buildRealNodeBundle, stopInstalledRuntime } from '../../support/install-lab';
import { labInstallDefinition } from '../../support/lab-install-definition';
import { assemblePackagedApp, stageProject, type PackagedApp } from '../../support/packaged-app';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';
import { stopWebModeServer, waitForUrl, type WebModeServer } from '../../support/web-mode-server';
import { openSocket, wsTransport } from '../../support/ws-peer';
import { importBundleOverWeb } from '../../support/web-uploads';

const buildAll = buildAllUntyped as (options: { production: boolean; quiet: boolean; outDir: string }) => Promise<void>;
const checkout = path.resolve(__dirname, '../../..');
const labRef = useTestLab();
const tmp = makeTempDir('sutazai-packaged-app-');
const HOST = 'packaged-host';
const PASSPHRASE = 'packaged app vault passphrase';
const waitFor = makeWaitFor({ timeoutMs: 360_000, pollMs: 200 });
let kit: BundleKit;
let bundle: BuiltBundle;
let packaged: PackagedApp;
let host: TestHost;
let server: WebModeServer;
let api: ApiClient;
/** The address web mode printed (its token with it). */
let webUrl = '';
const base = path.join(tmp.path, HOST);
/** What `npm run bundle` leaves in dist/bundles: it must stay out of the package. */
const DECOY_BUNDLES = ['sutazai-0.0.9.sutazai-bundle', 'sutazai-0.0.9.tar.gz'];

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .flatMap((entry) => (entry.isFile() ? [path.relative(dir, path.join(entry.parentPath, entry.name))] : []));
}

/** The packaged backend: web mode from the app folder, the resources path in its environment, started from an unrelated folder. */
function startPackagedBackend(app: PackagedApp, dataDir: string, cwd: string): WebModeServer {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SUTAZAI_')));
  const child = spawn(process.execPath, [path.join(app.appDir, 'dist/backend/web.cjs'), '--port', '0', '--data-dir', dataDir], {
    cwd,
    env: { ...env, NO_COLOR: '1', [RESOURCES_PATH_VARIABLE]: app.resourcesPath, SUTAZAI_PASSPHRASE: PASSPHRASE },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const stage = stageProject(checkout, path.join(tmp.path, 'project'));
    [kit, host] = await Promise.all([makeBundleKit(), labRef.lab.addSshHost({ login: 'root-key' })]);
    defer(kit.remove);
    // What scripts/package.mjs builds before electron-builder: the runtime (npm run build:runtime),
    // the default release bundle from it, and the app as a production build.
    fs.cpSync(kit.runtimeDir, path.join(stage, 'dist/runtime'), { recursive: true });
    bundle = await buildRealNodeBundle(kit, 'packaged-default');
    fs.mkdirSync(path.join(stage, 'dist/default-bundle'));
    fs.renameSync(bundle.file, path.join(stage, 'dist/default-bundle', path.basename(bundle.file)));
    await buildAll({ production: true, quiet: true, outDir: path.join(stage, 'dist') });
    fs.mkdirSync(path.join(stage, 'dist/bundles'));
    for (const name of DECOY_BUNDLES) fs.writeFileSync(path.join(stage, 'dist/bundles', name), Buffer.alloc(1024 * 1024));

    packaged = await assemblePackagedApp(stage, path.join(tmp.path, 'package'));
    fs.mkdirSync(path.join(tmp.path, 'elsewhere'));
    server = startPackagedBackend(packaged, path.join(tmp.path, 'data'), path.join(tmp.path, 'elsewhere'));
    defer(() => stopWebModeServer(server));
    defer(() => stopInstalledRuntime(labRef.lab, host, path.join(base, 'opt')));
    webUrl = await waitForUrl(server);
    const url = new URL(webUrl);
    api = createApiClient(wsTransport(await openSocket(`ws://127.0.0.1:${url.port}/api`, url.searchParams.get('token'))));
    defer(() => api.close());
  },
  { setUpMs: 480_000, undoMs: 120_000 },
);

describe('the packaged layout', () => {
  it('holds the built app without source maps, release bundles or the runtime in app.asar', () => {
    expect(packaged.appFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/main/main.cjs',
        'dist/preload/preload.cjs',
        'dist/backend/utility-process.cjs',
        'dist/backend/web.cjs',
        'dist/backend/yaml-worker.cjs',
        'dist/backend/key-decrypt-worker.cjs',
        'dist/renderer/index.html',
        'dist/renderer/app.js',
      ]),
    );
    const main = (JSON.parse(fs.readFileSync(path.join(packaged.appDir, 'package.json'), 'utf8')) as { main: string }).main;
    expect(packaged.appFiles).toContain(main);
    for (const file of packaged.appFiles) {
      expect(file).toMatch(/^(package\.json|dist\/(main|preload|backend|renderer)\/.+)$/);
      expect(file).not.toMatch(/\.map$|\.tar|\.sutazai-bundle$/);
    }
    const appBytes = packaged.appFiles.reduce((sum, file) => sum + fs.statSync(path.join(packaged.appDir, file)).size, 0);
    // The app is a few MB of JavaScript; one release bundle alone is ~100 MB.
    expect(appBytes).toBeLessThan(30 * 1024 * 1024);
  });

  it('carries the probe script, config/, the runtime with its .proto files and the default bundle beside it, and nothing else of dist/', () => {
    for (const part of Object.values(PACKAGED_PATHS)) expect(fs.existsSync(path.join(packaged.resourcesPath, part))).toBe(true);
    expect(packaged.resourceFiles).toEqual(
      expect.arrayContaining([
        'resources/probe/probe.sh',
        'resources/icons/icon.png',
        'resources/runtime/sutazai-runtime.cjs',
        `resources/bundles/${path.basename(bundle.file)}`,
        'config/defaults.yaml',
        'config/profiles/core.yaml',
      ]),
    );
    const protos = filesUnder(path.join(checkout, 'agents-runtime/proto')).sort();
    expect(protos.length).toBeGreaterThan(0);
    expect(filesUnder(path.join(packaged.resourcesPath, PACKAGED_PATHS.protoDir)).sort()).toEqual(protos);
    // The reference programs ship inside the release bundle only; the decoys nowhere.
    expect(filesUnder(path.join(packaged.resourcesPath, 'resources/runtime')).filter((f) => !f.startsWith('proto'))).toEqual([
      'sutazai-runtime.cjs',
    ]);
    expect(filesUnder(path.join(packaged.resourcesPath, PACKAGED_PATHS.bundlesDir))).toEqual([path.basename(bundle.file)]);
    for (const file of [...packaged.appFiles, ...packaged.resourceFiles]) {
      expect(DECOY_BUNDLES).not.toContain(path.basename(file));
      expect(file).not.toMatch(/\.map$/);
    }
  });

  it('unpacks the native SQLite module from app.asar and nothing of the app itself', () => {
    const native = filesUnder(path.join(checkout, 'node_modules/better-sqlite3/build/Release')).filter((f) => f.endsWith('.node'));
    expect(native.length).toBeGreaterThan(0);
    for (const file of native) expect(packaged.isUnpacked(path.join('node_modules/better-sqlite3/build/Release', file))).toBe(true);
    expect(packaged.isUnpacked('node_modules/better-sqlite3/package.json')).toBe(true);
    expect(packaged.isUnpacked('package.json')).toBe(false);
  });
});

describe('the packaged backend in plain Node', () => {
  let hostId = 0;

  it('imports the default release bundle the package ships', async () => {
    const shipped = path.join(packaged.resourcesPath, PACKAGED_PATHS.bundlesDir, path.basename(bundle.file));
    // Web mode names no path on the backend's machine: the shipped file is uploaded, as the Bundles page does.
    const imported = await importBundleOverWeb(api, webUrl, shipped, kit.key.fingerprint);
    expect(imported.bundle).toMatchObject({ name: bundle.manifest.name, version: bundle.manifest.version, sha256: bundle.sha256 });
  }, 120_000);

  it('probes a host with the shipped probe script and judges it with the shipped profiles', async () => {
    hostId = await addLabHostOverApi(api, host, HOST);
    const detail = await api.call('hosts.get', { hostId });
    expect(detail.facts).not.toBeNull();
    const preflight = await api.call('installs.preflight', { hosts: [{ hostId, role: 'both', gpu: false }] });
    expect(preflight.hosts[0]!.results.map((r) => r.profile)).toEqual(['core', 'agent']);
  }, 120_000);

  it('installs the bundle, health-checked through the shipped .proto files, and the runtime answers installs.health', async () => {
    const events: InstallProgress[] = [];
    const unsubscribe = await api.subscribe('installs.progress', {}, (event) => events.push(event));
    const { jobId } = await api.call('installs.start', {
      install: labInstallDefinition({ name: 'packaged', bundle, hostName: HOST, base }),
    });
    await waitFor('the install job to finish', () => events.some((e) => e.jobId === jobId && e.kind === 'finished'));
    await unsubscribe();
    const mine = events.filter((e) => e.jobId === jobId);
    expect(mine.at(-1), server.output()).toMatchObject({ kind: 'finished', state: 'succeeded', error: null });
    const done = mine.filter((e) => e.kind === 'step' && e.status === 'done').map((e) => (e.kind === 'step' ? e.step : null));
    expect(done).toEqual(['connect', 'check-space', 'upload', 'unpack', 'configure', 'service', 'start', 'health', 'switch', 'record']);

    const health = await api.call('installs.health', { name: 'packaged' });
    expect(health.healthy).toBe(true);
    expect(health.hosts[0]).toMatchObject({ host: HOST, reachable: true, healthy: true, error: null });
    expect(health.hosts[0]!.processes.map((p) => [p.name, p.instances.map((i) => i.state)])).toEqual([
      ['core', ['running']],
      ['agent', ['running']],
    ]);
  }, 420_000);
});
