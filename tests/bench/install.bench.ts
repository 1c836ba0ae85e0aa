/**
 * Install benchmark: our apply (the real install engine, over real sshd test hosts of
 * tests/support/test-hosts) against `scp` to the same host and user, in the same run:
 *   1. upload of a ~100 MB bundle (the real Node binary of this machine plus the real runtime,
 *      no padding needed) against `scp` of the same file, both timed from the same start:
 *      scp from its spawn (handshake and login included), ours from the start of the host's
 *      `connect` step (login, the free-space check, the upload); target >= 0.9 of scp. The
 *      upload step alone (after the login) is printed too, as a second line;
 *   2. re-apply of an unchanged install: target <= 2 s per host;
 *   3. a fresh install to 1 host and to 10 hosts with the same bundle: target 10 hosts in
 *      <= 2 x the one-host time.
 * Prints figures and a Targets table; exits 0 whatever they are (a benchmark, not a test).
 * Needs root (network namespaces). Everything it makes (lab, runtimes, temp dirs) is removed
 * at the end, on failure and on SIGINT/SIGTERM too.
 *
 *   npm run bench:install        (scripts/bench-install.sh)
 *   BENCH_FLEET=10 BENCH_RUNS=3 npm run bench:install   (defaults; RUNS + FLEET hosts)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import type { ApplyResult, InstallEvent } from '../../electron/backend/install/engine/install-steps';
import { makeBundleKit, type BundleKit } from '../support/bundle-kit';
import { addLabHost, buildRealNodeBundle, startInstallBackend, stopInstalledRuntime, type LabBackend } from '../support/install-lab';
import { provideDirname } from '../support/tsx-dirname';
import { hostTree, processesUnder, type HostTree } from '../support/release-lab';
import { makeTempDir } from '../support/temp-dir';
import { createTestLab, type TestHost, type TestLab } from '../support/test-hosts/test-hosts';
import { loadLine } from './bench-load';

const FLEET = Number(process.env['BENCH_FLEET'] ?? 10);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const HEALTH_TIMEOUT_S = 240;
const TARGET = { uploadRatio: 0.9, reapplyPerHostS: 2, fleetOverOne: 2 };
const MB = 1024 * 1024;

interface HostSlot {
  host: TestHost;
  name: string;
  tree: HostTree;
}

interface TimedApply {
  ms: number;
  result: ApplyResult;
  events: Array<{ at: number; event: InstallEvent }>;
}

let cleanupStarted = false;
const state: { lab?: TestLab; kit?: BundleKit; backend?: LabBackend; tmp?: { path: string; remove(): void }; slots: HostSlot[] } = {
  slots: [],
};

function yes(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}

function versionOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0]?.trim() || '?';
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)));
  for (const [i, row] of rows.entries()) {
    console.log('  ' + row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  '));
    if (i === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `scp` of `file` to `dest` on the host, as the same user with the same key, pinned host key; returns ms. */
async function scpOnce(host: TestHost, knownHosts: string, file: string, dest: string): Promise<number> {
  const args = [
    '-q',
    '-i',
    host.privateKeyPath,
    '-P',
    String(host.port),
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    file,
    `${host.user}@${host.address}:${dest}`,
  ];
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/usr/bin/scp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`scp exited ${code}: ${err.trim()}`));
    });
  });
  return performance.now() - started;
}

