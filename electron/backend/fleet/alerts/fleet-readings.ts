import { HOST_KEYED_SERIES, HOST_SERIES, parseSeriesName, PROCESS_SERIES } from '../../../contract';
import type { GaugeKind, HostGauge, HostGauges, ProcessActivity, ProcessInstanceRef } from './alert-inputs';

/**
 * The alert rules' view of what the fleet reports, kept in memory as it arrives: the newest
 * value of each gauge series per host, each instance's restarts (from its restart counter)
 * and which instances the runtime put in crash-loop. Fed by the backend from the live
 * samples (series named as in wire/series-names.ts) and the process state events; nothing
 * here reads a runtime itself.
 */
export interface FleetReadings extends HostGauges, ProcessActivity {
  /** One sample of a host: (series name, value) pairs at the runtime's time. */
  observeSample(hostId: number, atMs: number, values: Iterable<readonly [string, number]>): void;
  /** An instance entered a state (the runtime's words, e.g. running, backoff, crash-loop). */
  observeProcessState(ref: ProcessInstanceRef, state: string): void;
  /** The host left the fleet or its runtime restarted: what it reported no longer stands. */
  forgetHost(hostId: number): void;
}

// The label a keyed family's key becomes on an alert (null: one series per host).
const GAUGE_FAMILIES: Record<GaugeKind, string | null> = {
  [HOST_SERIES.memoryUsedPercent]: null,
  [HOST_KEYED_SERIES.filesystemUsedPercent]: 'mount',
  [HOST_KEYED_SERIES.gpuTemperatureCelsius]: 'gpu',
};
/** Restart times older than this are forgotten: no rule looks further back. */
const RESTART_MEMORY_MS = 24 * 3_600_000;

interface InstanceRestarts {
  ref: ProcessInstanceRef;
  counter: number;
  /** When the counter went up, one entry per restart, oldest first. */
  times: number[];
}

export function createFleetReadings(): FleetReadings {
  const gauges = new Map<GaugeKind, Map<string, HostGauge>>(Object.keys(GAUGE_FAMILIES).map((kind) => [kind as GaugeKind, new Map()]));
  const restarts = new Map<string, InstanceRestarts>();
  const states = new Map<string, { ref: ProcessInstanceRef; state: string }>();
  const instanceKey = (hostId: number, instance: string) => `${hostId}\u0000${instance}`;

  const observeRestarts = (hostId: number, atMs: number, instance: string, counter: number): void => {
    const key = instanceKey(hostId, instance);
    const known = restarts.get(key);
    if (known === undefined) {
      // The first reading is a baseline: restarts before it happened at times we do not know.
      const process = instance.replace(/-\d+$/, '');
      restarts.set(key, { ref: { hostId, process, instance }, counter, times: [] });
      return;
    }
    // A counter that went down is a restarted runtime counting afresh: a new baseline.
    for (let n = known.counter; n < counter; n++) known.times.push(atMs);
    known.counter = counter;
    while (known.times.length > 0 && known.times[0]! < atMs - RESTART_MEMORY_MS) known.times.shift();
  };

  return {
    observeSample(hostId, atMs, values) {
      for (const [name, value] of values) {
        const parsed = parseSeriesName(name);
        if (parsed === null) continue;
        const { family, key } = parsed;
        if (family === PROCESS_SERIES.restarts && key !== null) {
          observeRestarts(hostId, atMs, key, value);
          continue;
        }
        const byHost = gauges.get(family as GaugeKind);
        const keyLabel = GAUGE_FAMILIES[family as GaugeKind];
        if (byHost === undefined || keyLabel === undefined) continue;
        const labels: Record<string, string> = keyLabel !== null && key !== null ? { [keyLabel]: key } : {};
        byHost.set(`${hostId}\u0000${key ?? ''}`, { hostId, labels, value, atMs });
      }
    },
    observeProcessState(ref, state) {
      states.set(instanceKey(ref.hostId, ref.instance), { ref, state });
    },
    forgetHost(hostId) {
      const prefix = `${hostId}\u0000`;
      for (const map of [...gauges.values(), restarts, states]) for (const key of map.keys()) if (key.startsWith(prefix)) map.delete(key);
    },
    latest: (kind) => [...(gauges.get(kind)?.values() ?? [])],
    states: () => [...states.values()].map(({ ref, state }) => ({ ...ref, state })),
    restartsSince: (sinceMs) =>
      [...restarts.values()].map(({ ref, times }) => ({ ...ref, restarts: times.filter((t) => t >= sinceMs).length })),
  };
}
