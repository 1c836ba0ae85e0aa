/**
 * The runtime under fire (issue 13, item 4): the shipped daemon (the esbuild bundle, run by
 * plain `node`, `logs.timestamps: collector`, its log directory on a small tmpfs mounted here,
 * so root) supervising the chaos manifest (chaos-model.ts) while random actions, from a seeded
 * generator, hit it:
 *  - kill -9 of an instance's leader, or of its whole process group;
 *  - SIGSTOP of an hb instance (a hang: its http health check must notice and restart it);
 *  - kill -9 of the daemon, sometimes with instances killed while no daemon runs, then a new one;
 *  - a manifest update (a changed spec, a process added or removed, a new replica count) or a scale;
 *  - the log disk filled to ENOSPC and held full until the runtime counts dropped lines, then freed;
 * and the flood process writing ~50 MB/s in bursts all along.
 * Kills and hangs of different instances overlap; a daemon kill, an update or a scale waits until
 * the runtime has answered every kill before it (the restart counts are then exact: a daemon
 * killed before its state file holds a restart's count would lose it, by design, since the save
 * is off the restart path). Every action is answered by a state the run waits for (bounded), not
 * by a time: an answer that never comes is a failure, and the run stops there.
 * At the end (flood and extra removed by a last update) it records what is running, the restart
 * counts, /proc, the log directory, the dropped lines and the daemon's RSS over the run;
 * chaos-report.ts judges the record.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { STATE_FILE } from '../../../agents-runtime/src/daemon/daemon-lock';
import type { ListProcessesResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ListProcessesResponse';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { collectorPaths } from '../../../agents-runtime/src/logs/log-collector';
import type { LogLimits } from '../../../agents-runtime/src/logs/log-files';
import { readPidRssBytes } from '../../../agents-runtime/src/metrics/proc-readers';
import { killMarkedProcesses } from '../kill-marked-processes';
import { freePort, freePorts } from '../free-ports';
import { makeRuntimeCerts, type RuntimeCerts } from '../runtime-certs';
import {
  buildRuntimeBundle,
  daemonLayout,
  runtimeClient,
  startBundledDaemon,
  writeDaemonFiles,
  type BundledDaemon,
  type DaemonLayout,
} from '../runtime-daemon-harness';
import { makeTempDir } from '../temp-dir';
import { ChaosModel, type ChaosProcessName } from './chaos-model';
import {
  collectorPids,
  collectorStats,
  droppedNotices,
  logDirState,
  scrapeDroppedLines,
  takeCensus,
  type LogDirState,
  type ProcessCensus,
} from './chaos-observe';
import { chaosManifest, writeChaosPrograms, type FloodShape, type ManifestContext } from './chaos-programs';
import { seededRandom as generator } from '../seeded-random';

export const CHAOS_ACTIONS = [
  'child-kill',
  'group-kill',
  'sigstop',
  'daemon-kill',
  'down-kill',
  'manifest-update',
  'scale',
  'disk-fill',
] as const;
export type ChaosAction = (typeof CHAOS_ACTIONS)[number];

/** The actions drawn, shuffled, a deck at a time: every kind comes up in every deck, so a short run still does each. */
const DECK: readonly ChaosAction[] = [
  'child-kill',
  'child-kill',
  'child-kill',
  'group-kill',
  'group-kill',
  'sigstop',
  'daemon-kill',
  'manifest-update',
  'scale',
  'disk-fill',
];

export interface ChaosOptions {
  /** How long actions are drawn; the last answers and the final checks come after. */
  durationMs: number;
  /** Seeds the generator that picks actions, targets and pauses: a run is replayed by its seed (timings aside). */
  seed: number;
  /** Mean pause between two actions. */
  meanPauseMs: number;
  flood: FloodShape;
  /** Size of the tmpfs holding the log directory. */
  logDiskBytes: number;
  logLimits: LogLimits;
  /** The daemon's RSS must stay at or under this for the whole run. */
  maxDaemonRssBytes: number;
  /** One line per action and answer, as they happen. */
  progress?: (line: string) => void;
}

const MiB = 1024 * 1024;

