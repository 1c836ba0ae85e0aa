import { ApiError, isApiError } from '../../../contract';
import { describeEndpoint } from '../../hosts/ssh/ssh-endpoint';
import type { ProcessStatus__Output } from '../../../../agents-runtime/src/wire';
import type { ExpectedProcess } from '../render/render-manifest';
import { messageOf, openRuntimeRoute, type RoutedConnection, type RuntimeRoute } from './runtime-route';

export interface WaitHealthyOptions {
  /** The host's fleet link when it is up, else the job's own SSH session (runtime-route.ts). */
  route: RuntimeRoute;
  expected: readonly ExpectedProcess[];
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export interface HealthVerdict {
  healthy: boolean;
  /** `core running 1/1, agent running 2/2`, or what is missing. */
  summary: string;
  /**
   * The instances that are not running, the likeliest culprits first: those that exited or
   * crash-loop, then those still starting (a health check that does not pass), then the rest
   * (stopped, or waiting for a process they depend on). A missing process counts by its name.
   */
  failing: string[];
  /** The manifest the runtime runs (GetInfo's manifest_version), where it was asked: the plan tells a manifest written but not yet sent. */
  manifestVersion?: string;
  /** Which way the runtime was asked, where it was (RoutedConnection's `via`). */
  via?: string;
}

/** The runtime reported every expected process healthy. */
export interface HealthPassed {
  /** `core running 1/1, agent running 2/2`. */
  summary: string;
  /** Which way the answer came, for the job's log (RoutedConnection's `via`). */
  via: string;
}

/** The runtime did not report healthy in time: what it last said, and which instances were not running. */
export class HealthTimeoutError extends ApiError {
  readonly failing: string[];
  /** False when the runtime's API never answered (the daemon's own output then says why). */
  readonly answered: boolean;

  constructor(message: string, remedy: string, failing: string[], answered: boolean) {
    super('INSTALL_UNHEALTHY', message, remedy);
    this.failing = failing;
    this.answered = answered;
  }
}

const CULPRIT_RANK: Record<string, number> = {
  PROCESS_STATE_CRASH_LOOP: 0,
  PROCESS_STATE_BACKOFF: 0,
  PROCESS_STATE_EXITED: 0,
  PROCESS_STATE_STARTING: 1,
};

/** A call of the health gate or the plan's look: a runtime slower than this is asked again (or counts as not answering). */
export const HEALTH_CALL_TIMEOUT_MS = 3_000;

/**
 * Judges the runtime's own report: every process the manifest names has its replicas,
 * and every instance is RUNNING (which the runtime reports only once its health check
 * passed). Pure, for the plan and for the wait below.
 */
export function judgeProcesses(processes: readonly ProcessStatus__Output[], expected: readonly ExpectedProcess[]): HealthVerdict {
  const parts: string[] = [];
  const failing: Array<{ instance: string; rank: number }> = [];
  let healthy = true;
  for (const want of expected) {
    const found = processes.find((p) => p.name === want.name);
    if (!found) {
      healthy = false;
      parts.push(`${want.name} missing`);
      failing.push({ instance: want.name, rank: 2 });
      continue;
    }
    for (const instance of found.instances) {
      if (instance.state !== 'PROCESS_STATE_RUNNING')
        failing.push({
          instance: instance.instance,
          rank: CULPRIT_RANK[instance.state] ?? (instance.restarts > 0 || instance.lastError ? 1 : 2),
        });
    }
    const running = found.instances.filter((i) => i.state === 'PROCESS_STATE_RUNNING').length;
    if (running < want.replicas || found.instances.length !== want.replicas) healthy = false;
    const others = found.instances
      .filter((i) => i.state !== 'PROCESS_STATE_RUNNING')
      .map(
        (i) =>
          `${i.instance} ${i.state.replace('PROCESS_STATE_', '').toLowerCase()}${i.lastError?.message ? ` (${i.lastError.message})` : ''}`,
      );
    parts.push(`${want.name} running ${running}/${want.replicas}${others.length > 0 ? `: ${others.join(', ')}` : ''}`);
  }
  // A stable sort: equal ranks keep the manifest's order (the core before its agents).
  return { healthy, summary: parts.join(', '), failing: failing.sort((a, b) => a.rank - b.rank).map((f) => f.instance) };
}

/**
 * One look (the plan's): the runtime's verdict, asked through the host's fleet link when it
 * is up, else the job's own session; a try over the link that fails is made once more over
 * the session. The verdict says which way it went. Throws when the runtime did not answer.
 */
export async function checkRuntimeOnce(route: RuntimeRoute, expected: readonly ExpectedProcess[]): Promise<HealthVerdict> {
  const ask = async ({ connection, via }: RoutedConnection): Promise<HealthVerdict> => {
    try {
      const [processes, info] = await Promise.all([connection.listProcesses(), connection.getInfo()]);
      return { ...judgeProcesses(processes, expected), manifestVersion: info.manifestVersion, via };
    } finally {
      await connection.close();
    }
  };
  const first = await openRuntimeRoute(route);
  try {
    return await ask(first);
  } catch (error) {
    if (!first.overLink) throw error;
    return ask(await openRuntimeRoute(route, `the fleet link failed while asking (${messageOf(error)})`));
  }
}

/**
 * Waits until the runtime on the host reports every expected process running and
 * healthy, polling until `timeoutMs`: through the host's fleet link when it is up, else
 * the job's own SSH session (TLS with the install's CA either way). A connection that
 * answers is kept; one that fails is opened again at the next try, by the way the link's
 * state then says, except that the try after a failure over the link goes over the
 * session. A runtime that does not answer yet (still starting) is asked again; at the
 * deadline the error says what was last seen.
 */
export async function waitHealthy(options: WaitHealthyOptions): Promise<HealthPassed> {
  const { route } = options;
  const where = describeEndpoint(route.session.endpoint);
  const deadline = Date.now() + options.timeoutMs;
  const pollMs = options.pollMs ?? 500;
  let routed: RoutedConnection | null = null;
  let notLink: string | undefined;
  let last: string;
  let failing: string[] = options.expected.map((p) => p.name);
  let answered = false;
  try {
    for (;;) {
      if (options.signal?.aborted)
        throw new ApiError('INSTALL_UNHEALTHY', `Waiting for the runtime on ${where} was cancelled.`, 'Apply again to resume.');
      try {
        if (routed === null) {
          routed = await openRuntimeRoute(route, notLink);
          notLink = undefined;
        }
        const verdict = judgeProcesses(await routed.connection.listProcesses(), options.expected);
        if (verdict.healthy) return { summary: verdict.summary, via: routed.via };
        last = verdict.summary;
        failing = verdict.failing;
        answered = true;
      } catch (error) {
        // A lost SSH session will not come back within this wait.
        if (route.session.lost !== null || route.session.closed) throw error;
        last = isApiError(error) ? error.message : String(error);
        if (routed?.overLink) notLink = `the try before over the fleet link failed (${last})`;
        await routed?.connection.close();
        routed = null;
      }
      if (Date.now() + pollMs > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await routed?.connection.close();
  }
  throw new HealthTimeoutError(
    `The runtime on ${where} did not report its processes healthy within ${Math.round(options.timeoutMs / 1000)} s: ${last}.`,
    "Look at the processes' logs under the install's log_dir on the host (and the daemon's own output), fix the cause, then apply again; install.health_timeout_seconds sets how long to wait.",
    failing,
    answered,
  );
}
