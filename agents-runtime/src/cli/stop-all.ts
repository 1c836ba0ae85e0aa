/**
 * `sutazai-runtime stop-all`: what systemd's ExecStop runs. The gRPC API has no "stop
 * everything" call, and stopping each process over StopProcess would record "stopped on
 * purpose" for all of them, so the next `systemctl start` would start nothing. Instead this
 * asks the daemon itself (SIGUSR2 to the pid in the state_dir's lock file) to stop every
 * process in reverse dependency order without touching the operator's intent, and waits
 * for it to exit. Whatever still carries this runtime's marker afterwards (no daemon was
 * running, or it died meanwhile) is stopped here, group by group, in the same order.
 */
import { lockOwner, runtimeIdFor } from '../daemon/daemon-lock';
import type { RuntimeConfig } from '../daemon/runtime-config';
import { specOfInstance } from '../daemon/runtime-daemon';
import { stopOrder } from '../manifest/dependency-order';
import type { Manifest } from '../manifest/manifest-schema';
import { parseManifest } from '../manifest/parse-manifest';
import { readCappedText } from '../yaml/read-capped-text';
import { YAML_FILE_LIMITS } from '../yaml/read-yaml';
import { stopProcessGroup } from '../process/group-stop';
import { INSTANCE_ENV, RUNTIME_ID_ENV } from '../process/process-driver';
import { isSameProcess, scanProcessesByEnv } from '../process/proc-identity';

export interface StopAllOptions {
  timeoutMs: number;
  out: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Returns the exit code: 0 when nothing of this runtime is left, 7 otherwise. */
export async function runStopAll(config: RuntimeConfig, options: StopAllOptions): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  const runtimeId = runtimeIdFor(config.stateDir);
  const owner = lockOwner(config.stateDir);
  if (owner !== null) {
    options.out(`asking sutazai-runtime (pid ${owner.pid}) to stop every process in reverse dependency order`);
    try {
      process.kill(owner.pid, 'SIGUSR2');
    } catch (error) {
      options.out(
        `could not signal pid ${owner.pid} (${(error as NodeJS.ErrnoException).code ?? String(error)}): run stop-all as the user the daemon runs as, or root`,
      );
      return 6;
    }
    while (isSameProcess(owner.pid, owner.startTime) && Date.now() < deadline) await sleep(100);
    if (isSameProcess(owner.pid, owner.startTime)) {
      options.out(`the daemon (pid ${owner.pid}) did not finish within ${options.timeoutMs} ms; stopping what is left directly`);
    } else {
      options.out('the daemon stopped every process and exited');
    }
  } else {
    options.out('no sutazai-runtime daemon holds this state_dir; stopping what a previous one left running');
  }

  const leftovers = scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId);
  if (leftovers.length === 0) {
    options.out('nothing of this runtime is running');
    return 0;
  }
  let manifest: Manifest | null = null;
  try {
    manifest = parseManifest(readCappedText(config.manifest, YAML_FILE_LIMITS.maxBytes), config.manifest, config.manifestLimits);
  } catch {
    manifest = null; // stop with SIGTERM and a 10 s grace
  }
  const groups = new Map<number, string>();
  for (const { stat, env } of leftovers) if (!groups.has(stat.pgid)) groups.set(stat.pgid, env.get(INSTANCE_ENV) ?? '');
  const order = manifest === null ? [] : stopOrder(manifest);
  const rank = (instance: string): number => {
    const spec = manifest === null ? undefined : specOfInstance(manifest, instance);
    return spec === undefined ? -1 : order.indexOf(spec.name);
  };
  const sorted = [...groups].sort((a, b) => rank(a[1]) - rank(b[1]));
  for (const [pgid, instance] of sorted) {
    const spec = manifest === null ? undefined : specOfInstance(manifest, instance);
    options.out(`stopping ${instance || 'unknown instance'} (process group ${pgid})`);
    await stopProcessGroup({ pgid, signal: spec?.stop.signal ?? 'SIGTERM', graceMs: spec?.stop.graceMs ?? 10_000 }).catch(() => undefined);
  }
  const still = scanProcessesByEnv(RUNTIME_ID_ENV, runtimeId);
  if (still.length > 0) {
    options.out(`still running: ${still.map(({ stat }) => stat.pid).join(', ')}; check them with ps -o pid,stat,wchan -p <pid>`);
    return 7;
  }
  options.out('every process of this runtime is stopped');
  return 0;
}
