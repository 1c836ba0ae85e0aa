import { HOST_KEYED_SERIES, HOST_SERIES, parseSeriesName, PROCESS_SERIES } from '../../../contract';
import type { GaugeKind, HostGauge, HostGauges, ProcessActivity, ProcessInstanceRef } from './alert-inputs';

/** What a runtime said of its instances when asked (ListProcesses), and which run of it said so. */
export interface RuntimeSnapshot {
  /** When this run of the runtime started (GetInfo's started_at_ms): a new value is a restarted runtime. */
  readonly runStartedAtMs: number;
  readonly instances: ReadonlyArray<Omit<ProcessInstanceRef, 'hostId'> & { readonly state: string; readonly restarts: number }>;
}

/**
 * The alert rules' view of what the fleet reports, kept in memory as it arrives: the newest
 * value of each gauge series per host, each instance's restarts (from its restart counter)
 * and which instances the runtime put in crash-loop. Fed by the backend from the live
 * samples (series named as in wire/series-names.ts), the process state events and what the
 * runtime says of its instances when a link comes up; nothing here reads a runtime itself.
 */
export interface FleetReadings extends HostGauges, ProcessActivity {
  /** One sample of a host: (series name, value) pairs at the runtime's time. */
  observeSample(hostId: number, atMs: number, values: Iterable<readonly [string, number]>): void;
  /** The same from a live sample's values by name, without a pair made for each (every host's every sample comes this way). */
  observeValues(hostId: number, atMs: number, values: Readonly<Partial<Record<string, number>>>): void;
  /** An instance entered a state (the runtime's words, e.g. running, backoff, crash-loop). */
  observeProcessState(ref: ProcessInstanceRef, state: string): void;
  /**
   * The runtime's own account of its instances (after a link came up, or once it restarted):
   * each instance's state replaces what the events said (a runtime restarted in a crash loop
   * never says the loop ended: its new run starts afresh), an instance it no longer runs is in
   * no state, and a new run's restart counters start again from a baseline.
   */
  observeRuntime(hostId: number, snapshot: RuntimeSnapshot): void;
  /**
   * The host's link is coming up: each restart counter's next reading is a baseline, so a
   * counter reset by a runtime that restarted while the link was down is not taken for
   * restarts (those of a run the link stayed up through arrive with their times in its samples).
   */
  rebaseline(hostId: number): void;
  /** The host left the fleet: what it reported no longer stands. */
  forgetHost(hostId: number): void;
}

// The label a keyed family's key becomes on an alert (null: one series per host).
const GAUGE_FAMILIES: Record<GaugeKind, string | null> = {
  [HOST_SERIES.memoryUsedPercent]: null,
  [HOST_KEYED_SERIES.filesystemUsedPercent]: 'mount',
  [HOST_KEYED_SERIES.gpuTemperatureCelsius]: 'gpu',
};

/** What a series name is to the readings: an instance's restart counter, a gauge (with its alert labels), or nothing. */
type SeriesUse =
  | { readonly kind: 'restarts'; readonly instance: string }
  | { readonly kind: 'gauge'; readonly gauge: GaugeKind; readonly key: string; readonly labels: Readonly<Record<string, string>> }
  | null;

// Samples repeat the same names every second, so each is parsed once; the bound keeps names
// that come and go (instances scaled, made-up names) from growing the memory without end.
const MAX_REMEMBERED_NAMES = 50_000;

function seriesUseOf(name: string): SeriesUse {
  const parsed = parseSeriesName(name);
  if (parsed === null) return null;
  const { family, key } = parsed;
  if (family === PROCESS_SERIES.restarts) return key === null ? null : { kind: 'restarts', instance: key };
  if (!Object.prototype.hasOwnProperty.call(GAUGE_FAMILIES, family)) return null;
  const keyLabel = GAUGE_FAMILIES[family as GaugeKind];
  const labels = keyLabel !== null && key !== null ? { [keyLabel]: key } : {};
  return { kind: 'gauge', gauge: family as GaugeKind, key: key ?? '', labels };
}

/** Restart times older than this are forgotten: no rule looks further back. */
export const RESTART_MEMORY_MS = 24 * 3_600_000;

/** The state of an instance its runtime no longer runs (scaled down, removed from the manifest). */
export const ABSENT_STATE = 'absent';

interface InstanceRestarts {
  ref: ProcessInstanceRef;
  /** The counter's last reading; null when the next reading is a baseline (a runtime's new run counts afresh). */
  counter: number | null;
  /** When the counter went up, one entry per restart, oldest first. */
  times: number[];
}

