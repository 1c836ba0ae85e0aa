/**
 * The three supervisors of the runtime benchmark (tests/bench/runtime.bench.ts), each set up
 * in its own directory under the run's temp dir to supervise `n` copies of PROGRAM with no
 * restart delay: our bundled sutazai-runtime daemon, PM2 (npm; private PM2_HOME) and
 * supervisord (Debian; private config, socket and logs). Every copy carries the environment
 * marker BENCH_ENV=<tag>, so it is found (and cleaned up) by marker, never by name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runtimeIdFor } from '../../agents-runtime/src/daemon/daemon-lock';
import { RUNTIME_LAUNCH_ENV, RUNTIME_NODE_FLAGS } from '../../agents-runtime/src/wire';
import { RUNTIME_ID_ENV } from '../../agents-runtime/src/process/process-driver';
import { listPids, parseEnviron, scanProcessesByEnv } from '../../agents-runtime/src/process/proc-identity';
import { LOGGER_ENV_KEY } from '../../agents-runtime/src/logs/bash-stamper';
import { COLLECTOR_ENV_KEY } from '../../agents-runtime/src/logs/log-collector';
import { makeRuntimeCerts } from '../support/runtime-certs';
import { BENCH_ENV, isAlive, killQuietly, PROGRAM, readyPrograms, sleep, waitUntil } from './runtime-bench-procs';

const START_TIMEOUT_MS = 120_000;

export interface Supervisor {
  name: string;
  /** Starts the daemon supervising `n` copies of PROGRAM marked `tag`; resolves once all are ready. */
  start(tag: string, n: number): Promise<void>;
  /** The supervisor's daemon process (ours: the runtime; PM2: its God daemon; supervisord itself). */
  daemonPid(): number;
  /** Processes the supervisor adds per instance besides the program (ours: the timestamping shims). */
  extraPids(): number[];
  /** Stops the daemon and every program; safe to call twice. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function allReady(tag: string, n: number, daemonAlive: () => boolean, who: string): Promise<void> {
  await waitUntil(
    `${n} copies of the program under ${who}`,
    () => {
      if (!daemonAlive()) throw new Error(`${who} exited while starting its programs`);
      return readyPrograms(tag).length >= n;
    },
    START_TIMEOUT_MS,
    200,
  );
}

// ---- ours ------------------------------------------------------------------------------

export interface OursOptions {
  bundle: string;
  dir: string;
  /** Default 'sutazai-runtime'; another bundle run beside it (BENCH_BASELINE_BUNDLE) gets its own. */
  name?: string;
  /** Node's command-line flags before the bundle (default: the shipped launchers', RUNTIME_NODE_FLAGS). */
  nodeFlags?: readonly string[];
}

/** The manifest caps replicas per process; 100 children are spread over several processes. */
const MAX_REPLICAS = 50;

