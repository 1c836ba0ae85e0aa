/**
 * The whole footprint of a supervisor for the runtime benchmark: its daemon and every
 * process it starts besides the programs it supervises (our log stamper loops, anything a
 * peer forks), found as the daemon's process tree (plus any marked helper that left it),
 * with memory as the sum of proportional set sizes (PSS, /proc/PID/smaps_rollup: a page
 * shared by k processes counts 1/k in each, so shared bash or Node pages are not counted
 * once per process) and CPU as utime + stime of all of them plus what the daemon's reaped
 * children used.
 */
import fs from 'node:fs';
import { numericPids } from './runtime-bench-procs';

export interface Rollup {
  rssKb: number;
  pssKb: number;
  /** Unique set size: pages no other process maps (Private_Clean + Private_Dirty). */
  ussKb: number;
}

/** The totals of /proc/PID/smaps_rollup; null when a field is missing (another kernel's format, or no access). */
export function parseSmapsRollup(text: string): Rollup | null {
  const field = (name: string): number | null => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match === null ? null : Number(match[1]);
  };
  const rss = field('Rss');
  const pss = field('Pss');
  const clean = field('Private_Clean');
  const dirty = field('Private_Dirty');
  if (rss === null || pss === null || clean === null || dirty === null) return null;
  return { rssKb: rss, pssKb: pss, ussKb: clean + dirty };
}

export interface StatTimes {
  ppid: number;
  /** utime + stime, clock ticks. */
  ticks: number;
  /** cutime + cstime: the children this process has waited for, clock ticks. */
  childTicks: number;
}

/** /proc/PID/stat; the command name may hold spaces and parentheses, so fields count from the last `)`. */
export function parseStat(text: string): StatTimes | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After "pid (comm) ": state is field 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17.
  const fields = text.slice(close + 2).split(' ');
  const [ppid, utime, stime, cutime, cstime] = [fields[1], fields[11], fields[12], fields[13], fields[14]].map(Number);
  if (![ppid, utime, stime, cutime, cstime].every((n) => Number.isInteger(n))) return null;
  return { ppid: ppid!, ticks: utime! + stime!, childTicks: cutime! + cstime! };
}

/** `roots` and every process below them, given each process's parent. */
export function processTree(roots: readonly number[], parentOf: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentOf) {
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [pid]);
    else list.push(pid);
  }
  const seen = new Set<number>();
  const queue = roots.filter((pid) => parentOf.has(pid));
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...seen];
}

export interface MemoryTotal extends Rollup {
  /** Processes whose rollup was read. */
  counted: number;
  /** Processes that were gone (or unreadable) by the time their rollup was read. */
  missed: number;
}

/** The sum over `pids` of what `read` gives; a process that is gone is counted in `missed`. */
export function sumRollups(pids: readonly number[], read: (pid: number) => Rollup | null): MemoryTotal {
  const total: MemoryTotal = { rssKb: 0, pssKb: 0, ussKb: 0, counted: 0, missed: 0 };
  for (const pid of pids) {
    const r = read(pid);
    if (r === null) {
      total.missed += 1;
      continue;
    }
    total.rssKb += r.rssKb;
    total.pssKb += r.pssKb;
    total.ussKb += r.ussKb;
    total.counted += 1;
  }
  return total;
}

function readOr(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function rollupOf(pid: number): Rollup | null {
  const text = readOr(`/proc/${pid}/smaps_rollup`);
  return text === null ? null : parseSmapsRollup(text);
}

export function statOf(pid: number): StatTimes | null {
  const text = readOr(`/proc/${pid}/stat`);
  return text === null ? null : parseStat(text);
}

/** Every process's parent, now. */
export function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const pid of numericPids()) {
    const stat = statOf(pid);
    if (stat !== null) parents.set(pid, stat.ppid);
  }
  return parents;
}

export interface Members {
  /** The daemon and its helpers: the footprint. */
  footprint: number[];
  /** The supervised programs found in the daemon's tree (not in the footprint; the same program under every supervisor). */
  programs: number[];
}

/** Splits the daemon's tree (plus `extra`, helpers that may have left it) into footprint and programs. */
export function membersOf(
  daemonPid: number,
  extra: readonly number[],
  programs: ReadonlySet<number>,
  parentOf: ReadonlyMap<number, number>,
): Members {
  const all = new Set([...processTree([daemonPid], parentOf), ...extra.filter((pid) => parentOf.has(pid))]);
  const footprint: number[] = [];
  const inTree: number[] = [];
  for (const pid of all) (programs.has(pid) ? inTree : footprint).push(pid);
  return { footprint, programs: inTree };
}