export function createFleetReadings(): FleetReadings {
  const gauges = new Map<GaugeKind, Map<string, HostGauge>>(Object.keys(GAUGE_FAMILIES).map((kind) => [kind as GaugeKind, new Map()]));
  const restarts = new Map<string, InstanceRestarts>();
  const states = new Map<string, { ref: ProcessInstanceRef; state: string }>();
  // Which run of each host's runtime the readings come from (GetInfo's started_at_ms).
  const runs = new Map<number, number>();
  const uses = new Map<string, SeriesUse>();
  const instanceKey = (hostId: number, instance: string) => `${hostId}\u0000${instance}`;
  const ofHost = <T extends { ref: ProcessInstanceRef }>(map: Map<string, T>, hostId: number): T[] =>
    [...map.values()].filter((entry) => entry.ref.hostId === hostId);

  const observeRestarts = (hostId: number, atMs: number, instance: string, counter: number): void => {
    const key = instanceKey(hostId, instance);
    const known = restarts.get(key);
    if (known === undefined) {
      // The first reading is a baseline: restarts before it happened at times we do not know.
      // The process until the runtime names it (observeRuntime): `agent-2` is agent's second replica.
      const process = instance.replace(/-\d+$/, '');
      restarts.set(key, { ref: { hostId, process, instance }, counter, times: [] });
      return;
    }
    // A counter that went down is a restarted runtime counting afresh: a new baseline, as is
    // the first reading of a new run (its counter started again at 0 at times we do not know).
    if (known.counter !== null) for (let n = known.counter; n < counter; n++) known.times.push(atMs);
    known.counter = counter;
    while (known.times.length > 0 && known.times[0]! < atMs - RESTART_MEMORY_MS) known.times.shift();
  };

  const observeValue = (hostId: number, atMs: number, name: string, value: number): void => {
    let use = uses.get(name);
    if (use === undefined) {
      use = seriesUseOf(name);
      if (uses.size >= MAX_REMEMBERED_NAMES) uses.clear();
      uses.set(name, use);
    }
    if (use === null) return;
    if (use.kind === 'restarts') observeRestarts(hostId, atMs, use.instance, value);
    else gauges.get(use.gauge)!.set(`${hostId}\u0000${use.key}`, { hostId, labels: use.labels, value, atMs });
  };

  return {
    observeSample(hostId, atMs, values) {
      for (const [name, value] of values) observeValue(hostId, atMs, name, value);
    },
    observeValues(hostId, atMs, values) {
      for (const name in values) {
        const value = values[name];
        if (value !== undefined) observeValue(hostId, atMs, name, value);
      }
    },
    observeProcessState(ref, state) {
      states.set(instanceKey(ref.hostId, ref.instance), { ref, state });
    },
    observeRuntime(hostId, snapshot) {
      // A run other than the one last seen (the first one seen is not new: rebaseline covers a link coming up).
      const newRun = runs.has(hostId) && runs.get(hostId) !== snapshot.runStartedAtMs;
      runs.set(hostId, snapshot.runStartedAtMs);
      const listed = new Set(snapshot.instances.map((entry) => entry.instance));
      for (const { ref } of ofHost(states, hostId))
        if (!listed.has(ref.instance)) states.set(instanceKey(hostId, ref.instance), { ref, state: ABSENT_STATE });
      for (const { process, instance, state, restarts: counter } of snapshot.instances) {
        const ref = { hostId, process, instance };
        states.set(instanceKey(hostId, instance), { ref, state });
        const known = restarts.get(instanceKey(hostId, instance));
        // The samples carry the counter, with each restart's time; a runtime restarted under a
        // link that stayed up counts afresh, so its next reading is a baseline.
        if (known === undefined) restarts.set(instanceKey(hostId, instance), { ref, counter, times: [] });
        else {
          // The runtime's own word for the process: a sample's instance name only suggests it (a
          // single replica of `web-2` is the instance `web-2`, not the second of `web`).
          known.ref = ref;
          if (newRun) known.counter = null;
        }
      }
      // An instance gone from the runtime restarts no more; one it runs again starts from a baseline.
      for (const known of ofHost(restarts, hostId))
        if (!listed.has(known.ref.instance)) {
          known.times = [];
          known.counter = null;
        }
    },
    rebaseline(hostId) {
      for (const known of ofHost(restarts, hostId)) known.counter = null;
    },
    forgetHost(hostId) {
      const prefix = `${hostId}\u0000`;
      runs.delete(hostId);
      for (const map of [...gauges.values(), restarts, states]) for (const key of map.keys()) if (key.startsWith(prefix)) map.delete(key);
    },
    latest: (kind) => [...(gauges.get(kind)?.values() ?? [])],
    states: () => [...states.values()].map(({ ref, state }) => ({ ...ref, state })),
    restartsSince: (sinceMs) =>
      [...restarts.values()].map(({ ref, times }) => ({ ...ref, restarts: times.filter((t) => t >= sinceMs).length })),
  };
}