export function ours(opts: OursOptions): Supervisor & { runtimeIds: string[]; metricsUrl(): string } {
  let daemon: ChildProcess | null = null;
  let configFile = '';
  let runtimeId = '';
  let metricsPort = 0;
  const runtimeIds: string[] = [];
  let round = 0;
  const certs = makeRuntimeCerts();
  const tls = path.join(opts.dir, 'tls');
  fs.mkdirSync(tls, { recursive: true });
  fs.writeFileSync(path.join(tls, 'ca.pem'), certs.ca.certPem);
  fs.writeFileSync(path.join(tls, 'server.pem'), certs.server.certPem);
  fs.writeFileSync(path.join(tls, 'server.key'), certs.server.keyPem, { mode: 0o600 });
  certs.remove();

  const stop = async (): Promise<void> => {
    if (configFile !== '' && daemon !== null) {
      spawnSync(process.execPath, [opts.bundle, 'stop-all', '--config', configFile, '--timeout-ms', '20000'], {
        stdio: 'ignore',
        timeout: 30_000,
      });
    }
    if (daemon !== null && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await sleep(100);
    }
    daemon = null;
    for (const id of runtimeIds) {
      for (const { stat } of scanProcessesByEnv(RUNTIME_ID_ENV, id)) {
        killQuietly(-stat.pgid);
        killQuietly(stat.pid);
      }
    }
  };

  return {
    name: opts.name ?? 'sutazai-runtime',
    runtimeIds,
    metricsUrl: () => `http://127.0.0.1:${metricsPort}/metrics`,
    async start(tag, n) {
      round += 1;
      const dir = path.join(opts.dir, `round-${round}`);
      fs.mkdirSync(dir, { recursive: true });
      const stateDir = path.join(dir, 'state');
      runtimeId = runtimeIdFor(stateDir);
      runtimeIds.push(runtimeId);
      metricsPort = await freePort();
      const processes: string[] = [];
      for (let i = 0, left = n; left > 0; i += 1, left -= MAX_REPLICAS) {
        processes.push(
          [
            `  - name: bench${i}`,
            `    command: ${PROGRAM.command}`,
            `    args: ${JSON.stringify(PROGRAM.args)}`,
            `    env: { ${BENCH_ENV}: "${tag}" }`,
            `    replicas: ${Math.min(left, MAX_REPLICAS)}`,
            // Zero delay, like PM2's restart_delay 0.
            '    restart: always',
            '    backoff: { initial_ms: 0, factor: 1, max_ms: 1, jitter: 0, reset_after_ms: 0 }',
            '    crash_loop: { after_restarts: 1000000000, within_ms: 1, retry_every_ms: 1 }',
            '    stop: { signal: SIGKILL, grace_ms: 0 }',
          ].join('\n'),
        );
      }
      fs.writeFileSync(path.join(dir, 'manifest.yaml'), `version: 1\nprocesses:\n${processes.join('\n')}\n`);
      configFile = path.join(dir, 'runtime.yaml');
      fs.writeFileSync(
        configFile,
        [
          'manifest: manifest.yaml',
          `listen: 127.0.0.1:${await freePort()}`,
          `tls: { ca: ${tls}/ca.pem, cert: ${tls}/server.pem, key: ${tls}/server.key }`,
          `state_dir: ${stateDir}`,
          `log_dir: ${path.join(dir, 'logs')}`,
          // Metrics sampling always runs (every 5 s here: nobody streams them); this section also serves them to Prometheus.
          `metrics: { listen: 127.0.0.1:${metricsPort} }`,
          '',
        ].join('\n'),
      );
      // The daemon's JSON log goes to a file, never to a pipe the benchmark's synchronous poll could leave full.
      const out = fs.openSync(path.join(dir, 'daemon.log'), 'a');
      // Started the way the shipped launchers start it (systemd unit, detached start script): same environment and Node flags.
      const child = spawn(process.execPath, [...(opts.nodeFlags ?? RUNTIME_NODE_FLAGS), opts.bundle, 'run', '--config', configFile], {
        cwd: dir,
        stdio: ['ignore', out, out],
        env: { ...process.env, ...RUNTIME_LAUNCH_ENV },
      });
      fs.closeSync(out);
      daemon = child;
      const alive = (): boolean => child.exitCode === null && child.signalCode === null;
      try {
        await allReady(tag, n, alive, 'sutazai-runtime');
      } catch (error) {
        throw new Error(`${(error as Error).message}; daemon log:\n${fs.readFileSync(path.join(dir, 'daemon.log'), 'utf8').slice(-2000)}`, {
          cause: error,
        });
      }
    },
    daemonPid: () => daemon?.pid ?? -1,
    extraPids() {
      // The log stamper loops (two per instance, marked `<runtime id>/<instance>`), and anything else
      // carrying this runtime's marker that is not the program (exec'd into sleep), e.g. Node shims.
      const loggers = listPids().filter((pid) => readEnvMarker(pid, LOGGER_ENV_KEY)?.startsWith(`${runtimeId}/`) === true);
      // The log collector (`timestamps: collector`): one for the whole runtime, marked with its id.
      const collectors = listPids().filter((pid) => readEnvMarker(pid, COLLECTOR_ENV_KEY) === runtimeId);
      const others = scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId)
        .filter(({ stat }) => stat.comm !== 'sleep')
        .map(({ stat }) => stat.pid);
      return [...loggers, ...collectors, ...others];
    },
    stop,
  };
}

