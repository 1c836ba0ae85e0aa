/** "23.5%": percentages carry one decimal, enough to see a trend, few enough to read. */
export function formatPercent(percent: number, decimals = 1): string {
  if (!Number.isFinite(percent)) return '—';
  return `${percent.toFixed(decimals)}%`;
}

/** The share of a whole in percent, clamped to 0..100; 0 when the whole is empty. */
export function shareOf(part: number, whole: number): number {
  if (!(whole > 0) || !Number.isFinite(part)) return 0;
  return Math.min(100, Math.max(0, (part / whole) * 100));
}

/** A load average or similar small figure: "0.42", "12.3", "140". */
export function formatDecimal(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs < 10) return value.toFixed(2);
  if (abs < 100) return value.toFixed(1);
  return value.toFixed(0);
}

/** A clock speed: "3.40 GHz". */
export function formatGhz(ghz: number | null): string {
  if (ghz === null || !Number.isFinite(ghz) || ghz <= 0) return '—';
  return `${ghz.toFixed(2)} GHz`;
}

/** A link speed in Mbit/s as an operator says it: "1 Gbit/s", "100 Mbit/s". */
export function formatLinkSpeed(mbps: number | null): string {
  if (mbps === null || !Number.isFinite(mbps) || mbps <= 0) return '—';
  if (mbps >= 1000) return `${Number((mbps / 1000).toFixed(1))} Gbit/s`;
  return `${Number(mbps.toFixed(0))} Mbit/s`;
}

/** For axis ticks: no trailing zeros ("0", "0.5", "1.5"). */
export function formatTickNumber(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return String(Number(value.toPrecision(3)));
}
