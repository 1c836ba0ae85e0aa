/**
 * The daemon: wires the manifest, the real process driver, the fleet supervisor, the state
 * file, the log files and the gRPC server into one running `sutazai-runtime`.
 *
 *  - One daemon per state_dir (lock file); a stale lock from a dead daemon is taken over.
 *  - Restart safety: the state file keeps the operator's intent and each instance's pid +
 *    start time; after a restart (or kill -9) those still alive are re-adopted, never
 *    started twice, and processes stopped on purpose stay stopped.
 *  - Bad input never stops supervision: an unwritable log dir, a missing command or a bad
 *    server certificate each become an event/log line with a code and a remedy; the API is
 *    retried every 30 s while its certificate is unusable.
 *  - close(false) (SIGTERM/SIGINT, systemd KillMode=process) leaves the children running;
 *    close(true) (`stop-all`) stops them in reverse dependency order first.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogFiles } from '../logs/log-files';
import { LogRotator } from '../logs/log-rotation';
import { follow, lastLinesUntil, tail, tailBytes, tailForFollow, type LogLine as FileLogLine } from '../logs/log-tail';
import { startMetricsHttp, type MetricsHttp } from '../metrics/metrics-http';
import { createMetricsService } from '../metrics/metrics-service';
import type { ProcessInfo } from '../metrics/process-sampler';
import { startMemoryTrim } from './memory-trim';
import { expandReplicas, stopOrder } from '../manifest/dependency-order';
import type { Manifest, ProcessSpec } from '../manifest/manifest-schema';
import { diffManifests } from '../manifest/manifest-diff';
import { manifestVersionOf } from '../manifest/manifest-version';
import { parseManifest } from '../manifest/parse-manifest';
import { adoptOrStart } from '../process/adopt-or-start';
import { LinuxProcessDriver } from '../process/process-driver';
import { isSameProcess } from '../process/proc-identity';
import { loadState, type RuntimeState } from '../process/state-file';
import { StateWriter } from '../process/state-writer';
import { RuntimeError } from '../runtime-error';
import { readCappedText, TextTooLargeError } from '../yaml/read-capped-text';
import { YAML_FILE_LIMITS } from '../yaml/read-yaml';
import type { InstanceLogLine } from '../logs/instance-log-line';
import type { RuntimeApi, Unsubscribe } from '../server/runtime-api';
import type { InstanceStatus, ProcessStatus } from '../supervisor/process-status';
import { EventFeed } from './event-feed';
import { InstanceEventOrder } from './instance-event-order';
import type { RuntimeEventInput } from './runtime-event';
import type { RuntimeInfo } from './runtime-info';
import { ACCESS_STATE_FILE } from '../server/access-state';
import { AUDIT_LOG_FILE } from '../audit/audit-file';
import { startRuntimeServer, type RuntimeServer } from '../server/runtime-server';
import { FleetSupervisor, type FleetIntent } from '../supervisor/fleet-supervisor';
import { createHealthProbe } from '../supervisor/health-checks';
import type { InstanceSnapshot, ProcessSupervisor, SupervisorEvent } from '../supervisor/process-supervisor';
import type { RunningProcess } from '../supervisor/driver';
import { acquireLock, runtimeIdFor, STATE_FILE, type DaemonLock } from './daemon-lock';
import type { RuntimeConfig } from './runtime-config';

/** Set by the bundler (build-runtime.mjs); 'dev' when run from source. */
declare const __SUTAZAI_RUNTIME_VERSION__: string | undefined;
export const RUNTIME_VERSION = typeof __SUTAZAI_RUNTIME_VERSION__ === 'string' ? __SUTAZAI_RUNTIME_VERSION__ : 'dev';

const SAVE_DEBOUNCE_MS = 100;
const CRASH_LINES = 20;
const CRASH_LINE_MAX_CHARS = 500;

export interface DaemonLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface RuntimeDaemonOptions {
  log: DaemonLog;
  /** Seconds between tries to bring the API up while it cannot start (default 30 s). */
  serverRetryMs?: number;
}

export interface RuntimeDaemon {
  api: RuntimeApi;
  /** The gRPC server, or null while it cannot start (see the log for the code and remedy). */
  readonly server: RuntimeServer | null;
  runtimeId: string;
  /** Stops serving; with `stopChildren`, stops every process in reverse dependency order first. */
  close(stopChildren: boolean): Promise<void>;
}

