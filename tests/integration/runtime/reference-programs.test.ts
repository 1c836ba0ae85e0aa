/**
 * The reference SutazAI core and agent as they ship: bundled into single .cjs files with a
 * proto/ folder beside them, in a temp directory with no node_modules anywhere above it,
 * started with the plain Node binary as real processes. Every process is killed in
 * afterAll; every wait is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { credentials, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProgramProtos } from '../../../agents-runtime/programs/shared/protos';
import type { CoordinatorClient } from '../../../agents-runtime/src/generated/sutazai/core/v1/Coordinator';
import type { GetCountersResponse__Output } from '../../../agents-runtime/src/generated/sutazai/core/v1/GetCountersResponse';
import type { GetTaskResponse__Output } from '../../../agents-runtime/src/generated/sutazai/core/v1/GetTaskResponse';
import type { TaskInfo__Output } from '../../../agents-runtime/src/generated/sutazai/core/v1/TaskInfo';
import { toProcessSpec, type HealthSpec } from '../../../agents-runtime/src/manifest/manifest-schema';
import { checkGrpc } from '../../../agents-runtime/src/supervisor/health-checks';
import { makeTempDir } from '../../support/temp-dir';

const LEASE_MS = 1_500;
const AGENT_STOP_GRACE_MS = 3_000;
const EXIT_BOUND_MS = 8_000;

interface Program {
  name: string;
  child: ChildProcess;
  output: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

const dir = makeTempDir('sutazai-programs-');
const programs: Program[] = [];
const ports = { core: 0, agent1: 0, agent2: 0 };
const protos = loadProgramProtos(path.resolve('agents-runtime/proto'));
let coordinator: CoordinatorClient;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function start(name: string, file: 'core.cjs' | 'agent.cjs', env: Record<string, string>): Program {
  // A bare environment: nothing (NODE_OPTIONS, NODE_PATH, SUTAZAI_PROTO_DIR) leaks in from the test runner.
  const child = spawn(process.execPath, [file], {
    cwd: dir.path,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir.path, SUTAZAI_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const program: Program = { name, child, output: [], exited: false, exit: undefined as never };
  program.exit = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      program.exited = true;
      resolve({ code, signal });
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => program.output.push(...chunk.split('\n').filter((l) => l !== '')));
  }
  programs.push(program);
  return program;
}

function startCore(): Program {
  return start('core', 'core.cjs', {
    SUTAZAI_CORE_PORT: String(ports.core),
    SUTAZAI_CORE_LEASE_MS: String(LEASE_MS),
    SUTAZAI_CORE_MAX_WAIT_MS: '2000',
    SUTAZAI_CORE_STOP_GRACE_MS: '2000',
  });
}

function startAgent(instance: string, replica: number, port: number): Program {
  return start(instance, 'agent.cjs', {
    SUTAZAI_CORE_ADDRESS: `127.0.0.1:${ports.core}`,
    SUTAZAI_INSTANCE: instance,
    SUTAZAI_REPLICA: String(replica),
    SUTAZAI_AGENT_PORT: String(port),
    SUTAZAI_AGENT_TAKE_WAIT_MS: '1000',
    SUTAZAI_AGENT_STOP_GRACE_MS: String(AGENT_STOP_GRACE_MS),
  });
}

function logs(): string {
  return programs
    .map((p) => `--- ${p.name} (pid ${p.child.pid}${p.exited ? ', exited' : ''})\n${p.output.slice(-15).join('\n')}`)
    .join('\n');
}

/** Polls until `probe` returns a value that is not undefined; fails with the programs' logs after timeoutMs. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function expectExit(program: Program, code: number, withinMs: number): Promise<number> {
  const started = Date.now();
  const result = await Promise.race([program.exit, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), withinMs))]);
  if (result === 'timeout') throw new Error(`${program.name} did not exit within ${withinMs} ms\n${logs()}`);
  expect(result, `${program.name} exit\n${logs()}`).toEqual({ code, signal: null });
  return Date.now() - started;
}

function unary<Res>(
  start: (options: CallOptions, callback: (error: ServiceError | null, value?: Res) => void) => ClientUnaryCall,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    start({ deadline: Date.now() + 3_000 }, (error, value) => (error ? reject(error) : resolve(value as Res)));
  });
}

const counters = () => unary<GetCountersResponse__Output>((o, cb) => coordinator.GetCounters({}, o, cb));
async function taskInfo(taskId: string): Promise<TaskInfo__Output> {
  const { info } = await unary<GetTaskResponse__Output>((o, cb) => coordinator.GetTask({ taskId }, o, cb));
  if (info === null) throw new Error(`GetTask ${taskId}: no info`);
  return info;
}
const submit = async (request: { kind: string; payload?: string; repeat?: number; sleepMs?: number }) =>
  (await unary<{ taskId: string }>((o, cb) => coordinator.SubmitTask(request, o, cb))).taskId;

/** The status grpc.health.v1 Check reports, or 'DOWN' when nothing answers. */
async function healthStatus(port: number): Promise<string> {
  const client = new protos.grpc.health.v1.Health(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    return (await unary<{ status: string }>((o, cb) => client.Check({ service: '' }, o, cb))).status;
  } catch {
    return 'DOWN';
  } finally {
    client.close();
  }
}

