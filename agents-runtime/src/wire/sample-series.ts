import type { MetricSample__Output } from './messages';
import {
  HOST_KEYED_SERIES as K,
  HOST_SERIES as H,
  PROCESS_SERIES as P,
  seriesName,
  type HostKeyedFamily,
  type ProcessFamily,
} from './series-names';
import { usedPercent } from './used-percent';

/** One reading of one series at the sample's time. */
export type SeriesValue = readonly [name: string, value: number];

/** An instance's series names, one per process family. */
export type InstanceSeriesNames = Readonly<Record<keyof typeof P, string>>;

/**
 * Where the names of keyed series come from: made afresh each time (sampleSeries), or kept
 * from one sample to the next (sample-wire-reader.ts), so that a second's names are the same
 * string objects as the last second's and every map keyed by them hashes them once.
 */
export interface SeriesNamer {
  keyed(family: HostKeyedFamily, key: string | number): string;
  instance(instance: string): InstanceSeriesNames;
}

export function instanceSeriesNames(instance: string): InstanceSeriesNames {
  const name = (family: ProcessFamily): string => seriesName(family, instance);
  return {
    cpuPercent: name(P.cpuPercent),
    rssBytes: name(P.rssBytes),
    threads: name(P.threads),
    openFiles: name(P.openFiles),
    restarts: name(P.restarts),
    operatorRestarts: name(P.operatorRestarts),
    up: name(P.up),
    logDroppedLines: name(P.logDroppedLines),
  };
}

const FRESH_NAMES: SeriesNamer = { keyed: seriesName, instance: instanceSeriesNames };

/** A 64-bit count as it arrives: a decimal string from protobufjs (`longs: String`), a number from sample-wire-reader.ts. */
type Count = string | number;

/** What a sample's series are read from: a MetricSample__Output, or the same fields with 64-bit counts as numbers. */
export interface SampleReadings {
  host: {
    cpuPercent: number;
    memoryUsedBytes: Count;
    memoryTotalBytes: Count;
    loadOneMinute: number;
    loadFiveMinutes: number;
    loadFifteenMinutes: number;
    perCorePercent: readonly number[];
    swapUsedBytes: Count;
    swapTotalBytes: Count;
    diskReadBytesPerSec: number;
    diskWriteBytesPerSec: number;
    netRxBytesPerSec: number;
    netTxBytesPerSec: number;
    filesystems: readonly { mount: string; usedBytes: Count; totalBytes: Count }[];
    gpus: readonly {
      index: number;
      utilizationPercent?: number;
      memoryUsedBytes?: Count;
      memoryTotalBytes?: Count;
      temperatureC?: number;
    }[];
  } | null;
  instances: readonly {
    instance: string;
    cpuPercent: number;
    rssBytes: Count;
    pid: number;
    threads: number;
    openFiles?: number;
    restarts: number;
    operatorRestarts: number;
    logDroppedLines?: Count;
  }[];
}

/**
 * A StreamMetrics sample as (series name, value) pairs in the vocabulary of
 * series-names.ts: what the control center stores for a remote host. 64-bit counts arrive
 * as decimal strings and are read as numbers (exact up to 2^53 bytes). A reading the
 * runtime does not have (a GPU's "[N/A]", another user's open files) gives no pair, and an
 * instance that is not running gives only `process.up` 0 and its restarts, as the
 * Prometheus exposition does: a stopped process draws as a break, not as zero.
 */
export function sampleSeries(sample: MetricSample__Output): SeriesValue[] {
  const out: [string, number][] = [];
  forEachSeriesValue(sample, (name, value) => out.push([name, value]));
  return out;
}

/** sampleSeries's pairs, each handed to `put` (finite values only), in the same order, with names from `names`. */
export function forEachSeriesValue(
  sample: SampleReadings,
  each: (name: string, value: number) => void,
  names: SeriesNamer = FRESH_NAMES,
): void {
  const put = (name: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) each(name, value);
  };
  const h = sample.host;
  if (h !== null) {
    const memoryUsed = Number(h.memoryUsedBytes);
    const memoryTotal = Number(h.memoryTotalBytes);
    put(H.cpuPercent, h.cpuPercent);
    put(H.load1, h.loadOneMinute);
    put(H.load5, h.loadFiveMinutes);
    put(H.load15, h.loadFifteenMinutes);
    put(H.memoryUsedBytes, memoryUsed);
    put(H.memoryTotalBytes, memoryTotal);
    put(H.memoryUsedPercent, usedPercent(memoryUsed, memoryTotal));
    put(H.swapUsedBytes, Number(h.swapUsedBytes));
    put(H.swapTotalBytes, Number(h.swapTotalBytes));
    put(H.diskReadBytesPerSec, h.diskReadBytesPerSec);
    put(H.diskWriteBytesPerSec, h.diskWriteBytesPerSec);
    put(H.netRxBytesPerSec, h.netRxBytesPerSec);
    put(H.netTxBytesPerSec, h.netTxBytesPerSec);
    h.perCorePercent.forEach((percent, core) => put(names.keyed(K.cpuCorePercent, core), percent));
    for (const fs of h.filesystems) {
      const used = Number(fs.usedBytes);
      const total = Number(fs.totalBytes);
      put(names.keyed(K.filesystemUsedBytes, fs.mount), used);
      put(names.keyed(K.filesystemTotalBytes, fs.mount), total);
      put(names.keyed(K.filesystemUsedPercent, fs.mount), usedPercent(used, total));
    }
    for (const gpu of h.gpus) {
      // Optional fields: absent (undefined) when nvidia-smi does not report them.
      put(names.keyed(K.gpuUtilizationPercent, gpu.index), gpu.utilizationPercent);
      put(names.keyed(K.gpuMemoryUsedBytes, gpu.index), gpu.memoryUsedBytes === undefined ? undefined : Number(gpu.memoryUsedBytes));
      put(names.keyed(K.gpuMemoryTotalBytes, gpu.index), gpu.memoryTotalBytes === undefined ? undefined : Number(gpu.memoryTotalBytes));
      put(names.keyed(K.gpuTemperatureCelsius, gpu.index), gpu.temperatureC);
    }
  }
  for (const instance of sample.instances) {
    const name = names.instance(instance.instance);
    const up = instance.pid !== 0;
    put(name.up, up ? 1 : 0);
    put(name.restarts, instance.restarts);
    put(name.operatorRestarts, instance.operatorRestarts);
    // A counter, kept while the instance is stopped too; absent where the runtime's stamper does not count.
    if (instance.logDroppedLines !== undefined) put(name.logDroppedLines, Number(instance.logDroppedLines));
    if (!up) continue;
    put(name.cpuPercent, instance.cpuPercent);
    put(name.rssBytes, Number(instance.rssBytes));
    put(name.threads, instance.threads);
    put(name.openFiles, instance.openFiles);
  }
}