/** A manifest, certificate or key; none is anywhere near the cap of a hand-written file. */
function readText(file: string, what: string, code: 'CONFIG_INVALID' | 'CERTIFICATE_INVALID' | 'MANIFEST_INVALID'): string {
  try {
    return readCappedText(file, YAML_FILE_LIMITS.maxBytes);
  } catch (cause) {
    if (cause instanceof TextTooLargeError)
      throw new RuntimeError(
        code,
        `the ${what} ${file} ${cause.message}`,
        `check that ${file} is the ${what} and not another file; split what it holds if it is`,
      );
    throw new RuntimeError(
      code,
      `cannot read the ${what} ${file} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`,
      `check the ${what} path in the runtime config (${file}) and its permissions`,
      {
        cause,
      },
    );
  }
}

let bootTimeMs: number | null | undefined;
/**
 * Wall-clock start of a process from its `<boot id>:<ticks>` identity (USER_HZ is 100 on
 * Linux). The boot time is now minus /proc/uptime (hundredths of a second), read once:
 * /proc/stat's btime is whole seconds, which put starts up to a second off.
 */
function startedAtFromIdentity(startTime: string | null): number | null {
  if (startTime === null) return null;
  if (bootTimeMs === undefined) {
    try {
      const uptimeS = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
      bootTimeMs = Number.isFinite(uptimeS) ? Date.now() - uptimeS * 1000 : null;
    } catch {
      bootTimeMs = null;
    }
  }
  const ticks = Number(startTime.slice(startTime.lastIndexOf(':') + 1));
  return bootTimeMs === null || !Number.isFinite(ticks) ? null : bootTimeMs + ticks * 10;
}

/** When the instance's current process started (its /proc identity), or when it was started; null when it runs no process. */
function startedAtMsOf(s: InstanceSnapshot): number | null {
  return s.pid === null ? null : (startedAtFromIdentity(s.startTime) ?? s.since);
}

/**
 * startedAtMsOf for the metrics tick, which asks it of every instance every second: the
 * identity is parsed once per process (the object lives as long as that process), not once
 * per tick.
 */
const startedAtByProcess = new WeakMap<RunningProcess, number | null>();
function startedAtMsOfRunning(supervisor: ProcessSupervisor): number | null {
  const proc = supervisor.running;
  if (proc === null) return null;
  let startedAt = startedAtByProcess.get(proc);
  if (startedAt === undefined) {
    startedAt = startedAtFromIdentity(proc.startTime);
    startedAtByProcess.set(proc, startedAt);
  }
  return startedAt ?? supervisor.stateSince;
}

function instanceStatus(s: InstanceSnapshot): InstanceStatus {
  return {
    instance: s.instance,
    state: s.state,
    pid: s.pid,
    restarts: s.restarts,
    startedAtMs: startedAtMsOf(s),
    exitCode: s.lastExit?.code ?? null,
    lastError: s.lastError,
  };
}

function wantedInstances(manifest: Manifest, intent: FleetIntent): string[] {
  return manifest.processes
    .filter((p) => !intent.stopped.includes(p.name))
    .flatMap((p) => expandReplicas(p, intent.replicas[p.name] ?? p.replicas));
}