/** The supervisor's own health check (agents-runtime/src/supervisor/health-checks.ts). */
function supervisorSaysHealthy(port: number): Promise<boolean> {
  const spec = toProcessSpec({ name: 'x', command: 'x', health: { type: 'grpc', port, timeout_ms: 1_000 } }).health as Extract<
    HealthSpec,
    { type: 'grpc' }
  >;
  return checkGrpc(spec, new AbortController().signal);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

beforeAll(async () => {
  const build = spawnSync(process.execPath, ['agents-runtime/programs/build-programs.mjs', '--out', dir.path], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(build.status, build.stdout + build.stderr).toBe(0);
  ports.core = await freePort();
  ports.agent1 = await freePort();
  ports.agent2 = await freePort();
  coordinator = new protos.sutazai.core.v1.Coordinator(`127.0.0.1:${ports.core}`, credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 500,
  });
});

afterAll(async () => {
  coordinator?.close();
  for (const program of programs) {
    if (!program.exited) program.child.kill('SIGKILL');
  }
  await Promise.race([Promise.all(programs.map((p) => p.exit)), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  dir.remove();
});

describe('reference SutazAI programs, bundled and run as real processes', () => {
  it('ships as single files that need no node_modules, only proto/ beside them', () => {
    for (const file of ['core.cjs', 'agent.cjs']) {
      const text = fs.readFileSync(path.join(dir.path, file), 'utf8');
      expect(text).not.toMatch(/require\(["']@grpc\//);
      expect(text).not.toMatch(/require\(["']protobufjs/);
    }
    expect(fs.existsSync(path.join(dir.path, 'proto/sutazai/core/v1/core.proto'))).toBe(true);
    expect(fs.existsSync(path.join(dir.path, 'proto/grpc/health/v1/health.proto'))).toBe(true);
    for (let d = dir.path; ; d = path.dirname(d)) {
      expect(fs.existsSync(path.join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
      if (path.dirname(d) === d) break;
    }
  });

  it('refuses to start, naming what is missing, without proto/ beside it', () => {
    const bare = makeTempDir('sutazai-programs-bare-');
    try {
      fs.copyFileSync(path.join(dir.path, 'core.cjs'), path.join(bare.path, 'core.cjs'));
      const run = spawnSync(process.execPath, ['core.cjs'], {
        cwd: bare.path,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/cannot find sutazai\/core\/v1\/core\.proto/);
    } finally {
      bare.remove();
    }
  });

  it('core and two agents come up: two alive agents, every health check SERVING', async () => {
    startCore();
    startAgent('agent-1', 1, ports.agent1);
    startAgent('agent-2', 2, ports.agent2);
    await waitFor('2 alive agents and SERVING everywhere', 20_000, async () => {
      const c = await counters();
      if (c.aliveAgents !== 2) return undefined;
      const healthy = await Promise.all([ports.core, ports.agent1, ports.agent2].map(supervisorSaysHealthy));
      return healthy.every(Boolean) ? true : undefined;
    });
    expect(await healthStatus(ports.agent1)).toBe('SERVING');
    expect(await healthStatus(ports.agent2)).toBe('SERVING');
  });

  it('runs 20 hash tasks to the right digests, and a fail task to FAILED', async () => {
    const tasks = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const payload = `payload-${i}-${randomBytes(4).toString('hex')}`;
        const repeat = i * 37;
        return { id: await submit({ kind: 'hash', payload, repeat }), expected: sha256(payload.repeat(Math.max(1, repeat))) };
      }),
    );
    const failId = await submit({ kind: 'fail', payload: 'on purpose' });
    const infos = await waitFor('20 hash tasks done', 20_000, async () => {
      const all = await Promise.all(tasks.map((t) => taskInfo(t.id)));
      return all.every((info) => info.state === 'TASK_STATE_DONE') ? all : undefined;
    });
    infos.forEach((info, i) => expect(info.output, `task ${i}`).toBe(tasks[i]!.expected));
    expect(new Set(infos.map((i) => i.agentId)).size).toBeGreaterThanOrEqual(1);
    const failed = await waitFor('the fail task', 10_000, async () => {
      const info = await taskInfo(failId);
      return info.state === 'TASK_STATE_FAILED' ? info : undefined;
    });
    expect(failed.output).toBe('failed on purpose: on purpose');
    expect(await counters()).toMatchObject({ doneTasks: '20', failedTasks: '1', queuedTasks: 0, runningTasks: 0 });
    await expect(submit({ kind: 'format-disk' })).rejects.toMatchObject({ code: 3 }); // INVALID_ARGUMENT
  });

  it('re-queues the task of an agent killed with SIGKILL mid-task once its lease expires; the other agent finishes it', async () => {
    const id = await submit({ kind: 'sleep', sleepMs: 2_500 });
    const running = await waitFor('the sleep task running', 10_000, async () => {
      const info = await taskInfo(id);
      return info.state === 'TASK_STATE_RUNNING' ? info : undefined;
    });
    const victim = programs.find((p) => p.name === running.agentId && !p.exited);
    const survivor = running.agentId === 'agent-1' ? 'agent-2' : 'agent-1';
    expect(victim, `holder ${running.agentId}`).toBeDefined();
    const killedAt = Date.now();
    victim!.child.kill('SIGKILL');
    expect(await victim!.exit).toEqual({ code: null, signal: 'SIGKILL' });

    const finished = await waitFor('the task finished by the other agent', 20_000, async () => {
      const info = await taskInfo(id);
      return info.state === 'TASK_STATE_DONE' ? info : undefined;
    });
    expect(finished).toMatchObject({ agentId: survivor, attempts: 2, output: 'slept 2500 ms' });
    // Not before the lease ran out, plus the second run of the task.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(LEASE_MS + 2_500 - 300);
    const c = await counters();
    expect(Number(c.requeuedTasks)).toBeGreaterThanOrEqual(1);
    expect(c.aliveAgents).toBe(1);
  });

  it('an agent reports NOT_SERVING while the core is down, and SERVING again once it re-registers with a new core', async () => {
    const survivorPort = programs.find((p) => p.name === 'agent-1')!.exited ? ports.agent2 : ports.agent1;
    const core = programs.find((p) => p.name === 'core' && !p.exited)!;
    core.child.kill('SIGTERM');
    await expectExit(core, 0, EXIT_BOUND_MS);
    expect(core.output.some((l) => l.includes('"msg":"stopped"'))).toBe(true);

    await waitFor('NOT_SERVING from the agent while the core is down', 10_000, async () =>
      (await healthStatus(survivorPort)) === 'NOT_SERVING' ? true : undefined,
    );
    expect(await supervisorSaysHealthy(survivorPort)).toBe(false);

    startCore();
    await waitFor('the agent registered with the new core and SERVING', 20_000, async () => {
      const c = await counters();
      return c.aliveAgents === 1 && (await healthStatus(survivorPort)) === 'SERVING' ? true : undefined;
    });
  });

  it('SIGTERM: an agent finishes its current task first and exits 0; the core exits 0', async () => {
    const agent = programs.find((p) => p.name.startsWith('agent-') && !p.exited)!;
    const id = await submit({ kind: 'sleep', sleepMs: 1_000 });
    await waitFor('the sleep task running', 10_000, async () => ((await taskInfo(id)).state === 'TASK_STATE_RUNNING' ? true : undefined));
    agent.child.kill('SIGTERM');
    const took = await expectExit(agent, 0, AGENT_STOP_GRACE_MS + EXIT_BOUND_MS);
    expect(took).toBeLessThan(AGENT_STOP_GRACE_MS + 3_000);
    expect(await taskInfo(id)).toMatchObject({ state: 'TASK_STATE_DONE', agentId: agent.name, output: 'slept 1000 ms' });
    expect(await counters()).toMatchObject({ aliveAgents: 0, registeredAgents: 0 }); // it deregistered

    const core = programs.find((p) => p.name === 'core' && !p.exited)!;
    core.child.kill('SIGTERM');
    await expectExit(core, 0, EXIT_BOUND_MS);
    expect(programs.every((p) => p.exited)).toBe(true);
  });
});
