/**
 * Probe benchmark: our hardware probe (one SSH login, one exec channel, resources/probe/probe.sh)
 * against Ansible's fact gathering (`ansible all -m setup`) over the same real sshd test hosts
 * (tests/support/test-hosts), side by side in the same run, for 1, 10 and 50 hosts.
 * Ours is timed two ways: as `sutazai hosts probe` processes, a fresh process per run like
 * Ansible's (the figure compared with Ansible and judged against the targets), and, as a
 * second line, inside this already-warm Node process (connectSsh + probeOverSsh: the cost
 * of the probe itself, without Node's start or the database).
 * Prints wall times, ours/Ansible, exec channels per probe and the issue's targets;
 * exits 0 whatever they are (a benchmark, not a test). Needs root (network namespaces).
 *
 *   npm run bench:probe      (scripts/bench-probe.sh installs Ansible and the harness's packages)
 *   BENCH_RUNS=5 BENCH_SIZES=1,10,50 BENCH_CONCURRENCY=50 npm run bench:probe
 */
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createTestLab, type TestHost, type TestLab } from '../support/test-hosts/test-hosts';
import { loadLine } from './bench-load';
import { prepareAnsible, type AnsiblePeer, type AnsibleRun } from './probe-bench-ansible';
import { prepareCli, type CliProbe, type CliRun } from './probe-bench-cli';
import { probeHosts, targetFor, type OursRun } from './probe-bench-ours';

const SIZES = (process.env['BENCH_SIZES'] ?? '1,10,50').split(',').map(Number);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
/** Hosts probed at once by us, and Ansible's forks: every host of the largest set at once. */
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? Math.max(...SIZES));
const PROBE_TIMEOUT_MS = 60_000;
const WARM_UP_HOSTS = 10;
const VERDICT_WIDTH = 42;
/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_S = 100;
const TARGET = { oneHostRatio: 0.2, fiftyOverOne: 3, channels: 1 };

interface CpuUse {
  /** Busy time of the whole machine during the run (every core, every process). */
  cpuMs: number;
  /** This Node process's share: for ours, the control center's side of the SSH sessions. */
  selfCpuMs: number;
}

interface SizeResult {
  n: number;
  /** `sutazai hosts probe` processes: the figure compared with Ansible's. */
  cli: Array<CliRun & CpuUse>;
  /** The probe inside this warm process. */
  ours: Array<OursRun & CpuUse>;
  ansible: Array<AnsibleRun & CpuUse>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function yes(ok: boolean): string {
  return ok ? 'yes' : 'NO';
}

function versionOf(command: string, args: string[]): string {
  // `ssh -V` prints to stderr.
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0]?.trim() || '?';
}

/** CPU time the whole machine spent busy (all cores, every process: test hosts included), in ms. */
function machineBusyMs(): number {
  const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLOCK_TICKS_PER_S;
}

async function withCpu<T>(run: () => Promise<T>): Promise<T & CpuUse> {
  const before = machineBusyMs();
  const self = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(self);
  return { ...result, cpuMs: machineBusyMs() - before, selfCpuMs: (used.user + used.system) / 1000 };
}

function show(label: string, run: OursRun | AnsibleRun | CliRun): string {
  return `${label} ${run.ms.toFixed(0)} ms${run.failures.length > 0 ? ` (${run.failures.length} FAILED)` : ''}`;
}

