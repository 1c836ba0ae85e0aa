import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { IP } from './netns';
import { CHILD_ENV } from './run-command';

// A server process inside a host's namespace (`ip netns exec` execs it in place, so the
// pid is the daemon's own). It gets its own process group so that stopping it cannot
// touch the test process, and writes its log to a file, never to a pipe the test
// process would have to drain.

export interface Daemon {
  pid: number;
  logFile: string;
  /** Resolves when the process exits, with its exit code or signal. */
  exited: Promise<string>;
  hasExited(): boolean;
}

export function startDaemon(namespace: string, argv: readonly string[], logFile: string): Daemon {
  return spawnDaemon(IP, ['netns', 'exec', namespace, ...argv], logFile);
}

/** Starts `command` detached, in its own process group, its output appended to `logFile`. */
export function spawnDaemon(command: string, args: readonly string[], logFile: string): Daemon {
  const log = fs.openSync(logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      env: CHILD_ENV,
      detached: true,
      stdio: ['ignore', log, log],
    });
  } finally {
    fs.closeSync(log);
  }
  let exitedFlag = false;
  const exited = new Promise<string>((resolve) => {
    child.on('error', (error) => {
      exitedFlag = true;
      resolve(`could not start: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      resolve(signal !== null ? `killed by ${signal}` : `exit code ${code}`);
    });
  });
  // The test process must be free to exit with daemons still up: teardown stops them.
  child.unref();
  if (child.pid === undefined) {
    return { pid: -1, logFile, exited, hasExited: () => true };
  }
  return { pid: child.pid, logFile, exited, hasExited: () => exitedFlag };
}

/** The last lines of a daemon's log, for error messages. */
export function logTail(logFile: string, lines = 15): string {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
