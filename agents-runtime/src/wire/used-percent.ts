/**
 * used / total as a percent with two decimals; undefined when the total is not known. The
 * `*.used_percent` series (memory, each filesystem) are computed by this one rule wherever
 * they are made: from a runtime's sample (sample-series.ts) and by the control center's own
 * sampler, so the alert rules over them judge every host alike.
 */
export function usedPercent(used: number, total: number): number | undefined {
  return total > 0 ? Math.round((used / total) * 10_000) / 100 : undefined;
}
