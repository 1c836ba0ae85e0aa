import { spawnSync } from 'node:child_process';

/**
 * The default way lines get their timestamps ('bash'): the daemon spawns the program itself
 * with two pipes, then one small bash loop per pipe, `bash -c BASH_LOG_LOOP sutazai-log out|err`,
 * whose stdin is the pipe's read end and whose stdout is the log file the daemon opened
 * (O_APPEND). Then the daemon closes its own copies of the read ends. So:
 *  - the program is spawned first and directly: nothing starts in front of it, and the
 *    restart path is a bare spawn. (The Node shim, timestamp-shim.ts, put ~50 ms of Node
 *    start-up and ~40 MB in front of every start.) Its exit status and signals reach the
 *    daemon directly;
 *  - the loops are the daemon's children, each in a session of its own (detached): they are
 *    reaped by the daemon (no zombies for a container's init to forget), survive the daemon,
 *    and are not in the program's process group, so the group empties the moment the program
 *    and its descendants are gone. They end at end-of-file, when the last writer is gone;
 *  - the daemon holds the read ends only between the two spawns (about a millisecond). If it
 *    died right there, the program's first write would get SIGPIPE and a restarted daemon
 *    would start it again: still exactly one of it;
 *  - an idle loop sleeps in a blocking one-byte read (no timer, no wake-ups); once a line has
 *    begun, the rest is read with a 0.5 s timeout so a partial line (a prompt, a progress
 *    dot) is written after 0.5 s of silence, and lines are cut at 16 KiB;
 *  - a failed write (disk full) drops the line and counts it; the next line that can be
 *    written is preceded by a `sys` line saying how many were dropped. That line starts with
 *    a newline: a write cut short by the full disk may have left half a line in the file,
 *    and the notice must not be glued to it (at worst this leaves one empty line). Bash's
 *    own "write error" messages go to /dev/null, not into the log.
 * Throughput: bash reads a pipe one byte at a time, so a loop handles roughly 7,000 lines
 * of 100 bytes a second on one core. A program that logs faster can use `timestamps: node`
 * (the Node shim) in the runtime config, `collector` (one process for every instance:
 * log-collector.ts), or `raw` (no stamps, no extra process).
 *
 * `$EPOCHREALTIME` (bash 5.0+) gives microseconds without spawning `date`; TZ=UTC0 and
 * LC_ALL=C make `%(...)T` print UTC and the decimal point a dot. The loops get a fixed,
 * minimal environment (LOGGER_ENV), so nothing like BASH_ENV from the program's reaches them.
 */
// A plain template literal: `\${` is bash's `${`, `\\n` is printf's `\n`.
export const BASH_LOG_LOOP = `
tag=$1 dropped=0
exec 2>/dev/null
while IFS= read -r -n 1 first; do
  rc=0
  if [[ -n $first ]]; then
    IFS= read -r -t 0.5 -n 16383 rest
    rc=$?
    line=$first$rest
  else
    line=
  fi
  t=$EPOCHREALTIME
  if ((dropped > 0)); then
    printf '\\n%(%Y-%m-%dT%H:%M:%S)T.%sZ sys [sutazai-runtime] %s log lines dropped: could not write the log file (disk full?)\\n' "\${t%.*}" "\${t:\${#t}-6:3}" "$dropped" && dropped=0
  fi
  printf '%(%Y-%m-%dT%H:%M:%S)T.%sZ %s %s\\n' "\${t%.*}" "\${t:\${#t}-6:3}" "$tag" "$line" || ((dropped += 1))
  ((rc > 0 && rc <= 128)) && break
done
`;

/** $0 of the loops: what `ps` shows. */
export const BASH_LOGGER_NAME = 'sutazai-log';

/** Marks a logger process with the runtime and instance it writes for (`<runtime id>/<instance>`). */
export const LOGGER_ENV_KEY = 'SUTAZAI_RUNTIME_LOGGER';

/** The loops' whole environment. */
export function loggerEnv(runtimeId: string, instance: string): NodeJS.ProcessEnv {
  return { PATH: '/usr/bin:/bin', TZ: 'UTC0', LC_ALL: 'C', [LOGGER_ENV_KEY]: `${runtimeId}/${instance}` };
}

const DEFAULT_BASH_CANDIDATES = ['/bin/bash', '/usr/bin/bash', '/usr/local/bin/bash'];

/**
 * The bash to use, or null when there is none that can stamp (no bash, or one older than
 * 5.0 without $EPOCHREALTIME: CentOS 7, BusyBox systems): then the Node shim is used.
 * Checked once when the driver is made, not per spawn.
 */
export function findStamperBash(candidates: readonly string[] = DEFAULT_BASH_CANDIDATES): string | null {
  for (const bash of candidates) {
    const probe = spawnSync(bash, ['-c', 'echo "${EPOCHREALTIME:+ok}"'], {
      encoding: 'utf8',
      timeout: 5000,
      env: { PATH: '/usr/bin:/bin' },
    });
    if (probe.status === 0 && probe.stdout.trim() === 'ok') return bash;
  }
  return null;
}
