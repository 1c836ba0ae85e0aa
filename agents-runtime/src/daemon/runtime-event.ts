/** One entry of the daemon's event feed (watchEvents): process state changes, exits, manifest updates. */
import type { ErrorInfo } from '../runtime-error';
import type { State } from '../supervisor/states';

/** What a part of the daemon reports; the feed (event-feed.ts) gives it its identity. */
export interface RuntimeEventInput {
  atMs: number;
  /** Dotted kind, e.g. process.state, process.exit, process.crash-loop, process.crash-loop-left, manifest.updated. */
  kind: string;
  process: string | null;
  instance: string | null;
  /** For process.state: the state entered. */
  state: State | null;
  message: string;
  error: ErrorInfo | null;
  /** For a crash: the instance's last log lines, oldest first. */
  lastLines?: readonly string[];
}

export interface RuntimeEvent extends RuntimeEventInput {
  /**
   * The identity, the same however often the event is sent (a client that reconnects gets
   * the ring again): the run of the daemon that raised it (its start) and its place in that
   * run, from 1. A restarted daemon is a new run, so its events never collide with the old ones.
   */
  runStartedAtMs: number;
  sequence: number;
  lastLines: readonly string[];
}
