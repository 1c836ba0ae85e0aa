/**
 * The default manifest end to end: the bundled daemon (sutazai-runtime.cjs) supervising the
 * bundled reference programs (core.cjs, agent.cjs), all in one temp dir with no
 * node_modules above it, started with plain `node`. The manifest is agents-runtime/manifests/
 * default.yaml with only what a test must change: free ports, `command: node`, the temp
 * dir as `cwd`, shorter leases and health intervals. Driven over the daemon's gRPC API with
 * an operator certificate, and over the core's Coordinator API (plaintext loopback).
 * Every wait is bounded; afterAll kills the daemon and every process carrying its marker.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadProgramProtos } from '../../../agents-runtime/programs/shared/protos';
import type { CoordinatorClient } from '../../../agents-runtime/src/generated/sutazai/core/v1/Coordinator';
import type { GetCountersResponse__Output } from '../../../agents-runtime/src/generated/sutazai/core/v1/GetCountersResponse';
import type { GetTaskResponse__Output } from '../../../agents-runtime/src/generated/sutazai/core/v1/GetTaskResponse';
import type { TaskInfo__Output } from '../../../agents-runtime/src/generated/sutazai/core/v1/TaskInfo';
import type { InstanceStatus__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/InstanceStatus';
import type { ListProcessesResponse__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ListProcessesResponse';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import { RUNTIME_ID_ENV } from '../../../agents-runtime/src/process/process-driver';
import { scanProcessesByEnv } from '../../../agents-runtime/src/process/proc-identity';
import { freePorts } from '../../support/free-ports';
import { makeRuntimeCerts, type RuntimeCerts } from '../../support/runtime-certs';
import {
  buildRuntimeBundle,
  daemonLayout,
  instanceLeaders,
  killDaemonsAndInstances,
  REPO_ROOT,
  runtimeClient,
  startBundledDaemon,
  writeDaemonFiles,
  type BundledDaemon,
} from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const CALL_MS = 5_000;
/** Generous: the machine may be running another full test suite at the same time. */
const UP_MS = 30_000;
const LEASE_MS = 4_000;
const RUNNING = 'PROCESS_STATE_RUNNING';

const tmp = makeTempDir('sutazai-default-manifest-');
const { bundleDir, bundle, stateDir, logDir, configFile, runtimeId } = daemonLayout(tmp.path);
const programProtos = loadProgramProtos(path.join(REPO_ROOT, 'agents-runtime/proto'));
const ports = { daemon: 0, core: 0, agentBase: 0 };
let certs: RuntimeCerts | undefined;
let coordinator: CoordinatorClient | undefined;
const clients: grpc.Client[] = [];
const daemons: ChildProcess[] = [];

let daemon: BundledDaemon | undefined;

afterAll(() => {
  coordinator?.close();
  for (const c of clients) c.close();
  killDaemonsAndInstances(daemons, runtimeId);
  certs?.remove();
  tmp.remove();
});

function diagnostics(): string {
  const tail = (daemon?.lines ?? []).slice(-25).map((l) => JSON.stringify(l));
  return `\n--- daemon (last lines)\n${tail.join('\n')}`;
}

const waitFor = makeWaitFor({ timeoutMs: UP_MS, pollMs: 150, retryErrors: true, diagnostics });

function startDaemon(): BundledDaemon {
  const d = startBundledDaemon(bundle, configFile, tmp.path);
  daemons.push(d.child);
  return d;
}

function unary<Res>(
  call: (options: grpc.CallOptions, cb: (error: grpc.ServiceError | null, value?: Res) => void) => unknown,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    call({ deadline: Date.now() + CALL_MS }, (error, value) => (error ? reject(error) : resolve(value as Res)));
  });
}

let operator: RuntimeClient;

const list = (): Promise<ListProcessesResponse__Output> =>
  unary<ListProcessesResponse__Output>((o, cb) => operator.ListProcesses({}, o, cb));