function writeInstallFile(dir: string, name: string, bundle: BuiltBundle, slots: HostSlot[]): string {
  const file = path.join(dir, `${name}.yaml`);
  const lines = [
    `name: ${name}`,
    `bundle: ${bundle.manifest.name}@${bundle.manifest.version}`,
    'environment: development',
    'config:',
    '  - values:',
    `      install: { health_timeout_seconds: ${HEALTH_TIMEOUT_S} }`,
    '      agents: { replicas_per_host: 1 }',
    'hosts:',
  ];
  for (const slot of slots) {
    lines.push(`  - name: ${slot.name}`, '    role: both', `    config: { values: { install: ${JSON.stringify(slot.tree.values)} } }`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function timedApply(backend: LabBackend, file: string, concurrency: number): Promise<TimedApply> {
  const events: TimedApply['events'] = [];
  const started = performance.now();
  const result = await backend.installs.apply(file, { concurrency, onEvent: (event) => events.push({ at: performance.now(), event }) });
  return { ms: performance.now() - started, result, events };
}

function failures(run: TimedApply, expected: 'installed' | 'unchanged'): string[] {
  return run.result.hosts
    .filter((h) => h.outcome !== expected)
    .map((h) => `${h.host}: ${h.outcome}${h.error ? ` (${h.error.message.split('\n')[0]})` : ''}`);
}

/**
 * The upload of `host`, three ways: from the start of its `connect` step (the SSH login, as
 * scp's time includes its own) to the upload's 'done' event; the upload step alone (SFTP
 * with the host hashing as bytes arrive, the rename); the transfer alone (to the last
 * progress event).
 */
function uploadTimes(
  run: TimedApply,
  host: string,
): { fromConnectMs: number; stepMs: number; transferMs: number; bytesSent: number } | null {
  const stepEvent = (step: string, status: string) =>
    run.events.find(({ event }) => event.kind === 'step' && event.host === host && event.step === step && event.status === status);
  const connecting = stepEvent('connect', 'running');
  const running = stepEvent('upload', 'running');
  const done = stepEvent('upload', 'done');
  const progress = run.events.filter(({ event }) => event.kind === 'upload' && event.host === host);
  if (!connecting || !running || !done || progress.length === 0) return null;
  const last = progress[progress.length - 1]!;
  const bytesSent = last.event.kind === 'upload' ? last.event.bytesSent : 0;
  return { fromConnectMs: done.at - connecting.at, stepMs: done.at - running.at, transferMs: last.at - running.at, bytesSent };
}

async function cleanup(): Promise<void> {
  if (cleanupStarted) return;
  cleanupStarted = true;
  const { lab, kit, backend, tmp, slots } = state;
  if (lab) await Promise.all(slots.map((s) => stopInstalledRuntime(lab, s.host, s.tree.root).catch(() => undefined)));
  if (tmp) for (const p of processesUnder([tmp.path])) killQuietly(p.pid);
  await backend?.close().catch(() => undefined);
  kit?.remove();
  tmp?.remove();
  await lab?.destroy();
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** A signal: what cannot wait for async work is done now; the lab's own exit hook kills its namespaces' processes. */
function onSignal(signal: NodeJS.Signals): void {
  console.error(`\n${signal}: removing what the benchmark made`);
  if (state.tmp) for (const p of processesUnder([state.tmp.path])) killQuietly(p.pid);
  try {
    state.kit?.remove();
    state.tmp?.remove();
  } finally {
    process.exit(130);
  }
}

async function main(): Promise<void> {
  provideDirname();
  if (!Number.isInteger(FLEET) || FLEET < 2 || !Number.isInteger(RUNS) || RUNS < 1)
    throw new Error('BENCH_FLEET must be an integer >= 2, BENCH_RUNS a positive integer');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  console.log(`install benchmark: our apply vs scp (upload), re-apply of an unchanged install, 1 vs ${FLEET} hosts`);
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${versionOf('/usr/bin/ssh', ['-V'])} (scp's client; the hosts run this sshd)`,
  );
  console.log(loadLine('start', os.cpus().length));
  try {
    state.tmp = makeTempDir('sutazai-bench-install-');
    const tmp = state.tmp.path;
    const lab = await createTestLab();
    state.lab = lab;
    const kit = await makeBundleKit();
    state.kit = kit;
    const hosts = await lab.addSshHosts(RUNS + FLEET, 'root-key');
    state.slots = hosts.map((host, i) => ({ host, name: `bench-${i}`, tree: hostTree(path.join(tmp, `bench-${i}`)) }));
    console.log(
      `lab ${lab.runId}: ${hosts.length} OpenSSH root-key hosts in ${lab.subnet}, built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    const bundle = await buildRealNodeBundle(kit, 'bench-install');
    console.log(
      `bundle: ${path.basename(bundle.file)}, ${(bundle.sizeBytes / MB).toFixed(1)} MiB (the real Node binary ${process.execPath} and the real runtime; no padding), the same bundle for every part`,
    );
    const backend = await startInstallBackend(path.join(tmp, 'data'));
    state.backend = backend;
    await backend.bundles.import(bundle.file, { trustKey: kit.key.fingerprint });
    await Promise.all(state.slots.map((s) => addLabHost(backend, s.host, s.name)));

    const singles = state.slots.slice(0, RUNS);
    const fleet = state.slots.slice(RUNS);
    const knownHosts = path.join(tmp, 'known_hosts');
    fs.writeFileSync(knownHosts, singles.map((s) => `${s.host.address} ${s.host.hostPublicKey}\n`).join(''));
    const scpDir = path.join(tmp, 'scp-target');
    fs.mkdirSync(scpDir);

    // 1 and 2: per run, scp to a fresh host and our apply (a 1-host install) to the same
    // host and user, alternating which goes first; then the same install re-applied, unchanged.
    console.log(
      `\n1. upload and 1-host install, ${RUNS} runs, each on a fresh host: scp and our apply to the same host and user (alternating who goes first), then a re-apply of the unchanged install`,
    );
    const scpMs: number[] = [];
    const singleApplies: TimedApply[] = [];
    const reapplies: TimedApply[] = [];
    const uploads: Array<NonNullable<ReturnType<typeof uploadTimes>>> = [];
    for (const [i, single] of singles.entries()) {
      const file = writeInstallFile(tmp, `bench-one-${i}`, bundle, [single]);
      const runScp = async () => {
        const dest = path.join(scpDir, `run-${i}.sutazai-bundle`);
        scpMs.push(await scpOnce(single.host, knownHosts, bundle.file, dest));
        const copied = fs.statSync(dest).size;
        fs.rmSync(dest);
        if (copied !== bundle.sizeBytes) throw new Error(`scp copied ${copied} of ${bundle.sizeBytes} bytes`);
      };
      const runOurs = async () => singleApplies.push(await timedApply(backend, file, 1));
      if (i % 2 === 0) {
        await runScp();
        await runOurs();
      } else {
        await runOurs();
        await runScp();
      }
      const ours = singleApplies[i]!;
      const upload = uploadTimes(ours, single.name);
      if (upload) uploads.push(upload);
      reapplies.push(await timedApply(backend, file, 1));
      console.log(
        `   run ${i + 1} (${single.host.name}): scp ${scpMs[i]!.toFixed(0)} ms; ours from connect to uploaded ${upload ? upload.fromConnectMs.toFixed(0) : 'n/a'} ms ` +
          `(upload step ${upload ? upload.stepMs.toFixed(0) : 'n/a'} ms), whole install ${ours.ms.toFixed(0)} ms` +
          `${failures(ours, 'installed')
            .map((f) => `; FAILED ${f}`)
            .join('')}; re-apply ${reapplies[i]!.ms.toFixed(0)} ms${failures(reapplies[i]!, 'unchanged')
            .map((f) => `; NOT unchanged: ${f}`)
            .join('')}`,
      );
    }

    // 3. the same bundle to FLEET other fresh hosts at once.
    const fleetFile = writeInstallFile(tmp, 'bench-fleet', bundle, fleet);
    console.log(`\n2. fresh install of the same bundle to ${FLEET} other fresh hosts at once (concurrency ${FLEET}), then its re-apply`);
    const fleetApply = await timedApply(backend, fleetFile, FLEET);
    console.log(
      `   ${FLEET} hosts: ${fleetApply.ms.toFixed(0)} ms${failures(fleetApply, 'installed')
        .map((f) => `; FAILED ${f}`)
        .join('')}`,
    );
    const reFleet = await timedApply(backend, fleetFile, FLEET);
    console.log(
      `   re-apply, ${FLEET} hosts: ${reFleet.ms.toFixed(0)} ms${failures(reFleet, 'unchanged')
        .map((f) => `; NOT unchanged: ${f}`)
        .join('')}`,
    );

    // Figures.
    const list = (values: number[]) => values.map((m) => m.toFixed(0)).join(', ');
    const scpMedian = median(scpMs);
    const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
    console.log(`\nupload of the same bundle to the same host and user (medians of ${RUNS} runs)`);
    const uploadRows: string[][] = [['', 'time (ms)', 'MiB/s', 'throughput vs scp', 'runs (ms)']];
    uploadRows.push([
      'scp (from its spawn: handshake, login, transfer)',
      scpMedian.toFixed(0),
      mbps(bundle.sizeBytes, scpMedian).toFixed(1),
      '1.000',
      list(scpMs),
    ]);
    const fromConnectMedian = uploads.length > 0 ? median(uploads.map((u) => u.fromConnectMs)) : NaN;
    const stepMedian = uploads.length > 0 ? median(uploads.map((u) => u.stepMs)) : NaN;
    const transferMedian = uploads.length > 0 ? median(uploads.map((u) => u.transferMs)) : NaN;
    if (uploads.length > 0) {
      uploadRows.push([
        'ours: connect step start to uploaded (login, free-space check, upload)',
        fromConnectMedian.toFixed(0),
        mbps(bundle.sizeBytes, fromConnectMedian).toFixed(1),
        (scpMedian / fromConnectMedian).toFixed(3),
        list(uploads.map((u) => u.fromConnectMs)),
      ]);
      uploadRows.push([
        'ours: upload step only, after the login (SFTP, hashed on the host as it arrives, renamed)',
        stepMedian.toFixed(0),
        mbps(bundle.sizeBytes, stepMedian).toFixed(1),
        (scpMedian / stepMedian).toFixed(3),
        list(uploads.map((u) => u.stepMs)),
      ]);
      uploadRows.push([
        'ours: SFTP transfer only (step start to last progress event)',
        transferMedian.toFixed(0),
        mbps(bundle.sizeBytes, transferMedian).toFixed(1),
        (scpMedian / transferMedian).toFixed(3),
        list(uploads.map((u) => u.transferMs)),
      ]);
    } else uploadRows.push(['ours: upload step', 'n/a', 'n/a', 'no upload events', '']);
    table(uploadRows);
    if (uploads.length > 0)
      console.log(`  (bytes sent by our uploads: ${uploads.map((u) => u.bytesSent).join(', ')} of ${bundle.sizeBytes} each)`);

    const oneMedian = median(singleApplies.map((a) => a.ms));
    const reOneMedian = median(reapplies.map((a) => a.ms));
    console.log('\ninstalls and re-applies');
    const fleetUploads = fleet.map((s) => uploadTimes(fleetApply, s.name)).filter((u) => u !== null);
    table([
      ['', 'hosts', 'wall (ms)', 'per host (ms)', 'vs 1 host', 'runs (ms)'],
      [`fresh install (median of ${RUNS})`, '1', oneMedian.toFixed(0), oneMedian.toFixed(0), '1.00', list(singleApplies.map((a) => a.ms))],
      [
        'fresh install',
        String(FLEET),
        fleetApply.ms.toFixed(0),
        (fleetApply.ms / FLEET).toFixed(0),
        (fleetApply.ms / oneMedian).toFixed(2),
        '',
      ],
      [
        `re-apply unchanged (median of ${RUNS})`,
        '1',
        reOneMedian.toFixed(0),
        reOneMedian.toFixed(0),
        '1.00',
        list(reapplies.map((a) => a.ms)),
      ],
      [
        're-apply unchanged',
        String(FLEET),
        reFleet.ms.toFixed(0),
        (reFleet.ms / FLEET).toFixed(0),
        (reFleet.ms / reOneMedian).toFixed(2),
        '',
      ],
    ]);
    if (fleetUploads.length > 0)
      console.log(
        `  (${FLEET}-host install: upload steps ${Math.min(...fleetUploads.map((u) => u.stepMs)).toFixed(0)}..${Math.max(...fleetUploads.map((u) => u.stepMs)).toFixed(0)} ms; ${FLEET} x ${(bundle.sizeBytes / MB).toFixed(0)} MiB through one machine's ${os.cpus().length} cores, hosts included)`,
      );

    const allFailures = [
      ...singleApplies.flatMap((a) => failures(a, 'installed')),
      ...reapplies.flatMap((a) => failures(a, 'unchanged')),
      ...failures(fleetApply, 'installed'),
      ...failures(reFleet, 'unchanged'),
    ];
    console.log('\nTargets');
    const ratio = uploads.length > 0 ? scpMedian / fromConnectMedian : 0;
    const rePerHost = Math.max(...reapplies.map((a) => a.ms), reFleet.ms / FLEET);
    table([
      ['target', 'figure', 'verdict'],
      [
        `upload throughput ours/scp >= ${TARGET.uploadRatio} (medians, both from the same start)`,
        uploads.length > 0 ? ratio.toFixed(3) : 'n/a',
        yes(uploads.length > 0 && ratio >= TARGET.uploadRatio),
      ],
      [
        `re-apply unchanged <= ${TARGET.reapplyPerHostS} s per host (worst 1-host run; ${FLEET} hosts / ${FLEET})`,
        `${(rePerHost / 1000).toFixed(2)} s`,
        yes(rePerHost <= TARGET.reapplyPerHostS * 1000),
      ],
      [
        `${FLEET} hosts <= ${TARGET.fleetOverOne} x one-host time (median)`,
        `${(fleetApply.ms / oneMedian).toFixed(2)} x`,
        yes(fleetApply.ms <= TARGET.fleetOverOne * oneMedian),
      ],
      ['every host installed / unchanged as expected', `${allFailures.length} failures`, yes(allFailures.length === 0)],
    ]);
    for (const f of allFailures.slice(0, 10)) console.log(`  FAILED ${f}`);
    console.log(
      `  with every test host on this machine, ${FLEET} hosts share its ${os.cpus().length} cores and disk with the control center: the fleet target is met only where they allow it`,
    );
  } finally {
    await cleanup();
    console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s (runtimes stopped, lab destroyed, temp dirs removed)`);
    console.log(loadLine('end', os.cpus().length));
  }
}

main().catch((error: unknown) => {
  console.error(`install benchmark could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
