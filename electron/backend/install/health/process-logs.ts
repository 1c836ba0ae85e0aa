import type { ServiceKind } from '../../store/installs-repo';
import type { RemoteShell } from '../remote/remote-shell';
import { joinShell, sh, type ShellScript } from '../remote/shell-script';

export interface LastLinesInput {
  shell: RemoteShell;
  asRoot: boolean;
  /** The runtime's log_dir: one `<instance>.log` per instance, kept across releases. */
  logDir: string;
  /**
   * The runtime's lock file (in its state_dir): its time is when the daemon that runs now
   * started, and only what the log files got since then is shown, so that lines an earlier
   * release or configuration wrote to the same files (one file per instance, kept across
   * releases) do not pass for the new one's. Without it, or when the lines carry no time
   * stamps (`logs.timestamps: raw`), the plain last lines are shown.
   */
  lockFile?: string;
  /** The instances to show, the likeliest culprit first; the first `maxInstances` are read. */
  instances: readonly string[];
  /** Also the daemon's own output (when its API never answered): its file in detached mode, the journal under systemd. */
  daemon: { service: ServiceKind; outFile: string } | null;
  lines?: number;
  maxInstances?: number;
}

const MARK = '@@sutazai-log';
const LINE_CHARS = 300;

/**
 * The last lines the failing processes wrote, read from their log files on the host in
 * one exec (the runtime writes them whether or not its API answers): what an operator
 * needs to see why a release did not become healthy. Empty when there is nothing to show;
 * a failure to read is not an error here, it only leaves the lines out.
 */
export async function lastLogLines(input: LastLinesInput): Promise<string> {
  const count = input.lines ?? 12;
  const instances = input.instances.slice(0, input.maxInstances ?? 2);
  const parts = instances.map((instance) => {
    const file = `${input.logDir}/${instance}.log`;
    return sh`f=${file}; if [ -s "$f" ]; then show ${instance} "$f"; fi`;
  });
  if (parts.length > 0) parts.unshift(sinceDaemonStart(input.lockFile ?? null, count));
  if (input.daemon?.service === 'detached') {
    parts.push(
      sh`f=${input.daemon.outFile}; if [ -s "$f" ]; then printf '%s\\t%s\\t%s\\n' ${MARK} sutazai-runtime "$f"; tail -n ${count} "$f"; fi`,
    );
  } else if (input.daemon?.service === 'systemd') {
    parts.push(
      sh`printf '%s\\t%s\\t%s\\n' ${MARK} sutazai-runtime 'journalctl -u sutazai-runtime.service'; journalctl -u sutazai-runtime.service -n ${count} --no-pager -o cat 2>&1 || :`,
    );
  }
  if (parts.length === 0) return '';
  try {
    const result = await input.shell.run(joinShell(parts), { asRoot: input.asRoot, step: 'logs', timeoutMs: 30_000 });
    return formatLogSections(result.stdout);
  } catch {
    return '';
  }
}

/**
 * Defines `show NAME FILE`: the section mark, then the file's last lines, only those since
 * the daemon started where its lock file tells when that was and the lines are stamped
 * (`2026-11-26T23:00:01.123Z out ...`, UTC, so text order is time order). Stamps of the
 * same second count as after it: a line is never hidden for a rounding of the lock's time.
 */
function sinceDaemonStart(lockFile: string | null, count: number): ShellScript {
  const since =
    lockFile === null ? sh`:` : sh`l=${lockFile}; if [ -f "$l" ]; then since=$(date -u -r "$l" +%Y-%m-%dT%H:%M:%S 2>/dev/null || :); fi`;
  return sh`since=''
${since}
show() {
  if [ -n "$since" ] && grep -q '^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T' "$2" 2>/dev/null; then
    printf '%s\\t%s\\t%s\\n' ${MARK} "$1" "since the runtime started at \${since}Z, $2"
    awk -v s="$since" 'substr($0, 1, 19) >= s { on = 1 } on' "$2" | tail -n ${count}
  else
    printf '%s\\t%s\\t%s\\n' ${MARK} "$1" "$2"
    tail -n ${count} "$2"
  fi
}`;
}

/** `last lines of core (/var/log/sutazai/core.log):` and each line indented, long lines cut. */
export function formatLogSections(stdout: string): string {
  const out: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${MARK}\t`)) {
      const [, name, where] = line.split('\t');
      out.push(`last lines of ${name} (${where}):`);
    } else if (out.length > 0 && line.trim() !== '') {
      out.push(`  ${line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS - 3)}...` : line}`);
    }
  }
  return out.join('\n');
}