function instances(res: ListProcessesResponse__Output, name: string): InstanceStatus__Output[] {
  return res.processes.find((p) => p.name === name)?.instances ?? [];
}

function instance(res: ListProcessesResponse__Output, name: string): InstanceStatus__Output | undefined {
  for (const p of res.processes) {
    const found = p.instances.find((i) => i.instance === name);
    if (found) return found;
  }
  return undefined;
}

/** The listing once core and `agents` agent instances are all running. */
function allRunning(agents: number): Promise<ListProcessesResponse__Output> {
  return waitFor(`core and ${agents} agents running`, async () => {
    const res = await list();
    const core = instances(res, 'core');
    const agentList = instances(res, 'agent');
    const ok =
      core.length === 1 &&
      core[0]!.state === RUNNING &&
      agentList.length === agents &&
      agentList.every((i) => i.state === RUNNING && i.pid > 0);
    return ok ? res : undefined;
  });
}

const leaders = (): Map<string, number[]> => instanceLeaders(runtimeId);

const counters = (): Promise<GetCountersResponse__Output> =>
  unary<GetCountersResponse__Output>((o, cb) => coordinator!.GetCounters({}, o, cb));
const aliveAgents = (n: number, timeoutMs = UP_MS): Promise<GetCountersResponse__Output> =>
  waitFor(
    `${n} alive agents at the core`,
    async () => {
      const c = await counters();
      return c.aliveAgents === n ? c : undefined;
    },
    timeoutMs,
  );

async function taskInfo(taskId: string): Promise<TaskInfo__Output> {
  const { info } = await unary<GetTaskResponse__Output>((o, cb) => coordinator!.GetTask({ taskId }, o, cb));
  if (info === null) throw new Error(`GetTask ${taskId}: no info`);
  return info;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Submits `count` hash tasks and waits until all are done with the right digest; returns the agents that ran them. */
async function runHashTasks(count: number): Promise<Set<string>> {
  const tasks = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const payload = `default-manifest-${i}-${randomBytes(4).toString('hex')}`;
      const repeat = 1 + i * 13;
      const { taskId } = await unary<{ taskId: string }>((o, cb) => coordinator!.SubmitTask({ kind: 'hash', payload, repeat }, o, cb));
      return { taskId, expected: sha256(payload.repeat(repeat)) };
    }),
  );
  const infos = await waitFor(`${count} hash tasks done`, async () => {
    const all = await Promise.all(tasks.map((t) => taskInfo(t.taskId)));
    return all.every((info) => info.state === 'TASK_STATE_DONE' || info.state === 'TASK_STATE_FAILED') ? all : undefined;
  });
  infos.forEach((info, i) => {
    expect(info.state, `task ${i}: ${info.output}`).toBe('TASK_STATE_DONE');
    expect(info.output, `task ${i}`).toBe(tasks[i]!.expected);
  });
  return new Set(infos.map((i) => i.agentId));
}

/** default.yaml, with only what a test has to change. */
function testManifest(): string {
  const manifest = parseYaml(fs.readFileSync(path.join(REPO_ROOT, 'agents-runtime/manifests/default.yaml'), 'utf8')) as {
    version: number;
    processes: Array<
      Record<string, unknown> & {
        name: string;
        env: Record<string, unknown>;
        health: Record<string, unknown>;
        stop: Record<string, unknown>;
      }
    >;
  };
  const core = manifest.processes.find((p) => p.name === 'core')!;
  const agent = manifest.processes.find((p) => p.name === 'agent')!;
  expect(manifest.processes.map((p) => p.name)).toEqual(['core', 'agent']);
  expect(agent.depends_on).toEqual(['core']);
  expect(agent.replicas).toBe(2);
  expect(core.health.type).toBe('grpc');
  expect(agent.health.type).toBe('grpc');

  for (const p of [core, agent]) {
    p.command = process.execPath;
    p.cwd = bundleDir;
    p.env.SUTAZAI_LOG_LEVEL = 'debug';
    Object.assign(p.health, { interval_ms: 500, timeout_ms: 2_000, start_period_ms: 15_000 });
    p.stop = { ...p.stop, grace_ms: 6_000 };
  }
  Object.assign(core.env, {
    SUTAZAI_CORE_PORT: ports.core,
    SUTAZAI_CORE_LEASE_MS: LEASE_MS,
    SUTAZAI_CORE_MAX_WAIT_MS: 2_000,
    SUTAZAI_CORE_STOP_GRACE_MS: 2_000,
  });
  core.health.port = ports.core;
  Object.assign(agent.env, {
    SUTAZAI_CORE_ADDRESS: `127.0.0.1:${ports.core}`,
    SUTAZAI_AGENT_BASE_PORT: ports.agentBase,
    SUTAZAI_AGENT_TAKE_WAIT_MS: 1_000,
    SUTAZAI_AGENT_STOP_GRACE_MS: 3_000,
  });
  agent.health.port = ports.agentBase;
  return stringifyYaml(manifest);
}

