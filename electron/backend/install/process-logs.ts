import type { ServiceKind } from '../store/installs-repo';
import type { RemoteShell } from './remote-shell';
import { shellQuote } from './shell-quote';

export interface LastLinesInput {
  shell: RemoteShell;
  asRoot: boolean;
  /** The runtime's log_dir: one `<instance>.log` per instance, kept across releases. */
  logDir: string;
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
    return `f=${shellQuote(file)}; if [ -s "$f" ]; then printf '${MARK}\\t%s\\t%s\\n' ${shellQuote(instance)} "$f"; tail -n ${count} "$f"; fi`;
  });
  if (input.daemon?.service === 'detached') {
    parts.push(`f=${shellQuote(input.daemon.outFile)}; if [ -s "$f" ]; then printf '${MARK}\\t%s\\t%s\\n' sutazai-runtime "$f"; tail -n ${count} "$f"; fi`);
  } else if (input.daemon?.service === 'systemd') {
    parts.push(`printf '${MARK}\\t%s\\t%s\\n' sutazai-runtime 'journalctl -u sutazai-runtime.service'; journalctl -u sutazai-runtime.service -n ${count} --no-pager -o cat 2>&1 || :`);
  }
  if (parts.length === 0) return '';
  try {
    const result = await input.shell.run(parts.join('\n'), { asRoot: input.asRoot, step: 'logs', timeoutMs: 30_000 });
    return formatLogSections(result.stdout);
  } catch {
    return '';
  }
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