/** The shape of a run, the CI test's and the long run's alike: only its length and seed differ. */
export const CHAOS_SETTINGS: Omit<ChaosOptions, 'durationMs' | 'seed' | 'progress'> = {
  meanPauseMs: 2500,
  // A third of the time on: the flood's bursts overlap every other action without hogging a shared CI machine throughout.
  flood: { bytesPerSecond: 50 * MiB, onMs: 3000, offMs: 9000 },
  // Twice the total cap: the flood outruns the once-a-second rotation and fills the disk by itself too.
  logDiskBytes: 32 * MiB,
  logLimits: { maxFileBytes: 4 * MiB, keepFiles: 2, maxTotalBytes: 16 * MiB },
  // The daemon holds ~60 MiB with a dozen children (bench:runtime); well over twice that is a leak, not noise.
  maxDaemonRssBytes: 150 * MiB,
};

export interface ReportedInstance {
  instance: string;
  state: string;
  pid: number;
  restarts: number;
}

export interface RssSample {
  atS: number;
  daemonBytes: number | null;
  collectorBytes: number | null;
}

export interface ChaosReport {
  seed: number;
  chaosMs: number;
  totalMs: number;
  actions: Record<ChaosAction, number>;
  /** What the runtime should run at the end, and each instance's restart count (its kills and hangs). */
  expected: { instances: string[]; restarts: Record<string, number> };
  /** Kills and hangs in all, including those of instances that a later update or scale replaced. */
  restartsCaused: number;
  reported: ReportedInstance[];
  census: ProcessCensus;
  logDir: LogDirState;
  logLimits: LogLimits;
  dropped: {
    /** Sum over instances of the most each one's counter showed (/metrics, sampled through the run). */
    counted: number;
    byInstance: Record<string, number>;
    /** The `N log lines dropped` notices still in the log directory (the caps delete old ones). */
    notices: number;
  };
  collector: Record<string, unknown> | null;
  rss: { samples: RssSample[]; maxDaemonBytes: number; maxCollectorBytes: number; limitBytes: number };
  /** Answers that did not come, calls that failed, in order; the run stopped at the first that broke the model. */
  failures: string[];
  /** Every action and answer with its second, for reading a failure. */
  timeline: string[];
}

interface Observed {
  state: string;
  pid: number;
  restarts: number;
}

interface Incident {
  pid: number;
  action: ChaosAction;
  atMs: number;
}

const RUNNING = 'PROCESS_STATE_RUNNING';
const CALL_MS = 10_000;
const UPDATE_CALL_MS = 90_000;
/** How long an instance may take to come back after a kill or hang (the hang is noticed after three failed checks). */
const ANSWER_LIMIT_MS = 60_000;
const CONVERGE_LIMIT_MS = 90_000;
const DAEMON_READY_MS = 60_000;
const POLL_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function unary<Res>(call: (cb: (error: grpc.ServiceError | null, value?: Res) => void) => void): Promise<Res> {
  return new Promise((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value as Res))));
}

/** Runs the chaos and the final checks; everything it started is gone when it resolves. */
export async function runRuntimeChaos(options: ChaosOptions): Promise<ChaosReport> {
  const run = new ChaosRun(options);
  try {
    await run.setUp();
    return await run.play();
  } finally {
    run.cleanUp();
  }
}

class ChaosRun {
  private readonly random: () => number;
  private readonly tmp = makeTempDir('sutazai-chaos-');
  private readonly layout: DaemonLayout = daemonLayout(this.tmp.path);
  private readonly diskDir = path.join(this.tmp.path, 'disk');
  private readonly logDir = path.join(this.diskDir, 'logs');
  private mounted = false;
  private certs: RuntimeCerts | undefined;
  private port = 0;
  private metricsPort = 0;
  private ctx!: ManifestContext;
  private readonly model = new ChaosModel([
    { name: 'steady', replicas: 3 },
    { name: 'hb', replicas: 2 },
    { name: 'flood', replicas: 1 },
  ]);
  private daemon: BundledDaemon | null = null;
  private readonly daemonsStarted: BundledDaemon[] = [];
  private client: RuntimeClient | null = null;
  private readonly incidents = new Map<string, Incident>();
  private readonly actions = Object.fromEntries(CHAOS_ACTIONS.map((a) => [a, 0])) as Record<ChaosAction, number>;
  private restartsCaused = 0;
  private readonly failures: string[] = [];
  private readonly timeline: string[] = [];
  private aborted = false;
  private readonly startedAt = Date.now();
  private readonly rssSamples: RssSample[] = [];
  private collectorPid: number | null = null;
  private collectorLookedUpAt = 0;
  private readonly droppedMax = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private fillTask: Promise<void> = Promise.resolve();
  private deck: ChaosAction[] = [];

