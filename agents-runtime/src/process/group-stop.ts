import { constants as osConstants } from 'node:os';
import { RuntimeError } from '../runtime-error';
import { processGroupMembers, readProcStat, type ProcStat } from './proc-identity';

/**
 * Stops an instance the way systemd's KillMode=control-group does, with process groups
 * instead of cgroups: signal the whole group, wait the grace period for every member to
 * be gone, then SIGKILL whatever is left (re-scanning, so processes forked meanwhile are
 * caught too), and wait (bounded) until nothing remains.
 *
 * Escapes: a descendant that called setsid()/setpgid() has left the group, so a group
 * signal misses it. `escapees()` finds them by the instance marker in their exec-time
 * environment (see process-driver.ts) and they get the same signals. A process that both
 * leaves the group and scrubs its environment is invisible without cgroups; that is the
 * remaining gap, and the reason a cgroup-per-instance backend would be the next step.
 */
export interface GroupStopOptions {
  pgid: number;
  signal: string;
  graceMs: number;
  /** Extra processes of this instance outside the group (setsid escapes). */
  escapees?: () => ProcStat[];
  /** True once the leader is gone for good (for our own child: after its exit was reaped). */
  leaderGone?: () => boolean;
  pollMs?: number;
  /** How long to wait after SIGKILL before giving up (a process in D state). */
  killWaitMs?: number;
}

export interface GroupStopResult {
  /** True when the grace period ran out and SIGKILL was needed. */
  killed: boolean;
  /** Pids still present after the SIGKILL wait (normally empty). */
  survivors: number[];
}

export function assertSignal(signal: string): NodeJS.Signals {
  if (!Object.prototype.hasOwnProperty.call(osConstants.signals, signal)) {
    throw new RuntimeError(
      'CONFIG_INVALID',
      `unknown stop signal ${JSON.stringify(signal)}`,
      'use a signal name such as SIGTERM, SIGINT or SIGQUIT',
    );
  }
  return signal as NodeJS.Signals;
}

export async function stopProcessGroup(options: GroupStopOptions): Promise<GroupStopResult> {
  const signal = assertSignal(options.signal);
  const pollMs = options.pollMs ?? 50;
  const escapees = options.escapees ?? (() => []);
  const leaderGone = options.leaderGone ?? (() => true);
  const remaining = (): number[] => {
    const pids = new Set(processGroupMembers(options.pgid));
    for (const e of escapees()) pids.add(e.pid);
    return [...pids];
  };

  signalAll(options.pgid, escapees(), signal);
  const deadline = Date.now() + Math.max(0, options.graceMs);
  while (Date.now() < deadline) {
    if (remaining().length === 0 && leaderGone()) return { killed: false, survivors: [] };
    await sleep(pollMs);
  }

  const killDeadline = Date.now() + (options.killWaitMs ?? 5000);
  let left = remaining();
  while (left.length > 0 || !leaderGone()) {
    signalAll(options.pgid, escapees(), 'SIGKILL');
    for (const pid of left) trySignal(pid, 'SIGKILL');
    if (Date.now() >= killDeadline) break;
    await sleep(pollMs);
    left = remaining();
  }
  return { killed: true, survivors: left };
}

function signalAll(pgid: number, escapees: ProcStat[], signal: NodeJS.Signals): void {
  trySignal(-pgid, signal);
  for (const e of escapees) {
    // An escapee that leads its own group takes its group with it.
    const stat = readProcStat(e.pid);
    if (stat !== null && stat.startTicks === e.startTicks) {
      if (stat.pgid === stat.pid && stat.pid !== pgid) trySignal(-stat.pid, signal);
      trySignal(stat.pid, signal);
    }
  }
}

function trySignal(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // ESRCH: already gone; EPERM: not ours to kill (reported as a survivor)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
