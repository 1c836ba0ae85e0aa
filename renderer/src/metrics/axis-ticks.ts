const NICE_FACTORS = [1, 2, 2.5, 5, 10] as const;

function niceStep(rawStep: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  for (const factor of NICE_FACTORS) {
    if (factor * magnitude >= rawStep) return factor * magnitude;
  }
  return 10 * magnitude;
}

/**
 * Round y-axis ticks from 0 up to at least `max`: at most `maxTicks` intervals, each a
 * 1, 2, 2.5 or 5 step. With `binary`, steps are nice in the binary unit the top value
 * falls in (0, 256 MiB, 512 MiB, …), so byte ticks read as round figures.
 */
export function niceTicks(max: number, options: { binary?: boolean; maxTicks?: number; floor?: number } = {}): number[] {
  const maxTicks = options.maxTicks ?? 4;
  const top = Math.max(Number.isFinite(max) ? max : 0, options.floor ?? 1);
  let unit = 1;
  if (options.binary) {
    while (top / unit >= 1024) unit *= 1024;
  }
  const step = niceStep(top / unit / maxTicks) * unit;
  const count = Math.ceil(top / step - 1e-9);
  const ticks: number[] = [];
  for (let i = 0; i <= count; i += 1) ticks.push(Number((step * i).toPrecision(12)));
  return ticks;
}

/**
 * Time ticks on whole minutes inside [startMs, endMs]: the live chart's x axis. Ticks
 * closer than `edgeMs` to either end are left out, so no label hangs off the plot.
 */
export function minuteTicks(startMs: number, endMs: number, options: { everyMs?: number; edgeMs?: number } = {}): number[] {
  const everyMs = options.everyMs ?? 60_000;
  const edgeMs = options.edgeMs ?? 0;
  const ticks: number[] = [];
  for (let t = Math.ceil((startMs + edgeMs) / everyMs) * everyMs; t <= endMs - edgeMs; t += everyMs) ticks.push(t);
  return ticks;
}
