import fs from 'node:fs';
import { readdir, readText } from '../linux/async-fs';

/**
 * Who a pid is, read from /proc (Linux only). A pid alone is not an identity: after a
 * daemon restart the pid in the state file may belong to an unrelated process, so a
 * process is named by pid + start time (field 22 of /proc/<pid>/stat, clock ticks since
 * boot) + the boot id, which keeps the pair unique across reboots too.
 */

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** Field 22: start time in clock ticks after boot, as a decimal string (it can pass 2^53 in theory). */
  startTicks: string;
}

/**
 * Splits the text of /proc/<pid>/stat into pid, comm and the fields after comm, where field
 * N (1-based, man 5 proc) is `rest[N - 3]`. `comm` sits in parentheses and may itself
 * contain spaces and parentheses ("(sh) x)"), so the fields are split after the LAST ')'.
 * Null when the text is malformed or too short (fewer than 22 fields).
 */
export function splitProcStat(text: string): { pid: number; comm: string; rest: string[] } | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  if (!Number.isSafeInteger(pid) || rest.length < 20) return null;
  return { pid, comm: text.slice(open + 1, close), rest };
}

/** Parses the text of /proc/<pid>/stat (see splitProcStat). */
export function parseProcStat(text: string): ProcStat | null {
  const split = splitProcStat(text);
  if (split === null) return null;
  const { pid, comm, rest } = split;
  const [state, ppid, pgid, sid] = [rest[0], rest[1], rest[2], rest[3]];
  const startTicks = rest[22 - 3];
  if (state === undefined || startTicks === undefined || !/^\d+$/.test(startTicks)) return null;
  const nums = [ppid, pgid, sid].map((v) => Number(v));
  if (nums.some((n) => !Number.isSafeInteger(n))) return null;
  return { pid, comm, state, ppid: nums[0]!, pgid: nums[1]!, sid: nums[2]!, startTicks };
}

const statBuffer = Buffer.alloc(4096);

/**
 * The text of a /proc/<pid>/stat file (well under 4 KiB) through one reused buffer: open,
 * one read, close; null when it cannot be read (the process is gone). Group scans and the
 * metrics tick read this for hundreds of processes, and readFileSync's extra fstat and
 * allocation were about a third of the cost. Synchronous, so the buffer is never shared.
 */
export function readStatText(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const n = fs.readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return statBuffer.toString('latin1', 0, n);
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads and parses /proc/<pid>/stat; null when the process does not exist (or is unreadable). */
export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  const text = readStatText(`/proc/${pid}/stat`);
  return text === null ? null : parseProcStat(text);
}

let cachedBootId: string | undefined;

/** The kernel's boot id (changes on every boot); 'unknown-boot' where /proc does not offer it. */
export function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || 'unknown-boot';
    } catch {
      cachedBootId = 'unknown-boot';
    }
  }
  return cachedBootId;
}

/** The identity string stored next to a pid: `<boot id>:<start ticks>`. */
export function formatStartTime(startTicks: string, boot = bootId()): string {
  return `${boot}:${startTicks}`;
}

/** The identity start time of a live (non-zombie) process, or null when it is gone. */
export function processStartTime(pid: number): string | null {
  const stat = readProcStat(pid);
  if (stat === null || isDeadState(stat.state)) return null;
  return formatStartTime(stat.startTicks);
}

/**
 * True when `pid` is still the very process first seen with `startTime`. A zombie counts
 * as gone: it has exited, only its parent has not reaped it yet.
 */
export function isSameProcess(pid: number, startTime: string): boolean {
  const now = processStartTime(pid);
  return now !== null && now === startTime;
}

function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

/** Pids currently listed under `procRoot` (numeric directory names; `/proc` unless a test fixture). */
export function listPids(procRoot = '/proc'): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(procRoot);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    if (/^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/** Live (non-zombie) members of process group `pgid`, found by scanning /proc. */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (stat !== null && stat.pgid === pgid && !isDeadState(stat.state)) members.push(pid);
  }
  return members;
}

/**
 * Parses /proc/<pid>/environ (NUL-separated KEY=VALUE) into a map. Only the environment
 * the process was exec'd with: later setenv() calls in the process do not show here.
 */
export function parseEnviron(raw: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** The exec-time environment of `pid`; null when it cannot be read (gone, or another user's process). */
export function readEnviron(pid: number): Map<string, string> | null {
  try {
    return parseEnviron(fs.readFileSync(`/proc/${pid}/environ`, 'utf8'));
  } catch {
    return null;
  }
}

/** The environment in `raw` (/proc/<pid>/environ) when it has `key=value`, else null. */
function environWith(raw: string, key: string, value: string): Map<string, string> | null {
  if (!raw.includes(`${key}=${value}`)) return null;
  const env = parseEnviron(raw);
  return env.get(key) === value ? env : null;
}

/** Live processes whose exec-time environment has `key=value` (needs the same uid, or root), with that environment. */
export function scanProcessesByEnv(key: string, value: string): Array<{ stat: ProcStat; env: Map<string, string> }> {
  const found: Array<{ stat: ProcStat; env: Map<string, string> }> = [];
  for (const pid of listPids()) {
    let raw: string;
    try {
      raw = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue;
    }
    const env = environWith(raw, key, value);
    if (env === null) continue;
    const stat = readProcStat(pid);
    if (stat !== null && !isDeadState(stat.state)) found.push({ stat, env });
  }
  return found;
}

/** How many /proc/<pid>/stat files a non-blocking scan reads in one turn of the event loop before it yields. */
const STAT_BATCH = 64;

/**
 * scanProcessesByEnv without blocking the event loop: one environ file at a time through
 * the thread pool, so a scan of a busy host (hundreds of environ files) lets a restart, a
 * health check or an API call run between its reads. For sweeps that need not be done
 * before anything else happens.
 *
 * `startedFrom` (clock ticks after boot, field 22 of stat) leaves out every process that
 * started before it, by its stat, read first (a small file, no lock of the process's
 * memory, in batches of STAT_BATCH per turn): the escapees of a run started no earlier than
 * the run, so after a short run the scan reads the environ of the few processes started
 * since instead of every process's.
 */
export async function scanProcessesByEnvAsync(
  key: string,
  value: string,
  options: { startedFrom?: string } = {},
): Promise<Array<{ stat: ProcStat; env: Map<string, string> }>> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  const from = options.startedFrom;
  const found: Array<{ stat: ProcStat; env: Map<string, string> }> = [];
  let statsThisTurn = 0;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    if (from !== undefined) {
      if (statsThisTurn === STAT_BATCH) {
        statsThisTurn = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      statsThisTurn += 1;
      const early = readProcStat(Number(name));
      if (early === null || isDeadState(early.state) || compareTicks(early.startTicks, from) < 0) continue;
    }
    let raw: string;
    try {
      raw = await readText(`/proc/${name}/environ`);
    } catch {
      continue;
    }
    const env = environWith(raw, key, value);
    if (env === null) continue;
    const stat = readProcStat(Number(name));
    if (stat !== null && !isDeadState(stat.state)) found.push({ stat, env });
  }
  return found;
}

/** Orders two start times in clock ticks (decimal strings, which may pass 2^53): negative when `a` is earlier. */
export function compareTicks(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