  constructor(private readonly options: ChaosOptions) {
    this.random = generator(options.seed);
  }

  async setUp(): Promise<void> {
    fs.mkdirSync(this.diskDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${this.options.logDiskBytes},mode=0755`, 'sutazai-chaos-logs', this.diskDir]);
    this.mounted = true;
    fs.mkdirSync(this.logDir);
    buildRuntimeBundle(this.layout.bundleDir, 120_000);
    this.certs = makeRuntimeCerts();
    this.port = await freePort();
    this.metricsPort = await freePort();
    this.ctx = {
      programs: writeChaosPrograms(path.join(this.tmp.path, 'programs')),
      node: process.execPath,
      // Room for hb's largest replica count (3).
      hbPort: await freePorts(3),
      flood: this.options.flood,
    };
    const limits = this.options.logLimits;
    writeDaemonFiles({
      configFile: this.layout.configFile,
      manifest: chaosManifest(this.model, this.ctx),
      listenPort: this.port,
      stateDir: this.layout.stateDir,
      logDir: this.logDir,
      certs: this.certs,
      extraConfig: [
        `logs: { timestamps: collector, max_file_bytes: ${limits.maxFileBytes}, keep_files: ${limits.keepFiles}, max_total_bytes: ${limits.maxTotalBytes} }`,
        `metrics: { listen: 127.0.0.1:${this.metricsPort} }`,
      ],
    });
  }

  async play(): Promise<ChaosReport> {
    await this.startDaemon();
    this.timers.push(setInterval(() => this.sampleRss(), 1000));
    this.timers.push(setInterval(() => void this.sampleDropped(), 3000));
    const chaosMs = (await this.waitConverged('the first start')) ? await this.chaos() : 0;
    await this.fillTask;
    if (!this.aborted) await this.finalManifest();
    return await this.record(chaosMs);
  }

  cleanUp(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.client?.close();
    for (const d of this.daemonsStarted) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    killMarkedProcesses(this.layout.runtimeId);
    for (const pid of collectorPids(this.layout.runtimeId)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.certs?.remove();
    if (this.mounted) execFileSync('umount', ['-l', this.diskDir]);
    this.tmp.remove();
  }

  // ---- the chaos -----------------------------------------------------------------------

  /** Draws and does actions for options.durationMs; returns how long it went on. */
  private async chaos(): Promise<number> {
    const began = Date.now();
    const end = began + this.options.durationMs;
    while (!this.aborted && Date.now() < end) {
      await sleep(this.options.meanPauseMs * (0.5 + this.random()));
      if (this.aborted || Date.now() >= end) break;
      const action = this.draw();
      // An action with no target now (every hb instance busy answering a kill) goes back under the deck.
      if (!(await this.act(action))) this.deck.unshift(action);
    }
    return Date.now() - began;
  }

  private async act(action: ChaosAction): Promise<boolean> {
    switch (action) {
      case 'child-kill':
      case 'group-kill':
        return await this.killInstance(action);
      case 'sigstop':
        return await this.hang();
      case 'daemon-kill':
        await this.killDaemon();
        return true;
      case 'manifest-update':
        await this.updateManifest();
        return true;
      case 'scale':
        await this.scale();
        return true;
      case 'disk-fill':
        this.fillTask = this.fillTask
          .then(() => this.fillDisk())
          .catch((error: unknown) => this.fail(`filling the log disk: ${String(error)}`));
        return true;
      case 'down-kill':
        return true; // comes with a daemon kill
    }
  }

  private draw(): ChaosAction {
    if (this.deck.length === 0) {
      this.deck = [...DECK];
      for (let i = this.deck.length - 1; i > 0; i -= 1) {
        const j = Math.floor(this.random() * (i + 1));
        [this.deck[i], this.deck[j]] = [this.deck[j]!, this.deck[i]!];
      }
    }
    return this.deck.pop()!;
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length)];
  }

  /** A running instance no kill or hang is pending on, of `processes` (all when absent). */
  private async target(processes?: readonly ChaosProcessName[]): Promise<{ instance: string; pid: number } | undefined> {
    const observed = await this.observe();
    if (observed === null) return undefined;
    const wanted = new Set((processes ?? (['steady', 'hb', 'flood', 'extra'] as const)).flatMap((p) => this.model.instancesOf(p)));
    const ready = [...observed].filter(
      ([instance, o]) => wanted.has(instance) && !this.incidents.has(instance) && o.state === RUNNING && o.pid > 0,
    );
    const chosen = this.pick(ready);
    return chosen === undefined ? undefined : { instance: chosen[0], pid: chosen[1].pid };
  }

  private async killInstance(action: 'child-kill' | 'group-kill'): Promise<boolean> {
    const target = await this.target();
    // The look that found a target may have found a failure too: nothing more is done then.
    if (target === undefined || this.aborted || !signal(action === 'group-kill' ? -target.pid : target.pid, 'SIGKILL')) return false;
    this.caused(target.instance, target.pid, action);
    return true;
  }

  private async hang(): Promise<boolean> {
    const target = await this.target(['hb']);
    if (target === undefined || this.aborted || !signal(target.pid, 'SIGSTOP')) return false;
    this.caused(target.instance, target.pid, 'sigstop');
    return true;
  }

  /** A kill or hang the daemon must answer with exactly one restart. */
  private caused(instance: string, pid: number, action: ChaosAction): void {
    this.model.countRestart(instance);
    this.restartsCaused += 1;
    this.incidents.set(instance, { pid, action, atMs: Date.now() });
    this.actions[action] += 1;
    this.note(`${action} ${instance} (pid ${pid})`);
  }

  private async killDaemon(): Promise<void> {
    // Every restart so far answered and saved: a kill now loses no count (see the file's comment).
    if (!(await this.waitConverged('the answers before a daemon kill')) || !(await this.waitCountsSaved())) return;
    const before = (await this.observe()) ?? new Map<string, Observed>();
    const daemon = this.daemon!;
    this.daemon = null;
    this.client?.close();
    this.client = null;
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    this.actions['daemon-kill'] += 1;
    this.note(`daemon-kill (pid ${daemon.child.pid})`);
    // Instances killed while no daemon runs are started afresh by the next one: no restart to
    // count. Every other daemon kill has one or two; the rest find everything alive and adopt it.
    const downKills = this.actions['daemon-kill'] % 2 === 1 ? 1 + Math.floor(this.random() * 2) : 0;
    for (let k = 0; k < downKills; k += 1) {
      const chosen = this.pick([...before].filter(([instance, o]) => !this.incidents.has(instance) && o.pid > 0));
      if (chosen === undefined) break;
      const [instance, o] = chosen;
      const group = this.random() < 0.5;
      if (!signal(group ? -o.pid : o.pid, 'SIGKILL')) continue;
      this.incidents.set(instance, { pid: o.pid, action: 'down-kill', atMs: Date.now() });
      this.actions['down-kill'] += 1;
      this.note(`down-kill ${instance} (${group ? 'group' : 'leader'} ${o.pid})`);
    }
    await sleep(this.random() * 1000);
    await this.startDaemon();
  }

  private async updateManifest(): Promise<void> {
    if (!(await this.waitConverged('the answers before a manifest update'))) return;
    const variants: Array<[string, () => void]> = [
      ['steady changed (env)', () => this.model.changeSpec('steady')],
      this.model.has('extra') ? ['extra removed', () => this.model.remove('extra')] : ['extra added', () => this.model.add('extra', 1)],
      [
        `hb to ${this.model.process('hb')!.replicas === 2 ? 3 : 2} replicas`,
        () => this.model.setManifestReplicas('hb', this.model.process('hb')!.replicas === 2 ? 3 : 2),
      ],
    ];
    const [what, change] = this.pick(variants)!;
    change();
    await this.sendManifest(what);
  }

  private async sendManifest(what: string): Promise<void> {
    this.actions['manifest-update'] += 1;
    this.note(`manifest-update: ${what}`);
    try {
      const client = this.client!;
      await unary((cb) =>
        client.UpdateManifest({ manifestYaml: chaosManifest(this.model, this.ctx) }, { deadline: Date.now() + UPDATE_CALL_MS }, cb),
      );
    } catch (error) {
      this.fail(`UpdateManifest (${what}) failed: ${String(error)}`);
      return;
    }
    await this.waitConverged(`the manifest update (${what})`);
  }

  private async scale(): Promise<void> {
    if (!(await this.waitConverged('the answers before a scale'))) return;
    const now = this.model.instancesOf('steady').length;
    const to = this.pick([2, 3, 4].filter((n) => n !== now))!;
    this.model.scale('steady', to);
    this.actions.scale += 1;
    this.note(`scale steady ${now} -> ${to}`);
    try {
      const client = this.client!;
      await unary((cb) => client.ScaleProcess({ name: 'steady', replicas: to }, { deadline: Date.now() + UPDATE_CALL_MS }, cb));
    } catch (error) {
      this.fail(`ScaleProcess steady ${to} failed: ${String(error)}`);
      return;
    }
    await this.waitConverged(`the scale of steady to ${to}`);
  }

  /** Fills the log disk, holds it full until the runtime has counted lines it could not write (bounded), then frees it. */
  private async fillDisk(): Promise<void> {
    const filler = path.join(this.diskDir, 'filler');
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    try {
      for (let written = 0; written <= this.options.logDiskBytes; written += chunk.length) fs.writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      fs.closeSync(fd);
    }
    this.actions['disk-fill'] += 1;
    const before = await this.droppedTotal();
    this.note(`disk-fill (dropped so far ${before})`);
    const until = Date.now() + 30_000;
    let after = before;
    while (Date.now() < until && after <= before && !this.aborted) {
      await sleep(POLL_MS * 2);
      after = await this.droppedTotal();
    }
    fs.rmSync(filler, { force: true });
    this.note(`disk freed (dropped so far ${after})`);
  }

  // ---- the daemon ----------------------------------------------------------------------

  private async startDaemon(): Promise<void> {
    const d = startBundledDaemon(this.layout.bundle, this.layout.configFile, this.tmp.path);
    this.daemonsStarted.push(d);
    const until = Date.now() + DAEMON_READY_MS;
    while (!d.lines.some((l) => l.msg === 'sutazai-runtime ready')) {
      if (d.child.exitCode !== null || Date.now() > until) {
        this.fail(`the daemon did not get ready (exit ${d.child.exitCode}): ${JSON.stringify(d.lines.slice(-5))}`);
        return;
      }
      await sleep(50);
    }
    this.daemon = d;
    // A new channel per daemon: a channel that saw many refusals waits out a long reconnect backoff.
    this.client = runtimeClient(this.port, this.certs!.ca.certPem, this.certs!.admin);
    this.note(`daemon ready (pid ${d.child.pid})`);
  }

  private async observe(): Promise<Map<string, Observed> | null> {
    const client = this.client;
    if (client === null) return null;
    let res: ListProcessesResponse__Output;
    try {
      res = await unary<ListProcessesResponse__Output>((cb) => client.ListProcesses({}, { deadline: Date.now() + CALL_MS }, cb));
    } catch {
      return null;
    }
    const out = new Map<string, Observed>();
    for (const p of res.processes) for (const i of p.instances) out.set(i.instance, { state: i.state, pid: i.pid, restarts: i.restarts });
    this.answer(out);
    return out;
  }

  /** Clears the kills and hangs the daemon has answered: a new process running, the count as expected. */
  private answer(observed: ReadonlyMap<string, Observed>): void {
    for (const [instance, incident] of this.incidents) {
      const o = observed.get(instance);
      const expected = this.model.expectedRestarts(instance);
      if (o !== undefined && o.pid > 0 && o.pid !== incident.pid && o.state === RUNNING && o.restarts === expected) {
        this.incidents.delete(instance);
        this.note(`answered ${incident.action} ${instance}: pid ${o.pid}, restarts ${o.restarts}`);
      } else if (o !== undefined && o.restarts > expected) {
        this.incidents.delete(instance);
        this.fail(`${instance} reports ${o.restarts} restarts after ${incident.action}, more than the ${expected} caused`);
      } else if (Date.now() - incident.atMs > ANSWER_LIMIT_MS) {
        this.incidents.delete(instance);
        this.fail(
          `${instance} did not come back within ${ANSWER_LIMIT_MS / 1000} s after ${incident.action} of pid ${incident.pid}: ` +
            `${o === undefined ? 'not listed' : `${o.state}, pid ${o.pid}, restarts ${o.restarts} (expected ${expected})`}`,
        );
      }
    }
  }

  /** Waits until the daemon runs exactly the model's instances, each running with its expected count, nothing pending. */
  private async waitConverged(what: string): Promise<boolean> {
    const until = Date.now() + CONVERGE_LIMIT_MS;
    let last = 'no answer from the daemon';
    while (!this.aborted) {
      const observed = await this.observe();
      if (observed !== null) {
        const problems = this.divergence(observed);
        if (problems.length === 0 && this.incidents.size === 0) return true;
        last = problems.join('; ') || `waiting on ${[...this.incidents.keys()].join(', ')}`;
      }
      if (Date.now() > until) {
        this.fail(`${what}: the runtime did not reach the expected state within ${CONVERGE_LIMIT_MS / 1000} s: ${last}`);
        return false;
      }
      await sleep(POLL_MS);
    }
    return false;
  }

  private divergence(observed: ReadonlyMap<string, Observed>): string[] {
    const expected = this.model.expectedInstances();
    const problems: string[] = [];
    const listed = [...observed.keys()].sort();
    if (listed.join() !== expected.join()) problems.push(`instances ${listed.join(',')} instead of ${expected.join(',')}`);
    for (const instance of expected) {
      const o = observed.get(instance);
      if (o === undefined) continue;
      if (o.state !== RUNNING || o.pid <= 0) problems.push(`${instance} ${o.state}`);
      else if (o.restarts !== this.model.expectedRestarts(instance))
        problems.push(`${instance} restarts ${o.restarts}, expected ${this.model.expectedRestarts(instance)}`);
    }
    return problems;
  }

  /** Waits until the state file holds every instance's expected restart count (it is saved just after each change). */
  private async waitCountsSaved(): Promise<boolean> {
    const file = path.join(this.layout.stateDir, STATE_FILE);
    const until = Date.now() + 15_000;
    for (;;) {
      let last: string;
      try {
        const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { restarts?: Record<string, number> };
        const wrong = this.model
          .expectedInstances()
          .filter((i) => (saved.restarts?.[i] ?? 0) !== this.model.expectedRestarts(i))
          .map((i) => `${i} ${saved.restarts?.[i] ?? 0} (expected ${this.model.expectedRestarts(i)})`);
        if (wrong.length === 0) return true;
        last = wrong.join(', ');
      } catch (error) {
        last = String(error);
      }
      if (Date.now() > until) {
        this.fail(`the state file did not record the restart counts within 15 s: ${last}`);
        return false;
      }
      await sleep(POLL_MS);
    }
  }

  /** The last update: the flood and extra go, so the log directory can be judged against its caps at rest. */
  private async finalManifest(): Promise<void> {
    if (!(await this.waitConverged('the answers to the last actions'))) return;
    await this.sampleDropped();
    const removed = (['flood', 'extra'] as const).filter((name) => this.model.has(name));
    if (removed.length === 0) return;
    for (const name of removed) this.model.remove(name);
    await this.sendManifest(`${removed.join(' and ')} removed (the end)`);
  }

  // ---- measuring -------------------------------------------------------------------------

  private sampleRss(): void {
    const daemonPid = this.daemon?.child.pid;
    if (this.collectorPid === null || readPidRssBytes(this.collectorPid) === null) {
      // One /proc scan at most every 5 s: the collector outlives daemons, so it is rarely looked for.
      if (Date.now() - this.collectorLookedUpAt > 5000) {
        this.collectorLookedUpAt = Date.now();
        this.collectorPid = collectorPids(this.layout.runtimeId)[0] ?? null;
      }
    }
    this.rssSamples.push({
      atS: Math.round((Date.now() - this.startedAt) / 1000),
      daemonBytes: daemonPid === undefined ? null : readPidRssBytes(daemonPid),
      collectorBytes: this.collectorPid === null ? null : readPidRssBytes(this.collectorPid),
    });
  }

  /** Keeps the most each instance's dropped-lines counter has shown (an instance that goes takes its counter along). */
  private async sampleDropped(): Promise<void> {
    if (this.daemon === null) return;
    const counts = await scrapeDroppedLines(this.metricsPort);
    for (const [instance, value] of counts ?? []) this.droppedMax.set(instance, Math.max(value, this.droppedMax.get(instance) ?? 0));
  }

  private async droppedTotal(): Promise<number> {
    await this.sampleDropped();
    return [...this.droppedMax.values()].reduce((a, b) => a + b, 0);
  }

  private async record(chaosMs: number): Promise<ChaosReport> {
    let logDir = logDirState(this.logDir, this.options.logLimits);
    // The rotator checks once a second; the flood's last burst may still be over the caps.
    for (const until = Date.now() + 30_000; logDir.overCaps.length > 0 && Date.now() < until;) {
      await sleep(500);
      logDir = logDirState(this.logDir, this.options.logLimits);
    }
    await this.sampleDropped();
    const observed = (await this.observe()) ?? new Map<string, Observed>();
    const reported = [...observed].map(([instance, o]) => ({ instance, ...o })).sort((a, b) => a.instance.localeCompare(b.instance));
    const census = takeCensus(this.layout.runtimeId, new Map(reported.map((r) => [r.instance, r.pid])));
    const expectedInstances = this.model.expectedInstances();
    const daemonRss = this.rssSamples.flatMap((s) => (s.daemonBytes === null ? [] : [s.daemonBytes]));
    const collectorRss = this.rssSamples.flatMap((s) => (s.collectorBytes === null ? [] : [s.collectorBytes]));
    return {
      seed: this.options.seed,
      chaosMs,
      totalMs: Date.now() - this.startedAt,
      actions: { ...this.actions },
      expected: {
        instances: expectedInstances,
        restarts: Object.fromEntries(expectedInstances.map((i) => [i, this.model.expectedRestarts(i)])),
      },
      restartsCaused: this.restartsCaused,
      reported,
      census,
      logDir,
      logLimits: this.options.logLimits,
      dropped: {
        counted: [...this.droppedMax.values()].reduce((a, b) => a + b, 0),
        byInstance: Object.fromEntries(this.droppedMax),
        notices: droppedNotices(this.logDir),
      },
      collector: await collectorStats(collectorPaths(path.join(this.layout.stateDir, 'log-fifos')).socket),
      rss: {
        samples: this.rssSamples,
        maxDaemonBytes: Math.max(0, ...daemonRss),
        maxCollectorBytes: Math.max(0, ...collectorRss),
        limitBytes: this.options.maxDaemonRssBytes,
      },
      failures: [...this.failures],
      timeline: [...this.timeline],
    };
  }

  private note(line: string): void {
    const stamped = `${((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(6)} s  ${line}`;
    this.timeline.push(stamped);
    this.options.progress?.(stamped);
  }

  /** Something the runtime did not do: recorded, and the run stops (the model no longer says what to expect). */
  private fail(message: string): void {
    this.failures.push(message);
    this.note(`FAILED: ${message}`);
    this.aborted = true;
  }
}

/** kill(2); false when the target is already gone. */
function signal(target: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(target, name);
    return true;
  } catch {
    return false;
  }
}
