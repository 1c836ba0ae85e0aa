/**
 * The metrics history's compact form (issue 13, the runtime's footprint). The ring buffer
 * keeps 15 minutes of 1 s samples for clients that reconnect; as plain objects, 900 samples
 * of 100 instances were 13.6 MB of V8 heap (an object with 11 fields and a boxed double per
 * instance), more than half the daemon's live heap after a quarter of an hour. Packed, the
 * per-instance numbers of a sample are one typed array (52 bytes an instance) and the names
 * one array shared by every sample while the instance list does not change: about 4.7 MB.
 *
 * unpack(pack(s)) equals s field for field and key for key (logDroppedLines stays absent
 * where it was), so what streamMetrics backfills is what it sent live.
 */
import type { InstanceMetrics, MetricSample } from './metric-sample';

/** instance and process name of each instance, in the sample's order. */
type Names = readonly (readonly [instance: string, process: string])[];

export interface PackedSample {
  atMs: number;
  host: MetricSample['host'];
  names: Names;
  /** Per instance: cpuPercent, rssBytes, uptimeMs (NaN: null), logDroppedLines (NaN: absent). */
  floats: Float64Array;
  /** Per instance: pid (-1: null), threads, openFiles (-1: null), restarts, operatorRestarts. */
  ints: Int32Array;
}

const FLOATS = 4;
const INTS = 5;

function sameNames(names: Names, instances: readonly InstanceMetrics[]): boolean {
  if (names.length !== instances.length) return false;
  for (let i = 0; i < instances.length; i++) {
    if (names[i]![0] !== instances[i]!.instance || names[i]![1] !== instances[i]!.process) return false;
  }
  return true;
}

/** `previous`: the last packed sample, whose names are reused when the instances are the same. */
export function packSample(sample: MetricSample, previous: PackedSample | null): PackedSample {
  const { instances } = sample;
  const names =
    previous !== null && sameNames(previous.names, instances) ? previous.names : instances.map((i) => [i.instance, i.process] as const);
  const buffer = new ArrayBuffer(instances.length * (FLOATS * 8 + INTS * 4));
  const floats = new Float64Array(buffer, 0, instances.length * FLOATS);
  const ints = new Int32Array(buffer, instances.length * FLOATS * 8, instances.length * INTS);
  instances.forEach((m, i) => {
    floats[i * FLOATS] = m.cpuPercent;
    floats[i * FLOATS + 1] = m.rssBytes;
    floats[i * FLOATS + 2] = m.uptimeMs ?? NaN;
    floats[i * FLOATS + 3] = m.logDroppedLines ?? NaN;
    ints[i * INTS] = m.pid ?? -1;
    ints[i * INTS + 1] = m.threads;
    ints[i * INTS + 2] = m.openFiles ?? -1;
    ints[i * INTS + 3] = m.restarts;
    ints[i * INTS + 4] = m.operatorRestarts;
  });
  return { atMs: sample.atMs, host: sample.host, names, floats, ints };
}

export function unpackSample(packed: PackedSample): MetricSample {
  const { floats, ints } = packed;
  const instances = packed.names.map(([instance, process], i): InstanceMetrics => {
    const pid = ints[i * INTS]!;
    const openFiles = ints[i * INTS + 2]!;
    const uptimeMs = floats[i * FLOATS + 2]!;
    const dropped = floats[i * FLOATS + 3]!;
    return {
      instance,
      process,
      pid: pid === -1 ? null : pid,
      cpuPercent: floats[i * FLOATS]!,
      rssBytes: floats[i * FLOATS + 1]!,
      threads: ints[i * INTS + 1]!,
      openFiles: openFiles === -1 ? null : openFiles,
      restarts: ints[i * INTS + 3]!,
      operatorRestarts: ints[i * INTS + 4]!,
      uptimeMs: Number.isNaN(uptimeMs) ? null : uptimeMs,
      ...(Number.isNaN(dropped) ? {} : { logDroppedLines: dropped }),
    };
  });
  return { atMs: packed.atMs, host: packed.host, instances };
}
