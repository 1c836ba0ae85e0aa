import { RuntimeError } from '../runtime-error';

/**
 * The states of one supervised instance, named for what an operator sees (supervisord's
 * STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED), except that supervisord's FATAL,
 * which gives up for good, is replaced by `crash-loop`, which keeps retrying slowly.
 */
export const STATES = ['stopped', 'starting', 'running', 'backoff', 'stopping', 'exited', 'crash-loop'] as const;
export type State = (typeof STATES)[number];

/** What can happen to an instance. The supervisor's policy picks the event; the table picks the state. */
export const EVENT_KINDS = [
  'start',
  'restart',
  'stop',
  'healthy',
  'unhealthy',
  'retry',
  'exit',
  'crash-loop',
  'wait-elapsed',
  'stop-done',
  'restart-ready',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * Every transition there is. A pair missing from this table is a bug in the supervisor,
 * and `nextState` throws on it.
 *
 * stopped     — not running, and not meant to be: stopped on purpose, never started yet,
 *               or waiting for its dependencies.
 *   start        → starting    the operator (or the fleet, in dependency order) starts it.
 *   restart      → starting    a restart of a stopped instance is a start.
 * starting    — the process was spawned (or is being spawned) and is not yet healthy.
 *   healthy      → running     its health check passed `healthy_threshold` times in a row
 *                              (checked every `start_interval_ms` within the start period);
 *                              without a health check, as soon as the spawn succeeds.
 *   retry        → backoff     the command could not be spawned, or the process exited (or
 *                              failed its health check past `start_period_ms`), and the
 *                              restart policy restarts it: it waits out the backoff delay.
 *   exit         → exited      the process exited and the restart policy does not restart it
 *                              (`never`, or `on-failure` after exit code 0).
 *   crash-loop   → crash-loop  it failed more than `crash_loop.after_restarts` times within
 *                              `crash_loop.within_ms`: a crash-loop event is raised.
 *   unhealthy    → stopping    its health check failed `unhealthy_threshold` times after the
 *                              start period: it is stopped, then the restart policy decides.
 *   stop         → stopping    the operator stops it: the stop signal goes to its group.
 *   restart      → stopping    the operator restarts it: stopped first, then started.
 * running     — up, and healthy if it has a health check.
 *   retry / exit / crash-loop / unhealthy / stop / restart: as in starting.
 * backoff     — it failed and waits `backoff` (capped exponential, with jitter) before the
 *               next start. Nothing is running.
 *   wait-elapsed → starting    the delay is over: it is started again.
 *   start        → starting    the operator starts it now, without waiting.
 *   restart      → starting    same as start.
 *   stop         → stopped     the operator stops it: the pending restart is cancelled.
 * crash-loop  — it failed too often too fast. Unlike supervisord's FATAL it is not given up
 *               on: it is retried every `crash_loop.retry_every_ms`. Nothing is running.
 *   wait-elapsed → starting    the long interval is over: one more try.
 *   start / restart → starting the operator starts it now (and clears the crash count).
 *   stop         → stopped     the operator stops it: no more retries.
 * stopping    — the stop signal was sent to the process group; after `stop.grace_ms` the
 *               group is killed (systemd's TimeoutStopSec and KillMode=control-group).
 *   stop-done    → stopped     the process group is gone after an operator stop.
 *   restart-ready → starting   the process group is gone after an operator restart.
 *   retry        → backoff     it was stopped for failing its health check and the restart
 *                              policy restarts it.
 *   exit         → exited      same, but the restart policy does not restart it.
 *   crash-loop   → crash-loop  same, and it has failed too often too fast.
 * exited      — the process exited and the restart policy left it so (as supervisord's
 *               EXITED). Nothing is running.
 *   start / restart → starting the operator starts it again.
 *   stop         → stopped     the operator marks it stopped on purpose.
 */
export const TRANSITIONS: Record<State, Partial<Record<EventKind, State>>> = {
  stopped: {
    start: 'starting',
    restart: 'starting',
  },
  starting: {
    healthy: 'running',
    retry: 'backoff',
    exit: 'exited',
    'crash-loop': 'crash-loop',
    unhealthy: 'stopping',
    stop: 'stopping',
    restart: 'stopping',
  },
  running: {
    retry: 'backoff',
    exit: 'exited',
    'crash-loop': 'crash-loop',
    unhealthy: 'stopping',
    stop: 'stopping',
    restart: 'stopping',
  },
  backoff: {
    'wait-elapsed': 'starting',
    start: 'starting',
    restart: 'starting',
    stop: 'stopped',
  },
  'crash-loop': {
    'wait-elapsed': 'starting',
    start: 'starting',
    restart: 'starting',
    stop: 'stopped',
  },
  stopping: {
    'stop-done': 'stopped',
    'restart-ready': 'starting',
    retry: 'backoff',
    exit: 'exited',
    'crash-loop': 'crash-loop',
  },
  exited: {
    start: 'starting',
    restart: 'starting',
    stop: 'stopped',
  },
};

/** True when `event` is defined in `state`. */
export function canTransition(state: State, event: EventKind): boolean {
  return TRANSITIONS[state][event] !== undefined;
}

/** The state after `event`; throws on a pair the table does not define (a supervisor bug). */
export function nextState(state: State, event: EventKind): State {
  const next = TRANSITIONS[state][event];
  if (next === undefined) {
    throw new RuntimeError(
      'INTERNAL',
      `no transition from state "${state}" on event "${event}"`,
      'this is a bug in sutazai-runtime: report it with the daemon log',
    );
  }
  return next;
}

/** States in which a process of the instance may exist. */
export function hasProcess(state: State): boolean {
  return state === 'starting' || state === 'running' || state === 'stopping';
}