async function measure(hosts: TestHost[], ansible: AnsiblePeer, cli: CliProbe): Promise<SizeResult[]> {
  // One warm-up round for both sides before anything is timed: page cache (probe tools,
  // Python and Ansible's modules), V8's JIT, ARP entries. Nothing a host keeps between
  // logins lasts longer than that, so it is not repeated per N (Ansible at 50 hosts
  // costs about a minute a round on 2 cores).
  const warm = hosts.slice(0, Math.min(WARM_UP_HOSTS, hosts.length));
  const warmOurs = await probeHosts(
    warm.map((host, i) => targetFor(host, i + 1)),
    { concurrency: Math.min(CONCURRENCY, warm.length), timeoutMs: PROBE_TIMEOUT_MS },
  );
  const warmAnsible = await ansible.run(warm, Math.min(CONCURRENCY, warm.length));
  const warmCli = await cli.run(warm, Math.min(CONCURRENCY, warm.length), PROBE_TIMEOUT_MS / 1000);
  console.log(
    `  warm-up (${warm.length} hosts, not counted): ${show('sutazai', warmCli)}, ${show('in-process', warmOurs)}, ${show('Ansible', warmAnsible)}`,
  );

  const results: SizeResult[] = [];
  for (const n of SIZES) {
    const subset = hosts.slice(0, n);
    const targets = subset.map((host, i) => targetFor(host, i + 1));
    const concurrency = Math.min(CONCURRENCY, n);
    const result: SizeResult = { n, cli: [], ours: [], ansible: [] };
    for (let i = 0; i < RUNS; i++) {
      // Rotate who goes first, so none always follows another's leftovers.
      const sides = [
        async () => result.cli.push(await withCpu(() => cli.run(subset, concurrency, PROBE_TIMEOUT_MS / 1000))),
        async () => result.ansible.push(await withCpu(() => ansible.run(subset, concurrency))),
        async () => result.ours.push(await withCpu(() => probeHosts(targets, { concurrency, timeoutMs: PROBE_TIMEOUT_MS }))),
      ];
      for (let k = 0; k < sides.length; k++) await sides[(i + k) % sides.length]!();
      console.log(
        `  N=${n}: run ${i + 1}/${RUNS}: ${show('sutazai', result.cli[i] as CliRun)}, ${show('in-process', result.ours[i] as OursRun)}, ` +
          show('Ansible', result.ansible[i] as AnsibleRun),
      );
    }
    results.push(result);
  }
  return results;
}

