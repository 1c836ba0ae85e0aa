/**
 * The machine's load average, printed by every benchmark at its start and end: the test
 * hosts, the peers and anything else running here share the same cores, so a figure taken
 * under load says so beside it.
 */
import fs from 'node:fs';

export interface LoadAverage {
  one: number;
  five: number;
  fifteen: number;
  /** Runnable scheduling entities now (the kernel's 4th field, before the slash). */
  running: number;
  /** Scheduling entities that exist now (after the slash). */
  total: number;
}

/** /proc/loadavg, e.g. `2.40 1.87 1.89 6/120 11133`; null when it does not read like that. */
export function parseLoadavg(text: string): LoadAverage | null {
  const match = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)\/(\d+) \d+\s*$/.exec(text);
  if (match === null) return null;
  const [one, five, fifteen, running, total] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
  return { one, five, fifteen, running, total };
}

export function formatLoad(load: LoadAverage | null): string {
  if (load === null) return 'unknown (/proc/loadavg unreadable)';
  return `${load.one.toFixed(2)} ${load.five.toFixed(2)} ${load.fifteen.toFixed(2)} (1, 5, 15 min; ${load.running} runnable of ${load.total})`;
}

/** `load average at <when>: ...`, read now. */
export function loadLine(when: string, cores: number): string {
  let text = '';
  try {
    text = fs.readFileSync('/proc/loadavg', 'utf8');
  } catch {
    // formatLoad says it is unknown
  }
  return `load average at ${when}: ${formatLoad(parseLoadavg(text))} on ${cores} cores`;
}
