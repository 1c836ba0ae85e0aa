import type { HostKeyedFamily, HostSeriesName } from '../../../contract';
import type { LinkState } from '../link/link-types';

/**
 * What the alert rules read, each through a narrow interface so that the evaluator does not
 * care where a reading comes from (the metric ingest, the event log, the links, the store)
 * and tests feed it directly.
 */

/** The gauges the rules compare with a threshold, named as the series vocabulary (wire/series-names.ts) names them. */
export type GaugeKind = Extract<
  HostSeriesName | HostKeyedFamily,
  'filesystem.used_percent' | 'memory.used_percent' | 'gpu.temperature_celsius'
>;

/** The newest reading of one gauge of one host. */
export interface HostGauge {
  readonly hostId: number;
  /** Which of the host's several (a mount, a GPU): `{ mount: '/' }`, `{ gpu: '0' }`; `{}` for the host as a whole. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly atMs: number;
}

export interface HostGauges {
  /** The newest reading of every host's gauges of this kind. */
  latest(kind: GaugeKind): readonly HostGauge[];
}

/** One instance of a process on a host. */
export interface ProcessInstanceRef {
  readonly hostId: number;
  readonly process: string;
  readonly instance: string;
}

export interface ProcessActivity {
  /** Each instance whose state is known, with the state the runtime last reported (its words: running, backoff, crash-loop, ...). */
  states(): ReadonlyArray<ProcessInstanceRef & { readonly state: string }>;
  /** Each instance whose restarts are counted, with how many times it restarted at or after `sinceMs` (0 included). */
  restartsSince(sinceMs: number): ReadonlyArray<ProcessInstanceRef & { readonly restarts: number }>;
}

export interface CertificateExpiry {
  readonly installName: string;
  /** The host whose runtime presents it; null for the install's CA. */
  readonly hostId: number | null;
  /** 'runtime certificate' or 'install CA'. */
  readonly what: string;
  readonly notAfterMs: number;
}

export interface CertificateExpiries {
  list(): readonly CertificateExpiry[];
}

export interface AlertInputs {
  /** Every link's state now (FleetLinks.states()). */
  links(): readonly LinkState[];
  gauges: HostGauges;
  processes: ProcessActivity;
  certificates: CertificateExpiries;
  /**
   * A host's name and its install's, for labels; undefined for a host gone from the fleet (the
   * store no longer has it, or its install was removed while this backend watched it): what it
   * last reported raises no alert, and its open alerts resolve.
   */
  describeHost(hostId: number): { hostName: string; installName: string | null } | undefined;
}
