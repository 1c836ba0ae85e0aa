import fs from 'node:fs';

/**
 * A process of this machine named so that a reused PID is not taken for it: its PID and,
 * where /proc has it (Linux), its start time in clock ticks since boot. Elsewhere the
 * start time is "0" and only the PID is compared, which errs towards "still running".
 */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

/** The start time /proc gives `pid`, or null where there is no /proc entry to read. */
function startTimeOf(pid: number): string | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // Field 2 (the command name) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  return startTime !== undefined && /^\d+$/.test(startTime) ? startTime : null;
}

export function ownIdentity(): ProcessIdentity {
  return { pid: process.pid, startTime: startTimeOf(process.pid) ?? '0' };
}

/** Whether the process `identity` names still runs (signal 0: EPERM means it runs as another user). */
export function isRunning(identity: ProcessIdentity): boolean {
  try {
    process.kill(identity.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (identity.startTime === '0') return true;
  const now = startTimeOf(identity.pid);
  // A live PID whose /proc entry cannot be read (hidepid) is taken as still running.
  return now === null || now === identity.startTime;
}