function report(results: SizeResult[]): void {
  const failed = (runs: Array<{ failures: string[] }>) => runs.reduce((sum, run) => sum + run.failures.length, 0);
  const cpuS = (runs: CpuUse[]) => (median(runs.map((run) => run.cpuMs)) / 1000).toFixed(2);
  const rows: string[][] = [
    [
      'N',
      'sutazai (ms)',
      'in-process (ms)',
      'Ansible (ms)',
      'sutazai/Ansible',
      'in-process/Ansible',
      'exec channels/host (min/max)',
      'machine CPU-s (sutazai / in-process / Ansible)',
      'failed host-runs (sutazai / in-process / Ansible)',
    ],
  ];
  for (const r of results) {
    const channels = r.ours.flatMap((run) => run.channels);
    const cli = median(r.cli.map((run) => run.ms));
    const ours = median(r.ours.map((run) => run.ms));
    const peer = median(r.ansible.map((run) => run.ms));
    rows.push([
      String(r.n),
      cli.toFixed(0),
      ours.toFixed(0),
      peer.toFixed(0),
      (cli / peer).toFixed(3),
      (ours / peer).toFixed(3),
      channels.length > 0 ? `${Math.min(...channels)}/${Math.max(...channels)}` : '-',
      `${cpuS(r.cli)} / ${cpuS(r.ours)} / ${cpuS(r.ansible)}`,
      `${failed(r.cli)} / ${failed(r.ours)} / ${failed(r.ansible)}`,
    ]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] as string).length)));
  console.log('');
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, col) => cell.padStart(widths[col] as number)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log(
    `(medians of ${RUNS} runs after one warm-up round; sutazai = a fresh \`sutazai hosts probe\` process per run, like Ansible's;` +
      ' in-process = the same probe inside this already-warm Node process, no start-up, no database;',
  );
  console.log(
    ` machine CPU-s = busy time of all ${os.cpus().length} cores during the run, test hosts included, since they share this machine; all runs:)`,
  );
  for (const r of results) {
    const list = (runs: Array<{ ms: number }>) => runs.map((x) => x.ms.toFixed(0)).join(', ');
    console.log(`  N=${r.n}: sutazai ${list(r.cli)} ms; in-process ${list(r.ours)} ms; Ansible ${list(r.ansible)} ms`);
  }

  const byN = new Map(results.map((r) => [r.n, r]));
  const medianOf = (n: number, side: 'cli' | 'ours' | 'ansible') =>
    byN.has(n) ? median((byN.get(n)![side] as Array<{ ms: number }>).map((run) => run.ms)) : undefined;
  const allChannels = results.flatMap((r) => r.ours.flatMap((run) => run.channels));
  const probesAttempted = results.reduce((sum, r) => sum + r.n * r.ours.length, 0);
  const cliFailures = results.flatMap((r) => r.cli.flatMap((run) => run.failures));
  const oursFailures = results.flatMap((r) => r.ours.flatMap((run) => run.failures));
  const ansibleFailures = results.flatMap((r) => r.ansible.flatMap((run) => run.failures));

  console.log('\nverdicts (on the sutazai processes; the in-process figure beside)');
  const c1 = medianOf(1, 'cli');
  const o1 = medianOf(1, 'ours');
  const a1 = medianOf(1, 'ansible');
  if (c1 !== undefined && o1 !== undefined && a1 !== undefined) {
    console.log(
      `  ${'1 host: sutazai/Ansible <= ' + TARGET.oneHostRatio + '?'}`.padEnd(VERDICT_WIDTH) +
        `${yes(c1 / a1 <= TARGET.oneHostRatio)}  (${c1.toFixed(0)} / ${a1.toFixed(0)} ms = ${(c1 / a1).toFixed(3)}; ` +
        `in-process ${o1.toFixed(0)} / ${a1.toFixed(0)} ms = ${(o1 / a1).toFixed(3)})`,
    );
  } else {
    console.log('  1 host: sutazai/Ansible: not measured (BENCH_SIZES has no 1)');
  }
  const c50 = medianOf(50, 'cli');
  const o50 = medianOf(50, 'ours');
  if (c1 !== undefined && c50 !== undefined && o1 !== undefined && o50 !== undefined) {
    console.log(
      `  ${'50 hosts: sutazai(50)/sutazai(1) <= ' + TARGET.fiftyOverOne + '?'}`.padEnd(VERDICT_WIDTH) +
        `${yes(c50 / c1 <= TARGET.fiftyOverOne)}  (${c50.toFixed(0)} / ${c1.toFixed(0)} ms = ${(c50 / c1).toFixed(2)}; ` +
        `in-process ${o50.toFixed(0)} / ${o1.toFixed(0)} ms = ${(o50 / o1).toFixed(2)})`,
    );
    const p50 = medianOf(50, 'ansible');
    if (p50 !== undefined && a1 !== undefined) console.log(`      for comparison, Ansible(50)/Ansible(1) = ${(p50 / a1).toFixed(2)}`);
    // The lab's hosts run on this machine: their sshd and probe shells share its cores with us.
    const fifty = byN.get(50)!.ours;
    const cpu50 = median(fifty.map((run) => run.cpuMs));
    const self50 = median(fifty.map((run) => run.selfCpuMs));
    const cores = os.cpus().length;
    console.log(
      `      CPU floor: 50 in-process probes kept this machine busy ${(cpu50 / 1000).toFixed(2)} CPU-s (this Node process ${(self50 / 1000).toFixed(2)} s;` +
        ` the rest is the hosts' sshd and probe shells, and anything else running here), i.e. >= ${(cpu50 / cores).toFixed(0)} ms on ${cores} cores = ${(cpu50 / cores / o1).toFixed(1)} x in-process(1)`,
    );
    console.log('      with every test host on the same machine, the 50-host target can only be met where those cores allow it');
  } else {
    console.log('  50 hosts: sutazai(50)/sutazai(1): not measured (BENCH_SIZES needs 1 and 50)');
  }
  const oneEach = allChannels.length === probesAttempted && allChannels.every((c) => c === TARGET.channels);
  console.log(
    '  exactly one exec channel per probe?'.padEnd(VERDICT_WIDTH) +
      `${yes(oneEach)}  (in-process: ${allChannels.length} sessions of ${probesAttempted} probes; channels ${allChannels.length > 0 ? `min ${Math.min(...allChannels)}, max ${Math.max(...allChannels)}` : 'none'})`,
  );
  for (const [label, list] of [
    ['sutazai hosts probe', cliFailures],
    ['our in-process probe', oursFailures],
    ['Ansible', ansibleFailures],
  ] as const) {
    console.log(
      `  ${label} succeeded on every host? `.padEnd(VERDICT_WIDTH) +
        `${yes(list.length === 0)}${list.length > 0 ? `  (${list.length} failures)` : ''}`,
    );
  }
  for (const failure of [...new Set(cliFailures)].slice(0, 10)) console.log(`    sutazai FAILED: ${failure}`);
  for (const failure of [...new Set(oursFailures)].slice(0, 10)) console.log(`    in-process FAILED: ${failure}`);
  for (const failure of [...new Set(ansibleFailures)].slice(0, 10)) console.log(`    Ansible FAILED: ${failure}`);
  if (ansibleFailures.length > 0)
    console.log('  !!! Ansible did not gather facts on every host: its times are not a valid baseline for those runs');
  if (cliFailures.length > 0 || oursFailures.length > 0)
    console.log('  !!! our probe failed on some hosts: its times are not valid for those runs');
}

