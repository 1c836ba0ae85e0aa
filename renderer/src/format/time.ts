const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago"; never a time to come. What is
 * shown happened already: a time up to a minute after `nowMs` is one that arrived between
 * the ticks of the window's clock (useNow), so it reads "just now"; a later one was
 * stamped by a clock ahead of this one, and says so ("3 min ahead of this clock").
 */
export function formatRelativeTime(thenMs: number, nowMs: number): string {
  const delta = nowMs - thenMs;
  if (!Number.isFinite(delta)) return '—';
  if (delta < -MINUTE) return `${spell(-delta)} ahead of this clock`;
  if (delta < 5 * SECOND) return 'just now';
  return `${spell(delta)} ago`;
}

function spell(ms: number): string {
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h`;
  return `${Math.floor(ms / DAY)} d`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "14:03:27" in local time: the chart axis. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "2025-11-26 14:03:27" in local time: unambiguous in every locale. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(ms)}`;
}

/** A duration as a probe takes it: "0.4 s", "14 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
