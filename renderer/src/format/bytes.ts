/** Binary (IEC) units: what `free -h`, `lsblk` and most operators read memory in. */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * "23.4 GiB", "512 MiB", "0 B": one decimal below 100, none above, so a column of
 * figures stays short and still distinguishes 1.5 GiB from 2 GiB.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${sign}${Math.round(value)} B`;
  let text = value < 100 ? value.toFixed(1) : value.toFixed(0);
  // 1023.96 KiB rounds to "1024 KiB"; say "1.0 MiB" instead.
  if (Number(text) >= 1024 && unit < UNITS.length - 1) {
    unit += 1;
    text = (Number(text) / 1024).toFixed(1);
  }
  return `${sign}${text} ${UNITS[unit]}`;
}

/** A transfer rate: "1.2 MiB/s". */
export function formatByteRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** For axis ticks, where every label is a round figure: "30 GiB" rather than "30.0 GiB". */
export function formatBytesRound(bytes: number): string {
  return formatBytes(bytes).replace(/\.0 /, ' ');
}