beforeAll(async () => {
  buildRuntimeBundle(bundleDir, 90_000);
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'agents-runtime/programs/build-programs.mjs'), '--out', bundleDir], {
    cwd: REPO_ROOT,
    stdio: 'pipe',
    timeout: 90_000,
  });
  certs = makeRuntimeCerts();
  ports.daemon = await freePorts(1);
  ports.core = await freePorts(1);
  ports.agentBase = await freePorts(3); // replicas 1..3 after the scale-up
  writeDaemonFiles({ configFile, manifest: testManifest(), listenPort: ports.daemon, stateDir, logDir, certs });
  operator = runtimeClient(ports.daemon, certs.ca.certPem, certs.operator);
  clients.push(operator as unknown as grpc.Client);
  coordinator = new programProtos.sutazai.core.v1.Coordinator(`127.0.0.1:${ports.core}`, grpc.credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 500,
  });
}, 180_000);

describe('the default manifest under the bundled daemon (reference core + agents, real processes)', () => {
  it('the daemon and both programs ship into one directory with no node_modules above it', () => {
    for (const file of [
      'sutazai-runtime.cjs',
      'core.cjs',
      'agent.cjs',
      'proto/sutazai/runtime/v1/runtime.proto',
      'proto/sutazai/core/v1/core.proto',
      'proto/grpc/health/v1/health.proto',
    ]) {
      expect(fs.existsSync(path.join(bundleDir, file)), file).toBe(true);
    }
    for (let d = bundleDir; ; d = path.dirname(d)) {
      expect(fs.existsSync(path.join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
      if (path.dirname(d) === d) break;
    }
  });

  it('starts the core, then (health-gated) both agents; they register with the core', async () => {
    daemon = startDaemon();
    const d = daemon;
    await waitFor('the daemon to be ready', () => {
      if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}`);
      return d.lines.some((l) => l.msg === 'sutazai-runtime ready');
    });
    const res = await allRunning(2);
    const core = instance(res, 'core')!;
    const agents = instances(res, 'agent');
    expect(agents.map((a) => a.instance).sort()).toEqual(['agent-1', 'agent-2']);

    // Health gating, from the daemon's own event log (every published event, in order, from
    // the start): the core became running (= its grpc health check passed) before any agent
    // instance left `stopped`.
    const events = d.lines.filter((l) => l.event === 'process.state' || l.event === 'process.health');
    const coreRunning = events.findIndex((l) => l.event === 'process.state' && l.instance === 'core' && l.state === 'running');
    const coreHealthy = events.findIndex(
      (l) => l.event === 'process.health' && l.instance === 'core' && String(l.msg).includes('is healthy'),
    );
    const firstAgent = events.findIndex((l) => l.process === 'agent');
    expect(coreRunning, JSON.stringify(events)).toBeGreaterThanOrEqual(0);
    expect(firstAgent, JSON.stringify(events)).toBeGreaterThan(coreRunning);
    expect(coreHealthy, JSON.stringify(events)).toBeGreaterThanOrEqual(0);
    expect(firstAgent).toBeGreaterThan(coreHealthy);
    // Every agent instance entered `starting` only after the core was healthy, in the
    // daemon's own event order (no clock comparison: on a busy machine /proc's 10 ms ticks
    // and the daemon's clock drift apart by more than any fixed slack).
    const agentStarts = events.flatMap((l, i) =>
      l.event === 'process.state' && l.process === 'agent' && l.state === 'starting' ? [i] : [],
    );
    expect(agentStarts.length, JSON.stringify(events)).toBeGreaterThanOrEqual(2);
    for (const i of agentStarts) expect(i).toBeGreaterThan(coreHealthy);
    // And from the listing: each agent was spawned after the core (order of /proc start times).
    for (const a of agents) expect(Number(a.startedAtMs)).toBeGreaterThan(Number(core.startedAtMs));

    const l = leaders();
    expect(l.get('core')).toEqual([core.pid]);
    for (const a of agents) expect(l.get(a.instance)).toEqual([a.pid]);
    await aliveAgents(2);
  });

  it('runs 10 hash tasks submitted to the core to the right sha256', async () => {
    const ran = await runHashTasks(10);
    for (const agentId of ran) expect(['agent-1', 'agent-2']).toContain(agentId);
    expect(await counters()).toMatchObject({ doneTasks: '10', failedTasks: '0', queuedTasks: 0, runningTasks: 0 });
  });

  it('ScaleProcess agent to 3: a third agent is listed by the daemon and registers with the core', async () => {
    await unary((o, cb) => operator.ScaleProcess({ name: 'agent', replicas: 3 }, o, cb));
    const res = await allRunning(3);
    expect(
      instances(res, 'agent')
        .map((a) => a.instance)
        .sort(),
    ).toEqual(['agent-1', 'agent-2', 'agent-3']);
    expect(res.processes.find((p) => p.name === 'agent')?.replicas).toBe(3);
    await aliveAgents(3);
    expect(leaders().get('agent-3')).toEqual([instance(res, 'agent-3')!.pid]);
  });

  it('RestartProcess core: a new core, the agents register again, tasks still run', async () => {
    const before = await counters();
    const oldPid = instance(await list(), 'core')!.pid;
    await unary((o, cb) => operator.RestartProcess({ name: 'core' }, o, cb));
    await waitFor('a new core running', async () => {
      const c = instance(await list(), 'core');
      return c?.state === RUNNING && c.pid !== oldPid && c.pid > 0 ? c : undefined;
    });
    await waitFor('a new core answering', async () => {
      const c = await counters();
      return c.coreId !== before.coreId ? c : undefined;
    });
    await aliveAgents(3);
    await allRunning(3);
    await runHashTasks(10);
  });

  it('kill -9 of an agent: the daemon starts it again (new pid, restarts counted) and it is alive at the core', async () => {
    const res = await allRunning(3);
    const victim = instance(res, 'agent-2')!;
    process.kill(victim.pid, 'SIGKILL');
    const back = await waitFor('agent-2 running with a new pid', async () => {
      const i = instance(await list(), 'agent-2');
      return i?.state === RUNNING && i.pid > 0 && i.pid !== victim.pid ? i : undefined;
    });
    expect(back.restarts).toBeGreaterThanOrEqual(1);
    expect(back.restarts).toBeGreaterThan(victim.restarts);
    expect(leaders().get('agent-2')).toEqual([back.pid]);
    await aliveAgents(3);
    await runHashTasks(3);
  });

  it('`sutazai-runtime stop-all` stops every process and the daemon; nothing is left', async () => {
    const r = spawnSync(process.execPath, [bundle, 'stop-all', '--config', configFile], {
      cwd: tmp.path,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const code = await Promise.race([daemon!.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    expect(code).toBe(0);
    expect(scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId)).toEqual([]);
  });
});