/** The value of `key` in the exec-time environment of `pid`; null when unreadable or absent. */
function readEnvMarker(pid: number, key: string): string | null {
  try {
    return parseEnviron(fs.readFileSync(`/proc/${pid}/environ`, 'utf8')).get(key) ?? null;
  } catch {
    return null;
  }
}

// ---- PM2 -------------------------------------------------------------------------------

export function pm2(opts: { bin: string; dir: string }): Supervisor {
  const home = path.join(opts.dir, 'home');
  const env = { ...process.env, PM2_HOME: home, PM2_DISABLE_VERSION_CHECK: 'true' };
  let started = false;
  const cli = (args: string[]): void => {
    const r = spawnSync(opts.bin, args, { env, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0)
      throw new Error(`pm2 ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').slice(-1500)}`);
  };
  const godPid = (): number => {
    try {
      return Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim());
    } catch {
      return -1;
    }
  };
  return {
    name: 'PM2',
    async start(tag, n) {
      fs.mkdirSync(home, { recursive: true });
      const apps = Array.from({ length: n }, (_, i) => ({
        name: `bench${i}`,
        script: PROGRAM.command,
        args: [...PROGRAM.args],
        interpreter: 'none',
        exec_mode: 'fork',
        autorestart: true,
        restart_delay: 0,
        min_uptime: 0,
        max_restarts: 1_000_000_000,
        env: { [BENCH_ENV]: tag },
      }));
      const file = path.join(opts.dir, `ecosystem-${tag}.json`);
      fs.writeFileSync(file, JSON.stringify({ apps }, null, 2));
      started = true;
      cli(['start', file]);
      await allReady(tag, n, () => isAlive(godPid()), 'PM2');
    },
    daemonPid: godPid,
    extraPids: () => [],
    async stop() {
      if (!started) return;
      started = false;
      spawnSync(opts.bin, ['kill'], { env, stdio: 'ignore', timeout: 60_000 });
      const pid = godPid();
      if (pid > 0) killQuietly(pid);
    },
  };
}

// ---- supervisord -----------------------------------------------------------------------

export function supervisord(opts: { bin: string; dir: string }): Supervisor {
  let daemon: ChildProcess | null = null;
  let round = 0;
  return {
    name: 'supervisord',
    async start(tag, n) {
      round += 1;
      const dir = path.join(opts.dir, `round-${round}`);
      fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
      const command = [PROGRAM.command, ...PROGRAM.args.map((a) => (/\s|;/.test(a) ? `"${a}"` : a))].join(' ');
      const config = path.join(dir, 'supervisord.conf');
      fs.writeFileSync(
        config,
        [
          '[unix_http_server]',
          `file=${dir}/supervisor.sock`,
          '[supervisord]',
          `logfile=${dir}/supervisord.log`,
          `pidfile=${dir}/supervisord.pid`,
          `childlogdir=${dir}/logs`,
          'nodaemon=true',
          // Running as root without user= only logs a CRIT line; it is the same user as the others.
          '[rpcinterface:supervisor]',
          'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
          '[supervisorctl]',
          `serverurl=unix://${dir}/supervisor.sock`,
          '[program:bench]',
          `command=${command}`,
          `numprocs=${n}`,
          'process_name=%(program_name)s_%(process_num)03d',
          'autostart=true',
          'autorestart=true',
          'startsecs=0',
          'startretries=1000000000',
          'stopsignal=KILL',
          `environment=${BENCH_ENV}="${tag}"`,
          'redirect_stderr=true',
          `stdout_logfile=${dir}/logs/%(program_name)s_%(process_num)03d.log`,
          '',
        ].join('\n'),
      );
      const child = spawn(opts.bin, ['-n', '-c', config], { cwd: dir, stdio: 'ignore' });
      daemon = child;
      await allReady(tag, n, () => child.exitCode === null && child.signalCode === null, 'supervisord');
    },
    daemonPid: () => daemon?.pid ?? -1,
    extraPids: () => [],
    async stop() {
      const child = daemon;
      daemon = null;
      if (child === null || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const deadline = Date.now() + 20_000;
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(50);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