export async function startRuntimeDaemon(config: RuntimeConfig, options: RuntimeDaemonOptions): Promise<RuntimeDaemon> {
  const { log } = options;
  const startedAtMs = Date.now();
  const runtimeId = runtimeIdFor(config.stateDir);
  const lock: DaemonLock = acquireLock(config.stateDir);
  try {
    return await boot();
  } catch (error) {
    lock.release();
    throw error;
  }

  async function boot(): Promise<RuntimeDaemon> {
    const stateFile = path.join(config.stateDir, STATE_FILE);
    const manifestText = readText(config.manifest, 'manifest', 'MANIFEST_INVALID');
    let manifest = parseManifest(manifestText, config.manifest, config.manifestLimits);
    // Taken once per manifest, not per GetInfo: the digest is the daemon's own JavaScript
    // (hash/sha256.ts), some 2.5 ms for a 3 KB manifest and 0.75 s for 1 MiB in lite mode.
    let manifestVersion = manifestVersionOf(manifestText);

    const feed = new EventFeed(startedAtMs);
    const publish = (event: RuntimeEventInput): void => {
      const fields = {
        event: event.kind,
        process: event.process,
        instance: event.instance,
        state: event.state,
        code: event.error?.code,
        remedy: event.error?.remedy,
      };
      if (event.error !== null) log.warn(fields, event.message);
      else log.info(fields, event.message);
      feed.publish(event);
    };
    const daemonEvent = (kind: string, message: string, error: RuntimeError | null = null): void =>
      publish({
        atMs: Date.now(),
        kind,
        process: null,
        instance: null,
        state: null,
        message,
        error: error === null ? null : error.toJSON(),
      });

    const logs = new LogFiles(config.logDir, config.logs);
    try {
      logs.ensureWritable();
    } catch (error) {
      // Each start will fail with the same code; the rest of the daemon keeps working.
      if (error instanceof RuntimeError) daemonEvent('logs.error', error.message, error);
      else throw error;
    }

    const loaded = loadState(stateFile);
    if (loaded.problem !== undefined) daemonEvent('state.error', loaded.problem.message, loaded.problem);
    const saved: RuntimeState = loaded.state;

    const driver = new LinuxProcessDriver({
      logs,
      runtimeId,
      timestamps: config.logTimestamps,
      collector: {
        fifoDir: path.join(config.stateDir, 'log-fifos'),
        // The native collector passed the ELF check but does not run here (exec refused, dies at start).
        onFallback: (problem) =>
          log.warn({ component: 'logs' }, `the Node log collector runs (more memory than the native one): ${problem}`),
      },
      lifelineDir: path.join(config.stateDir, 'lifelines'),
    });
    const collectorProblem = driver.collectorNativeProblem;
    if (collectorProblem !== null)
      log.warn({ component: 'logs' }, `the Node log collector runs (more memory than the native one): ${collectorProblem}`);
    const probe = createHealthProbe();

    // Re-adoption: at most one process per instance; wanted ones are handed to the fleet.
    const plan = adoptOrStart({
      wanted: wantedInstances(manifest, saved.intent),
      saved: saved.instances,
      adopt: (_instance, pid, startTime) => ({ pid, startTime, onExit: () => undefined }),
      isAlive: isSameProcess,
      discover: () => driver.discover(),
    });
    const adopt: Record<string, { pid: number; startTime: string }> = {};
    for (const [instance, proc] of plan.adopted) adopt[instance] = { pid: proc.pid, startTime: proc.startTime };
    if (plan.adopted.size > 0)
      log.info({ instances: [...plan.adopted.keys()] }, 're-adopting processes a previous sutazai-runtime started');
    for (const extra of plan.extra)
      log.warn({ instance: extra.instance, pid: extra.pid }, 'a further process carries the marker of an adopted instance; left alone');
    const unwantedStops = [...plan.unwanted].map(async ([instance, found]) => {
      const spec = specOfInstance(manifest, instance);
      const proc = driver.adopt(instance, found.pid, found.startTime);
      if (proc === null) return;
      log.info({ instance, pid: proc.pid }, 'stopping a process that is no longer wanted (stopped on purpose, scaled down or removed)');
      await driver
        .stop(proc, spec?.stop.signal ?? 'SIGTERM', spec?.stop.graceMs ?? 10_000)
        .catch((error: unknown) => log.warn({ instance, err: String(error) }, 'could not stop an unwanted process'));
    });

    let closed = false;
    let fleet!: FleetSupervisor;

    const currentState = (): RuntimeState => {
      const instances: RuntimeState['instances'] = {};
      const restarts: Record<string, number> = {};
      const operatorRestarts: Record<string, number> = {};
      for (const p of fleet.snapshot().processes) {
        for (const i of p.instances) {
          if (i.pid !== null && i.startTime !== null) instances[i.instance] = { pid: i.pid, startTime: i.startTime };
          if (i.restarts > 0) restarts[i.instance] = i.restarts;
          if (i.operatorRestarts > 0) operatorRestarts[i.instance] = i.operatorRestarts;
        }
      }
      return { version: 1, intent: fleet.intent(), instances, restarts, operatorRestarts };
    };
    const stateWriter = new StateWriter({
      file: stateFile,
      current: currentState,
      debounceMs: SAVE_DEBOUNCE_MS,
      onFailure: (error) =>
        log.error(
          {
            code: 'STATE_FILE_INVALID',
            err: String(error),
            remedy: `make ${config.stateDir} writable and free space on its file system; until then a restarted daemon cannot restore intent or re-adopt`,
          },
          `cannot save the state file ${stateFile}`,
        ),
    });
    const scheduleSave = (): void => stateWriter.request();

    const inOrder = new InstanceEventOrder(publish);
    const onSupervisorEvent = (event: SupervisorEvent): void => {
      const base = { atMs: event.at, process: event.process, instance: event.instance };
      // A crash's message and its lastLines both carry the instance's last log lines, read
      // off the restart path: on the next turn (a zero-delay restart has spawned by then,
      // see ProcessSupervisor.fail) and without blocking, up to the exit's report.
      const withLines = async (message: string): Promise<{ message: string; lastLines: string[] }> => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        let lines: string[];
        try {
          lines = await lastLinesUntil(logs, event.instance, CRASH_LINES, event.at);
        } catch {
          lines = [];
        }
        if (event.kind === 'state' || event.kind === 'crash-loop') event.lastLines = lines;
        const shown = lines.map((l) => (l.length > CRASH_LINE_MAX_CHARS ? `${l.slice(0, CRASH_LINE_MAX_CHARS)}…` : l));
        if (shown.length === 0) return { message, lastLines: shown };
        return { message: `${message}\nlast log lines:\n${shown.join('\n')}`, lastLines: shown };
      };
      const error = 'error' in event ? (event.error ?? null) : null;
      switch (event.kind) {
        case 'state': {
          scheduleSave();
          inOrder.push(event.instance, {
            ...base,
            kind: 'process.state',
            state: event.to,
            message: `${event.instance}: ${event.from} -> ${event.to}: ${event.reason}`,
            error,
          });
          if (event.exit !== undefined) {
            const how =
              event.exit.signal !== null
                ? `killed by ${event.exit.signal}`
                : event.exit.code === null
                  ? 'exited (status unknown: adopted)'
                  : `exited with code ${event.exit.code}`;
            const state = event.to;
            inOrder.push(
              event.instance,
              withLines(`${event.instance} ${how}; now ${event.to}`).then((lines) => ({
                ...base,
                kind: 'process.exit',
                state,
                ...lines,
                error,
              })),
            );
          }
          return;
        }
        case 'crash-loop':
          inOrder.push(
            event.instance,
            withLines(
              `${event.instance} failed ${event.failures} times within ${event.withinMs} ms (${event.reason}); next try at ${new Date(event.nextRetryAt).toISOString()}`,
            ).then((lines) => ({ ...base, kind: 'process.crash-loop', state: 'crash-loop', ...lines, error })),
          );
          return;
        case 'crash-loop-left':
          inOrder.push(event.instance, {
            ...base,
            kind: 'process.crash-loop-left',
            state: null,
            message: `${event.instance} left its crash loop: ${event.reason}`,
            error: null,
          });
          return;
        case 'health':
          inOrder.push(event.instance, {
            ...base,
            kind: 'process.health',
            state: null,
            message: `${event.instance} is ${event.healthy ? 'healthy' : 'unhealthy'}: ${event.reason}`,
            error: null,
          });
          return;
        case 'error':
          inOrder.push(event.instance, {
            ...base,
            kind: 'process.error',
            state: null,
            message: event.message,
            error: { code: event.code, message: event.message, remedy: event.remedy },
          });
          return;
      }
    };

    const makeFleet = (
      m: Manifest,
      intent: FleetIntent,
      adoptMap: Record<string, { pid: number; startTime: string }>,
      restarts: Record<string, number>,
      operatorRestarts: Record<string, number>,
    ): FleetSupervisor => {
      const created: FleetSupervisor = new FleetSupervisor({
        manifest: m,
        driver,
        probe,
        intent,
        adopt: adoptMap,
        restarts,
        operatorRestarts,
        maxInstances: config.manifestLimits.maxInstances,
        onIntentChange: () => {
          if (created === fleet) scheduleSave();
        },
      });
      created.on(onSupervisorEvent);
      return created;
    };

    // The log collector's FIFOs and the lifelines of instances the fleet no longer has (removed, scaled away, renamed) go, so their directories do not grow.
    const removeStaleLogFifos = (): void =>
      driver.removeFifosExcept(new Set(fleet.snapshot().processes.flatMap((p) => p.instances.map((i) => i.instance))));

    await Promise.all(unwantedStops);
    fleet = makeFleet(manifest, saved.intent, adopt, saved.restarts ?? {}, saved.operatorRestarts ?? {});
    removeStaleLogFifos();
    fleet.startAll();
    // Started, not awaited: the save's fsync would hold the daemon's start until every start
    // batch had run, and the daemon must answer while a big manifest is still starting. A
    // daemon killed before the save lands adopts its children by their marker.
    void stateWriter.flush();

    const rotator = new LogRotator(logs, {
      // The collector rotates and caps at write time; the daemon's pass is then a backstop
      // (LogRotatorOptions.sizesEvery), every 60 ticks (a minute watched, five unwatched): a stat
      // of every log file every 10 s was a tenth of an idle daemon's CPU with 100 instances
      // (bench:runtime, issue 13).
      sizesEvery: driver.timestamps === 'collector' ? 60 : 1,
      onEvent: ({ instance, error }) =>
        publish({
          atMs: Date.now(),
          kind: 'logs.error',
          process: null,
          instance,
          state: null,
          message: error.message,
          error: error.toJSON(),
        }),
    });
    // Not started on a timer of its own: the metrics tick below runs its pass (afterTick), so
    // the idle daemon wakes once a tick for both (a second watched, five unwatched).

    // ---- metrics: the host and every instance's process group, each second while anyone
    // streams them and every 5 s while nobody does (metrics-service.ts says why) ------------
    const metricsInfoOf = new WeakMap<ProcessSupervisor, ProcessInfo>();
    const metrics = createMetricsService({
      processes: () => {
        const infos: ProcessInfo[] = [];
        fleet.eachInstance((name, supervisor) => {
          // One object per instance, refreshed every tick (the sampler reads it and keeps nothing of it): no garbage per instance per second.
          let info = metricsInfoOf.get(supervisor);
          if (info === undefined) {
            info = { instance: supervisor.instance, process: name, pid: null, restarts: 0, operatorRestarts: 0, startedAtMs: null };
            metricsInfoOf.set(supervisor, info);
          }
          info.pid = supervisor.running?.pid ?? null;
          info.restarts = supervisor.crashRestarts;
          info.operatorRestarts = supervisor.operatorRestartCount;
          info.startedAtMs = startedAtMsOfRunning(supervisor);
          info.logDroppedLines = driver.logDroppedLines(supervisor.instance) ?? undefined;
          infos.push(info);
        });
        return infos;
      },
      log: (message) => log.warn({ component: 'metrics' }, message),
      afterTick: () => rotator.tick(),
    });
    metrics.start();
    let metricsHttp: MetricsHttp | null = null;
    if (config.metrics !== null) {
      const colon = config.metrics.listen.lastIndexOf(':');
      const host = config.metrics.listen.slice(0, colon).replace(/^\[|\]$/g, '');
      try {
        metricsHttp = await startMetricsHttp({
          host,
          port: Number(config.metrics.listen.slice(colon + 1)),
          metrics,
          healthy: () => !closed,
        });
        log.info({ address: `${host}:${metricsHttp.port}` }, 'Prometheus metrics listening (/metrics, /healthz)');
      } catch (error) {
        daemonEvent(
          'metrics.error',
          `the metrics endpoint cannot listen on ${config.metrics.listen} (${(error as NodeJS.ErrnoException).code ?? String(error)}); supervision and the gRPC API continue`,
          new RuntimeError(
            'CONFIG_INVALID',
            `cannot listen on ${config.metrics.listen}`,
            'choose a free port in metrics.listen of the runtime config, or remove the metrics: section',
          ),
        );
      }
    }

    // ---- manifest updates ---------------------------------------------------------------
    let applying: Promise<void> = Promise.resolve();
    const applyManifest = async (text: string): Promise<void> => {
      const next = parseManifest(text, 'UpdateManifest', config.manifestLimits);
      // Persist first, so a restarted daemon runs what the operator sent.
      writeAtomically(config.manifest, text);
      const old = fleet;
      const diff = diffManifests(manifest, next);
      // Unchanged and scaled processes keep their running instances; only changed ones restart.
      const kept = new Set([...diff.unchanged, ...diff.scaled.map((s) => s.name)]);
      const oldIntent = old.intent();
      const running = new Map(old.snapshot().processes.map((p) => [p.name, p]));
      const intent: FleetIntent = {
        stopped: oldIntent.stopped.filter((name) => next.processes.some((p) => p.name === name)),
        replicas: {
          ...Object.fromEntries(Object.entries(oldIntent.replicas).filter(([name]) => diff.unchanged.includes(name))),
          // A scaled process comes back at the count it runs now, then scales to the manifest's.
          ...Object.fromEntries(diff.scaled.map((s) => [s.name, running.get(s.name)?.replicas ?? s.from])),
        },
      };
      // Kept processes keep running: their supervisors let go, the new fleet adopts them.
      const adoptMap: Record<string, { pid: number; startTime: string }> = {};
      const restarts: Record<string, number> = {};
      const operatorRestarts: Record<string, number> = {};
      for (const p of running.values()) {
        if (!kept.has(p.name)) continue;
        for (const i of p.instances) {
          restarts[i.instance] = i.restarts;
          operatorRestarts[i.instance] = i.operatorRestarts;
          if (i.pid !== null && i.startTime !== null && (i.state === 'running' || i.state === 'starting'))
            adoptMap[i.instance] = { pid: i.pid, startTime: i.startTime };
          old.instance(i.instance)?.dispose();
        }
      }
      // Removed and changed processes stop first (dependents first), then start anew.
      for (const name of stopOrder(manifest)) {
        if (!kept.has(name)) await old.stop(name);
      }
      manifest = next;
      manifestVersion = manifestVersionOf(text);
      fleet = makeFleet(next, intent, adoptMap, restarts, operatorRestarts);
      fleet.startAll();
      for (const s of diff.scaled) await fleet.scale(s.name, s.to);
      removeStaleLogFifos();
      await stateWriter.flush();
      const restarted = diff.changed.map((c) => `${c.name} (${c.fields.join(', ')})`);
      daemonEvent(
        'manifest.updated',
        `manifest ${manifestVersion} applied: ${diff.unchanged.length} unchanged` +
          `, ${diff.scaled.length} scaled${diff.scaled.length > 0 ? ` (${diff.scaled.map((s) => `${s.name} ${s.from}->${s.to}`).join(', ')})` : ''}` +
          `, ${diff.changed.length} restarted${restarted.length > 0 ? ` (${restarted.join('; ')})` : ''}` +
          `, ${diff.added.length} started, ${diff.removed.length} removed`,
      );
    };

    // ---- the API ------------------------------------------------------------------------
    const toWireLine = (instance: string, line: FileLogLine): InstanceLogLine => {
      const at = line.time === null ? NaN : Date.parse(line.time);
      return {
        atMs: Number.isFinite(at) ? at : Date.now(),
        instance,
        stream: line.stream === 'err' ? 'stderr' : 'stdout',
        text: line.text,
      };
    };
    const knownInstance = (instance: string): void => {
      if (fleet.instance(instance) !== undefined || logs.instances().includes(instance)) return;
      const names = fleet.snapshot().processes.flatMap((p) => p.instances.map((i) => i.instance));
      throw new RuntimeError('PROCESS_NOT_FOUND', `no instance named "${instance}"`, `use one of: ${names.join(', ') || '(none running)'}`);
    };

    const api: RuntimeApi = {
      info(): RuntimeInfo {
        return {
          runtimeVersion: RUNTIME_VERSION,
          startedAtMs,
          uptimeMs: Date.now() - startedAtMs,
          manifestVersion,
          bundleVersion: RUNTIME_VERSION === 'dev' ? null : RUNTIME_VERSION,
          host: {
            hostname: os.hostname(),
            platform: os.platform(),
            osRelease: os.release(),
            arch: os.arch(),
            cpuCount: os.availableParallelism(),
            memoryTotalBytes: os.totalmem(),
            nodeVersion: process.version,
          },
        };
      },
      listProcesses(): ProcessStatus[] {
        return fleet.snapshot().processes.map((p) => ({ name: p.name, replicas: p.replicas, instances: p.instances.map(instanceStatus) }));
      },
      async start(name) {
        fleet.start(name);
      },
      async stop(name) {
        await fleet.stop(name);
      },
      async restart(name) {
        fleet.restart(name);
      },
      async scale(name, replicas) {
        await fleet.scale(name, replicas);
        removeStaleLogFifos();
      },
      updateManifest(yaml) {
        const run = applying.then(() => applyManifest(yaml));
        applying = run.catch(() => undefined);
        return run;
      },
      watchEvents(sinceMs, onEvent): Unsubscribe {
        return feed.watch(sinceMs, onEvent);
      },
      streamMetrics(sinceMs, onSample): Unsubscribe {
        return metrics.stream(sinceMs, onSample);
      },
      tailLogs(instance, lines, follows, onLine, onEnd, maxBytes = 0): Unsubscribe {
        knownInstance(instance);
        if (!follows) {
          const last = maxBytes > 0 ? tailBytes(logs, instance, maxBytes) : tail(logs, instance, lines);
          for (const line of last) onLine(toWireLine(instance, line));
          onEnd();
          return () => undefined;
        }
        // The follow goes on exactly where the tail ended: no line written in between is lost or sent twice.
        const last = tailForFollow(logs, instance, lines);
        for (const line of last.lines) onLine(toWireLine(instance, line));
        return follow(
          logs,
          instance,
          (batch) => {
            for (const line of batch) onLine(toWireLine(instance, line));
          },
          { from: last.liveEnd },
        );
      },
      health() {
        return closed ? 'NOT_SERVING' : 'SERVING';
      },
    };

    // ---- the server (retried while its certificate or port is unusable) -------------------
    let server: RuntimeServer | null = null;
    let retryTimer: NodeJS.Timeout | undefined;
    const bringUpServer = async (): Promise<void> => {
      try {
        const tls = {
          caCertPem: readText(config.tls.ca, 'CA certificate', 'CERTIFICATE_INVALID'),
          certPem: readText(config.tls.cert, 'server certificate', 'CERTIFICATE_INVALID'),
          keyPem: readText(config.tls.key, 'server key', 'CERTIFICATE_INVALID'),
        };
        const started = await startRuntimeServer({
          address: config.listen,
          tls,
          api,
          logger: log,
          accessStateFile: path.join(config.stateDir, ACCESS_STATE_FILE),
          auditLogFile: path.join(config.stateDir, AUDIT_LOG_FILE),
          auditLimits: config.audit,
        });
        if (closed) {
          await started.close();
          return;
        }
        server = started;
      } catch (error) {
        const err =
          error instanceof RuntimeError
            ? error
            : new RuntimeError(
                'INTERNAL',
                `the runtime API could not start: ${String(error)}`,
                'see the daemon log; supervision continues meanwhile',
              );
        daemonEvent(
          'api.error',
          `${err.message}; the API is retried every ${Math.round((options.serverRetryMs ?? config.apiRetryMs) / 1000)} s and supervision continues`,
          err,
        );
        if (!closed) retryTimer = setTimeout(() => void bringUpServer(), options.serverRetryMs ?? config.apiRetryMs);
      }
    };
    await bringUpServer();
    const memoryTrim = startMemoryTrim();

    let closing: Promise<void> | undefined;
    const close = (stopChildren: boolean): Promise<void> => {
      closing ??= (async () => {
        if (retryTimer !== undefined) clearTimeout(retryTimer);
        memoryTrim.stop();
        metrics.stop();
        await metricsHttp?.close();
        await applying;
        if (stopChildren) {
          log.info({}, 'stopping every process in reverse dependency order');
          await fleet.stopAll();
          await stateWriter.flush({ ...currentState(), instances: {} });
        } else {
          await stateWriter.flush();
        }
        closed = true;
        stateWriter.close();
        await server?.close();
        // What the process's exit would do: the collector connection and held FIFOs go, and a
        // collector that dies now is not started again (an in-process daemon outlives close()).
        driver.close();
        lock.release();
        log.info(
          { stoppedChildren: stopChildren },
          stopChildren
            ? 'sutazai-runtime stopped with every process'
            : 'sutazai-runtime stopped; its processes keep running and are re-adopted on the next start',
        );
      })();
      return closing;
    };

    return {
      api,
      get server() {
        return server;
      },
      runtimeId,
      close,
    };
  }
}

/** The manifest process an instance name belongs to (`agent-2` -> agent). */
export function specOfInstance(manifest: Manifest, instance: string): ProcessSpec | undefined {
  return manifest.processes.find((p) => p.name === instance || new RegExp(`^${p.name.replace(/[-]/g, '\\-')}-\\d+$`).test(instance));
}

function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { mode: 0o640 });
    fs.renameSync(tmp, file);
  } catch (cause) {
    fs.rmSync(tmp, { force: true });
    throw new RuntimeError(
      'CONFIG_INVALID',
      `cannot write the new manifest to ${file} (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); nothing was changed`,
      `make ${path.dirname(file)} writable by the user sutazai-runtime runs as, or edit ${file} by hand and restart the daemon`,
      { cause },
    );
  }
}
