import type { ApiError } from '../../../contract';
import type { RuntimeConnection, RuntimeTls } from '../runtime-connection';

/**
 * The shapes the fleet's parts agree on (issue 12): one link per installed host
 * (link-manager.ts) carries one SSH session, one tunnel and one gRPC channel; the parts
 * that read from a runtime (metric ingest, event ingest) are consumers the link runs
 * each time it comes online, and the parts that act on a runtime (process control, logs)
 * borrow the link's connection for one call. Nothing here opens its own connection.
 */

/** One installed host; an install holds a host at most once, so the host's id names the link. */
export interface LinkTarget {
  readonly installName: string;
  readonly hostId: number;
  readonly hostName: string;
}

export type LinkStateName = 'connecting' | 'online' | 'degraded' | 'offline';

export interface LinkState {
  readonly target: LinkTarget;
  readonly state: LinkStateName;
  /** When the link last heard from the runtime (a call answered or a stream message), ms; null before the first. */
  readonly lastSeenMs: number | null;
  /** Why it is offline or degraded (which consumer failed, or why the connection did not open); null when online or connecting for the first time. */
  readonly reason: ApiError | null;
  /** When it entered this state, ms. */
  readonly sinceMs: number;
}

/**
 * A reader the link runs while it is online (e.g. the metric ingest, the event ingest).
 * `run` starts its stream(s) on the connection and settles when they end: resolves when
 * `signal` aborted it (the link went down or is stopping), rejects with an ApiError when a
 * stream failed while the link was up, which turns the link `degraded` (with that reason)
 * until the consumer runs again after a capped, jittered backoff. A consumer keeps no
 * connection of its own and must stop every stream when `signal` aborts.
 */
export interface LinkConsumer {
  /** Short, stable, shown in a degraded link's reason: 'metrics', 'events'. */
  readonly name: string;
  run(target: LinkTarget, connection: RuntimeConnection, signal: AbortSignal): Promise<void>;
}

/** The backend's set of links (one per host of every recorded install). */
export interface FleetLinks {
  /** Every link's state now, in install then host name order. */
  states(): LinkState[];
  state(hostId: number): LinkState | undefined;
  /** Called on every state change (after the state is set), in order. Returns the unsubscribe. */
  onChange(listener: (state: LinkState, previous: LinkState | null) => void): () => void;
  /**
   * The link's connection while it is online or degraded, for one call or one stream
   * (process control, logs); refused with a clear ApiError (code, message, remedy) naming
   * the link's state and reason when it is connecting or offline. Never opens a second
   * connection.
   */
  connection(hostId: number): RuntimeConnection;
  /**
   * A further runtime connection through the link's SSH connection, with a certificate of
   * the caller's: for a call the link's operator certificate may not make (the install
   * engine's UpdateManifest, an admin call). The caller closes it; closing it leaves the
   * link as it was. Refused as `connection()` is while the link is not up.
   */
  openChannel(hostId: number, channel: LinkChannel): Promise<RuntimeConnection>;
  /** Reads the installs from the store again: starts links for new install hosts, stops those of removed ones. */
  refresh(): Promise<void>;
  /** Stops every link (consumers aborted, channel, tunnel and SSH session closed). Idempotent. */
  close(): Promise<void>;
}

/** Where and as whom a further connection over a link reaches the runtime. */
export interface LinkChannel {
  tls: RuntimeTls;
  runtimeAddress: string;
  runtimePort: number;
  callTimeoutMs: number;
}