async function main(): Promise<void> {
  const maxHosts = Math.max(...SIZES);
  if (
    SIZES.some((n) => !Number.isInteger(n) || n < 1) ||
    !Number.isInteger(RUNS) ||
    RUNS < 1 ||
    !Number.isInteger(CONCURRENCY) ||
    CONCURRENCY < 1
  ) {
    throw new Error('BENCH_SIZES must be positive integers (e.g. 1,10,50), BENCH_RUNS and BENCH_CONCURRENCY positive integers');
  }
  console.log(
    `probe benchmark: ours (\`sutazai hosts probe\` processes, and connectSsh + probeOverSsh in-process) vs Ansible fact gathering (ansible -m setup), N = ${SIZES.join(', ')} hosts`,
  );
  console.log(loadLine('start', os.cpus().length));
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${versionOf('/usr/bin/ssh', ['-V'])} (Ansible's client; the hosts run this sshd)`,
  );
  console.log(
    `concurrency: ours ${CONCURRENCY} sessions at once (every host of a set at once), Ansible forks ${CONCURRENCY}; ${RUNS} runs per N after one warm-up, medians`,
  );

  let lab: TestLab | undefined;
  const started = performance.now();
  try {
    lab = await createTestLab();
    const hosts = await lab.addSshHosts(maxHosts, 'root-key');
    console.log(
      `lab ${lab.runId}: ${hosts.length} OpenSSH root-key hosts in ${lab.subnet}, built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const dir = path.join(lab.dir, 'ansible');
    const ansible = await prepareAnsible(dir, hosts);
    console.log(`peer: ${ansible.version}; ${ansible.describe}`);
    const cli = await prepareCli(path.join(lab.dir, 'sutazai'), hosts);
    console.log(`ours: ${cli.describe}\n`);
    const results = await measure(hosts, ansible, cli);
    report(results);
  } finally {
    if (lab !== undefined) await lab.destroy();
    console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s (lab destroyed)`);
    console.log(loadLine('end', os.cpus().length));
  }
}

main().catch((error: unknown) => {
  console.error(`probe benchmark could not run: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
