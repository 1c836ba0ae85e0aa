import fs from 'node:fs';

/**
 * A process as a lock records it: its pid, and when it started as the kernel tells it
 * (Linux: /proc/PID/stat), so a pid the kernel has handed to another process since is
 * not taken for the owner. Where the start time cannot be read, the pid alone decides.
 */
export interface ProcessOwner {
  pid: number;
  startedAt: string | null;
}

let self: ProcessOwner | null = null;

export function thisProcess(): ProcessOwner {
  return (self ??= { pid: process.pid, startedAt: processStartTime(process.pid) });
}

/** Whether the recorded owner still runs (the same process, not a later one with its pid). */
export function ownerAlive(owner: ProcessOwner): boolean {
  if (!processAlive(owner.pid)) return false;
  if (owner.startedAt === null) return true;
  const now = processStartTime(owner.pid);
  return now === null || now === owner.startedAt;
}

/** Signal 0 checks that a process exists; EPERM means it exists under another user. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/PID/stat (clock ticks after boot); null off Linux or when the process is gone. */
export function processStartTime(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}
