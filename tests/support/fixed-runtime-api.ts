// A RuntimeApi with a fixed answer for each read and a record of each change asked for:
// what the runtime's gRPC server serves in tests that are about the path to it (TLS,
// roles, the SSH tunnel), not about supervising processes.
import os from 'node:os';
import { RuntimeError } from '../../agents-runtime/src/runtime-error';
import type { RuntimeInfo } from '../../agents-runtime/src/daemon/runtime-info';
import type { RuntimeApi } from '../../agents-runtime/src/server/runtime-api';
import type { ProcessStatus } from '../../agents-runtime/src/supervisor/process-status';

export const FIXED_RUNTIME_VERSION = '0.1.0-fixed';

export class FixedRuntimeApi implements RuntimeApi {
  /** Every change that reached the API, e.g. `restart core`. */
  readonly changes: string[] = [];
  private readonly startedAtMs = Date.now();

  info(): RuntimeInfo {
    return {
      runtimeVersion: FIXED_RUNTIME_VERSION,
      startedAtMs: this.startedAtMs,
      uptimeMs: Date.now() - this.startedAtMs,
      manifestVersion: 'fixed-1',
      bundleVersion: null,
      host: {
        hostname: os.hostname(),
        platform: process.platform,
        osRelease: os.release(),
        arch: process.arch,
        cpuCount: os.cpus().length,
        memoryTotalBytes: os.totalmem(),
        nodeVersion: process.version,
      },
    };
  }
  listProcesses(): ProcessStatus[] {
    return [
      {
        name: 'core',
        replicas: 1,
        instances: [
          {
            instance: 'core-1',
            state: 'running',
            pid: process.pid,
            restarts: 0,
            startedAtMs: this.startedAtMs,
            exitCode: null,
            lastError: null,
          },
        ],
      },
    ];
  }
  private change(what: string, name: string): Promise<void> {
    if (name !== 'core')
      return Promise.reject(new RuntimeError('PROCESS_NOT_FOUND', `no process named ${name}`, 'pick a process from ListProcesses'));
    this.changes.push(`${what} ${name}`);
    return Promise.resolve();
  }
  start(name: string): Promise<void> {
    return this.change('start', name);
  }
  stop(name: string): Promise<void> {
    return this.change('stop', name);
  }
  restart(name: string): Promise<void> {
    return this.change('restart', name);
  }
  scale(name: string, replicas: number): Promise<void> {
    return this.change(`scale(${replicas})`, name);
  }
  updateManifest(): Promise<void> {
    this.changes.push('updateManifest');
    return Promise.resolve();
  }
  watchEvents(): () => void {
    return () => {};
  }
  streamMetrics(): () => void {
    return () => {};
  }
  tailLogs(_instance: string, _lines: number, _follow: boolean, _onLine: unknown, onEnd: (error?: Error) => void): () => void {
    queueMicrotask(() => onEnd());
    return () => {};
  }
  health(): 'SERVING' {
    return 'SERVING';
  }
}
