import type { MetricSample__Output } from './messages';
import { HOST_KEYED_SERIES as K, HOST_SERIES as H, PROCESS_SERIES as P, seriesName } from './series-names';
import { usedPercent } from './used-percent';

/** One reading of one series at the sample's time. */
export type SeriesValue = readonly [name: string, value: number];

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
  const put = (name: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) out.push([name, value]);
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
    h.perCorePercent.forEach((percent, core) => put(seriesName(K.cpuCorePercent, core), percent));
    for (const fs of h.filesystems) {
      const used = Number(fs.usedBytes);
      const total = Number(fs.totalBytes);
      put(seriesName(K.filesystemUsedBytes, fs.mount), used);
      put(seriesName(K.filesystemTotalBytes, fs.mount), total);
      put(seriesName(K.filesystemUsedPercent, fs.mount), usedPercent(used, total));
    }
    for (const gpu of h.gpus) {
      // Optional fields: absent (undefined) when nvidia-smi does not report them.
      put(seriesName(K.gpuUtilizationPercent, gpu.index), gpu.utilizationPercent);
      put(seriesName(K.gpuMemoryUsedBytes, gpu.index), gpu.memoryUsedBytes === undefined ? undefined : Number(gpu.memoryUsedBytes));
      put(seriesName(K.gpuMemoryTotalBytes, gpu.index), gpu.memoryTotalBytes === undefined ? undefined : Number(gpu.memoryTotalBytes));
      put(seriesName(K.gpuTemperatureCelsius, gpu.index), gpu.temperatureC);
    }
  }
  for (const instance of sample.instances) {
    const name = (family: (typeof P)[keyof typeof P]) => seriesName(family, instance.instance);
    const up = instance.pid !== 0;
    put(name(P.up), up ? 1 : 0);
    put(name(P.restarts), instance.restarts);
    put(name(P.operatorRestarts), instance.operatorRestarts);
    // A counter, kept while the instance is stopped too; absent where the runtime's stamper does not count.
    if (instance.logDroppedLines !== undefined) put(name(P.logDroppedLines), Number(instance.logDroppedLines));
    if (!up) continue;
    put(name(P.cpuPercent), instance.cpuPercent);
    put(name(P.rssBytes), Number(instance.rssBytes));
    put(name(P.threads), instance.threads);
    put(name(P.openFiles), instance.openFiles);
  }
  return out;
}
