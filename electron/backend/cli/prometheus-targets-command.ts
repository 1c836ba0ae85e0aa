import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type ApiClient, type PrometheusTargets } from '../../contract';
import { EXIT } from './exit-codes';

export interface PrometheusTargetsContext {
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  /** The final result: text for people, or the value as JSON. */
  print(text: string, value: unknown): void;
  /** The file's text itself, on stdout, when there is no --out. */
  out(text: string): void;
  /** A warning on stderr (not with --json). */
  warn(text: string): void;
  api(): Promise<ApiClient>;
}

/**
 * `sutazai prometheus-targets --install NAME [--out FILE]`: the install's runtimes as a
 * Prometheus `file_sd_configs` file (labels install, host, role), on stdout or in FILE.
 */
export async function runPrometheusTargetsCommand(ctx: PrometheusTargetsContext): Promise<number> {
  const name = typeof ctx.values.install === 'string' ? ctx.values.install : undefined;
  if (!name || ctx.args.length > 0)
    throw new ApiError(
      'BAD_PARAMS',
      ctx.args.length > 0
        ? `\`prometheus-targets\` takes no arguments (got "${ctx.args.join(' ')}").`
        : '`prometheus-targets` needs --install NAME, the name of a recorded install.',
      'Example: sutazai prometheus-targets --install lab --out /etc/prometheus/sutazai-lab.json (sutazai installs list names them).',
    );
  const targets = await (await ctx.api()).call('installs.prometheusTargets', { name });
  const text = `${JSON.stringify(targets.groups, null, 2)}\n`;
  if (!ctx.json) for (const line of skippedLines(targets)) ctx.warn(line);
  const out = typeof ctx.values.out === 'string' ? ctx.values.out : undefined;
  if (out === undefined) {
    if (ctx.json) ctx.print('', targets);
    else ctx.out(text.trimEnd());
    return EXIT.OK;
  }
  writeAtomically(out, text);
  ctx.print(`wrote ${targets.groups.length} target${targets.groups.length === 1 ? '' : 's'} of install ${targets.install} to ${out}`, {
    ...targets,
    file: path.resolve(out),
  });
  return EXIT.OK;
}

function skippedLines(targets: PrometheusTargets): string[] {
  return targets.skipped.map((s) =>
    s.reason === 'metrics-off'
      ? `warning: ${s.host} has no target: its runtime serves no /metrics (metrics_collection is none)`
      : `warning: ${s.host} has no target: its runtime serves /metrics on loopback only (${s.listen}); set runtime.metrics_listen_address for it`,
  );
}

/**
 * Prometheus re-reads a file_sd file when it changes; a half-written one would drop every
 * target until the next change, so the new text goes to a temporary file beside it first.
 */
function writeAtomically(file: string, text: string): void {
  const temporary = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temporary, text, { mode: 0o644 });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw new ApiError(
      'BAD_PARAMS',
      `Could not write ${file}: ${(error as Error).message}.`,
      'Name a file in a directory that exists and that you may write, with --out FILE.',
    );
  }
}
