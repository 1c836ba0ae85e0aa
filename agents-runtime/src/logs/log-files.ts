import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../runtime-error';

/**
 * Where each instance's log lives: one file per instance, `<dir>/<instance>.log`, with
 * stdout and stderr interleaved in arrival order and marked per line (`out`/`err`, see
 * timestamp-shim.ts). Rotated copies are `<instance>.log.1` (newest) .. `.log.<keep>`.
 */
export interface LogLimits {
  /** Rotate the live file once it passes this size. */
  maxFileBytes: number;
  /** Rotated files kept per instance; the per-instance cap is about (1 + keep) * maxFileBytes. */
  keepFiles: number;
  /** Cap on the whole directory; the oldest rotated files (any instance) go first. */
  maxTotalBytes: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = {
  maxFileBytes: 10 * 1024 * 1024,
  keepFiles: 4,
  maxTotalBytes: 512 * 1024 * 1024,
};

const INSTANCE_NAME = /^[A-Za-z0-9_@:+-][A-Za-z0-9._@:+-]{0,199}$/;

/** Whether `instance` can name the runtime's files of an instance: one path segment, no slash, no leading dot. */
export function isInstanceFileName(instance: string): boolean {
  return INSTANCE_NAME.test(instance);
}

/**
 * `dir/name` for an absolute, resolved `dir` and a plain file name (no slash, not `.` or
 * `..`). path.join normalises its result character by character, and the rotation pass
 * builds a path for every log file in the directory: with 100 instances that was most of
 * an idle daemon's rotation time (the interpreter runs it: the daemon starts in lite mode).
 */
export function fileIn(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

export class LogFiles {
  readonly dir: string;
  readonly limits: LogLimits;

  constructor(dir: string, limits: Partial<LogLimits> = {}) {
    this.dir = path.resolve(dir);
    this.limits = { ...DEFAULT_LOG_LIMITS, ...limits };
  }

  /** Creates the directory and proves it writable; throws LOG_DIR_NOT_WRITABLE. */
  ensureWritable(): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o750 });
      fs.accessSync(this.dir, fs.constants.W_OK | fs.constants.X_OK);
    } catch (cause) {
      throw notWritable(this.dir, cause);
    }
  }

  logPath(instance: string): string {
    if (!isInstanceFileName(instance)) {
      throw new RuntimeError(
        'CONFIG_INVALID',
        `instance name ${JSON.stringify(instance)} cannot name a log file`,
        'use letters, digits and . _ @ : + - in process names (no slash, not starting with a dot)',
      );
    }
    return fileIn(this.dir, `${instance}.log`);
  }

  /** `<instance>.log.<n>` for n = 1 (newest) .. keepFiles. */
  rotatedPath(instance: string, n: number): string {
    return `${this.logPath(instance)}.${n}`;
  }

  /** Existing rotated files of an instance, newest first. */
  rotatedPaths(instance: string): string[] {
    return this.rotatedCandidates(instance).filter((p) => fs.existsSync(p));
  }

  /** Where rotated files of an instance may be, newest first, existing or not (a lowered keepFiles leaves older ones behind). */
  rotatedCandidates(instance: string): string[] {
    return Array.from({ length: Math.max(this.limits.keepFiles, 1) + 8 }, (_, i) => this.rotatedPath(instance, i + 1));
  }

  /**
   * Opens the instance's log for the child: O_WRONLY|O_APPEND|O_CREAT. The fd is handed to
   * the child (which keeps its own copy) and then closed by the caller. O_APPEND is what
   * makes copy-truncate rotation safe: after truncation the child writes at the new end.
   */
  openForChild(instance: string): number {
    const file = this.logPath(instance);
    try {
      return fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw diskFull(this.dir, cause);
      throw notWritable(this.dir, cause);
    }
  }

  /** Instances with a live log file in the directory. */
  instances(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => n.endsWith('.log')).map((n) => n.slice(0, -'.log'.length));
  }
}

export function notWritable(dir: string, cause: unknown): RuntimeError {
  const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
  return new RuntimeError(
    'LOG_DIR_NOT_WRITABLE',
    `the log directory ${dir} is not writable (${reason})`,
    `create ${dir} and make it writable by the user the runtime runs as, or point logs.dir elsewhere`,
    { cause },
  );
}

export function diskFull(dir: string, cause: unknown): RuntimeError {
  return new RuntimeError(
    'LOG_DISK_FULL',
    `the disk holding ${dir} is full; log lines are being dropped`,
    `free space on the file system of ${dir} or lower logs.maxTotalBytes; supervision continues meanwhile`,
    { cause },
  );
}

export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
